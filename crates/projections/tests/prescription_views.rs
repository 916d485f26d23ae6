//! Prescription read model, run on SQLite and on PostgreSQL: rows follow
//! the prescription's steps, the due and overdue loan queries filter by
//! date and organisation, and a rebuild gives the same rows as incremental
//! updates.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use filiere_domain::command::Step;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::HandoverMode;
use filiere_domain::fields::{command_from_fields, Fields};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, Evidence, HouseholdAttributes, HouseholdSize, Need,
    NewPrescription, PreferredMode, PrescriptionCommand, Purpose, SchemeId,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{Category, DonorKind};
use filiere_domain::{DeviceCode, DeviceId, DonationId, HouseholdId, PrescriptionId};
use filiere_projections::prescriptions::{
    incoming_prescriptions, loans_due_within, overdue_loans, prescription, referrer_prescriptions,
    workshop_prescriptions,
};
use filiere_projections::{LoanScope, Projector};
use filiere_store::households::HouseholdIdentity;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{backend_tests, EventStore};
use sqlx::Row;

const WORKSHOP_A: &str = "atelier-a";
const WORKSHOP_B: &str = "atelier-b";
const CCAS: &str = "ccas";
const MAIRIE: &str = "mairie";

/// Day every step of these tests happens: loans are handed over then, so
/// that they can be overdue on a later day without waiting.
fn day_one() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn context(organisation: &str) -> CommandContext {
    let mut context = CommandContext::new("test", organisation);
    context.now = day_one();
    context
}

async fn ready_laptop(workshop: &Workshop, holder: &str) -> DeviceCode {
    let donation_id = DonationId::generate();
    let devices = vec![NewDevice {
        intake: Intake {
            device_id: DeviceId::generate(),
            donation_id,
            category: Category::Laptop,
            brand: "Dell".into(),
            model: "Latitude 5490".into(),
            serial: None,
            asset_tag: None,
            site: "Chartres".into(),
            donor_kind: DonorKind::Company,
            free_transfer: false,
        },
    }];
    let donation = NewDonation {
        donation_id,
        donor_name: "Entreprise test".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: day_one().date_naive(),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let outcome = workshop
        .receive_donation(donation, devices, &context(holder))
        .await
        .unwrap();
    let code = outcome.devices[0].1.clone();
    let unit = format!("{code}-D");
    let steps: [(Step, Vec<(&str, &str)>); 4] = [
        (Step::Diagnose, vec![("test", "passed"), ("storage", &unit)]),
        (
            Step::Erase,
            vec![("unit", &unit), ("tool", "nwipe"), ("operator", "Ana")],
        ),
        (Step::Grade, vec![("grade", "b")]),
        (Step::Stock, vec![("site", "Chartres")]),
    ];
    for (step, pairs) in steps {
        let mut fields = Fields::new();
        for (name, value) in pairs {
            fields
                .entry(name.to_string())
                .or_default()
                .push(value.to_string());
        }
        let command = command_from_fields(step, &fields, HouseholdId::generate()).unwrap();
        workshop
            .record(&code, command, &context(holder))
            .await
            .unwrap();
    }
    code
}

async fn scheme(workshop: &Workshop) -> SchemeId {
    workshop
        .store()
        .create_scheme("Étudiants", EligibilityRule::Student, day_one())
        .await
        .unwrap()
        .id
}

/// Issues a laptop prescription from `referrer` for a new household.
async fn issue(workshop: &Workshop, scheme: SchemeId, referrer: &str) -> PrescriptionId {
    let identity = HouseholdIdentity {
        first_name: "Lina".into(),
        last_name: "Morel".into(),
        phone: None,
        email: None,
        address: None,
    };
    let household_id = workshop
        .store()
        .create_household(identity, day_one())
        .await
        .unwrap();
    let new = NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id,
        referrer_organisation: referrer.into(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::Schooling,
        },
        evidence: Evidence::Student,
        preferred_mode: PreferredMode::Loan,
        skills: DigitalSkills::Pix { level: 2 },
        training: None,
        household: HouseholdAttributes {
            commune: InseeCode::parse("28085").unwrap(),
            qpv: true,
            zrr: false,
            size: HouseholdSize::Two,
            age: AgeBand::YoungAdult,
        },
    };
    let id = new.prescription_id;
    workshop
        .issue_prescription(new, scheme, &context(referrer))
        .await
        .unwrap();
    id
}

/// Accepts, reserves a ready laptop and hands it over in `mode`.
async fn hand_over(
    workshop: &Workshop,
    id: PrescriptionId,
    workshop_organisation: &str,
    mode: HandoverMode,
) -> DeviceCode {
    let accept = PrescriptionCommand::Accept {
        workshop_organisation: workshop_organisation.into(),
    };
    workshop
        .record_prescription(id, accept, &context(workshop_organisation))
        .await
        .unwrap();
    let code = ready_laptop(workshop, workshop_organisation).await;
    workshop
        .reserve_device(id, &code, &context(workshop_organisation))
        .await
        .unwrap();
    workshop
        .hand_over(id, mode, &context(workshop_organisation))
        .await
        .unwrap();
    code
}

fn loan(due: &str) -> HandoverMode {
    HandoverMode::Loan { due_on: date(due) }
}

fn ids(rows: &[filiere_projections::PrescriptionRow]) -> Vec<String> {
    rows.iter().map(|row| row.prescription_id.clone()).collect()
}

/// Reads every row of `prescription_views` as text, ordered by id.
async fn snapshot(store: &EventStore) -> Vec<String> {
    let rows = sqlx::query("SELECT * FROM prescription_views ORDER BY prescription_id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|index| {
                    let text: Option<String> = row.try_get(index).ok();
                    let number: Option<i64> = row.try_get(index).ok();
                    format!("{text:?}/{number:?}")
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

async fn overdue_by_date_and_scope(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    let projector = Projector::new(store.clone());
    let pool = store.pool();
    let scheme = scheme(&workshop).await;

    let early = issue(&workshop, scheme, CCAS).await;
    let early_code = hand_over(&workshop, early, WORKSHOP_A, loan("2026-04-01")).await;
    let late = issue(&workshop, scheme, MAIRIE).await;
    hand_over(&workshop, late, WORKSHOP_B, loan("2026-05-15")).await;
    let donated = issue(&workshop, scheme, CCAS).await;
    hand_over(&workshop, donated, WORKSHOP_A, HandoverMode::Donation).await;
    let returned = issue(&workshop, scheme, CCAS).await;
    hand_over(&workshop, returned, WORKSHOP_A, loan("2026-04-02")).await;
    let return_step = PrescriptionCommand::Return {
        notes: String::new(),
    };
    workshop
        .record_prescription(returned, return_step, &context(WORKSHOP_A))
        .await
        .unwrap();
    let waiting = issue(&workshop, scheme, CCAS).await;
    projector.catch_up().await.unwrap();

    let row = prescription(pool, &early.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "handed_over");
    assert_eq!(row.handover_mode.as_deref(), Some("loan"));
    assert_eq!(row.due_on.as_deref(), Some("2026-04-01"));
    assert_eq!(row.device_code, Some(early_code.to_string()));
    assert_eq!(row.workshop_organisation.as_deref(), Some(WORKSHOP_A));
    assert_eq!(row.issued_on, "2026-03-02");
    assert_eq!(row.handed_over_on.as_deref(), Some("2026-03-02"));
    assert!(!row.closed);
    let returned_row = prescription(pool, &returned.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(returned_row.status, "returned");
    assert_eq!(returned_row.returned_on.as_deref(), Some("2026-03-02"));
    assert!(returned_row.closed);
    let donated_row = prescription(pool, &donated.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(donated_row.closed);
    assert_eq!(donated_row.due_on, None);

    // A loan due on a day is not overdue that day, only the day after.
    let on_due_day = overdue_loans(pool, &LoanScope::All, date("2026-04-01"))
        .await
        .unwrap();
    assert!(on_due_day.is_empty(), "{on_due_day:?}");
    let next_day = overdue_loans(pool, &LoanScope::All, date("2026-04-02"))
        .await
        .unwrap();
    assert_eq!(ids(&next_day), vec![early.to_string()]);
    let much_later = overdue_loans(pool, &LoanScope::All, date("2026-06-01"))
        .await
        .unwrap();
    assert_eq!(ids(&much_later), vec![early.to_string(), late.to_string()]);

    let workshop_b = LoanScope::Workshop(WORKSHOP_B.into());
    let only_b = overdue_loans(pool, &workshop_b, date("2026-06-01"))
        .await
        .unwrap();
    assert_eq!(ids(&only_b), vec![late.to_string()]);
    let ccas = LoanScope::Referrer(CCAS.into());
    let only_ccas = overdue_loans(pool, &ccas, date("2026-06-01"))
        .await
        .unwrap();
    assert_eq!(ids(&only_ccas), vec![early.to_string()]);
    let either = LoanScope::Organisation(MAIRIE.into());
    let mairie = overdue_loans(pool, &either, date("2026-06-01"))
        .await
        .unwrap();
    assert_eq!(ids(&mairie), vec![late.to_string()]);

    let due_soon = loans_due_within(pool, &LoanScope::All, date("2026-03-25"), 7)
        .await
        .unwrap();
    assert_eq!(ids(&due_soon), vec![early.to_string()]);
    let due_later = loans_due_within(pool, &LoanScope::All, date("2026-04-02"), 60)
        .await
        .unwrap();
    assert_eq!(ids(&due_later), vec![late.to_string()]);

    // An extension moves the loan out of the overdue list.
    let extend = PrescriptionCommand::ExtendLoan {
        due_on: date("2026-07-01"),
    };
    workshop
        .record_prescription(early, extend, &context(WORKSHOP_A))
        .await
        .unwrap();
    projector.catch_up().await.unwrap();
    let after_extension = overdue_loans(pool, &LoanScope::All, date("2026-06-01"))
        .await
        .unwrap();
    assert_eq!(ids(&after_extension), vec![late.to_string()]);

    let incoming = incoming_prescriptions(pool, 100).await.unwrap();
    assert_eq!(ids(&incoming), vec![waiting.to_string()]);
    let followed = workshop_prescriptions(pool, WORKSHOP_A, 100).await.unwrap();
    assert_eq!(ids(&followed), vec![early.to_string()]);
    let from_ccas = referrer_prescriptions(pool, CCAS, 100).await.unwrap();
    assert_eq!(from_ccas.len(), 4);
    assert!(from_ccas
        .iter()
        .all(|row| row.referrer_organisation == CCAS));

    let incremental = snapshot(&store).await;
    projector.rebuild().await.unwrap();
    assert_eq!(snapshot(&store).await, incremental);
    store.close().await;
    db.cleanup().await;
}

/// Many prescriptions in one batch: written by the batched upsert in one
/// catch-up, with the rows a step-by-step catch-up gives.
async fn batch_matches_step_by_step(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    let projector = Projector::new(store.clone());
    let scheme = scheme(&workshop).await;
    let mut issued = Vec::new();
    for index in 0..230 {
        let id = issue(&workshop, scheme, CCAS).await;
        if index % 2 == 0 {
            let accept = PrescriptionCommand::Accept {
                workshop_organisation: WORKSHOP_A.into(),
            };
            workshop
                .record_prescription(id, accept, &context(WORKSHOP_A))
                .await
                .unwrap();
        }
        issued.push(id);
        if index == 10 {
            projector.catch_up().await.unwrap();
        }
    }
    projector.catch_up().await.unwrap();
    let incremental = snapshot(&store).await;
    assert_eq!(incremental.len(), 230);
    let incoming = incoming_prescriptions(store.pool(), 1_000).await.unwrap();
    assert_eq!(incoming.len(), 115);
    projector.rebuild().await.unwrap();
    assert_eq!(snapshot(&store).await, incremental);
    store.close().await;
    db.cleanup().await;
}

backend_tests!(overdue_by_date_and_scope, batch_matches_step_by_step);
