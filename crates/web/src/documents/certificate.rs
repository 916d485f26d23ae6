//! Erasure certificate data: for each device, every erasure recorded since
//! its intake or its last return, and whether each storage unit found at the
//! latest diagnosis has a passed erasure.

use chrono::{DateTime, Utc};
use filiere_domain::donation::DonationReceived;
use filiere_domain::event::Erasure;
use filiere_domain::types::{Category, ErasureMethod, ErasureTechnique, Outcome, StorageKind};
use filiere_domain::{Device, DeviceEvent, DeviceStatus, DonationId};
use filiere_store::RecordedEvent;

use super::error::DocumentError;
use super::source::LogSnapshot;

/// Certificates of one device or of every device of a donation batch.
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateSet {
    pub log: LogSnapshot,
    /// The batch header, for a certificate of a whole batch.
    pub donation: Option<DonationReceived>,
    pub certificates: Vec<ErasureCertificate>,
}

/// Erasure certificate of one device.
#[derive(Clone, Debug, PartialEq)]
pub struct ErasureCertificate {
    pub device_code: String,
    /// Manufacturer, as declared at intake.
    pub brand: String,
    pub model: String,
    pub serial: Option<String>,
    pub category: Category,
    pub donation_id: DonationId,
    pub donor_name: String,
    /// Site where the device is now.
    pub site: String,
    /// Current stage of the device's life. Its `label_fr` is the French
    /// destination (en stock, remis à un foyer, recyclé…).
    pub status: DeviceStatus,
    /// Erasures since intake or the last return, oldest first, failed ones
    /// included.
    pub lines: Vec<ErasureLine>,
    pub erasure_status: ErasureStatus,
    /// Units named by an erasure but absent from the latest diagnosis.
    pub unmatched_units: Vec<String>,
}

/// One recorded erasure of one storage unit.
#[derive(Clone, Debug, PartialEq)]
pub struct ErasureLine {
    /// Serial number of the storage unit, or its slot when unreadable.
    pub unit: String,
    /// Media type found at diagnosis; `None` when no diagnosis lists the unit.
    pub media: Option<StorageKind>,
    /// NIST SP 800-88 category: Clear, Purge or Destroy.
    pub method: ErasureMethod,
    pub technique: ErasureTechnique,
    pub tool: String,
    pub tool_version: String,
    pub verified: bool,
    pub result: Outcome,
    pub operator: String,
    /// Time the erasure was recorded in the log.
    pub erased_at: DateTime<Utc>,
    /// Site where the device was when the erasure was recorded.
    pub site: String,
    /// Imported tool log; `None` for an erasure entered by hand.
    pub evidence: Option<EvidenceRef>,
}

/// A tool log kept as evidence, by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceRef {
    pub sha256: String,
    pub check: EvidenceCheck,
}

/// Result of reading an evidence file back and hashing it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvidenceCheck {
    /// Not looked up yet.
    NotChecked,
    /// The stored file hashes to `sha256`.
    Verified { kind: String, file_name: String },
    /// No file with this hash is stored.
    Missing,
    /// The stored file no longer hashes to `sha256`.
    Altered,
}

/// Whether the storage units of a device are all erased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErasureStatus {
    /// Every unit of the latest diagnosis has a passed latest erasure.
    Complete {
        units: usize,
    },
    /// The latest diagnosis found no storage unit.
    NoStorage,
    /// Not diagnosed, in a category without user data (screens, printers).
    NotRequired,
    /// Not diagnosed since intake or the last return, so the storage units
    /// are unknown.
    NotDiagnosed,
    Incomplete(Vec<UnitGap>),
}

/// A storage unit of the latest diagnosis without a passed erasure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitGap {
    NotErased(String),
    /// The latest erasure of the unit failed.
    LastErasureFailed(String),
}

impl ErasureStatus {
    /// True when the document may state that the device's data is erased.
    pub fn is_complete(&self) -> bool {
        matches!(
            self,
            ErasureStatus::Complete { .. } | ErasureStatus::NoStorage | ErasureStatus::NotRequired
        )
    }

    /// French status line printed on the certificate.
    pub fn line_fr(&self) -> String {
        match self {
            ErasureStatus::Complete { units: 1 } => {
                "Effacement complet : le support de stockage relevé au diagnostic a été effacé \
                 avec succès."
                    .to_string()
            }
            ErasureStatus::Complete { units } => format!(
                "Effacement complet : les {units} supports de stockage relevés au diagnostic \
                 ont été effacés avec succès."
            ),
            ErasureStatus::NoStorage => "Aucun support de stockage relevé au dernier diagnostic : \
                 aucun effacement à certifier."
                .to_string(),
            ErasureStatus::NotRequired => "Appareil sans support de données utilisateur, non \
                 diagnostiqué : aucun effacement n'est requis."
                .to_string(),
            ErasureStatus::NotDiagnosed => "Effacement incomplet : aucun diagnostic depuis \
                 l'entrée ou le dernier retour, les supports de stockage ne sont pas recensés."
                .to_string(),
            ErasureStatus::Incomplete(gaps) => {
                let gaps: Vec<String> = gaps.iter().map(UnitGap::label_fr).collect();
                format!("Effacement incomplet : {}.", gaps.join(" ; "))
            }
        }
    }
}

impl UnitGap {
    pub fn label_fr(&self) -> String {
        match self {
            UnitGap::NotErased(unit) => format!("support {unit} non effacé"),
            UnitGap::LastErasureFailed(unit) => {
                format!("support {unit}, dernier effacement échoué")
            }
        }
    }
}

/// Builds the certificate of one device from its events, oldest first.
/// The donor name is left empty for the caller, which reads the batch.
pub(super) fn build_certificate(
    events: &[(RecordedEvent, DeviceEvent)],
) -> Result<ErasureCertificate, DocumentError> {
    let stream = events
        .first()
        .map_or_else(String::new, |(e, _)| e.stream_id.clone());
    let malformed = || DocumentError::MalformedStream {
        stream: stream.clone(),
    };
    let (_, first) = events.first().ok_or_else(malformed)?;
    let mut device = Device::from_events([first]).ok_or_else(malformed)?;
    let mut lines = Vec::new();
    for (recorded, event) in &events[1..] {
        match event {
            DeviceEvent::Returned { .. } => lines.clear(),
            DeviceEvent::DataErased(erasure) => {
                lines.push(erasure_line(&device, erasure, recorded.occurred_at));
            }
            _ => {}
        }
        device.apply(event);
    }
    Ok(ErasureCertificate {
        device_code: device.display_name(),
        brand: device.brand.clone(),
        model: device.model.clone(),
        serial: device.serial.as_ref().map(ToString::to_string),
        category: device.category,
        donation_id: device.donation_id,
        donor_name: String::new(),
        site: device.placement.site.clone(),
        status: device.status,
        lines,
        erasure_status: erasure_status(&device),
        unmatched_units: unmatched_units(&device),
    })
}

/// Describes `erasure` with the state of `device` just before it.
fn erasure_line(device: &Device, erasure: &Erasure, erased_at: DateTime<Utc>) -> ErasureLine {
    let media = device
        .storage_units
        .iter()
        .find(|unit| unit.unit == erasure.unit)
        .map(|unit| unit.kind);
    ErasureLine {
        unit: erasure.unit.clone(),
        media,
        method: erasure.method,
        technique: erasure.technique,
        tool: erasure.tool.clone(),
        tool_version: erasure.tool_version.clone(),
        verified: erasure.verified,
        result: erasure.result,
        operator: erasure.operator.clone(),
        erased_at,
        site: device.placement.site.clone(),
        evidence: erasure.evidence_sha256.as_ref().map(|sha256| EvidenceRef {
            sha256: sha256.to_ascii_lowercase(),
            check: EvidenceCheck::NotChecked,
        }),
    }
}

/// Applies the domain's rule: each unit of the latest diagnosis needs a
/// passed latest erasure since intake or the last return.
fn erasure_status(device: &Device) -> ErasureStatus {
    if device.functional_test.is_none() {
        return if device.category.holds_data() {
            ErasureStatus::NotDiagnosed
        } else {
            ErasureStatus::NotRequired
        };
    }
    if device.storage_units.is_empty() {
        return ErasureStatus::NoStorage;
    }
    let gaps: Vec<UnitGap> = device
        .storage_units
        .iter()
        .filter_map(|unit| match device.erasures.get(&unit.unit) {
            None => Some(UnitGap::NotErased(unit.unit.clone())),
            Some(erasure) if erasure.result == Outcome::Failed => {
                Some(UnitGap::LastErasureFailed(unit.unit.clone()))
            }
            Some(_) => None,
        })
        .collect();
    if gaps.is_empty() {
        ErasureStatus::Complete {
            units: device.storage_units.len(),
        }
    } else {
        ErasureStatus::Incomplete(gaps)
    }
}

fn unmatched_units(device: &Device) -> Vec<String> {
    device
        .erasures
        .keys()
        .filter(|unit| !device.storage_units.iter().any(|u| &&u.unit == unit))
        .cloned()
        .collect()
}
