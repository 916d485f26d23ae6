//! Events of a prescription's stream and the values they carry. Payloads
//! hold the household's opaque id and statistical attributes, never its
//! identity.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code::DeviceCode;
use crate::event::HandoverMode;
use crate::ids::{DeviceId, HouseholdId, PrescriptionId};
use crate::types::{fold, named_enum, Autonomy, Category, UnknownValue};

use super::eligibility::{EligibilityCategory, EligibilityRule, Evidence, SchemeId};
use super::household::HouseholdAttributes;

/// A fact about one prescription. Serialised with its event type in `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PrescriptionEvent {
    #[serde(rename = "prescription_issued")]
    Issued(PrescriptionIssued),
    #[serde(rename = "prescription_accepted")]
    Accepted { workshop_organisation: String },
    #[serde(rename = "prescription_declined")]
    Declined {
        workshop_organisation: String,
        reason: String,
    },
    #[serde(rename = "prescription_device_reserved")]
    DeviceReserved(DeviceRef),
    #[serde(rename = "prescription_reservation_released")]
    ReservationReleased { device_id: DeviceId, reason: String },
    #[serde(rename = "prescription_handed_over")]
    HandedOver(PrescriptionHandover),
    #[serde(rename = "prescription_training_attended")]
    TrainingAttended { on: NaiveDate },
    #[serde(rename = "prescription_training_missed")]
    TrainingMissed { on: NaiveDate },
    #[serde(rename = "prescription_loan_extended")]
    LoanExtended { due_on: NaiveDate },
    #[serde(rename = "prescription_returned")]
    Returned { notes: String },
    #[serde(rename = "prescription_converted_to_donation")]
    ConvertedToDonation {},
    #[serde(rename = "prescription_cancelled")]
    Cancelled { reason: String },
    #[serde(rename = "prescription_expired")]
    Expired {},
}

named_enum! {
    /// Reason the household needs the device.
    Purpose, "purpose" {
        JobSearch => "job_search", "Recherche d'emploi" | "job";
        Schooling => "schooling", "Scolarité" | "school";
        AdministrativeProcedures => "administrative_procedures", "Démarches administratives" | "administrative";
        Health => "health", "Santé";
        Other => "other", "Autre";
    }
}

named_enum! {
    /// Handover mode the referrer prefers. The workshop records the actual
    /// mode at handover.
    PreferredMode, "handover mode" {
        Loan => "loan", "Prêt";
        Donation => "donation", "Don";
        SolidaritySale => "solidarity_sale", "Vente solidaire" | "sale";
    }
}

named_enum! {
    /// Kind of training provider: a digital adviser or a venue.
    TrainingProvider, "training provider" {
        Adviser => "adviser", "Conseiller·ère numérique" | "conseiller";
        Venue => "venue", "Lieu de médiation numérique" | "lieu";
    }
}

/// The equipment a household needs and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub category: Category,
    pub purpose: Purpose,
}

/// The household's digital skills, on the workshop's autonomy scale or as a
/// Pix level from 0 (no level) to 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scale", rename_all = "snake_case")]
pub enum DigitalSkills {
    Autonomy { level: Autonomy },
    Pix { level: u8 },
}

/// Highest Pix level.
pub const MAX_PIX_LEVEL: u8 = 8;

impl DigitalSkills {
    /// Autonomy level used to match devices. This project maps Pix levels
    /// 0 to 2 to beginner, 3 and 4 to intermediate, 5 to 8 to autonomous.
    pub fn autonomy(&self) -> Autonomy {
        match self {
            DigitalSkills::Autonomy { level } => *level,
            DigitalSkills::Pix { level: 0..=2 } => Autonomy::Beginner,
            DigitalSkills::Pix { level: 3..=4 } => Autonomy::Intermediate,
            DigitalSkills::Pix { .. } => Autonomy::Autonomous,
        }
    }
}

/// Beginner digital training prescribed with the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Training {
    pub provider: TrainingProvider,
    /// Name of the adviser or of the venue.
    pub name: String,
    /// Day of the first session; `None` while it is still to be scheduled.
    pub scheduled_on: Option<NaiveDate>,
}

/// The scheme a prescription was issued under, as it was on that day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeSnapshot {
    pub id: SchemeId,
    pub name: String,
    pub rule: EligibilityRule,
    /// Funder programme of the scheme on that day; absent from events
    /// recorded before programmes existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<String>,
}

/// First event of a prescription.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrescriptionIssued {
    pub prescription_id: PrescriptionId,
    pub household_id: HouseholdId,
    /// Organisation of the referrer (social worker) who issued it.
    pub referrer_organisation: String,
    pub need: Need,
    pub scheme: SchemeSnapshot,
    pub evidence: Evidence,
    pub eligibility: EligibilityCategory,
    pub preferred_mode: PreferredMode,
    pub skills: DigitalSkills,
    /// `None` when no training is prescribed.
    pub training: Option<Training>,
    pub household: HouseholdAttributes,
}

/// A device named by its id and its label code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRef {
    pub device_id: DeviceId,
    pub code: DeviceCode,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrescriptionHandover {
    pub device_id: DeviceId,
    #[serde(flatten)]
    pub mode: HandoverMode,
}

impl PrescriptionEvent {
    /// Stable name of the event in the log; equal to its serde tag.
    pub fn event_type(&self) -> &'static str {
        match self {
            PrescriptionEvent::Issued(_) => "prescription_issued",
            PrescriptionEvent::Accepted { .. } => "prescription_accepted",
            PrescriptionEvent::Declined { .. } => "prescription_declined",
            PrescriptionEvent::DeviceReserved(_) => "prescription_device_reserved",
            PrescriptionEvent::ReservationReleased { .. } => "prescription_reservation_released",
            PrescriptionEvent::HandedOver(_) => "prescription_handed_over",
            PrescriptionEvent::TrainingAttended { .. } => "prescription_training_attended",
            PrescriptionEvent::TrainingMissed { .. } => "prescription_training_missed",
            PrescriptionEvent::LoanExtended { .. } => "prescription_loan_extended",
            PrescriptionEvent::Returned { .. } => "prescription_returned",
            PrescriptionEvent::ConvertedToDonation {} => "prescription_converted_to_donation",
            PrescriptionEvent::Cancelled { .. } => "prescription_cancelled",
            PrescriptionEvent::Expired {} => "prescription_expired",
        }
    }

    /// One-line French description for timelines.
    pub fn summary_fr(&self) -> String {
        let date = |day: &NaiveDate| day.format("%d/%m/%Y").to_string();
        match self {
            PrescriptionEvent::Issued(issued) => format!(
                "Prescription émise : {} pour {}",
                issued.need.category.label_fr(),
                issued.need.purpose.label_fr().to_lowercase()
            ),
            PrescriptionEvent::Accepted { .. } => "Acceptée par l'atelier".to_string(),
            PrescriptionEvent::Declined { reason, .. } => {
                format!("Refusée par l'atelier : {reason}")
            }
            PrescriptionEvent::DeviceReserved(device) => {
                format!("Appareil {} réservé", device.code)
            }
            PrescriptionEvent::ReservationReleased { reason, .. } => {
                format!("Réservation annulée : {reason}")
            }
            PrescriptionEvent::HandedOver(handover) => match &handover.mode {
                HandoverMode::Loan { due_on } => format!("Remis en prêt jusqu'au {}", date(due_on)),
                other => format!("Remis : {}", other.label_fr().to_lowercase()),
            },
            PrescriptionEvent::TrainingAttended { on } => {
                format!("Formation suivie le {}", date(on))
            }
            PrescriptionEvent::TrainingMissed { on } => {
                format!("Absent·e à la formation du {}", date(on))
            }
            PrescriptionEvent::LoanExtended { due_on } => {
                format!("Prêt prolongé jusqu'au {}", date(due_on))
            }
            PrescriptionEvent::Returned { .. } => "Appareil restitué".to_string(),
            PrescriptionEvent::ConvertedToDonation {} => "Prêt converti en don".to_string(),
            PrescriptionEvent::Cancelled { reason } => format!("Annulée : {reason}"),
            PrescriptionEvent::Expired {} => "Expirée".to_string(),
        }
    }
}
