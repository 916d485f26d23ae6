//! Prescriptions, households and eligibility schemes in the store, run on
//! SQLite and on PostgreSQL: the full flow across the prescription and
//! device streams, eligibility, concurrent reservations, erasure, export,
//! the retention sweep, and the absence of identity from the event log.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, Erasure, Grading, HandoverMode, Placement, StorageUnit};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityCategory, EligibilityRule, Evidence, HouseholdAttributes,
    HouseholdSize, Need, NewPrescription, PreferredMode, PrescriptionCommand, PrescriptionEvent,
    PrescriptionStatus, Purpose, SchemeId, Training, TrainingProvider,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict,
};
use filiere_domain::{
    DeviceCode, DeviceCommand, DeviceEvent, DeviceId, DeviceStatus, DonationId, HouseholdId,
    PrescriptionId,
};
use filiere_store::households::HouseholdIdentity;
use filiere_store::prescriptions::PrescriptionStoreError;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop, WorkshopError};
use filiere_store::{backend_tests, EventStore};
use tokio::sync::Barrier;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const WORKSHOP: &str = "workshop-lyon";
const REFERRER: &str = "ccas-lyon";

/// Identity values chosen so that any copy of them in the log is found by a
/// plain substring search.
const FIRST_NAME: &str = "Zéphirine";
const LAST_NAME: &str = "Bartholomé-Quesnoy";
const PHONE: &str = "06 12 34 56 78";
const EMAIL: &str = "zephirine.bq@example.org";
const ADDRESS: &str = "12 rue des Lilas, 69003 Lyon";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 10, 0, 0).unwrap()
}

fn identity() -> HouseholdIdentity {
    HouseholdIdentity {
        first_name: FIRST_NAME.into(),
        last_name: LAST_NAME.into(),
        phone: Some(PHONE.into()),
        email: Some(EMAIL.into()),
        address: Some(ADDRESS.into()),
    }
}

fn context(organisation: &str, at: DateTime<Utc>) -> CommandContext {
    let mut context = CommandContext::new("test:camille", organisation);
    context.now = at;
    context
}

async fn open(db: &TestDatabase) -> Workshop {
    Workshop::new(
        EventStore::connect(&db.url)
            .await
            .expect("test database opens"),
    )
}

async fn benefit_scheme(workshop: &Workshop) -> SchemeId {
    let rule = EligibilityRule::Benefit {
        accepted: vec!["RSA".into(), "AAH".into(), "ASS".into()],
    };
    workshop
        .store()
        .create_scheme("Minima sociaux", rule, now())
        .await
        .expect("scheme created")
        .id
}

fn new_prescription(household_id: HouseholdId, commune: &str) -> NewPrescription {
    NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id,
        referrer_organisation: REFERRER.into(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::JobSearch,
        },
        evidence: Evidence::Benefit { name: "RSA".into() },
        preferred_mode: PreferredMode::Loan,
        skills: DigitalSkills::Autonomy {
            level: Autonomy::Beginner,
        },
        training: Some(Training {
            provider: TrainingProvider::Adviser,
            name: "Conseillère numérique Part-Dieu".into(),
            scheduled_on: None,
        }),
        household: HouseholdAttributes {
            commune: InseeCode::parse(commune).unwrap(),
            qpv: true,
            zrr: false,
            size: HouseholdSize::Two,
            age: AgeBand::Adult,
        },
    }
}

/// Records a household, issues a prescription for it and lets the
/// workshop accept it, all at `at`.
async fn accepted_prescription(
    workshop: &Workshop,
    scheme: SchemeId,
    at: DateTime<Utc>,
) -> (HouseholdId, PrescriptionId) {
    let household = workshop
        .store()
        .create_household(identity(), at)
        .await
        .unwrap();
    let new = new_prescription(household, "69123");
    let id = new.prescription_id;
    workshop
        .issue_prescription(new, scheme, &context(REFERRER, at))
        .await
        .unwrap();
    accept(workshop, id, at).await;
    (household, id)
}

async fn accept(workshop: &Workshop, id: PrescriptionId, at: DateTime<Utc>) {
    let command = PrescriptionCommand::Accept {
        workshop_organisation: WORKSHOP.into(),
    };
    workshop
        .record_prescription(id, command, &context(WORKSHOP, at))
        .await
        .unwrap();
}

/// Receives one device and takes it through diagnosis, erasure, grading and
/// stocking, so that it is ready for a household.
async fn ready_device(
    workshop: &Workshop,
    category: Category,
    grade: Grade,
    autonomy: Autonomy,
    at: DateTime<Utc>,
) -> DeviceCode {
    let context = context(WORKSHOP, at);
    let donation = NewDonation {
        donation_id: DonationId::generate(),
        donor_name: "Banque Rhône".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: at.date_naive(),
        site: "Lyon".into(),
        reference: String::new(),
    };
    let intake = Intake {
        device_id: DeviceId::generate(),
        donation_id: donation.donation_id,
        category,
        brand: "Lenovo".into(),
        model: "ThinkPad T480".into(),
        serial: None,
        asset_tag: None,
        site: "Lyon".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
    };
    let outcome = workshop
        .receive_donation(donation, vec![NewDevice { intake }], &context)
        .await
        .unwrap();
    let code = outcome.devices[0].1.clone();
    for command in bench_steps(grade, autonomy) {
        workshop.record(&code, command, &context).await.unwrap();
    }
    code
}

fn bench_steps(grade: Grade, autonomy: Autonomy) -> Vec<DeviceCommand> {
    vec![
        DeviceCommand::Diagnose(Diagnosis {
            functional_test: Outcome::Passed,
            verdict: Verdict::Refurbish,
            storage_units: vec![StorageUnit {
                unit: "S3Z9NB0K".into(),
                kind: StorageKind::Ssd,
                model: "Samsung 860".into(),
                size_bytes: Some(256_000_000_000),
                healthy: Some(true),
            }],
            cpu: "Intel Core i5-8250U".into(),
            memory_bytes: Some(8 << 30),
            battery_wear_percent: Some(15),
            notes: String::new(),
            evidence_sha256: vec![],
        }),
        DeviceCommand::RecordErasure(Erasure {
            unit: "S3Z9NB0K".into(),
            method: ErasureMethod::Purge,
            technique: ErasureTechnique::BlockErase,
            tool: "nwipe".into(),
            tool_version: "0.36".into(),
            verified: true,
            result: Outcome::Passed,
            operator: "Camille".into(),
            evidence_sha256: None,
        }),
        DeviceCommand::Grade(Grading {
            grade,
            autonomy,
            notes: String::new(),
        }),
        DeviceCommand::Stock(Placement {
            site: "Lyon".into(),
            location: "A3".into(),
        }),
    ]
}

fn loan(at: DateTime<Utc>, days: i64) -> HandoverMode {
    HandoverMode::Loan {
        due_on: at.date_naive() + Duration::days(days),
    }
}

async fn hand_over(
    workshop: &Workshop,
    id: PrescriptionId,
    code: &DeviceCode,
    mode: HandoverMode,
    at: DateTime<Utc>,
) {
    let context = context(WORKSHOP, at);
    workshop.reserve_device(id, code, &context).await.unwrap();
    workshop.hand_over(id, mode, &context).await.unwrap();
}

async fn device_events(workshop: &Workshop, code: &DeviceCode) -> Vec<DeviceEvent> {
    let device = workshop.find_device(code).await.unwrap().unwrap();
    let events = workshop.device_events(device.id).await.unwrap();
    events.into_iter().map(|(_, event)| event).collect()
}

// ---------------------------------------------------------------------------
// Flow and eligibility
// ---------------------------------------------------------------------------

async fn full_flow_across_streams(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let (household, id) = accepted_prescription(&workshop, scheme, now()).await;
    let beginner_b = ready_device(
        &workshop,
        Category::Laptop,
        Grade::B,
        Autonomy::Beginner,
        now(),
    )
    .await;
    let expert_a = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Autonomous,
        now(),
    )
    .await;
    let tablet = ready_device(
        &workshop,
        Category::Tablet,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;

    let codes = [expert_a.clone(), tablet.clone(), beginner_b.clone()];
    let matches = workshop.match_devices_for(id, &codes).await.unwrap();
    let ranked: Vec<_> = matches.iter().map(|m| m.code.clone()).collect();
    assert_eq!(ranked, vec![beginner_b.clone(), expert_a.clone()]);

    let context = context(WORKSHOP, now());
    let reserved = workshop
        .reserve_device(id, &beginner_b, &context)
        .await
        .unwrap();
    assert_eq!(reserved.prescription.status, PrescriptionStatus::Reserved);
    let device = reserved.device.expect("reservation changes the device");
    assert_eq!(device.status, DeviceStatus::Reserved);
    assert_eq!(device.household_id, Some(household));

    let handed = workshop
        .hand_over(id, loan(now(), 90), &context)
        .await
        .unwrap();
    assert_eq!(handed.prescription.status, PrescriptionStatus::HandedOver);
    assert_eq!(handed.device.unwrap().status, DeviceStatus::HandedOver);
    let events = device_events(&workshop, &beginner_b).await;
    let handover = events.iter().find_map(|event| match event {
        DeviceEvent::HandedOver(handover) => Some(handover.clone()),
        _ => None,
    });
    let handover = handover.expect("device stream records the handover");
    assert_eq!(handover.household_id, household);
    assert_eq!(handover.prescription_id, Some(id));
    assert_eq!(handover.mode, loan(now(), 90));

    for command in [
        PrescriptionCommand::AttendTraining {
            on: now().date_naive(),
        },
        PrescriptionCommand::ExtendLoan {
            due_on: now().date_naive() + Duration::days(200),
        },
    ] {
        workshop
            .record_prescription(id, command, &context)
            .await
            .unwrap();
    }
    let returned = workshop
        .record_prescription(
            id,
            PrescriptionCommand::Return { notes: "ok".into() },
            &context,
        )
        .await
        .unwrap();
    assert_eq!(returned.prescription.status, PrescriptionStatus::Returned);
    assert!(returned.prescription.training_attended);
    assert_eq!(returned.device.unwrap().status, DeviceStatus::Returned);
    assert_eq!(workshop.prescription_events(id).await.unwrap().len(), 7);
    assert!(workshop
        .store()
        .verify_chain()
        .await
        .unwrap()
        .first_break
        .is_none());
    db.cleanup().await;
}

async fn loan_converted_on_both_streams(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let (_, id) = accepted_prescription(&workshop, scheme, now()).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;
    hand_over(&workshop, id, &code, loan(now(), 60), now()).await;
    let outcome = workshop
        .convert_to_donation(id, &context(WORKSHOP, now()))
        .await
        .unwrap();
    assert_eq!(
        outcome.prescription.handover_mode,
        Some(HandoverMode::Donation)
    );
    assert!(outcome.prescription.is_closed());
    assert_eq!(
        outcome.device.unwrap().handover_mode,
        Some(HandoverMode::Donation)
    );
    db.cleanup().await;
}

/// Returns the due dates of the `loan_extended` events of a device stream.
fn device_extensions(events: &[DeviceEvent]) -> Vec<chrono::NaiveDate> {
    events
        .iter()
        .filter_map(|event| match event {
            DeviceEvent::LoanExtended { due_on } => Some(*due_on),
            _ => None,
        })
        .collect()
}

/// Returns the due dates of the extensions recorded on a prescription.
async fn prescription_extensions(
    workshop: &Workshop,
    id: PrescriptionId,
) -> Vec<chrono::NaiveDate> {
    workshop
        .prescription_events(id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, event)| match event {
            PrescriptionEvent::LoanExtended { due_on } => Some(due_on),
            _ => None,
        })
        .collect()
}

async fn loan_extended_on_both_streams(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let (_, id) = accepted_prescription(&workshop, scheme, now()).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;
    hand_over(&workshop, id, &code, loan(now(), 60), now()).await;
    let later = now() + Duration::days(50);
    let outcome = workshop
        .record_prescription(
            id,
            PrescriptionCommand::ExtendLoan {
                due_on: now().date_naive() + Duration::days(150),
            },
            &context(WORKSHOP, later),
        )
        .await
        .unwrap();

    assert_eq!(
        outcome.prescription.handover_mode,
        Some(loan(now(), 150)),
        "prescription mode"
    );
    let device = outcome.device.expect("an extension changes the device");
    assert_eq!(device.handover_mode, Some(loan(now(), 150)), "device mode");
    assert_eq!(device.status, DeviceStatus::HandedOver, "device status");
    let streams: Vec<&str> = outcome
        .append
        .stream_versions
        .iter()
        .map(|(stream, _)| stream.as_str())
        .collect();
    assert_eq!(
        streams,
        vec![id.stream_id(), device.id.stream_id()],
        "one batch on both streams"
    );
    assert_eq!(
        outcome.append.last_position - outcome.append.first_position,
        1,
        "two events in the batch"
    );

    let recorded = workshop.device_events(device.id).await.unwrap();
    let (last_device, last_device_event) = recorded.last().unwrap();
    assert_eq!(
        last_device_event,
        &DeviceEvent::LoanExtended {
            due_on: now().date_naive() + Duration::days(150)
        }
    );
    let prescription_events = workshop.prescription_events(id).await.unwrap();
    let (last_prescription, last_prescription_event) = prescription_events.last().unwrap();
    assert_eq!(
        last_prescription_event,
        &PrescriptionEvent::LoanExtended {
            due_on: now().date_naive() + Duration::days(150)
        }
    );
    assert_eq!(
        last_device.command_id, last_prescription.command_id,
        "both events come from one command"
    );
    assert_eq!(last_device.occurred_at, later, "device event time");
    db.cleanup().await;
}

async fn invalid_extension_records_nothing(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let (_, id) = accepted_prescription(&workshop, scheme, now()).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;
    hand_over(&workshop, id, &code, loan(now(), 60), now()).await;
    let context = context(WORKSHOP, now());
    let head = workshop.store().head().await.unwrap();

    for days in [30, 60, 800] {
        let due_on = now().date_naive() + Duration::days(days);
        let error = workshop
            .record_prescription(id, PrescriptionCommand::ExtendLoan { due_on }, &context)
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(&due_on.to_string()),
            "{days} days: message lacks the date: {message}"
        );
    }

    // The device came back and was recorded on the device alone: the loan
    // has ended there, so an extension would leave the two streams apart.
    workshop
        .record(
            &code,
            DeviceCommand::Return {
                notes: String::new(),
            },
            &context,
        )
        .await
        .unwrap();
    let head_after_return = workshop.store().head().await.unwrap();
    assert_ne!(head_after_return, head, "the return is recorded");
    let error = workshop
        .record_prescription(
            id,
            PrescriptionCommand::ExtendLoan {
                due_on: now().date_naive() + Duration::days(120),
            },
            &context,
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::LoanEndedOnDevice {
                status: DeviceStatus::Returned,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(message.contains(code.as_str()), "{message}");
    assert!(message.contains("its return"), "{message}");
    assert_eq!(
        workshop.store().head().await.unwrap(),
        head_after_return,
        "nothing recorded"
    );
    assert!(prescription_extensions(&workshop, id).await.is_empty());
    db.cleanup().await;
}

/// Races an extension through the prescription against an extension
/// recorded on the device alone. Whichever appends second read a stale
/// version, so it must fail. A failed extension through the prescription
/// must leave both streams untouched.
async fn extension_conflicts_with_device_change(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let mut prescription_conflicts = 0;
    let mut rounds = 0;
    while prescription_conflicts == 0 && rounds < 40 {
        rounds += 1;
        let (_, id) = accepted_prescription(&workshop, scheme, now()).await;
        let code = ready_device(
            &workshop,
            Category::Laptop,
            Grade::A,
            Autonomy::Beginner,
            now(),
        )
        .await;
        hand_over(&workshop, id, &code, loan(now(), 60), now()).await;
        let through_prescription = now().date_naive() + Duration::days(120);
        let on_device = now().date_naive() + Duration::days(150);
        let barrier = Arc::new(Barrier::new(2));
        let prescription_task = {
            let (workshop, barrier) = (workshop.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let command = PrescriptionCommand::ExtendLoan {
                    due_on: through_prescription,
                };
                workshop
                    .record_prescription(id, command, &context(WORKSHOP, now()))
                    .await
            })
        };
        let device_task = {
            let (workshop, code, barrier) = (workshop.clone(), code.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let command = DeviceCommand::ExtendLoan { due_on: on_device };
                workshop
                    .record(&code, command, &context(WORKSHOP, now()))
                    .await
            })
        };
        let prescription_result = prescription_task.await.unwrap();
        let device_result = device_task.await.unwrap();

        let device_dates = device_extensions(&device_events(&workshop, &code).await);
        let prescription_dates = prescription_extensions(&workshop, id).await;
        match &prescription_result {
            Ok(_) => {
                assert_eq!(
                    prescription_dates,
                    vec![through_prescription],
                    "round {rounds}: prescription extensions"
                );
                assert!(
                    device_dates.contains(&through_prescription),
                    "round {rounds}: device extensions {device_dates:?}"
                );
            }
            Err(error) => {
                if error.is_conflict() {
                    prescription_conflicts += 1;
                } else {
                    // The device extension committed before this request
                    // read the device, so the date is no longer later.
                    assert!(
                        error.to_string().contains("current due date"),
                        "round {rounds}: unexpected error: {error}"
                    );
                }
                assert!(
                    prescription_dates.is_empty(),
                    "round {rounds}: prescription extended after a failure"
                );
                assert!(
                    !device_dates.contains(&through_prescription),
                    "round {rounds}: device extended after a failure"
                );
            }
        }
        match &device_result {
            Ok(_) => assert!(
                device_dates.contains(&on_device),
                "round {rounds}: device extensions {device_dates:?}"
            ),
            Err(error) => {
                // The later date of this extension is accepted whatever
                // the other request did, so only a stale version fails it.
                assert!(
                    matches!(error, WorkshopError::Store(e) if e.is_conflict()),
                    "round {rounds}: unexpected device error: {error}"
                );
                assert!(
                    !device_dates.contains(&on_device),
                    "round {rounds}: device extended after a failure"
                );
            }
        }
        assert!(
            prescription_result.is_ok() || device_result.is_ok(),
            "round {rounds}: both requests failed"
        );
    }
    assert!(
        prescription_conflicts > 0,
        "no extension through the prescription lost the race in {rounds} rounds"
    );
    db.cleanup().await;
}

async fn release_frees_device(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let (_, id) = accepted_prescription(&workshop, scheme, now()).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;
    let context = context(WORKSHOP, now());
    workshop.reserve_device(id, &code, &context).await.unwrap();
    let command = PrescriptionCommand::Release {
        reason: "écran fissuré".into(),
    };
    let outcome = workshop
        .record_prescription(id, command, &context)
        .await
        .unwrap();
    assert_eq!(outcome.prescription.status, PrescriptionStatus::Accepted);
    assert_eq!(outcome.device.unwrap().status, DeviceStatus::InStock);
    db.cleanup().await;
}

async fn ineligible_household_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let household = workshop
        .store()
        .create_household(identity(), now())
        .await
        .unwrap();
    let head = workshop.store().head().await.unwrap();
    let mut new = new_prescription(household, "69123");
    new.evidence = Evidence::Benefit {
        name: "Prime d'activité".into(),
    };
    let error = workshop
        .issue_prescription(new, scheme, &context(REFERRER, now()))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("Minima sociaux"), "{message}");
    assert!(message.contains("Prime d'activité"), "{message}");
    assert!(message.contains("RSA, AAH, ASS"), "{message}");
    assert_eq!(
        workshop.store().head().await.unwrap(),
        head,
        "nothing recorded"
    );
    db.cleanup().await;
}

async fn unknown_or_erased_household_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let unknown = HouseholdId::generate();
    let error = workshop
        .issue_prescription(
            new_prescription(unknown, "69123"),
            scheme,
            &context(REFERRER, now()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, PrescriptionStoreError::HouseholdNotFound(_)),
        "{error:?}"
    );
    let household = workshop
        .store()
        .create_household(identity(), now())
        .await
        .unwrap();
    workshop
        .store()
        .erase_household(household, now())
        .await
        .unwrap();
    let error = workshop
        .issue_prescription(
            new_prescription(household, "69123"),
            scheme,
            &context(REFERRER, now()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, PrescriptionStoreError::HouseholdErased(_)),
        "{error:?}"
    );
    db.cleanup().await;
}

async fn schemes_listed_and_unique(db: TestDatabase) {
    let workshop = open(&db).await;
    let store = workshop.store();
    benefit_scheme(&workshop).await;
    let quotient = EligibilityRule::FamilyQuotientBelow {
        threshold_euros: 700,
    };
    store
        .create_scheme("QF CAF", quotient.clone(), now())
        .await
        .unwrap();
    let names: Vec<_> = store
        .schemes()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["Minima sociaux", "QF CAF"]);
    assert_eq!(store.scheme("QF CAF").await.unwrap().rule, quotient);

    let duplicate = store
        .create_scheme("QF CAF", EligibilityRule::Student, now())
        .await;
    assert!(
        matches!(duplicate, Err(PrescriptionStoreError::DuplicateScheme(_))),
        "{duplicate:?}"
    );

    let missing = store.scheme("Bourse").await;
    assert!(
        matches!(missing, Err(PrescriptionStoreError::SchemeNotFound(_))),
        "{missing:?}"
    );
    db.cleanup().await;
}

async fn identity_errors_hide_values(db: TestDatabase) {
    let workshop = open(&db).await;
    let mut bad = identity();
    bad.email = Some("zephirine-at-example".into());
    let message = workshop
        .store()
        .create_household(bad, now())
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("email"), "{message}");
    assert!(!message.contains("zephirine"), "{message}");
    let mut unnamed = identity();
    unnamed.last_name = " ".into();
    assert!(workshop
        .store()
        .create_household(unnamed, now())
        .await
        .is_err());
    assert!(!format!("{:?}", identity()).contains(FIRST_NAME));
    db.cleanup().await;
}

// ---------------------------------------------------------------------------
// Concurrent reservations
// ---------------------------------------------------------------------------

async fn double_reservation_one_wins(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    for round in 0..8 {
        let (_, first) = accepted_prescription(&workshop, scheme, now()).await;
        let (_, second) = accepted_prescription(&workshop, scheme, now()).await;
        let code = ready_device(
            &workshop,
            Category::Laptop,
            Grade::A,
            Autonomy::Beginner,
            now(),
        )
        .await;
        let barrier = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = [first, second]
            .into_iter()
            .map(|id| {
                let (workshop, code, barrier) = (workshop.clone(), code.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    workshop
                        .reserve_device(id, &code, &context(WORKSHOP, now()))
                        .await
                })
            })
            .collect();
        let mut successes = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => successes += 1,
                Err(PrescriptionStoreError::AlreadyReserved { device }) => {
                    assert_eq!(device, code.to_string(), "round {round}");
                }
                Err(other) => panic!("round {round}: unexpected error: {other}"),
            }
        }
        assert_eq!(successes, 1, "round {round}");
        let events = device_events(&workshop, &code).await;
        let reservations = events
            .iter()
            .filter(|e| matches!(e, DeviceEvent::Reserved(_)))
            .count();
        assert_eq!(reservations, 1, "round {round}");
        let reserved: Vec<_> = [
            workshop.load_prescription(first).await.unwrap().unwrap(),
            workshop.load_prescription(second).await.unwrap().unwrap(),
        ]
        .into_iter()
        .filter(|p| p.status == PrescriptionStatus::Reserved)
        .collect();
        assert_eq!(reserved.len(), 1, "round {round}");
    }
    db.cleanup().await;
}

async fn reserved_device_rejected_later(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let (_, first) = accepted_prescription(&workshop, scheme, now()).await;
    let (_, second) = accepted_prescription(&workshop, scheme, now()).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;
    let context = context(WORKSHOP, now());
    workshop
        .reserve_device(first, &code, &context)
        .await
        .unwrap();
    let error = workshop
        .reserve_device(second, &code, &context)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, PrescriptionStoreError::AlreadyReserved { .. }),
        "{error:?}"
    );
    assert!(message.contains(code.as_str()), "{message}");
    assert!(message.contains("already reserved"), "{message}");
    db.cleanup().await;
}

// ---------------------------------------------------------------------------
// Privacy
// ---------------------------------------------------------------------------

async fn erasure_keeps_events_and_counts(db: TestDatabase) {
    let workshop = open(&db).await;
    let store = workshop.store();
    let scheme = benefit_scheme(&workshop).await;
    let (household, id) = accepted_prescription(&workshop, scheme, now()).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;
    hand_over(&workshop, id, &code, HandoverMode::Donation, now()).await;
    let other = store.create_household(identity(), now()).await.unwrap();
    let mut new = new_prescription(other, "2A004");
    new.evidence = Evidence::Benefit { name: "AAH".into() };
    workshop
        .issue_prescription(new, scheme, &context(REFERRER, now()))
        .await
        .unwrap();

    let head_before = store.head().await.unwrap();
    let events_before = store.read_all(0, i64::MAX).await.unwrap();
    let counts_before = workshop.prescription_counts().await.unwrap();
    assert_eq!(counts_before.len(), 2);
    assert!(counts_before.iter().all(|c| c.count == 1));
    assert_eq!(counts_before[0].commune, "2A004");
    assert_eq!(
        counts_before[1].eligibility,
        EligibilityCategory::BenefitRecipient
    );

    let erased_at = store.erase_household(household, now()).await.unwrap();
    assert_eq!(erased_at, now());
    let record = store.household(household).await.unwrap().unwrap();
    assert_eq!(record.identity, None);
    assert_eq!(record.erased_at, Some(now()));
    assert!(store
        .household(other)
        .await
        .unwrap()
        .unwrap()
        .identity
        .is_some());

    assert_eq!(store.head().await.unwrap(), head_before);
    let events_after = store.read_all(0, i64::MAX).await.unwrap();
    assert_eq!(events_after.len(), events_before.len());
    for (before, after) in events_before.iter().zip(&events_after) {
        assert_eq!(
            before.payload, after.payload,
            "position {}",
            before.position
        );
        assert_eq!(before, after, "position {}", before.position);
    }
    assert_eq!(workshop.prescription_counts().await.unwrap(), counts_before);
    assert!(store.verify_chain().await.unwrap().first_break.is_none());
    let again = store
        .erase_household(household, now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(again, now(), "a second erasure keeps the first time");
    db.cleanup().await;
}

async fn export_holds_identity_and_events(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    let (household, id) = accepted_prescription(&workshop, scheme, now()).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        now(),
    )
    .await;
    hand_over(&workshop, id, &code, loan(now(), 30), now()).await;
    let (_, unrelated) = accepted_prescription(&workshop, scheme, now()).await;

    let export = workshop.export_household(household).await.unwrap();
    let identity = &export["household"]["identity"];
    assert_eq!(identity["first_name"], FIRST_NAME);
    assert_eq!(identity["last_name"], LAST_NAME);
    assert_eq!(identity["phone"], PHONE);
    assert_eq!(identity["email"], EMAIL);
    assert_eq!(identity["address"], ADDRESS);
    let prescriptions = export["prescriptions"].as_array().unwrap();
    assert_eq!(prescriptions.len(), 1);
    assert_eq!(prescriptions[0]["stream_id"], id.stream_id());
    let types: Vec<_> = prescriptions[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "prescription_issued",
            "prescription_accepted",
            "prescription_device_reserved",
            "prescription_handed_over"
        ]
    );
    assert!(!export.to_string().contains(&unrelated.to_string()));
    let devices = export["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["code"], code.as_str());
    let device_types: Vec<_> = devices[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        device_types,
        ["reserved", "handed_over"],
        "bench history left out"
    );

    workshop
        .store()
        .erase_household(household, now())
        .await
        .unwrap();
    let erased = workshop.export_household(household).await.unwrap();
    assert!(erased["household"]["identity"].is_null());
    assert_eq!(erased["prescriptions"], export["prescriptions"]);
    db.cleanup().await;
}

async fn retention_erases_only_old_closed(db: TestDatabase) {
    let workshop = open(&db).await;
    let store = workshop.store();
    let scheme = benefit_scheme(&workshop).await;
    let old = now() - Duration::days(400);
    let recent = now() - Duration::days(30);
    let cancel = |reason: &str| PrescriptionCommand::Cancel {
        reason: reason.into(),
    };

    let (cancelled_long_ago, id) = accepted_prescription(&workshop, scheme, old).await;
    workshop
        .record_prescription(id, cancel("doublon"), &context(REFERRER, old))
        .await
        .unwrap();

    let (cancelled_recently, id) = accepted_prescription(&workshop, scheme, old).await;
    workshop
        .record_prescription(id, cancel("déménagement"), &context(REFERRER, recent))
        .await
        .unwrap();

    let (on_loan, id) = accepted_prescription(&workshop, scheme, old).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        old,
    )
    .await;
    hand_over(&workshop, id, &code, loan(old, 90), old).await;

    let (returned_long_ago, id) = accepted_prescription(&workshop, scheme, old).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::B,
        Autonomy::Beginner,
        old,
    )
    .await;
    hand_over(&workshop, id, &code, loan(old, 10), old).await;
    workshop
        .return_device(
            id,
            String::new(),
            &context(WORKSHOP, old + Duration::days(9)),
        )
        .await
        .unwrap();

    let (donated_long_ago, id) = accepted_prescription(&workshop, scheme, old).await;
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::C,
        Autonomy::Beginner,
        old,
    )
    .await;
    hand_over(&workshop, id, &code, HandoverMode::Donation, old).await;

    // Cancelled long ago, but a device was lent to it on the device page.
    let (lent_directly, id) = accepted_prescription(&workshop, scheme, old).await;
    let cancel_for_loan = cancel("prêt direct");
    workshop
        .record_prescription(id, cancel_for_loan, &context(WORKSHOP, old))
        .await
        .unwrap();
    let code = ready_device(
        &workshop,
        Category::Laptop,
        Grade::A,
        Autonomy::Beginner,
        old,
    )
    .await;
    let direct_loan = DeviceCommand::HandOver {
        household_id: lent_directly,
        prescription_id: None,
        mode: loan(old, 700),
    };
    workshop
        .record(&code, direct_loan, &context(WORKSHOP, old))
        .await
        .unwrap();

    let never_prescribed_old = store.create_household(identity(), old).await.unwrap();
    let never_prescribed_recent = store.create_household(identity(), recent).await.unwrap();

    let head_before = store.head().await.unwrap();
    let erased: BTreeSet<_> = workshop
        .erase_closed_households(365, now())
        .await
        .unwrap()
        .into_iter()
        .collect();
    let expected: BTreeSet<_> = [
        cancelled_long_ago,
        returned_long_ago,
        donated_long_ago,
        never_prescribed_old,
    ]
    .into();
    assert_eq!(erased, expected);
    for household in &expected {
        let record = store.household(*household).await.unwrap().unwrap();
        assert!(record.identity.is_none(), "{household} kept its identity");
    }
    for household in [
        cancelled_recently,
        on_loan,
        lent_directly,
        never_prescribed_recent,
    ] {
        let record = store.household(household).await.unwrap().unwrap();
        assert!(record.identity.is_some(), "{household} was erased");
    }
    assert_eq!(
        store.head().await.unwrap(),
        head_before,
        "the sweep records no event"
    );
    let second = workshop.erase_closed_households(365, now()).await.unwrap();
    assert!(second.is_empty(), "{second:?}");
    db.cleanup().await;
}

async fn no_identity_in_event_log(db: TestDatabase) {
    let workshop = open(&db).await;
    let scheme = benefit_scheme(&workshop).await;
    for mode in [
        loan(now(), 30),
        HandoverMode::Donation,
        HandoverMode::SolidaritySale { price_cents: 3_000 },
    ] {
        let (_, id) = accepted_prescription(&workshop, scheme, now()).await;
        let code = ready_device(
            &workshop,
            Category::Laptop,
            Grade::A,
            Autonomy::Beginner,
            now(),
        )
        .await;
        hand_over(&workshop, id, &code, mode, now()).await;
        let command = PrescriptionCommand::AttendTraining {
            on: now().date_naive(),
        };
        workshop
            .record_prescription(id, command, &context(WORKSHOP, now()))
            .await
            .unwrap();
    }
    let events = workshop.store().read_all(0, i64::MAX).await.unwrap();
    assert!(events.len() > 30, "the flows recorded events");
    let forbidden = [
        FIRST_NAME,
        LAST_NAME,
        PHONE,
        "0612345678",
        EMAIL,
        ADDRESS,
        "Lilas",
    ];
    for event in &events {
        let stored = format!(
            "{} {} {} {}",
            event.payload, event.metadata.actor, event.metadata.organisation, event.stream_id
        )
        .to_lowercase();
        for value in forbidden {
            assert!(
                !stored.contains(&value.to_lowercase()),
                "event at position {} ({}) contains identity value {value:?}",
                event.position,
                event.event_type
            );
        }
    }
    db.cleanup().await;
}

backend_tests!(
    full_flow_across_streams,
    loan_converted_on_both_streams,
    loan_extended_on_both_streams,
    invalid_extension_records_nothing,
    extension_conflicts_with_device_change,
    release_frees_device,
    ineligible_household_rejected,
    unknown_or_erased_household_rejected,
    schemes_listed_and_unique,
    identity_errors_hide_values,
    double_reservation_one_wins,
    reserved_device_rejected_later,
    erasure_keeps_events_and_counts,
    export_holds_identity_and_events,
    retention_erases_only_old_closed,
    no_identity_in_event_log,
);
