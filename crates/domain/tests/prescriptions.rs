//! Tests of the prescription aggregate: issuing under an eligibility scheme,
//! which steps `Prescription::decide` accepts in each status, the event codec
//! and device matching. A property test runs random command sequences and
//! checks that no handover happens without an acceptance and a reservation,
//! and that a closed prescription takes no further step.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use filiere_domain::device::DeviceStatus;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::codec::{decode_prescription_event, encode_prescription_event};
use filiere_domain::prescription::matching::{match_devices, CandidateDevice};
use filiere_domain::prescription::{
    AgeBand, DeviceRef, DigitalSkills, EligibilityCategory, EligibilityRule, EligibilityScheme,
    Evidence, HouseholdAttributes, HouseholdSize, Need, NewPrescription, PreferredMode,
    Prescription, PrescriptionCommand, PrescriptionError, PrescriptionEvent, PrescriptionStatus,
    PrescriptionStep, Purpose, SchemeId, Training, TrainingProvider,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{Autonomy, Category, Grade};
use filiere_domain::{DeviceCode, DeviceId, HouseholdId, PrescriptionId};
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const WORKSHOP: &str = "workshop-lyon";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 10).expect("valid date")
}

fn scheme() -> EligibilityScheme {
    EligibilityScheme::new(
        SchemeId(Uuid::from_u128(7)),
        "Minima sociaux Métropole",
        EligibilityRule::Benefit {
            accepted: vec!["RSA".into(), "AAH".into(), "ASS".into()],
        },
    )
    .expect("valid scheme")
}

fn new_prescription(training: bool) -> NewPrescription {
    NewPrescription {
        prescription_id: PrescriptionId(Uuid::from_u128(1)),
        household_id: HouseholdId(Uuid::from_u128(2)),
        referrer_organisation: "ccas-lyon".into(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::JobSearch,
        },
        evidence: Evidence::Benefit { name: "RSA".into() },
        preferred_mode: PreferredMode::Loan,
        skills: DigitalSkills::Autonomy {
            level: Autonomy::Beginner,
        },
        training: training.then(|| Training {
            provider: TrainingProvider::Venue,
            name: "Espace numérique Part-Dieu".into(),
            scheduled_on: None,
        }),
        household: HouseholdAttributes {
            commune: InseeCode::parse("69123").expect("valid code"),
            qpv: true,
            zrr: false,
            size: HouseholdSize::ThreeToFour,
            age: AgeBand::Adult,
        },
    }
}

fn issued(training: bool) -> Prescription {
    let events = Prescription::issue(new_prescription(training), &scheme(), today())
        .expect("eligible household");
    Prescription::from_events(&events).expect("stream starts with an issue")
}

fn device(n: u8) -> DeviceRef {
    DeviceRef {
        device_id: DeviceId(Uuid::from_u128(100 + u128::from(n))),
        code: DeviceCode::from_random([u32::from(n), 1, 2, 3, 4, 5]),
    }
}

fn reserve(n: u8) -> PrescriptionCommand {
    PrescriptionCommand::Reserve {
        device: device(n),
        category: Category::Laptop,
        holder: WORKSHOP.into(),
    }
}

fn accept() -> PrescriptionCommand {
    PrescriptionCommand::Accept {
        workshop_organisation: WORKSHOP.into(),
    }
}

fn loan(days: i64) -> HandoverMode {
    HandoverMode::Loan {
        due_on: today() + Duration::days(days),
    }
}

/// Decides `command` and folds the events into `prescription`.
fn step(prescription: &mut Prescription, command: PrescriptionCommand) {
    let events = prescription
        .decide(command.clone(), today())
        .unwrap_or_else(|error| panic!("{command:?} rejected: {error}"));
    for event in &events {
        prescription.apply(event);
    }
}

fn handed_over_on_loan() -> Prescription {
    let mut prescription = issued(true);
    step(&mut prescription, accept());
    step(&mut prescription, reserve(1));
    step(
        &mut prescription,
        PrescriptionCommand::HandOver {
            device_id: device(1).device_id,
            mode: loan(90),
        },
    );
    prescription
}

// ---------------------------------------------------------------------------
// Issuing
// ---------------------------------------------------------------------------

#[test]
fn issue_records_eligibility_category() {
    let prescription = issued(true);
    assert_eq!(prescription.status, PrescriptionStatus::Issued);
    assert_eq!(
        prescription.issued.eligibility,
        EligibilityCategory::BenefitRecipient
    );
    assert_eq!(prescription.issued.scheme.name, "Minima sociaux Métropole");
    assert_eq!(prescription.version, 1);
}

#[test]
fn ineligible_household_rejected() {
    let mut new = new_prescription(true);
    new.evidence = Evidence::Benefit {
        name: "Prime d'activité".into(),
    };
    let error = Prescription::issue(new, &scheme(), today()).unwrap_err();
    assert!(
        matches!(error, PrescriptionError::NotEligible { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("Minima sociaux Métropole"), "{message}");
    assert!(message.contains("Prime d'activité"), "{message}");
    assert!(message.contains("RSA, AAH, ASS"), "{message}");
}

#[test]
fn quotient_above_threshold_rejected() {
    let quotient = EligibilityScheme::new(
        SchemeId(Uuid::from_u128(8)),
        "QF CAF",
        EligibilityRule::FamilyQuotientBelow {
            threshold_euros: 700,
        },
    )
    .unwrap();
    let mut new = new_prescription(false);
    new.evidence = Evidence::FamilyQuotient { euros: 820 };
    let message = Prescription::issue(new.clone(), &quotient, today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("QF CAF"), "{message}");
    assert!(message.contains("820 EUR"), "{message}");
    assert!(message.contains("700 EUR"), "{message}");
    new.evidence = Evidence::FamilyQuotient { euros: 650 };
    assert!(Prescription::issue(new, &quotient, today()).is_ok());
}

#[test]
fn unknown_commune_rejected() {
    let mut new = new_prescription(false);
    // 75101 is a Paris arrondissement, not a commune.
    new.household.commune = InseeCode::parse("75101").unwrap();
    let message = Prescription::issue(new, &scheme(), today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("75101"), "{message}");
    assert!(message.contains("75056"), "{message}");
}

#[test]
fn pix_level_above_eight_rejected() {
    let mut new = new_prescription(false);
    new.skills = DigitalSkills::Pix { level: 9 };
    let message = Prescription::issue(new, &scheme(), today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("Pix level"), "{message}");
}

#[test]
fn training_date_in_past_rejected() {
    let mut new = new_prescription(true);
    if let Some(training) = &mut new.training {
        training.scheduled_on = Some(today() - Duration::days(1));
    }
    let message = Prescription::issue(new, &scheme(), today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("training date"), "{message}");
}

#[test]
fn training_without_name_rejected() {
    let mut new = new_prescription(true);
    if let Some(training) = &mut new.training {
        training.name = "  ".into();
    }
    assert!(Prescription::issue(new, &scheme(), today()).is_err());
}

#[test]
fn pix_levels_map_to_autonomy() {
    let pix = |level| DigitalSkills::Pix { level }.autonomy();
    assert_eq!(pix(0), Autonomy::Beginner);
    assert_eq!(pix(2), Autonomy::Beginner);
    assert_eq!(pix(3), Autonomy::Intermediate);
    assert_eq!(pix(5), Autonomy::Autonomous);
    assert_eq!(pix(8), Autonomy::Autonomous);
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

#[test]
fn full_loan_flow() {
    let mut prescription = handed_over_on_loan();
    assert_eq!(prescription.status, PrescriptionStatus::HandedOver);
    assert!(!prescription.is_closed());
    step(
        &mut prescription,
        PrescriptionCommand::AttendTraining { on: today() },
    );
    step(
        &mut prescription,
        PrescriptionCommand::ExtendLoan {
            due_on: today() + Duration::days(180),
        },
    );
    assert_eq!(prescription.handover_mode, Some(loan(180)));
    step(
        &mut prescription,
        PrescriptionCommand::Return {
            notes: "bon état".into(),
        },
    );
    assert_eq!(prescription.status, PrescriptionStatus::Returned);
    assert!(prescription.is_closed());
    assert!(prescription.allowed_steps().is_empty());
}

#[test]
fn handover_before_reservation_rejected() {
    let mut prescription = issued(true);
    step(&mut prescription, accept());
    let error = prescription
        .decide(
            PrescriptionCommand::HandOver {
                device_id: device(1).device_id,
                mode: HandoverMode::Donation,
            },
            today(),
        )
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&prescription.id().to_string()),
        "{message}"
    );
    assert!(message.contains("is accepted"), "{message}");
    assert!(message.contains("'handover'"), "{message}");
    assert!(
        message.contains("allowed now: reserve, cancel, expire"),
        "{message}"
    );
}

#[test]
fn reserve_before_acceptance_rejected() {
    let prescription = issued(false);
    let error = prescription.decide(reserve(1), today()).unwrap_err();
    assert!(
        matches!(
            error,
            PrescriptionError::StepNotAllowed {
                step: PrescriptionStep::Reserve,
                status: PrescriptionStatus::Issued,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn reserve_checks_category_and_holder() {
    let mut prescription = issued(false);
    step(&mut prescription, accept());
    let tablet = PrescriptionCommand::Reserve {
        device: device(1),
        category: Category::Tablet,
        holder: WORKSHOP.into(),
    };
    let message = prescription
        .decide(tablet, today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("needs a laptop"), "{message}");
    let elsewhere = PrescriptionCommand::Reserve {
        device: device(1),
        category: Category::Laptop,
        holder: "workshop-grenoble".into(),
    };
    let message = prescription
        .decide(elsewhere, today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("workshop-grenoble"), "{message}");
    assert!(message.contains(WORKSHOP), "{message}");
}

#[test]
fn handover_of_other_device_rejected() {
    let mut prescription = issued(false);
    step(&mut prescription, accept());
    step(&mut prescription, reserve(1));
    let error = prescription
        .decide(
            PrescriptionCommand::HandOver {
                device_id: device(2).device_id,
                mode: HandoverMode::Donation,
            },
            today(),
        )
        .unwrap_err();
    assert!(
        matches!(error, PrescriptionError::NotReservedDevice { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(device(1).code.as_str()),
        "{error}"
    );
}

#[test]
fn release_returns_to_accepted() {
    let mut prescription = issued(false);
    step(&mut prescription, accept());
    step(&mut prescription, reserve(1));
    step(
        &mut prescription,
        PrescriptionCommand::Release {
            reason: "écran fissuré".into(),
        },
    );
    assert_eq!(prescription.status, PrescriptionStatus::Accepted);
    assert_eq!(prescription.device, None);
    step(&mut prescription, reserve(2));
    assert_eq!(prescription.device, Some(device(2)));
}

#[test]
fn extension_must_end_later() {
    let prescription = handed_over_on_loan();
    let message = prescription
        .decide(
            PrescriptionCommand::ExtendLoan {
                due_on: today() + Duration::days(30),
            },
            today(),
        )
        .unwrap_err()
        .to_string();
    assert!(message.contains("current due date"), "{message}");
}

#[test]
fn loan_due_date_checked() {
    let mut prescription = issued(false);
    step(&mut prescription, accept());
    step(&mut prescription, reserve(1));
    let message = prescription
        .decide(
            PrescriptionCommand::HandOver {
                device_id: device(1).device_id,
                mode: loan(0),
            },
            today(),
        )
        .unwrap_err()
        .to_string();
    assert!(message.contains("due date"), "{message}");
}

#[test]
fn donation_closes_but_allows_training() {
    let mut prescription = issued(true);
    step(&mut prescription, accept());
    step(&mut prescription, reserve(1));
    step(
        &mut prescription,
        PrescriptionCommand::HandOver {
            device_id: device(1).device_id,
            mode: HandoverMode::Donation,
        },
    );
    assert!(prescription.is_closed());
    assert_eq!(
        prescription.allowed_steps(),
        vec![
            PrescriptionStep::AttendTraining,
            PrescriptionStep::MissTraining
        ]
    );
    let error = prescription
        .decide(PrescriptionCommand::ConvertToDonation, today())
        .unwrap_err();
    assert!(error.to_string().contains("'convert'"), "{error}");
}

#[test]
fn training_steps_need_prescribed_training() {
    let prescription = issued(false);
    let error = prescription
        .decide(PrescriptionCommand::AttendTraining { on: today() }, today())
        .unwrap_err();
    assert!(
        matches!(error, PrescriptionError::StepNotAllowed { .. }),
        "{error:?}"
    );
}

#[test]
fn future_attendance_rejected() {
    let prescription = issued(true);
    let tomorrow = today() + Duration::days(1);
    assert!(prescription
        .decide(
            PrescriptionCommand::AttendTraining { on: tomorrow },
            today()
        )
        .is_err());
}

#[test]
fn decline_needs_reason() {
    let prescription = issued(false);
    let command = PrescriptionCommand::Decline {
        workshop_organisation: WORKSHOP.into(),
        reason: " ".into(),
    };
    let message = prescription
        .decide(command, today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("reason"), "{message}");
}

#[test]
fn cancelled_lists_no_step() {
    let mut prescription = issued(true);
    step(
        &mut prescription,
        PrescriptionCommand::Cancel {
            reason: "le foyer a déménagé".into(),
        },
    );
    let message = prescription
        .decide(accept(), today())
        .unwrap_err()
        .to_string();
    assert!(message.contains("is cancelled"), "{message}");
    assert!(
        message.contains("none, the prescription is closed"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------
// Codec
// ---------------------------------------------------------------------------

fn every_event() -> Vec<PrescriptionEvent> {
    let issued = Prescription::issue(new_prescription(true), &scheme(), today()).unwrap();
    let mut events = issued;
    events.extend([
        PrescriptionEvent::Accepted {
            workshop_organisation: WORKSHOP.into(),
        },
        PrescriptionEvent::Declined {
            workshop_organisation: WORKSHOP.into(),
            reason: "hors territoire".into(),
        },
        PrescriptionEvent::DeviceReserved(device(1)),
        PrescriptionEvent::ReservationReleased {
            device_id: device(1).device_id,
            reason: "panne".into(),
        },
        PrescriptionEvent::HandedOver(filiere_domain::prescription::PrescriptionHandover {
            device_id: device(1).device_id,
            mode: loan(30),
        }),
        PrescriptionEvent::TrainingAttended { on: today() },
        PrescriptionEvent::TrainingMissed { on: today() },
        PrescriptionEvent::LoanExtended {
            due_on: today() + Duration::days(60),
        },
        PrescriptionEvent::Returned {
            notes: String::new(),
        },
        PrescriptionEvent::ConvertedToDonation {},
        PrescriptionEvent::Cancelled {
            reason: "doublon".into(),
        },
        PrescriptionEvent::Expired {},
    ]);
    events
}

#[test]
fn codec_round_trips_every_event() {
    for event in every_event() {
        let (event_type, version, payload) = encode_prescription_event(&event);
        assert!(event_type.starts_with("prescription_"), "{event_type}");
        assert!(payload.get("type").is_none(), "{event_type}");
        let decoded = decode_prescription_event(event_type, version, &payload)
            .unwrap_or_else(|error| panic!("{event_type}: {error}"));
        assert_eq!(decoded, event);
        assert!(!event.summary_fr().is_empty());
    }
}

#[test]
fn codec_rejects_future_version() {
    let (event_type, _, payload) = encode_prescription_event(&PrescriptionEvent::Expired {});
    let error = decode_prescription_event(event_type, 2, &payload).unwrap_err();
    assert!(error.to_string().contains("upgrade"), "{error}");
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

fn since(days_ago: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_741_600_000, 0).unwrap() - Duration::days(days_ago)
}

fn candidate(n: u8, grade: Grade, autonomy: Autonomy, days_in_stock: i64) -> CandidateDevice {
    CandidateDevice {
        code: device(n).code,
        category: Category::Laptop,
        grade: Some(grade),
        autonomy: Some(autonomy),
        ready: true,
        status: DeviceStatus::InStock,
        in_stock_since: since(days_in_stock),
    }
}

fn accepted(skills: DigitalSkills) -> Prescription {
    let mut new = new_prescription(false);
    new.skills = skills;
    let events = Prescription::issue(new, &scheme(), today()).unwrap();
    let mut prescription = Prescription::from_events(&events).unwrap();
    step(&mut prescription, accept());
    prescription
}

fn codes(devices: &[CandidateDevice]) -> Vec<String> {
    devices.iter().map(|d| d.code.to_string()).collect()
}

#[test]
fn beginner_gets_beginner_devices_first() {
    let prescription = accepted(DigitalSkills::Autonomy {
        level: Autonomy::Beginner,
    });
    let candidates = vec![
        candidate(1, Grade::A, Autonomy::Autonomous, 90),
        candidate(2, Grade::C, Autonomy::Beginner, 10),
        candidate(3, Grade::A, Autonomy::Intermediate, 10),
        candidate(4, Grade::B, Autonomy::Beginner, 5),
    ];
    let ranked = match_devices(&prescription, candidates).unwrap();
    let expected = [4, 2, 3, 1].map(|n| device(n).code.to_string());
    assert_eq!(codes(&ranked), expected);
}

#[test]
fn grade_then_age_in_stock_break_ties() {
    let prescription = accepted(DigitalSkills::Pix { level: 6 });
    let candidates = vec![
        candidate(1, Grade::B, Autonomy::Autonomous, 50),
        candidate(2, Grade::A, Autonomy::Autonomous, 10),
        candidate(3, Grade::A, Autonomy::Autonomous, 40),
    ];
    let ranked = match_devices(&prescription, candidates).unwrap();
    let expected = [3, 2, 1].map(|n| device(n).code.to_string());
    assert_eq!(codes(&ranked), expected);
}

#[test]
fn unready_or_other_devices_left_out() {
    let prescription = accepted(DigitalSkills::Autonomy {
        level: Autonomy::Beginner,
    });
    let mut not_ready = candidate(1, Grade::A, Autonomy::Beginner, 10);
    not_ready.ready = false;
    let mut tablet = candidate(2, Grade::A, Autonomy::Beginner, 10);
    tablet.category = Category::Tablet;
    let mut reserved = candidate(3, Grade::A, Autonomy::Beginner, 10);
    reserved.status = DeviceStatus::Reserved;
    let mut ungraded = candidate(4, Grade::A, Autonomy::Beginner, 10);
    ungraded.grade = None;
    ungraded.autonomy = None;
    let fitting = candidate(5, Grade::C, Autonomy::Autonomous, 1);
    let ranked = match_devices(
        &prescription,
        vec![not_ready, tablet, reserved, ungraded, fitting],
    )
    .unwrap();
    let expected = [5, 4].map(|n| device(n).code.to_string());
    assert_eq!(codes(&ranked), expected);
}

#[test]
fn matching_needs_accepted_prescription() {
    let prescription = issued(false);
    let error = match_devices(&prescription, vec![]).unwrap_err();
    assert!(
        matches!(error, PrescriptionError::StepNotAllowed { .. }),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------
// Property test
// ---------------------------------------------------------------------------

fn any_command() -> impl Strategy<Value = PrescriptionCommand> {
    let later = |days| PrescriptionCommand::ExtendLoan {
        due_on: today() + Duration::days(days),
    };
    let handover = |n, mode| PrescriptionCommand::HandOver {
        device_id: device(n).device_id,
        mode,
    };
    select(vec![
        accept(),
        PrescriptionCommand::Decline {
            workshop_organisation: WORKSHOP.into(),
            reason: "stock vide".into(),
        },
        reserve(1),
        reserve(2),
        PrescriptionCommand::Release {
            reason: "panne".into(),
        },
        handover(1, loan(90)),
        handover(1, HandoverMode::Donation),
        handover(2, HandoverMode::SolidaritySale { price_cents: 5_000 }),
        PrescriptionCommand::AttendTraining { on: today() },
        PrescriptionCommand::MissTraining { on: today() },
        later(60),
        later(120),
        later(400),
        PrescriptionCommand::Return {
            notes: String::new(),
        },
        PrescriptionCommand::ConvertToDonation,
        PrescriptionCommand::Cancel {
            reason: "déménagement".into(),
        },
        PrescriptionCommand::Expire,
    ])
}

fn is_terminal(status: PrescriptionStatus) -> bool {
    matches!(
        status,
        PrescriptionStatus::Declined
            | PrescriptionStatus::Returned
            | PrescriptionStatus::Cancelled
            | PrescriptionStatus::Expired
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn handover_needs_acceptance_and_reservation(
        training in any::<bool>(),
        commands in proptest::collection::vec(any_command(), 0..40),
    ) {
        let mut prescription = issued(training);
        let mut accepted = false;
        let mut reserved: Option<DeviceId> = None;
        for command in commands {
            let was_terminal = is_terminal(prescription.status);
            let was_closed = prescription.is_closed();
            let step = command.step();
            let outcome = prescription.decide(command, today());
            if was_terminal {
                prop_assert!(outcome.is_err(), "step {step} accepted after {}", prescription.status);
            }
            if was_closed {
                let training_step = matches!(
                    step,
                    PrescriptionStep::AttendTraining | PrescriptionStep::MissTraining
                );
                prop_assert!(outcome.is_err() || training_step, "step {step} accepted on a closed prescription");
            }
            let Ok(events) = outcome else { continue };
            for event in &events {
                match event {
                    PrescriptionEvent::Accepted { .. } => accepted = true,
                    PrescriptionEvent::DeviceReserved(device) => reserved = Some(device.device_id),
                    PrescriptionEvent::ReservationReleased { .. } => reserved = None,
                    PrescriptionEvent::HandedOver(handover) => {
                        prop_assert!(accepted, "handed over without acceptance");
                        prop_assert_eq!(reserved, Some(handover.device_id), "handed over without a reservation of that device");
                    }
                    _ => {}
                }
                prescription.apply(event);
            }
        }
    }
}
