//! Audit suite: figures recomputed from the log as of a date or position,
//! on SQLite and on PostgreSQL, plus pure tests of the fold and the share.

mod extended_loan_log;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use filiere_domain::command::Step;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Handover, HandoverMode};
use filiere_domain::fields::{command_from_fields, Fields};
use filiere_domain::territory::Territories;
use filiere_domain::types::{Category, DonorKind};
use filiere_domain::{DeviceCode, DeviceEvent, DeviceId, DonationId, HouseholdId};
use filiere_projections::audit::figures::day_stats;
use filiere_projections::audit::impact::compute_impact;
use filiere_projections::audit::target::{find_territory, pro_rata_share, TargetError};
use filiere_projections::audit::{
    build_report, build_trace, compute_figures, load_target, replay, report_csv, report_json,
    resolve_target, save_target, trace_csv, trace_json, AuditError, AuditEvent, AuditFold,
    AuditTarget, Cutoff, ShareMethod, TargetUnit,
};
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{backend_tests, EventStore};

/// Day the tests treat as today.
fn today() -> NaiveDate {
    day("2025-06-01")
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn noon(text: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(text).and_hms_opt(12, 0, 0).unwrap())
}

fn context(date: &str) -> CommandContext {
    let mut context = CommandContext::new("test", "atelier-chartres");
    context.now = noon(date);
    context
}

/// Records one batch with one device per category, received on `date`.
async fn donate(workshop: &Workshop, date: &str, categories: &[Category]) -> Vec<DeviceCode> {
    let donation_id = DonationId::generate();
    let devices = categories
        .iter()
        .map(|&category| NewDevice {
            intake: Intake {
                device_id: DeviceId::generate(),
                donation_id,
                category,
                brand: "Dell".into(),
                model: "Latitude".into(),
                serial: None,
                asset_tag: None,
                site: "Chartres".into(),
                donor_kind: DonorKind::Company,
                free_transfer: false,
            },
        })
        .collect();
    let donation = NewDonation {
        donation_id,
        donor_name: "Entreprise test".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: day(date),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let outcome = workshop
        .receive_donation(donation, devices, &context(date))
        .await
        .unwrap();
    outcome.devices.into_iter().map(|(_, code)| code).collect()
}

async fn step(
    workshop: &Workshop,
    code: &DeviceCode,
    date: &str,
    step: Step,
    pairs: &[(&str, &str)],
) {
    let mut fields = Fields::new();
    for (name, value) in pairs {
        fields
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }
    let command = command_from_fields(step, &fields, HouseholdId::generate()).unwrap();
    workshop
        .record(code, command, &context(date))
        .await
        .unwrap();
}

async fn refurbish(workshop: &Workshop, code: &DeviceCode, date: &str) {
    let unit = format!("{code}-D");
    let diagnosis = [("test", "passed"), ("storage", unit.as_str())];
    step(workshop, code, date, Step::Diagnose, &diagnosis).await;
    let erasure = [
        ("unit", unit.as_str()),
        ("tool", "nwipe"),
        ("operator", "Ana"),
    ];
    step(workshop, code, date, Step::Erase, &erasure).await;
    step(workshop, code, date, Step::Grade, &[("grade", "b")]).await;
    let placement = [("site", "Chartres"), ("location", "A1")];
    step(workshop, code, date, Step::Stock, &placement).await;
}

/// Facts of the small log that the tests check against.
struct SmallLog {
    first_household: HouseholdId,
    position_before_handovers: i64,
}

/// Builds a log with one batch of a laptop, a desktop, a smartphone and a
/// screen, received on 2025-01-10. The screen is recycled on 2025-02-01 and
/// the others are stocked on 2025-01-15. The laptop is given to household 1
/// on 2025-02-20. The smartphone is lent to household 1 on 2025-03-05 until
/// 2025-04-01. The desktop is given to household 2 on 2025-04-10.
async fn build_small_log(workshop: &Workshop) -> SmallLog {
    let categories = [
        Category::Laptop,
        Category::Desktop,
        Category::Smartphone,
        Category::Screen,
    ];
    let codes = donate(workshop, "2025-01-10", &categories).await;
    for code in &codes[..3] {
        refurbish(workshop, code, "2025-01-15").await;
    }
    let screen = &codes[3];
    let failed = [("test", "failed"), ("verdict", "recycle")];
    step(workshop, screen, "2025-02-01", Step::Diagnose, &failed).await;
    let recycling = [("weight", "5000"), ("eco_organism", "Ecologic")];
    step(workshop, screen, "2025-02-01", Step::Recycle, &recycling).await;
    let (position_before_handovers, _) = workshop.store().head().await.unwrap();
    let first = HouseholdId::generate().to_string();
    let second = HouseholdId::generate().to_string();
    let gift = [("mode", "donation"), ("household", first.as_str())];
    step(workshop, &codes[0], "2025-02-20", Step::Handover, &gift).await;
    let loan = [
        ("mode", "loan"),
        ("due", "2025-04-01"),
        ("household", first.as_str()),
    ];
    step(workshop, &codes[2], "2025-03-05", Step::Handover, &loan).await;
    let gift = [("mode", "donation"), ("household", second.as_str())];
    step(workshop, &codes[1], "2025-04-10", Step::Handover, &gift).await;
    SmallLog {
        first_household: first.parse().unwrap(),
        position_before_handovers,
    }
}

async fn figures_as_of(store: &EventStore, date: &str) -> filiere_projections::audit::Figures {
    let replayed = replay(store, Cutoff::Date(day(date)), today())
        .await
        .unwrap();
    compute_figures(&replayed.fold, replayed.reference_date, &BTreeSet::new())
}

async fn figures_follow_dates(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_small_log(&workshop).await;

    let before = figures_as_of(&store, "2025-02-19").await;
    assert_eq!(before.devices_handed_over, 0);
    assert_eq!(before.in_stock, 3);
    assert_eq!(before.donation_batches, 1);
    assert_eq!(before.donated_devices, 4);
    assert_eq!(before.outcomes.recycled, 1);
    assert_eq!(before.outcomes.recycled_weight_grams, 5000);

    let first = figures_as_of(&store, "2025-02-20").await;
    assert_eq!(first.devices_handed_over, 1);
    assert_eq!(first.computers_handed_over, 1);
    assert_eq!(first.households_equipped, 1);
    assert_eq!(first.in_stock, 2);
    assert_eq!(first.lead_time.median_days, Some(41.0));

    let march = figures_as_of(&store, "2025-03-31").await;
    assert_eq!(march.devices_handed_over, 2);
    assert_eq!(march.computers_handed_over, 1);
    assert_eq!(march.households_equipped, 1);
    assert_eq!(march.loans_active, 1);
    assert_eq!(march.loans_overdue, 0);

    let april = figures_as_of(&store, "2025-04-10").await;
    assert_eq!(april.devices_handed_over, 3);
    assert_eq!(april.computers_handed_over, 2);
    assert_eq!(april.households_equipped, 2);
    assert_eq!(april.loans_overdue, 1);
    assert_eq!(april.in_stock, 0);
    assert_eq!(april.handovers_by_period.month.get("2025-02"), Some(&1));
    assert_eq!(april.handovers_by_period.quarter.get("2025-Q1"), Some(&2));
    assert_eq!(april.handovers_by_period.quarter.get("2025-Q2"), Some(&1));
    assert_eq!(april.handovers_by_category.get("smartphone"), Some(&1));
    assert_eq!(
        april.handovers_by_workshop.get("atelier-chartres"),
        Some(&3)
    );
    let impact = april.impact.unwrap();
    assert_eq!(impact.co2e_grams_avoided, 27_000 + 24_600);
    assert_eq!(impact.devices_not_counted, 1);

    let report = store.verify_chain().await.unwrap();
    assert_eq!(report.first_break, None);
    db.cleanup().await;
}

async fn units_give_progress(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_small_log(&workshop).await;
    let replayed = replay(&store, Cutoff::Head, today()).await.unwrap();
    for (unit, figure) in [
        (TargetUnit::Devices, 3),
        (TargetUnit::Computers, 2),
        (TargetUnit::Households, 2),
    ] {
        let target = AuditTarget {
            national_target: 2_000_000,
            unit,
            territory_code: "28".into(),
            share_method: ShareMethod::Manual(8),
            workshops: vec![],
        };
        let resolved = resolve_target(Territories::embedded(), target).unwrap();
        let progress = build_report(&replayed, Some(resolved)).progress.unwrap();
        assert_eq!(progress.figure, figure, "{unit}");
        assert_eq!(progress.percent, figure as f64 * 12.5, "{unit}");
    }
    db.cleanup().await;
}

async fn exports_are_byte_identical(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    let log = build_small_log(&workshop).await;
    let target = AuditTarget {
        national_target: 2_000_000,
        unit: TargetUnit::Households,
        territory_code: "28".into(),
        share_method: ShareMethod::Population,
        workshops: vec!["atelier-chartres".into()],
    };
    let metadata = filiere_store::Metadata::new("test", "atelier-chartres");
    save_target(&store, &target, metadata, noon("2025-05-01"))
        .await
        .unwrap();
    let (head, head_hash) = store.head().await.unwrap();

    let render = || async {
        let target = load_target(&store).await.unwrap().unwrap();
        let resolved = resolve_target(Territories::embedded(), target).unwrap();
        let replayed = replay(&store, Cutoff::Position(head), today())
            .await
            .unwrap();
        let report = build_report(&replayed, Some(resolved));
        let trace = build_trace(&replayed);
        [
            report_json(&report),
            report_csv(&report),
            trace_json(&trace),
            trace_csv(&trace),
        ]
    };
    let first = render().await;
    // Events appended later must not change an export of an earlier position.
    donate(&workshop, "2025-05-02", &[Category::Tablet]).await;
    let second = render().await;
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.as_bytes(), b.as_bytes());
    }
    for export in &first {
        assert!(export.contains(&head_hash), "export names the log hash");
        assert!(
            !export.contains(&log.first_household.to_string()),
            "no household id"
        );
    }
    assert!(first[0].contains("\"share\": 12563"), "{}", first[0]);
    assert!(
        first[1].contains("progress,percent,0.02\r\n"),
        "{}",
        first[1]
    );
    assert!(first[1].contains("Évaluation de l'impact environnemental"));

    let early = replay(
        &store,
        Cutoff::Position(log.position_before_handovers),
        today(),
    )
    .await
    .unwrap();
    assert_eq!(early.log_position, log.position_before_handovers);
    assert_eq!(early.reference_date, day("2025-02-01"));
    assert!(store.verify_chain().await.unwrap().first_break.is_none());
    db.cleanup().await;
}

async fn extended_loan_overdue_from_new_date(db: TestDatabase) {
    use extended_loan_log::{extend_first_loan, lend_two_laptops, EXTENDED_DUE_ON};

    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    let loans = lend_two_laptops(&workshop).await;
    extend_first_loan(&workshop, &loans).await;

    let before_due = figures_as_of(&store, "2025-04-01").await;
    assert_eq!(before_due.loans_active, 2, "active on the first due date");
    assert_eq!(before_due.loans_overdue, 0, "overdue on the first due date");

    // Past the first due date: only the loan that was not extended is late.
    let within = figures_as_of(&store, "2025-04-10").await;
    assert_eq!(within.loans_active, 2, "active within the extension");
    assert_eq!(within.loans_overdue, 1, "overdue within the extension");

    let on_new_due = figures_as_of(&store, EXTENDED_DUE_ON).await;
    assert_eq!(on_new_due.loans_overdue, 1, "overdue on the extended date");

    let after = figures_as_of(&store, "2025-05-16").await;
    assert_eq!(after.loans_active, 2, "active after the extension");
    assert_eq!(after.loans_overdue, 2, "overdue after the extended date");

    let replayed = replay(&store, Cutoff::Head, today()).await.unwrap();
    let trace = build_trace(&replayed);
    let code = loans.extended_device.to_string();
    let device = trace
        .devices
        .iter()
        .find(|device| device.code == code)
        .expect("the extended laptop is traced");
    let extension = device
        .steps
        .iter()
        .find(|step| step.step == "loan_extended")
        .expect("the trace lists the extension");
    assert_eq!(extension.date, "2025-03-25");
    assert_eq!(extension.detail, format!("due_on={EXTENDED_DUE_ON}"));
    db.cleanup().await;
}

async fn invalid_cutoffs_rejected(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let empty = replay(&store, Cutoff::Head, today()).await.unwrap_err();
    assert!(empty.to_string().contains("empty"), "{empty}");
    let workshop = Workshop::new(store.clone());
    build_small_log(&workshop).await;
    let (head, _) = store.head().await.unwrap();

    let future = replay(&store, Cutoff::Date(day("2025-06-02")), today()).await;
    let message = future.unwrap_err().to_string();
    assert!(message.contains("in the future"), "{message}");
    let early = replay(&store, Cutoff::Date(day("2025-01-09")), today()).await;
    let message = early.unwrap_err().to_string();
    assert!(message.contains("before the first event"), "{message}");
    let beyond = replay(&store, Cutoff::Position(head + 1), today()).await;
    let message = beyond.unwrap_err().to_string();
    assert!(message.contains("beyond the head"), "{message}");
    assert!(matches!(
        replay(&store, Cutoff::Position(0), today()).await,
        Err(AuditError::InvalidCutoff(_))
    ));
    db.cleanup().await;
}

backend_tests!(
    figures_follow_dates,
    units_give_progress,
    exports_are_byte_identical,
    extended_loan_overdue_from_new_date,
    invalid_cutoffs_rejected,
);

#[test]
fn eure_et_loir_share_pro_rata() {
    let territories = Territories::embedded();
    let territory = find_territory(territories, "28").unwrap();
    assert_eq!(territory.name, "Eure-et-Loir");
    let national = territories.national_population();
    let share = pro_rata_share(2_000_000, &territory, national).unwrap();
    let exact = 2_000_000.0 * territory.population.unwrap() as f64 / national as f64;
    assert_eq!(share, exact.round() as u64);
    assert_eq!(share, 12_563);
}

#[test]
fn unknown_territory_rejected() {
    let territories = Territories::embedded();
    for code in ["00", "99999", "123456789", "1234"] {
        let target = AuditTarget {
            national_target: 2_000_000,
            unit: TargetUnit::Devices,
            territory_code: code.into(),
            share_method: ShareMethod::Population,
            workshops: vec![],
        };
        let error = resolve_target(territories, target).unwrap_err();
        assert!(error.to_string().contains(code), "{code}: {error}");
    }
}

#[test]
fn missing_population_rejected() {
    let target = AuditTarget {
        national_target: 2_000_000,
        unit: TargetUnit::Devices,
        territory_code: "98411".into(),
        share_method: ShareMethod::Population,
        workshops: vec![],
    };
    let error = resolve_target(Territories::embedded(), target.clone()).unwrap_err();
    assert!(
        matches!(error, TargetError::MissingPopulation { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("--share"), "{error}");
    let manual = AuditTarget {
        share_method: ShareMethod::Manual(10),
        ..target
    };
    assert_eq!(
        resolve_target(Territories::embedded(), manual)
            .unwrap()
            .share,
        10
    );
}

/// Folds a reception and a handover of one device, without a database.
#[test]
fn fold_counts_handover_once() {
    let device_id = DeviceId::generate();
    let stream_id = device_id.stream_id();
    let intake = Intake {
        device_id,
        donation_id: DonationId::generate(),
        category: Category::Laptop,
        brand: "Lenovo".into(),
        model: "T480".into(),
        serial: None,
        asset_tag: None,
        site: "Dreux".into(),
        donor_kind: DonorKind::PublicBody,
        free_transfer: true,
    };
    let code = DeviceCode::from_random(Default::default());
    let mut events = filiere_domain::Device::receive_for(intake, code, "atelier").unwrap();
    events.push(DeviceEvent::HandedOver(Handover {
        household_id: HouseholdId::generate(),
        prescription_id: None,
        mode: HandoverMode::Donation,
    }));
    let mut fold = AuditFold::default();
    for (index, event) in events.into_iter().enumerate() {
        let event = AuditEvent::Device {
            stream_id: stream_id.clone(),
            event,
        };
        fold.apply(index as i64 + 1, noon("2025-03-01"), &event);
    }
    let figures = compute_figures(&fold, day("2025-03-02"), &BTreeSet::new());
    assert_eq!(figures.devices_handed_over, 1);
    assert_eq!(figures.households_equipped, 1);
    assert_eq!(figures.lead_time.median_days, Some(0.0));
    let other = BTreeSet::from(["other".to_string()]);
    let filtered = compute_figures(&fold, day("2025-03-02"), &other);
    assert_eq!(filtered.devices_handed_over, 0);
}

#[test]
fn day_stats_median_and_mean() {
    let stats = day_stats(vec![10, 1, 4, 3]);
    assert_eq!(stats.median_days, Some(3.5));
    assert_eq!(stats.mean_days, Some(4.5));
    assert_eq!(stats.max_days, Some(10));
    assert_eq!(day_stats(vec![]).median_days, None);
}

#[test]
fn impact_counts_laptops_and_smartphones_only() {
    let impact = compute_impact(&[
        (Category::Laptop, 2),
        (Category::Smartphone, 1),
        (Category::Tablet, 4),
    ]);
    assert_eq!(impact.co2e_grams_avoided, 2 * 27_000 + 24_600);
    assert_eq!(impact.raw_materials_grams_avoided, 2 * 127_000 + 76_900);
    assert_eq!(impact.devices_not_counted, 4);
}
