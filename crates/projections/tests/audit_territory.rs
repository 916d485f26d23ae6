//! Audit suite for target revisions in the log, the household territory
//! rule, the quarterly figures and bad inputs, on SQLite and on PostgreSQL.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::StorageUnit;
use filiere_domain::event::{Diagnosis, Erasure, Grading, HandoverMode, Placement};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, Evidence, HouseholdAttributes, HouseholdSize, Need,
    NewPrescription, PreferredMode, PrescriptionCommand, Purpose, SchemeId, Training,
    TrainingProvider,
};
use filiere_domain::territory::{InseeCode, Territories};
use filiere_domain::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict,
};
use filiere_domain::{
    DeviceCode, DeviceCommand, DeviceId, DonationId, HouseholdId, PrescriptionId,
};
use filiere_projections::audit::target::TargetError;
use filiere_projections::audit::{
    build_quarterly_report, build_report, load_target, load_target_at, replay, resolve_target,
    save_target, AuditError, AuditTarget, Cutoff, Quarter, Replay, ResolvedTarget, ShareMethod,
    TargetUnit,
};
use filiere_store::households::HouseholdIdentity;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{backend_tests, EventStore, Metadata};

const WORKSHOP: &str = "atelier-chartres";
const REFERRER: &str = "ccas-chartres";
/// Chartres, in Chartres Métropole (EPCI 200033181), Eure-et-Loir (28).
const CHARTRES: &str = "28085";
const CHARTRES_METROPOLE: &str = "200033181";
/// Dreux, in Eure-et-Loir but not in Chartres Métropole.
const DREUX: &str = "28134";
const LYON: &str = "69123";

fn today() -> NaiveDate {
    day("2025-12-01")
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn noon(text: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(text).and_hms_opt(12, 0, 0).unwrap())
}

fn context(organisation: &str, date: &str) -> CommandContext {
    let mut context = CommandContext::new("test", organisation);
    context.now = noon(date);
    context
}

fn target(territory: &str, share: u64, workshops: &[&str]) -> AuditTarget {
    AuditTarget {
        national_target: 2_000_000,
        unit: TargetUnit::Devices,
        territory_code: territory.into(),
        share_method: ShareMethod::Manual(share),
        workshops: workshops.iter().map(|w| w.to_string()).collect(),
    }
}

fn resolved(target: AuditTarget) -> ResolvedTarget {
    resolve_target(Territories::embedded(), target).unwrap()
}

async fn as_of(store: &EventStore, date: &str) -> Replay {
    replay(store, Cutoff::Date(day(date)), today())
        .await
        .unwrap()
}

/// Receives one laptop and makes it ready for a household, on `date`.
async fn ready_device(workshop: &Workshop, date: &str) -> DeviceCode {
    let context = context(WORKSHOP, date);
    let donation = NewDonation {
        donation_id: DonationId::generate(),
        donor_name: "Entreprise test".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: day(date),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let intake = Intake {
        device_id: DeviceId::generate(),
        donation_id: donation.donation_id,
        category: Category::Laptop,
        brand: "Lenovo".into(),
        model: "T480".into(),
        serial: None,
        asset_tag: None,
        site: "Chartres".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
    };
    let outcome = workshop
        .receive_donation(donation, vec![NewDevice { intake }], &context)
        .await
        .unwrap();
    let code = outcome.devices[0].1.clone();
    let steps = [
        DeviceCommand::Diagnose(Diagnosis {
            functional_test: Outcome::Passed,
            verdict: Verdict::Refurbish,
            storage_units: vec![StorageUnit {
                unit: "SSD1".into(),
                kind: StorageKind::Ssd,
                model: "Samsung".into(),
                size_bytes: None,
                healthy: Some(true),
            }],
            cpu: String::new(),
            memory_bytes: None,
            battery_wear_percent: None,
            notes: String::new(),
            evidence_sha256: vec![],
        }),
        DeviceCommand::RecordErasure(Erasure {
            unit: "SSD1".into(),
            method: ErasureMethod::Purge,
            technique: ErasureTechnique::BlockErase,
            tool: "nwipe".into(),
            tool_version: "0.36".into(),
            verified: true,
            result: Outcome::Passed,
            operator: "Ana".into(),
            evidence_sha256: None,
        }),
        DeviceCommand::Grade(Grading {
            grade: Grade::B,
            autonomy: Autonomy::Beginner,
            notes: String::new(),
        }),
        DeviceCommand::Stock(Placement {
            site: "Chartres".into(),
            location: "A1".into(),
        }),
    ];
    for step in steps {
        workshop.record(&code, step, &context).await.unwrap();
    }
    code
}

/// Issues a prescription for a household of `commune`, accepted by the
/// workshop, on `date`.
async fn prescription(
    workshop: &Workshop,
    scheme: SchemeId,
    commune: &str,
    date: &str,
) -> PrescriptionId {
    let identity = HouseholdIdentity {
        first_name: "Ana".into(),
        last_name: "Martin".into(),
        phone: None,
        email: None,
        address: None,
    };
    let household = workshop
        .store()
        .create_household(identity, noon(date))
        .await
        .unwrap();
    let new = NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id: household,
        referrer_organisation: REFERRER.into(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::JobSearch,
        },
        evidence: Evidence::Benefit { name: "RSA".into() },
        preferred_mode: PreferredMode::Donation,
        skills: DigitalSkills::Autonomy {
            level: Autonomy::Beginner,
        },
        training: Some(Training {
            provider: TrainingProvider::Adviser,
            name: "Conseillère numérique".into(),
            scheduled_on: None,
        }),
        household: HouseholdAttributes {
            commune: InseeCode::parse(commune).unwrap(),
            qpv: commune == CHARTRES,
            zrr: commune == DREUX,
            size: HouseholdSize::Two,
            age: AgeBand::Adult,
        },
    };
    let id = new.prescription_id;
    workshop
        .issue_prescription(new, scheme, &context(REFERRER, date))
        .await
        .unwrap();
    let accept = PrescriptionCommand::Accept {
        workshop_organisation: WORKSHOP.into(),
    };
    workshop
        .record_prescription(id, accept, &context(WORKSHOP, date))
        .await
        .unwrap();
    id
}

/// Reserves and gives `code` to the household of prescription `id`.
async fn give(workshop: &Workshop, id: PrescriptionId, code: &DeviceCode, date: &str) {
    let context = context(WORKSHOP, date);
    workshop.reserve_device(id, code, &context).await.unwrap();
    workshop
        .hand_over(id, HandoverMode::Donation, &context)
        .await
        .unwrap();
}

/// Builds a log with three handovers in 2025-Q3, all by the same workshop:
/// to a household of Chartres on 2025-07-10 (which attends its training on
/// 2025-07-20), to a household of Lyon on 2025-08-05, and without any
/// prescription on 2025-09-01; and one to a household of Dreux on
/// 2025-10-02.
async fn build_territory_log(workshop: &Workshop) {
    let rule = EligibilityRule::Benefit {
        accepted: vec!["RSA".into()],
    };
    let scheme = workshop
        .store()
        .create_scheme("Minima sociaux", rule, noon("2025-06-01"))
        .await
        .unwrap()
        .id;
    let chartres = prescription(workshop, scheme, CHARTRES, "2025-07-01").await;
    let code = ready_device(workshop, "2025-07-02").await;
    give(workshop, chartres, &code, "2025-07-10").await;
    let training = PrescriptionCommand::AttendTraining {
        on: day("2025-07-20"),
    };
    workshop
        .record_prescription(chartres, training, &context(WORKSHOP, "2025-07-20"))
        .await
        .unwrap();

    let lyon = prescription(workshop, scheme, LYON, "2025-08-01").await;
    let code = ready_device(workshop, "2025-08-02").await;
    give(workshop, lyon, &code, "2025-08-05").await;

    let code = ready_device(workshop, "2025-08-20").await;
    let handover = DeviceCommand::HandOver {
        household_id: HouseholdId::generate(),
        prescription_id: None,
        mode: HandoverMode::Donation,
    };
    workshop
        .record(&code, handover, &context(WORKSHOP, "2025-09-01"))
        .await
        .unwrap();

    let dreux = prescription(workshop, scheme, DREUX, "2025-10-01").await;
    let code = ready_device(workshop, "2025-10-01").await;
    give(workshop, dreux, &code, "2025-10-02").await;
}

async fn target_revisions_follow_cutoff(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_territory_log(&workshop).await;
    let metadata = || Metadata::new("test:funder", "departement-28");
    let first = save_target(
        &store,
        &target("28", 8, &[]),
        metadata(),
        noon("2025-07-15"),
    )
    .await
    .unwrap();
    let (first_position, _) = store.head().await.unwrap();
    let second = save_target(
        &store,
        &target("28", 40, &[]),
        metadata(),
        noon("2025-09-15"),
    )
    .await
    .unwrap();
    assert_eq!((first, second), (1, 2));

    let before_any = as_of(&store, "2025-07-14").await;
    assert_eq!(load_target_at(&store, &before_any).await.unwrap(), None);
    let august = as_of(&store, "2025-08-31").await;
    let old = load_target_at(&store, &august).await.unwrap().unwrap();
    assert_eq!(old.share_method, ShareMethod::Manual(8));
    let report = build_report(&august, Some(resolved(old)));
    assert_eq!(report.progress.unwrap().share, 8);
    let october = as_of(&store, "2025-10-31").await;
    let new = load_target_at(&store, &october).await.unwrap().unwrap();
    assert_eq!(new.share_method, ShareMethod::Manual(40));
    let by_position = replay(&store, Cutoff::Position(first_position), today())
        .await
        .unwrap();
    let at_position = load_target_at(&store, &by_position).await.unwrap().unwrap();
    assert_eq!(at_position.share_method, ShareMethod::Manual(8));
    let latest = load_target(&store).await.unwrap().unwrap();
    assert_eq!(latest.share_method, ShareMethod::Manual(40));

    let events = store
        .read_stream(filiere_domain::audit_target::STREAM_ID)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].metadata.actor, "test:funder");
    assert_eq!(events[0].metadata.organisation, "departement-28");
    assert!(store.verify_chain().await.unwrap().first_break.is_none());
    db.cleanup().await;
}

async fn table_targets_read_as_fallback(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_territory_log(&workshop).await;
    // A revision written by the former `filiere audit target set`.
    sqlx::query(
        "INSERT INTO audit_targets (revision, national_target, unit, territory_code, \
         share_method, manual_share, workshops, set_by, set_at) \
         VALUES (1, 2000000, 'devices', '28', 'manual', 12, '[]', 'cli:old', \
         '2025-07-15T12:00:00.000000Z')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let august = as_of(&store, "2025-08-31").await;
    let from_table = load_target_at(&store, &august).await.unwrap().unwrap();
    assert_eq!(from_table.share_method, ShareMethod::Manual(12));
    let before = as_of(&store, "2025-07-14").await;
    assert_eq!(load_target_at(&store, &before).await.unwrap(), None);

    let metadata = Metadata::new("test:funder", "departement-28");
    save_target(&store, &target("28", 40, &[]), metadata, noon("2025-09-15"))
        .await
        .unwrap();
    let august = as_of(&store, "2025-08-31").await;
    let old = load_target_at(&store, &august).await.unwrap().unwrap();
    assert_eq!(old.share_method, ShareMethod::Manual(12));
    let report = build_report(&august, Some(resolved(old)));
    assert_eq!(report.progress.unwrap().share, 12);
    let october = as_of(&store, "2025-10-31").await;
    let new = load_target_at(&store, &october).await.unwrap().unwrap();
    assert_eq!(new.share_method, ShareMethod::Manual(40));
    let latest = load_target(&store).await.unwrap().unwrap();
    assert_eq!(latest.share_method, ShareMethod::Manual(40));
    db.cleanup().await;
}

async fn households_counted_by_commune(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_territory_log(&workshop).await;
    let september = as_of(&store, "2025-09-30").await;

    // Eure-et-Loir: the Chartres household by commune, the handover without
    // prescription by the workshop list; the Lyon household is outside.
    let report = build_report(&september, Some(resolved(target("28", 10, &[WORKSHOP]))));
    assert_eq!(report.figures.handovers, 2);
    assert_eq!(report.households.counted_by_household_commune, 1);
    assert_eq!(report.households.counted_by_workshop_list, 1);
    assert_eq!(report.households.in_qpv, 1);
    assert_eq!(report.households.by_eligibility.get("none"), Some(&1));
    assert_eq!(
        report.households.by_eligibility.get("benefit_recipient"),
        Some(&1)
    );
    assert_eq!(report.progress.unwrap().figure, 2);

    // The commune and its EPCI select the same household.
    for code in [CHARTRES, CHARTRES_METROPOLE] {
        let report = build_report(&september, Some(resolved(target(code, 10, &["other"]))));
        assert_eq!(report.figures.handovers, 1, "{code}");
        assert_eq!(report.households.counted_by_household_commune, 1, "{code}");
        assert_eq!(report.households.counted_by_workshop_list, 0, "{code}");
        assert_eq!(report.households.training.attended, 1, "{code}");
    }

    // Lyon's département: its household, and no handover by workshop list
    // because the list names another workshop.
    let report = build_report(&september, Some(resolved(target("69", 10, &["other"]))));
    assert_eq!(report.figures.handovers, 1);
    assert_eq!(report.households.counted_by_household_commune, 1);
    assert_eq!(report.households.training.attended, 0);

    // Dreux is in Eure-et-Loir but not in Chartres Métropole.
    let december = as_of(&store, "2025-11-30").await;
    let department = build_report(&december, Some(resolved(target("28", 10, &["other"]))));
    assert_eq!(department.figures.handovers, 2);
    assert_eq!(department.households.in_zrr, 1);
    let epci = build_report(
        &december,
        Some(resolved(target(CHARTRES_METROPOLE, 10, &["other"]))),
    );
    assert_eq!(epci.figures.handovers, 1);
    db.cleanup().await;
}

async fn quarter_counts_its_own_flows(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_territory_log(&workshop).await;
    let quarter: Quarter = "2025-Q3".parse().unwrap();
    let day = quarter.cutoff_day(None, today()).unwrap();
    let replayed = replay(&store, Cutoff::Date(day), today()).await.unwrap();
    let eure_et_loir = Some(resolved(target("28", 10, &[WORKSHOP])));
    let quarterly = build_quarterly_report(&replayed, eure_et_loir, quarter);
    assert!(quarterly.complete);
    let months = &quarterly.figures.handovers_by_period.month;
    assert_eq!(months.get("2025-07"), Some(&1));
    assert_eq!(months.get("2025-08"), None);
    assert_eq!(months.get("2025-09"), Some(&1));
    assert_eq!(quarterly.figures.donated_devices, 3);
    assert_eq!(quarterly.households.training.prescribed, 1);
    assert_eq!(quarterly.report.figures.handovers, 2);

    // The fourth quarter counts only the Dreux handover, while the
    // cumulative report counts all three of Eure-et-Loir.
    let quarter: Quarter = "2025-Q4".parse().unwrap();
    let day = quarter.cutoff_day(None, today()).unwrap();
    assert_eq!(day, today());
    let replayed = replay(&store, Cutoff::Date(day), today()).await.unwrap();
    let eure_et_loir = Some(resolved(target("28", 10, &[WORKSHOP])));
    let quarterly = build_quarterly_report(&replayed, eure_et_loir, quarter);
    assert!(!quarterly.complete);
    assert_eq!(quarterly.figures.handovers, 1);
    assert_eq!(quarterly.report.figures.handovers, 3);
    db.cleanup().await;
}

async fn bad_cutoffs_name_the_value(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_territory_log(&workshop).await;
    let (head, _) = store.head().await.unwrap();
    let cases = [
        (
            Cutoff::Date(day("2025-12-02")),
            "2025-12-02",
            "in the future",
        ),
        (
            Cutoff::Date(day("2025-05-31")),
            "2025-05-31",
            "before the first event",
        ),
        (
            Cutoff::Position(head + 5),
            &*format!("{}", head + 5),
            "beyond the head",
        ),
        (Cutoff::Position(0), "0", "positions start at 1"),
        (Cutoff::Position(-3), "-3", "positions start at 1"),
    ];
    for (cutoff, value, reason) in cases {
        let error = replay(&store, cutoff, today()).await.unwrap_err();
        assert!(matches!(error, AuditError::InvalidCutoff(_)), "{error}");
        let message = error.to_string();
        assert!(message.contains(value), "{message}");
        assert!(message.contains(reason), "{message}");
    }
    db.cleanup().await;
}

backend_tests!(
    target_revisions_follow_cutoff,
    table_targets_read_as_fallback,
    households_counted_by_commune,
    quarter_counts_its_own_flows,
    bad_cutoffs_name_the_value,
);

#[test]
fn unknown_territories_name_the_code() {
    for (code, hint) in [
        ("99", "département"),
        ("999999999", "EPCI"),
        ("28999", "INSEE"),
        ("2", "invalid territory code"),
    ] {
        let error = resolve_target(Territories::embedded(), target(code, 10, &[])).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(code), "{message}");
        assert!(message.contains(hint), "{message}");
    }
}

#[test]
fn population_share_needs_population() {
    let mut uninhabited = target("98411", 10, &[]);
    uninhabited.share_method = ShareMethod::Population;
    let error = resolve_target(Territories::embedded(), uninhabited).unwrap_err();
    assert!(matches!(error, TargetError::MissingPopulation { .. }));
    assert!(error.to_string().contains("98411"), "{error}");
    assert!(error.to_string().contains("--share"), "{error}");
}

#[test]
fn manual_share_bounded() {
    let zero = resolve_target(Territories::embedded(), target("28", 0, &[])).unwrap_err();
    assert!(matches!(zero, TargetError::NotPositive { value: 0, .. }));
    assert!(zero.to_string().contains("share 0"), "{zero}");
    let above = resolve_target(Territories::embedded(), target("28", 2_000_001, &[])).unwrap_err();
    assert!(
        matches!(above, TargetError::ShareAboveNational { .. }),
        "{above}"
    );
    assert!(above.to_string().contains("2000001"), "{above}");
    assert!(above.to_string().contains("2000000"), "{above}");
    let equal = resolve_target(Territories::embedded(), target("28", 2_000_000, &[])).unwrap();
    assert_eq!(equal.share, 2_000_000);
}
