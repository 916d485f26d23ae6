//! Bad inputs to prescription steps, run on SQLite and on PostgreSQL: each
//! is rejected with a message naming the value and the fix, and the log
//! head does not move.

use chrono::{DateTime, Duration, TimeZone, Utc};
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, Erasure, Grading, HandoverMode, Placement, StorageUnit};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, Evidence, HouseholdAttributes, HouseholdSize, Need,
    NewPrescription, PreferredMode, PrescriptionError, PrescriptionStatus, Purpose, SchemeId,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict,
};
use filiere_domain::{
    DeviceCode, DeviceCommand, DeviceId, DeviceStatus, DomainError, DonationId, HouseholdId,
    PrescriptionId,
};
use filiere_store::households::HouseholdIdentity;
use filiere_store::prescriptions::PrescriptionStoreError;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{backend_tests, EventStore};

const WORKSHOP: &str = "workshop-chartres";
const REFERRER: &str = "ccas-chartres";
const DISK: &str = "WD-WCC4N1234567";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 15, 9, 30, 0).unwrap()
}

fn context(organisation: &str) -> CommandContext {
    let mut context = CommandContext::new("test:dominique", organisation);
    context.now = now();
    context
}

async fn open(db: &TestDatabase) -> Workshop {
    Workshop::new(
        EventStore::connect(&db.url)
            .await
            .expect("test database opens"),
    )
}

async fn head(workshop: &Workshop) -> (i64, String) {
    workshop.store().head().await.unwrap()
}

async fn household(workshop: &Workshop) -> HouseholdId {
    let identity = HouseholdIdentity {
        first_name: "Odile".into(),
        last_name: "Ferrand".into(),
        phone: None,
        email: None,
        address: None,
    };
    workshop
        .store()
        .create_household(identity, now())
        .await
        .unwrap()
}

async fn scheme(workshop: &Workshop, name: &str, rule: EligibilityRule) -> SchemeId {
    workshop
        .store()
        .create_scheme(name, rule, now())
        .await
        .unwrap()
        .id
}

fn new_prescription(household_id: HouseholdId, evidence: Evidence) -> NewPrescription {
    NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id,
        referrer_organisation: REFERRER.into(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::Schooling,
        },
        evidence,
        preferred_mode: PreferredMode::Loan,
        skills: DigitalSkills::Pix { level: 1 },
        training: None,
        household: HouseholdAttributes {
            commune: InseeCode::parse("28085").unwrap(),
            qpv: false,
            zrr: false,
            size: HouseholdSize::ThreeToFour,
            age: AgeBand::Adult,
        },
    }
}

/// Issues a prescription under an RSA scheme and lets the workshop accept it.
async fn accepted_prescription(workshop: &Workshop) -> PrescriptionId {
    let rule = EligibilityRule::Benefit {
        accepted: vec!["RSA".into()],
    };
    let scheme_name = format!("RSA {}", uuid::Uuid::now_v7().simple());
    let scheme = scheme(workshop, &scheme_name, rule).await;
    let household = household(workshop).await;
    let new = new_prescription(household, Evidence::Benefit { name: "RSA".into() });
    let id = new.prescription_id;
    workshop
        .issue_prescription(new, scheme, &context(REFERRER))
        .await
        .unwrap();
    let accept = filiere_domain::prescription::PrescriptionCommand::Accept {
        workshop_organisation: WORKSHOP.into(),
    };
    workshop
        .record_prescription(id, accept, &context(WORKSHOP))
        .await
        .unwrap();
    id
}

/// Receives one laptop from `donor_kind`, held by the workshop.
async fn received_laptop(
    workshop: &Workshop,
    donor_kind: DonorKind,
    free_transfer: bool,
) -> DeviceCode {
    let donation = NewDonation {
        donation_id: DonationId::generate(),
        donor_name: "Mairie de Lucé".into(),
        donor_kind,
        free_transfer,
        received_on: now().date_naive(),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let intake = Intake {
        device_id: DeviceId::generate(),
        donation_id: donation.donation_id,
        category: Category::Laptop,
        brand: "HP".into(),
        model: "EliteBook 840 G5".into(),
        serial: None,
        asset_tag: None,
        site: "Chartres".into(),
        donor_kind,
        free_transfer,
    };
    let outcome = workshop
        .receive_donation(donation, vec![NewDevice { intake }], &context(WORKSHOP))
        .await
        .unwrap();
    outcome.devices[0].1.clone()
}

fn diagnose(unit: &str) -> DeviceCommand {
    DeviceCommand::Diagnose(Diagnosis {
        functional_test: Outcome::Passed,
        verdict: Verdict::Refurbish,
        storage_units: vec![StorageUnit {
            unit: unit.into(),
            kind: StorageKind::Hdd,
            model: "WD Blue".into(),
            size_bytes: Some(500_000_000_000),
            healthy: Some(true),
        }],
        cpu: "Intel Core i5-8350U".into(),
        memory_bytes: Some(8 << 30),
        battery_wear_percent: Some(20),
        notes: String::new(),
        evidence_sha256: vec![],
    })
}

fn erase(unit: &str) -> DeviceCommand {
    DeviceCommand::RecordErasure(Erasure {
        unit: unit.into(),
        method: ErasureMethod::Purge,
        technique: ErasureTechnique::Overwrite,
        tool: "nwipe".into(),
        tool_version: "0.37".into(),
        verified: true,
        result: Outcome::Passed,
        operator: "Dominique".into(),
        evidence_sha256: None,
    })
}

fn grade() -> DeviceCommand {
    DeviceCommand::Grade(Grading {
        grade: Grade::B,
        autonomy: Autonomy::Beginner,
        notes: String::new(),
    })
}

fn stock() -> DeviceCommand {
    DeviceCommand::Stock(Placement {
        site: "Chartres".into(),
        location: "B2".into(),
    })
}

async fn record_all(workshop: &Workshop, code: &DeviceCode, commands: Vec<DeviceCommand>) {
    for command in commands {
        workshop
            .record(code, command, &context(WORKSHOP))
            .await
            .unwrap();
    }
}

/// Receives a laptop and diagnoses, erases, grades and stocks it, so that it
/// is ready for a household.
async fn ready_laptop(workshop: &Workshop, donor_kind: DonorKind, free: bool) -> DeviceCode {
    let code = received_laptop(workshop, donor_kind, free).await;
    record_all(
        workshop,
        &code,
        vec![diagnose(DISK), erase(DISK), grade(), stock()],
    )
    .await;
    code
}

fn loan_due_in(days: i64) -> HandoverMode {
    HandoverMode::Loan {
        due_on: now().date_naive() + Duration::days(days),
    }
}

async fn status_of(workshop: &Workshop, code: &DeviceCode) -> DeviceStatus {
    workshop.find_device(code).await.unwrap().unwrap().status
}

async fn prescription_status(workshop: &Workshop, id: PrescriptionId) -> PrescriptionStatus {
    workshop
        .load_prescription(id)
        .await
        .unwrap()
        .unwrap()
        .status
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

async fn quotient_above_threshold_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let rule = EligibilityRule::FamilyQuotientBelow {
        threshold_euros: 700,
    };
    let scheme = scheme(&workshop, "QF CAF 700", rule).await;
    let household = household(&workshop).await;
    let before = head(&workshop).await;
    let new = new_prescription(household, Evidence::FamilyQuotient { euros: 912 });
    let error = workshop
        .issue_prescription(new, scheme, &context(REFERRER))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Prescription(PrescriptionError::NotEligible { .. })
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("QF CAF 700"), "{message}");
    assert!(message.contains("912"), "{message}");
    assert!(message.contains("700"), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");

    let wrong_kind = new_prescription(household, Evidence::Student);
    let error = workshop
        .issue_prescription(wrong_kind, scheme, &context(REFERRER))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Prescription(PrescriptionError::NotEligible { .. })
        ),
        "{error:?}"
    );
    assert_eq!(head(&workshop).await, before, "nothing recorded");
    db.cleanup().await;
}

async fn unready_device_not_reserved(db: TestDatabase) {
    let workshop = open(&db).await;
    let id = accepted_prescription(&workshop).await;

    let received = received_laptop(&workshop, DonorKind::Company, false).await;
    let before = head(&workshop).await;
    let error = workshop
        .reserve_device(id, &received, &context(WORKSHOP))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Device(DomainError::StepNotAllowed { .. })
        ),
        "{error:?}"
    );
    assert!(message.contains(received.as_str()), "{message}");
    assert!(message.contains("diagnose"), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");

    // Diagnosed, graded and stocked, but its disk was never erased.
    let unerased = received_laptop(&workshop, DonorKind::Company, false).await;
    record_all(&workshop, &unerased, vec![diagnose(DISK), grade(), stock()]).await;
    assert_eq!(status_of(&workshop, &unerased).await, DeviceStatus::InStock);
    let before = head(&workshop).await;
    let error = workshop
        .reserve_device(id, &unerased, &context(WORKSHOP))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Device(DomainError::NotReady { .. })
        ),
        "{error:?}"
    );
    assert!(message.contains(unerased.as_str()), "{message}");
    assert!(message.contains(DISK), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");
    assert_eq!(
        prescription_status(&workshop, id).await,
        PrescriptionStatus::Accepted
    );
    db.cleanup().await;
}

async fn reserved_device_not_reserved_twice(db: TestDatabase) {
    let workshop = open(&db).await;
    let first = accepted_prescription(&workshop).await;
    let second = accepted_prescription(&workshop).await;
    let code = ready_laptop(&workshop, DonorKind::Company, false).await;
    workshop
        .reserve_device(first, &code, &context(WORKSHOP))
        .await
        .unwrap();
    let before = head(&workshop).await;
    let error = workshop
        .reserve_device(second, &code, &context(WORKSHOP))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, PrescriptionStoreError::AlreadyReserved { .. }),
        "{error:?}"
    );
    assert!(message.contains(code.as_str()), "{message}");
    assert!(message.contains("release"), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");
    assert_eq!(
        prescription_status(&workshop, second).await,
        PrescriptionStatus::Accepted
    );
    db.cleanup().await;
}

async fn handover_without_erasure_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let id = accepted_prescription(&workshop).await;
    let code = ready_laptop(&workshop, DonorKind::Company, false).await;
    workshop
        .reserve_device(id, &code, &context(WORKSHOP))
        .await
        .unwrap();
    // On the device itself: the reservation is released, a second disk is
    // found and the device goes back to stock without erasing it.
    let release = DeviceCommand::ReleaseReservation {
        reason: "second disque trouvé".into(),
    };
    record_all(
        &workshop,
        &code,
        vec![release, diagnose("SECOND-DISK-9"), stock()],
    )
    .await;
    assert_eq!(
        prescription_status(&workshop, id).await,
        PrescriptionStatus::Reserved
    );

    let before = head(&workshop).await;
    let error = workshop
        .hand_over(id, loan_due_in(90), &context(WORKSHOP))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Device(DomainError::NotReady { .. })
        ),
        "{error:?}"
    );
    assert!(message.contains(code.as_str()), "{message}");
    assert!(message.contains("SECOND-DISK-9"), "{message}");
    assert!(message.contains("handed over"), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");
    assert_eq!(status_of(&workshop, &code).await, DeviceStatus::InStock);
    db.cleanup().await;
}

async fn donated_device_not_returned(db: TestDatabase) {
    let workshop = open(&db).await;
    let id = accepted_prescription(&workshop).await;
    let code = ready_laptop(&workshop, DonorKind::Company, false).await;
    let context = context(WORKSHOP);
    workshop.reserve_device(id, &code, &context).await.unwrap();
    workshop
        .hand_over(id, HandoverMode::Donation, &context)
        .await
        .unwrap();
    let before = head(&workshop).await;
    let error = workshop
        .return_device(id, "rapporté".into(), &context)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Prescription(PrescriptionError::StepNotAllowed { .. })
        ),
        "{error:?}"
    );
    assert!(message.contains(&id.to_string()), "{message}");
    assert!(message.contains("'return'"), "{message}");
    assert!(message.contains("handed_over"), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");
    assert_eq!(status_of(&workshop, &code).await, DeviceStatus::HandedOver);
    db.cleanup().await;
}

async fn past_due_date_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let id = accepted_prescription(&workshop).await;
    let code = ready_laptop(&workshop, DonorKind::Company, false).await;
    let context = context(WORKSHOP);
    workshop.reserve_device(id, &code, &context).await.unwrap();
    let before = head(&workshop).await;
    for days in [-30, -1, 0] {
        let mode = loan_due_in(days);
        let HandoverMode::Loan { due_on } = mode else {
            unreachable!()
        };
        let error = workshop.hand_over(id, mode, &context).await.unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(
                error,
                PrescriptionStoreError::Prescription(PrescriptionError::Invalid(_))
            ),
            "{days} days: {error:?}"
        );
        assert!(message.contains("due date"), "{message}");
        assert!(message.contains(&due_on.to_string()), "{message}");
        assert!(message.contains("later due date"), "{message}");
        assert_eq!(
            head(&workshop).await,
            before,
            "{days} days: nothing recorded"
        );
    }
    assert_eq!(
        prescription_status(&workshop, id).await,
        PrescriptionStatus::Reserved
    );
    assert_eq!(status_of(&workshop, &code).await, DeviceStatus::Reserved);
    db.cleanup().await;
}

async fn sale_above_cap_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let id = accepted_prescription(&workshop).await;
    let code = ready_laptop(&workshop, DonorKind::PublicBody, true).await;
    let context = context(WORKSHOP);
    workshop.reserve_device(id, &code, &context).await.unwrap();
    let before = head(&workshop).await;
    let error = workshop
        .hand_over(
            id,
            HandoverMode::SolidaritySale {
                price_cents: 18_001,
            },
            &context,
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Device(DomainError::PriceAboveCap { .. })
        ),
        "{error:?}"
    );
    assert!(message.contains(code.as_str()), "{message}");
    assert!(message.contains("180.01"), "{message}");
    assert!(message.contains("180.00"), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");

    let at_cap = workshop
        .hand_over(
            id,
            HandoverMode::SolidaritySale {
                price_cents: 18_000,
            },
            &context,
        )
        .await
        .unwrap();
    assert_eq!(at_cap.prescription.status, PrescriptionStatus::HandedOver);
    db.cleanup().await;
}

async fn returned_device_needs_bench_again(db: TestDatabase) {
    let workshop = open(&db).await;
    let first = accepted_prescription(&workshop).await;
    let code = ready_laptop(&workshop, DonorKind::Company, false).await;
    let context = context(WORKSHOP);
    workshop
        .reserve_device(first, &code, &context)
        .await
        .unwrap();
    workshop
        .hand_over(first, loan_due_in(60), &context)
        .await
        .unwrap();
    workshop
        .return_device(first, "fin de prêt".into(), &context)
        .await
        .unwrap();
    assert_eq!(status_of(&workshop, &code).await, DeviceStatus::Returned);

    let second = accepted_prescription(&workshop).await;
    let before = head(&workshop).await;
    let error = workshop
        .reserve_device(second, &code, &context)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Device(DomainError::StepNotAllowed { .. })
        ),
        "{error:?}"
    );
    assert!(message.contains("returned"), "{message}");
    assert!(message.contains("diagnose"), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");

    // Diagnosed and stocked again, but not erased since the return.
    record_all(&workshop, &code, vec![diagnose(DISK), stock()]).await;
    let before = head(&workshop).await;
    let error = workshop
        .reserve_device(second, &code, &context)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PrescriptionStoreError::Device(DomainError::NotReady { .. })
        ),
        "{error:?}"
    );
    assert!(message.contains(DISK), "{message}");
    assert_eq!(head(&workshop).await, before, "nothing recorded");

    record_all(&workshop, &code, vec![erase(DISK)]).await;
    workshop
        .reserve_device(second, &code, &context)
        .await
        .unwrap();
    let handed = workshop
        .hand_over(second, HandoverMode::Donation, &context)
        .await
        .unwrap();
    assert_eq!(handed.prescription.status, PrescriptionStatus::HandedOver);
    db.cleanup().await;
}

backend_tests!(
    quotient_above_threshold_rejected,
    unready_device_not_reserved,
    reserved_device_not_reserved_twice,
    handover_without_erasure_rejected,
    donated_device_not_returned,
    past_due_date_rejected,
    sale_above_cap_rejected,
    returned_device_needs_bench_again,
);
