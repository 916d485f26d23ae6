//! A log of two laptops lent through prescriptions until the same day, one
//! of them extended later, for the audit and dashboard tests of overdue
//! loans. Every step goes through the prescription, as the workshop pages
//! record it, so the device streams carry what the prescriptions decided.

#![allow(dead_code)]

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
use filiere_domain::types::{Autonomy, Category, DonorKind};
use filiere_domain::{DeviceCode, DeviceId, DonationId, HouseholdId, PrescriptionId};
use filiere_store::households::HouseholdIdentity;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};

pub const WORKSHOP: &str = "atelier-chartres";
const REFERRER: &str = "ccas-chartres";

/// Due date of both loans at their handover on 2025-03-05.
pub const FIRST_DUE_ON: &str = "2025-04-01";
/// Day the first loan is extended.
pub const EXTENDED_ON: &str = "2025-03-25";
/// Due date of the first loan after its extension.
pub const EXTENDED_DUE_ON: &str = "2025-05-15";

/// The two loans of the log.
pub struct Loans {
    /// Extended by [`extend_first_loan`] until [`EXTENDED_DUE_ON`].
    pub extended: PrescriptionId,
    pub extended_device: DeviceCode,
    /// Kept at [`FIRST_DUE_ON`].
    pub unchanged: PrescriptionId,
}

pub fn day(text: &str) -> NaiveDate {
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

async fn donate_laptops(workshop: &Workshop, date: &str) -> Vec<DeviceCode> {
    let donation_id = DonationId::generate();
    let devices = (0..2)
        .map(|_| NewDevice {
            intake: Intake {
                device_id: DeviceId::generate(),
                donation_id,
                category: Category::Laptop,
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
        .receive_donation(donation, devices, &context(WORKSHOP, date))
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
        .record(code, command, &context(WORKSHOP, date))
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
    let placement = [("site", "Chartres"), ("location", "A1")];
    step(workshop, code, date, Step::Stock, &placement).await;
}

/// Issues and accepts a prescription of a laptop for a new household of
/// Chartres.
async fn accepted_prescription(
    workshop: &Workshop,
    scheme: SchemeId,
    date: &str,
) -> PrescriptionId {
    let identity = HouseholdIdentity {
        first_name: "Zéphirine".into(),
        last_name: "Quesnoy-Tableau".into(),
        phone: None,
        email: None,
        address: None,
    };
    let household_id = workshop
        .store()
        .create_household(identity, noon(date))
        .await
        .unwrap();
    let new = NewPrescription {
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
        training: None,
        household: HouseholdAttributes {
            commune: InseeCode::parse("28085").unwrap(),
            qpv: false,
            zrr: false,
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

/// Lends two laptops through two prescriptions on 2025-03-05, both due on
/// [`FIRST_DUE_ON`]. The latest event is on 2025-03-05.
pub async fn lend_two_laptops(workshop: &Workshop) -> Loans {
    let rule = EligibilityRule::Benefit {
        accepted: vec!["RSA".into()],
    };
    let scheme = workshop
        .store()
        .create_scheme("Minima sociaux", rule, noon("2025-01-02"))
        .await
        .unwrap()
        .id;
    let codes = donate_laptops(workshop, "2025-01-10").await;
    let mut prescriptions = Vec::new();
    for code in &codes {
        refurbish(workshop, code, "2025-01-15").await;
        let id = accepted_prescription(workshop, scheme, "2025-03-01").await;
        let context = context(WORKSHOP, "2025-03-05");
        workshop.reserve_device(id, code, &context).await.unwrap();
        let loan = HandoverMode::Loan {
            due_on: day(FIRST_DUE_ON),
        };
        workshop.hand_over(id, loan, &context).await.unwrap();
        prescriptions.push(id);
    }
    Loans {
        extended: prescriptions[0],
        extended_device: codes[0].clone(),
        unchanged: prescriptions[1],
    }
}

/// Extends the first loan on [`EXTENDED_ON`] until [`EXTENDED_DUE_ON`],
/// through its prescription.
pub async fn extend_first_loan(workshop: &Workshop, loans: &Loans) {
    let command = PrescriptionCommand::ExtendLoan {
        due_on: day(EXTENDED_DUE_ON),
    };
    workshop
        .record_prescription(loans.extended, command, &context(WORKSHOP, EXTENDED_ON))
        .await
        .unwrap();
}
