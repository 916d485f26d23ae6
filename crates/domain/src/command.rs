//! Commands: requests to record a step on a device. A command is checked
//! against the device's current state by [`crate::Device::decide`] and, when
//! allowed, becomes one or more events.

use chrono::NaiveDate;

use crate::event::{
    Diagnosis, Erasure, Grading, HandoverMode, Placement, Recycling, Repair, Software,
};
use crate::ids::{HouseholdId, PrescriptionId};
use crate::types::WriteOffReason;

/// A bench or logistics step requested on an existing device.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceCommand {
    Diagnose(Diagnosis),
    RecordErasure(Erasure),
    Repair(Repair),
    InstallSoftware(Software),
    Grade(Grading),
    Stock(Placement),
    Move(Placement),
    Reserve {
        household_id: HouseholdId,
        prescription_id: Option<PrescriptionId>,
    },
    ReleaseReservation {
        reason: String,
    },
    HandOver {
        household_id: HouseholdId,
        prescription_id: Option<PrescriptionId>,
        mode: HandoverMode,
    },
    Return {
        notes: String,
    },
    ConvertLoanToDonation,
    /// Moves the due date of the current loan to a later day.
    ExtendLoan {
        due_on: NaiveDate,
    },
    Recycle(Recycling),
    Dismantle {
        parts_harvested: Vec<String>,
    },
    WriteOff {
        reason: WriteOffReason,
        notes: String,
    },
    /// Hands the device to another organisation, identified by its id.
    Transfer {
        to: String,
    },
}

/// Names of the steps, as typed on the command line and shown in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Diagnose,
    Erase,
    Repair,
    Install,
    Grade,
    Stock,
    Move,
    Reserve,
    Release,
    Handover,
    Return,
    Convert,
    Extend,
    Recycle,
    Dismantle,
    WriteOff,
    Transfer,
}

impl Step {
    pub const ALL: &'static [Step] = &[
        Step::Diagnose,
        Step::Erase,
        Step::Repair,
        Step::Install,
        Step::Grade,
        Step::Stock,
        Step::Move,
        Step::Reserve,
        Step::Release,
        Step::Handover,
        Step::Return,
        Step::Convert,
        Step::Extend,
        Step::Recycle,
        Step::Dismantle,
        Step::WriteOff,
        Step::Transfer,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Step::Diagnose => "diagnose",
            Step::Erase => "erase",
            Step::Repair => "repair",
            Step::Install => "install",
            Step::Grade => "grade",
            Step::Stock => "stock",
            Step::Move => "move",
            Step::Reserve => "reserve",
            Step::Release => "release",
            Step::Handover => "handover",
            Step::Return => "return",
            Step::Convert => "convert",
            Step::Extend => "extend",
            Step::Recycle => "recycle",
            Step::Dismantle => "dismantle",
            Step::WriteOff => "write-off",
            Step::Transfer => "transfer",
        }
    }

    pub fn label_fr(&self) -> &'static str {
        match self {
            Step::Diagnose => "Diagnostic",
            Step::Erase => "Effacement des données",
            Step::Repair => "Réparation",
            Step::Install => "Installation du système",
            Step::Grade => "Grade esthétique",
            Step::Stock => "Mise en stock",
            Step::Move => "Déplacement",
            Step::Reserve => "Réservation",
            Step::Release => "Annulation de réservation",
            Step::Handover => "Remise au foyer",
            Step::Return => "Restitution",
            Step::Convert => "Conversion du prêt en don",
            Step::Extend => "Prolongation du prêt",
            Step::Recycle => "Recyclage (DEEE)",
            Step::Dismantle => "Démantèlement",
            Step::WriteOff => "Sortie d'inventaire",
            Step::Transfer => "Transfert à une autre organisation",
        }
    }

    pub fn parse(name: &str) -> Option<Step> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        Step::ALL.iter().copied().find(|s| s.as_str() == wanted)
    }
}

impl DeviceCommand {
    pub fn step(&self) -> Step {
        match self {
            DeviceCommand::Diagnose(_) => Step::Diagnose,
            DeviceCommand::RecordErasure(_) => Step::Erase,
            DeviceCommand::Repair(_) => Step::Repair,
            DeviceCommand::InstallSoftware(_) => Step::Install,
            DeviceCommand::Grade(_) => Step::Grade,
            DeviceCommand::Stock(_) => Step::Stock,
            DeviceCommand::Move(_) => Step::Move,
            DeviceCommand::Reserve { .. } => Step::Reserve,
            DeviceCommand::ReleaseReservation { .. } => Step::Release,
            DeviceCommand::HandOver { .. } => Step::Handover,
            DeviceCommand::Return { .. } => Step::Return,
            DeviceCommand::ConvertLoanToDonation => Step::Convert,
            DeviceCommand::ExtendLoan { .. } => Step::Extend,
            DeviceCommand::Recycle(_) => Step::Recycle,
            DeviceCommand::Dismantle { .. } => Step::Dismantle,
            DeviceCommand::WriteOff { .. } => Step::WriteOff,
            DeviceCommand::Transfer { .. } => Step::Transfer,
        }
    }
}

/// Latest due date a loan may have, counted from the handover day. Loans
/// longer than two years are almost always a data-entry mistake.
pub const MAX_LOAN_DAYS: i64 = 731;

/// Checks a loan's due date against the handover day.
pub fn check_due_date(due_on: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if due_on <= today {
        return Err(format!(
            "a loan must end after today ({today}); pick a later due date"
        ));
    }
    if (due_on - today).num_days() > MAX_LOAN_DAYS {
        return Err(format!(
            "a loan may last at most {MAX_LOAN_DAYS} days; pick an earlier due date or hand the device over as a donation"
        ));
    }
    Ok(())
}

/// Checks the new due date of a loan extension: it ends after the loan's
/// `current` due date, and within [`check_due_date`]'s rules counted from
/// `today`, the day of the extension.
pub fn check_extended_due_date(
    due_on: NaiveDate,
    current: NaiveDate,
    today: NaiveDate,
) -> Result<(), String> {
    if due_on <= current {
        return Err(format!(
            "an extension ends after the current due date ({current}); pick a later date"
        ));
    }
    check_due_date(due_on, today)
}
