//! A varied log for the dashboard tests, shared by the projection suite and
//! the web suite. Devices go through every outcome. Prescriptions carry
//! eligibility, programme, QPV/ZRR and communes. The log also has loans
//! returned and overdue, training attended, a transfer between workshops and
//! handovers without a prescription.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use filiere_domain::command::Step;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{HandoverMode, Recycling};
use filiere_domain::fields::{command_from_fields, Fields};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, Evidence, HouseholdAttributes, HouseholdSize, Need,
    NewPrescription, PreferredMode, PrescriptionCommand, Purpose, SchemeId, Training,
    TrainingProvider,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{Autonomy, Category, DonorKind, WriteOffReason};
use filiere_domain::{
    DeviceCode, DeviceCommand, DeviceId, DonationId, HouseholdId, PrescriptionId,
};
use filiere_store::households::HouseholdIdentity;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};

pub const CHARTRES: &str = "atelier-chartres";
pub const DREUX: &str = "atelier-dreux";
pub const REFERRER: &str = "ccas-chartres";
pub const PROGRAMME: &str = "Programme numérique Eure-et-Loir";
/// Name of every household of the log, chosen so that a copy of it in a
/// page or an export is found by a plain substring search.
pub const FIRST_NAME: &str = "Zéphirine";
pub const LAST_NAME: &str = "Quesnoy-Tableau";

/// Counts of the log built by [`build_dashboard_log`], with no filter.
pub struct KnownCounts {
    pub handovers: u64,
    pub devices_handed_over: u64,
    pub computers_handed_over: u64,
    pub households_equipped: u64,
    pub donated_devices: u64,
    pub donation_batches: u64,
    pub loans_returned: u64,
    pub loans_active: u64,
    pub loans_overdue: u64,
    pub training_attended: u64,
    pub in_stock: u64,
    pub reserved: u64,
    pub recycled: u64,
    pub dismantled: u64,
    pub written_off: u64,
    /// Handovers to households of the commune 28085 (Chartres).
    pub chartres_handovers: u64,
    /// Handovers under the programme [`PROGRAMME`].
    pub programme_handovers: u64,
    /// Handovers to households in a QPV only.
    pub qpv_handovers: u64,
}

pub const KNOWN: KnownCounts = KnownCounts {
    handovers: 6,
    devices_handed_over: 5,
    computers_handed_over: 4,
    households_equipped: 5,
    donated_devices: 12,
    donation_batches: 2,
    loans_returned: 1,
    loans_active: 2,
    loans_overdue: 1,
    training_attended: 1,
    in_stock: 3,
    reserved: 1,
    recycled: 1,
    dismantled: 1,
    written_off: 1,
    chartres_handovers: 2,
    programme_handovers: 3,
    qpv_handovers: 2,
};

/// The workshop service and the organisations the log's steps act for.
struct Log<'a> {
    workshop: &'a Workshop,
    chartres: &'a str,
    dreux: &'a str,
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

/// Records one batch with one device per category, received on `date`.
async fn donate(log: &Log<'_>, date: &str, categories: &[Category]) -> Vec<DeviceCode> {
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
    let outcome = log
        .workshop
        .receive_donation(donation, devices, &context(log.chartres, date))
        .await
        .unwrap();
    outcome.devices.into_iter().map(|(_, code)| code).collect()
}

async fn step(log: &Log<'_>, code: &DeviceCode, date: &str, step: Step, pairs: &[(&str, &str)]) {
    let mut fields = Fields::new();
    for (name, value) in pairs {
        fields
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }
    let command = command_from_fields(step, &fields, HouseholdId::generate()).unwrap();
    record(log, code, date, command).await;
}

async fn record(log: &Log<'_>, code: &DeviceCode, date: &str, command: DeviceCommand) {
    log.workshop
        .record(code, command, &context(log.chartres, date))
        .await
        .unwrap();
}

async fn refurbish(log: &Log<'_>, code: &DeviceCode, date: &str) {
    let unit = format!("{code}-D");
    let diagnosis = [("test", "passed"), ("storage", unit.as_str())];
    step(log, code, date, Step::Diagnose, &diagnosis).await;
    let erasure = [
        ("unit", unit.as_str()),
        ("tool", "nwipe"),
        ("operator", "Ana"),
    ];
    step(log, code, date, Step::Erase, &erasure).await;
    let grading = [("grade", "b"), ("autonomy", "beginner")];
    step(log, code, date, Step::Grade, &grading).await;
    let placement = [("site", "Chartres"), ("location", "A1")];
    step(log, code, date, Step::Stock, &placement).await;
}

async fn household(log: &Log<'_>, date: &str) -> HouseholdId {
    let identity = HouseholdIdentity {
        first_name: FIRST_NAME.into(),
        last_name: LAST_NAME.into(),
        phone: None,
        email: None,
        address: None,
    };
    log.workshop
        .store()
        .create_household(identity, noon(date))
        .await
        .unwrap()
}

/// Issues a prescription for `household`, accepted by Chartres on `date`.
#[allow(clippy::too_many_arguments)]
async fn prescription(
    log: &Log<'_>,
    scheme: SchemeId,
    evidence: Evidence,
    household_id: HouseholdId,
    category: Category,
    commune: &str,
    (qpv, zrr): (bool, bool),
    date: &str,
) -> PrescriptionId {
    let new = NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id,
        referrer_organisation: REFERRER.into(),
        need: Need {
            category,
            purpose: Purpose::JobSearch,
        },
        evidence,
        preferred_mode: PreferredMode::Loan,
        skills: DigitalSkills::Autonomy {
            level: Autonomy::Beginner,
        },
        training: Some(Training {
            provider: TrainingProvider::Adviser,
            name: "Conseillère numérique de Chartres".into(),
            scheduled_on: None,
        }),
        household: HouseholdAttributes {
            commune: InseeCode::parse(commune).unwrap(),
            qpv,
            zrr,
            size: HouseholdSize::Two,
            age: AgeBand::Adult,
        },
    };
    let id = new.prescription_id;
    log.workshop
        .issue_prescription(new, scheme, &context(REFERRER, date))
        .await
        .unwrap();
    let accept = PrescriptionCommand::Accept {
        workshop_organisation: log.chartres.into(),
    };
    log.workshop
        .record_prescription(id, accept, &context(log.chartres, date))
        .await
        .unwrap();
    id
}

async fn hand_over(
    log: &Log<'_>,
    id: PrescriptionId,
    code: &DeviceCode,
    mode: HandoverMode,
    date: &str,
) {
    let context = context(log.chartres, date);
    log.workshop
        .reserve_device(id, code, &context)
        .await
        .unwrap();
    log.workshop.hand_over(id, mode, &context).await.unwrap();
}

/// Builds the log whose counts are [`KNOWN`]. The latest event is on
/// 2025-04-25, the reference day of overdue loans and stock ages.
pub async fn build_dashboard_log(workshop: &Workshop) {
    build_dashboard_log_for(workshop, CHARTRES, DREUX).await;
}

/// Builds the same log with the given organisation ids as the two workshops.
pub async fn build_dashboard_log_for(workshop: &Workshop, chartres: &str, dreux: &str) {
    let log = &Log {
        workshop,
        chartres,
        dreux,
    };
    use Category::{Desktop, Laptop, Screen, Smartphone, Tablet};
    let store = workshop.store();
    let benefit = EligibilityRule::Benefit {
        accepted: vec!["RSA".into()],
    };
    let minima = store
        .create_scheme_in_programme(
            "Minima sociaux",
            benefit,
            Some(PROGRAMME),
            noon("2025-01-02"),
        )
        .await
        .unwrap()
        .id;
    let students = store
        .create_scheme("Étudiants", EligibilityRule::Student, noon("2025-01-02"))
        .await
        .unwrap()
        .id;
    let rsa = || Evidence::Benefit { name: "RSA".into() };

    let first = [
        Laptop, Laptop, Laptop, Laptop, Desktop, Smartphone, Smartphone, Tablet, Screen, Laptop,
    ];
    let codes = donate(log, "2025-01-10", &first).await;
    let [l1, l2, l3, l4, d1, p1, p2, t1, s1, l5] = <[DeviceCode; 10]>::try_from(codes).unwrap();
    for code in [&l1, &l2, &l3, &l4, &d1, &p1, &p2, &t1] {
        refurbish(log, code, "2025-01-15").await;
    }
    let failed = [("test", "failed"), ("verdict", "recycle")];
    step(log, &s1, "2025-02-01", Step::Diagnose, &failed).await;
    let recycling = Recycling {
        weight_grams: 5000,
        eco_organism: "Ecologic".into(),
    };
    record(log, &s1, "2025-02-01", DeviceCommand::Recycle(recycling)).await;
    let dismantle = DeviceCommand::Dismantle {
        parts_harvested: vec!["écran".into()],
    };
    record(log, &t1, "2025-02-02", dismantle).await;
    let write_off = DeviceCommand::WriteOff {
        reason: WriteOffReason::Lost,
        notes: String::new(),
    };
    record(log, &l5, "2025-02-03", write_off).await;

    let second = donate(log, "2025-03-01", &[Laptop, Smartphone]).await;
    let [l6, p3] = <[DeviceCode; 2]>::try_from(second).unwrap();
    refurbish(log, &l6, "2025-03-05").await;
    refurbish(log, &p3, "2025-03-05").await;
    let transfer = DeviceCommand::Transfer {
        to: log.dreux.into(),
    };
    record(log, &l6, "2025-03-06", transfer).await;

    // Household 1, Chartres, QPV, programme: a laptop given, training
    // attended, then a desktop given.
    let h1 = household(log, "2025-02-10").await;
    let qpv = (true, false);
    let pr1 = prescription(log, minima, rsa(), h1, Laptop, "28085", qpv, "2025-02-10").await;
    hand_over(log, pr1, &l1, HandoverMode::Donation, "2025-02-20").await;
    let training = PrescriptionCommand::AttendTraining {
        on: day("2025-02-25"),
    };
    log.workshop
        .record_prescription(pr1, training, &context(log.chartres, "2025-02-25"))
        .await
        .unwrap();
    // Household 2, Dreux, ZRR, programme: a smartphone lent and returned.
    let h2 = household(log, "2025-03-01").await;
    let zrr = (false, true);
    let pr2 = prescription(
        log,
        minima,
        rsa(),
        h2,
        Smartphone,
        "28134",
        zrr,
        "2025-03-01",
    )
    .await;
    let loan = HandoverMode::Loan {
        due_on: day("2025-04-01"),
    };
    hand_over(log, pr2, &p1, loan, "2025-03-05").await;
    log.workshop
        .return_device(pr2, String::new(), &context(log.chartres, "2025-04-10"))
        .await
        .unwrap();
    // Household 3, Lyon, student, no programme: a laptop lent, overdue.
    let h3 = household(log, "2025-03-15").await;
    let neither = (false, false);
    let pr3 = prescription(
        log,
        students,
        Evidence::Student,
        h3,
        Laptop,
        "69123",
        neither,
        "2025-03-15",
    )
    .await;
    let loan = HandoverMode::Loan {
        due_on: day("2025-04-01"),
    };
    hand_over(log, pr3, &l2, loan, "2025-03-20").await;
    // Household 1 again: a desktop, counted once among households.
    let pr4 = prescription(log, minima, rsa(), h1, Desktop, "28085", qpv, "2025-04-01").await;
    hand_over(log, pr4, &d1, HandoverMode::Donation, "2025-04-10").await;
    // Household 4: a laptop handed over without a prescription.
    let h4 = HouseholdId::generate();
    let direct = DeviceCommand::HandOver {
        household_id: h4,
        prescription_id: None,
        mode: HandoverMode::Donation,
    };
    record(log, &l3, "2025-04-15", direct).await;
    // Household 5: the returned smartphone, refurbished and lent again
    // without a prescription, then a laptop reserved for its prescription.
    let h5 = household(log, "2025-04-12").await;
    refurbish(log, &p1, "2025-04-12").await;
    let again = DeviceCommand::HandOver {
        household_id: h5,
        prescription_id: None,
        mode: HandoverMode::Loan {
            due_on: day("2025-12-31"),
        },
    };
    record(log, &p1, "2025-04-20", again).await;
    let both = (true, true);
    let pr5 = prescription(log, minima, rsa(), h5, Laptop, "28085", both, "2025-04-25").await;
    log.workshop
        .reserve_device(pr5, &l4, &context(log.chartres, "2025-04-25"))
        .await
        .unwrap();
}
