//! Statuses of a prescription, the steps it may be given and the commands
//! that request them.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::event::HandoverMode;
use crate::ids::{DeviceId, HouseholdId, PrescriptionId};
use crate::types::{fold, named_enum, Category, UnknownValue};

use super::eligibility::Evidence;
use super::event::{DeviceRef, DigitalSkills, Need, PreferredMode, Training};
use super::household::HouseholdAttributes;

named_enum! {
    /// Stage of a prescription's life.
    PrescriptionStatus, "prescription status" {
        Issued => "issued", "Émise, en attente de l'atelier";
        Accepted => "accepted", "Acceptée par l'atelier";
        Declined => "declined", "Refusée par l'atelier";
        Reserved => "reserved", "Appareil réservé";
        HandedOver => "handed_over", "Appareil remis";
        Returned => "returned", "Prêt terminé, appareil restitué";
        Cancelled => "cancelled", "Annulée";
        Expired => "expired", "Expirée";
    }
}

named_enum! {
    /// Names of the steps, as typed on the command line and shown in errors.
    PrescriptionStep, "prescription step" {
        Accept => "accept", "Acceptation";
        Decline => "decline", "Refus";
        Reserve => "reserve", "Réservation d'un appareil";
        Release => "release", "Annulation de la réservation";
        Handover => "handover", "Remise au foyer";
        AttendTraining => "attend_training", "Formation suivie" | "attended";
        MissTraining => "miss_training", "Absence à la formation" | "missed";
        ExtendLoan => "extend_loan", "Prolongation du prêt" | "extend";
        Return => "return", "Restitution";
        Convert => "convert", "Conversion du prêt en don";
        Cancel => "cancel", "Annulation";
        Expire => "expire", "Expiration";
    }
}

impl PrescriptionStatus {
    /// Steps allowed in this status, before the checks that depend on the
    /// prescription's history (training prescribed, loan mode).
    pub fn allowed_steps(&self) -> &'static [PrescriptionStep] {
        use PrescriptionStep::*;
        match self {
            PrescriptionStatus::Issued => &[
                Accept,
                Decline,
                Cancel,
                Expire,
                AttendTraining,
                MissTraining,
            ],
            PrescriptionStatus::Accepted => {
                &[Reserve, Cancel, Expire, AttendTraining, MissTraining]
            }
            PrescriptionStatus::Reserved => &[Release, Handover, AttendTraining, MissTraining],
            PrescriptionStatus::HandedOver => {
                &[ExtendLoan, Return, Convert, AttendTraining, MissTraining]
            }
            PrescriptionStatus::Declined
            | PrescriptionStatus::Returned
            | PrescriptionStatus::Cancelled
            | PrescriptionStatus::Expired => &[],
        }
    }
}

/// Everything a referrer states to issue a prescription. The household's
/// identity is not part of it: it stays in the store's `households` table.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPrescription {
    pub prescription_id: PrescriptionId,
    pub household_id: HouseholdId,
    pub referrer_organisation: String,
    pub need: Need,
    pub evidence: Evidence,
    pub preferred_mode: PreferredMode,
    pub skills: DigitalSkills,
    pub training: Option<Training>,
    pub household: HouseholdAttributes,
}

/// A step requested on an existing prescription.
#[derive(Clone, Debug, PartialEq)]
pub enum PrescriptionCommand {
    Accept {
        workshop_organisation: String,
    },
    Decline {
        workshop_organisation: String,
        reason: String,
    },
    /// Reserves a device; the caller states the device's category and the
    /// organisation holding it, read from the device's stream.
    Reserve {
        device: DeviceRef,
        category: Category,
        holder: String,
    },
    Release {
        reason: String,
    },
    HandOver {
        device_id: DeviceId,
        mode: HandoverMode,
    },
    AttendTraining {
        on: NaiveDate,
    },
    MissTraining {
        on: NaiveDate,
    },
    ExtendLoan {
        due_on: NaiveDate,
    },
    Return {
        notes: String,
    },
    ConvertToDonation,
    Cancel {
        reason: String,
    },
    Expire,
}

impl PrescriptionCommand {
    pub fn step(&self) -> PrescriptionStep {
        match self {
            PrescriptionCommand::Accept { .. } => PrescriptionStep::Accept,
            PrescriptionCommand::Decline { .. } => PrescriptionStep::Decline,
            PrescriptionCommand::Reserve { .. } => PrescriptionStep::Reserve,
            PrescriptionCommand::Release { .. } => PrescriptionStep::Release,
            PrescriptionCommand::HandOver { .. } => PrescriptionStep::Handover,
            PrescriptionCommand::AttendTraining { .. } => PrescriptionStep::AttendTraining,
            PrescriptionCommand::MissTraining { .. } => PrescriptionStep::MissTraining,
            PrescriptionCommand::ExtendLoan { .. } => PrescriptionStep::ExtendLoan,
            PrescriptionCommand::Return { .. } => PrescriptionStep::Return,
            PrescriptionCommand::ConvertToDonation => PrescriptionStep::Convert,
            PrescriptionCommand::Cancel { .. } => PrescriptionStep::Cancel,
            PrescriptionCommand::Expire => PrescriptionStep::Expire,
        }
    }
}
