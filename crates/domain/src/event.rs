//! Events of a device's life. Each variant is one fact recorded in the
//! device's stream; the payload never holds a household's identity, only its
//! opaque id.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code::DeviceCode;
use crate::ids::{DeviceId, DonationId, HouseholdId, PrescriptionId};
use crate::serial::SerialNumber;
use crate::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict, WriteOffReason,
};

/// A fact about one device. Serialised with its variant name in `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeviceEvent {
    Received(Received),
    LabelAssigned {
        code: DeviceCode,
    },
    Diagnosed(Diagnosis),
    DataErased(Erasure),
    Repaired(Repair),
    SoftwareInstalled(Software),
    Graded(Grading),
    Stocked(Placement),
    Moved(Placement),
    Reserved(Reservation),
    ReservationReleased {
        reason: String,
    },
    HandedOver(Handover),
    Returned {
        notes: String,
    },
    LoanConvertedToDonation {},
    /// The household keeps the loaned device until a later due date.
    LoanExtended {
        due_on: NaiveDate,
    },
    Recycled(Recycling),
    Dismantled {
        parts_harvested: Vec<String>,
    },
    WrittenOff {
        reason: WriteOffReason,
        notes: String,
    },
    /// The device passed from one organisation to another.
    Transferred {
        from: String,
        to: String,
    },
}

/// Intake of one donated device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Received {
    pub device_id: DeviceId,
    pub donation_id: DonationId,
    pub category: Category,
    pub brand: String,
    pub model: String,
    pub serial: Option<SerialNumber>,
    #[serde(default)]
    pub asset_tag: Option<String>,
    pub site: String,
    pub donor_kind: DonorKind,
    /// Given by a public body under the free-transfer rule, which caps any
    /// later solidarity sale price.
    pub free_transfer: bool,
    /// Organisation that took the device in and holds it until a transfer.
    #[serde(default = "default_holder")]
    pub holder: String,
}

/// Holder of devices received before organisations were recorded.
fn default_holder() -> String {
    "local".to_string()
}

/// One storage unit found at diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageUnit {
    /// Serial number of the unit, or a slot name such as "sda" when the
    /// serial cannot be read. Erasures refer to the unit by this value.
    pub unit: String,
    pub kind: StorageKind,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// Disk health verdict; `None` when no health report was read.
    #[serde(default)]
    pub healthy: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub functional_test: Outcome,
    pub verdict: Verdict,
    pub storage_units: Vec<StorageUnit>,
    #[serde(default)]
    pub cpu: String,
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    /// Battery wear in percent of design capacity lost.
    #[serde(default)]
    pub battery_wear_percent: Option<u8>,
    #[serde(default)]
    pub notes: String,
    /// SHA-256 of each tool report (lshw, smartctl, Workbench) this
    /// diagnosis was read from.
    #[serde(default)]
    pub evidence_sha256: Vec<String>,
}

/// Erasure (sanitization) of one storage unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Erasure {
    pub unit: String,
    pub method: ErasureMethod,
    pub technique: ErasureTechnique,
    pub tool: String,
    #[serde(default)]
    pub tool_version: String,
    pub verified: bool,
    pub result: Outcome,
    pub operator: String,
    /// SHA-256 of the tool's log kept as evidence, when one was imported.
    #[serde(default)]
    pub evidence_sha256: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repair {
    pub parts_replaced: Vec<String>,
    pub minutes: u32,
    pub cost_cents: i64,
    #[serde(default)]
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Software {
    pub os: String,
    pub os_version: String,
    #[serde(default)]
    pub licence: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grading {
    pub grade: Grade,
    pub autonomy: Autonomy,
    #[serde(default)]
    pub notes: String,
}

/// Where a device sits: a site and a shelf or bin on that site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub site: String,
    pub location: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    #[serde(default)]
    pub prescription_id: Option<PrescriptionId>,
    pub household_id: HouseholdId,
}

/// How a device reaches a household.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum HandoverMode {
    Loan { due_on: NaiveDate },
    Donation,
    SolidaritySale { price_cents: i64 },
}

impl HandoverMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            HandoverMode::Loan { .. } => "loan",
            HandoverMode::Donation => "donation",
            HandoverMode::SolidaritySale { .. } => "solidarity_sale",
        }
    }

    pub fn label_fr(&self) -> &'static str {
        match self {
            HandoverMode::Loan { .. } => "Prêt",
            HandoverMode::Donation => "Don",
            HandoverMode::SolidaritySale { .. } => "Vente solidaire",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Handover {
    pub household_id: HouseholdId,
    #[serde(default)]
    pub prescription_id: Option<PrescriptionId>,
    #[serde(flatten)]
    pub mode: HandoverMode,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recycling {
    pub weight_grams: u32,
    pub eco_organism: String,
}

impl DeviceEvent {
    /// Stable name of the event in the log.
    pub fn event_type(&self) -> &'static str {
        match self {
            DeviceEvent::Received(_) => "received",
            DeviceEvent::LabelAssigned { .. } => "label_assigned",
            DeviceEvent::Diagnosed(_) => "diagnosed",
            DeviceEvent::DataErased(_) => "data_erased",
            DeviceEvent::Repaired(_) => "repaired",
            DeviceEvent::SoftwareInstalled(_) => "software_installed",
            DeviceEvent::Graded(_) => "graded",
            DeviceEvent::Stocked(_) => "stocked",
            DeviceEvent::Moved(_) => "moved",
            DeviceEvent::Reserved(_) => "reserved",
            DeviceEvent::ReservationReleased { .. } => "reservation_released",
            DeviceEvent::HandedOver(_) => "handed_over",
            DeviceEvent::Returned { .. } => "returned",
            DeviceEvent::LoanConvertedToDonation {} => "loan_converted_to_donation",
            DeviceEvent::LoanExtended { .. } => "loan_extended",
            DeviceEvent::Recycled(_) => "recycled",
            DeviceEvent::Dismantled { .. } => "dismantled",
            DeviceEvent::WrittenOff { .. } => "written_off",
            DeviceEvent::Transferred { .. } => "transferred",
        }
    }

    /// One-line French description for timelines.
    pub fn summary_fr(&self) -> String {
        match self {
            DeviceEvent::Received(r) => format!(
                "Reçu en don : {} {} {} ({})",
                r.category.label_fr(),
                r.brand,
                r.model,
                r.site
            ),
            DeviceEvent::LabelAssigned { code } => format!("Étiquette attribuée : {code}"),
            DeviceEvent::Diagnosed(d) => format!(
                "Diagnostic : test fonctionnel {}, {} ; {} support(s) de stockage",
                d.functional_test.label_fr().to_lowercase(),
                d.verdict.label_fr().to_lowercase(),
                d.storage_units.len()
            ),
            DeviceEvent::DataErased(e) => format!(
                "Effacement de {} : {} ({}, {}) — {}",
                e.unit,
                e.method.label_fr(),
                e.technique.label_fr(),
                e.tool,
                e.result.label_fr().to_lowercase()
            ),
            DeviceEvent::Repaired(r) => format!(
                "Réparé : {} ({} min)",
                if r.parts_replaced.is_empty() {
                    "sans pièce".to_string()
                } else {
                    r.parts_replaced.join(", ")
                },
                r.minutes
            ),
            DeviceEvent::SoftwareInstalled(s) => {
                format!("Système installé : {} {}", s.os, s.os_version)
            }
            DeviceEvent::Graded(g) => format!(
                "Grade {} ; public {}",
                g.grade.label_fr(),
                g.autonomy.label_fr().to_lowercase()
            ),
            DeviceEvent::Stocked(p) => format!("Mis en stock : {} / {}", p.site, p.location),
            DeviceEvent::Moved(p) => format!("Déplacé : {} / {}", p.site, p.location),
            DeviceEvent::Reserved(_) => "Réservé pour un foyer".to_string(),
            DeviceEvent::ReservationReleased { reason } => {
                format!("Réservation annulée : {reason}")
            }
            DeviceEvent::HandedOver(h) => match &h.mode {
                HandoverMode::Loan { due_on } => {
                    format!("Remis en prêt jusqu'au {}", due_on.format("%d/%m/%Y"))
                }
                HandoverMode::Donation => "Remis en don".to_string(),
                HandoverMode::SolidaritySale { price_cents } => format!(
                    "Vendu à prix solidaire : {} €",
                    crate::error::format_euros(*price_cents)
                ),
            },
            DeviceEvent::Returned { .. } => "Restitué à l'atelier".to_string(),
            DeviceEvent::LoanConvertedToDonation {} => "Prêt converti en don".to_string(),
            DeviceEvent::LoanExtended { due_on } => {
                format!("Prêt prolongé jusqu'au {}", due_on.format("%d/%m/%Y"))
            }
            DeviceEvent::Recycled(r) => format!(
                "Recyclé (DEEE) : {} kg, {}",
                f64::from(r.weight_grams) / 1000.0,
                r.eco_organism
            ),
            DeviceEvent::Dismantled { .. } => "Démantelé pour pièces".to_string(),
            DeviceEvent::WrittenOff { reason, .. } => {
                format!(
                    "Sorti de l'inventaire : {}",
                    reason.label_fr().to_lowercase()
                )
            }
            DeviceEvent::Transferred { to, .. } => format!("Transféré à l'organisation {to}"),
        }
    }
}
