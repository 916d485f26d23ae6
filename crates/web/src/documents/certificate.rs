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
    /// Whether this erasure is the one that counts for its unit.
    pub standing: LineStanding,
}

/// Whether an erasure counts towards the erasure status, as the device's
/// rules decide: only the latest erasure of each unit that the latest
/// diagnosis found counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStanding {
    /// The latest erasure of its unit.
    Latest,
    /// A later erasure of the same unit replaced it.
    Replaced,
    /// A later diagnosis did not find its unit.
    UnitNotFoundLater,
}

impl LineStanding {
    /// French note printed with a line that does not count; `None` for the
    /// latest erasure of a unit.
    pub fn note_fr(self) -> Option<&'static str> {
        match self {
            LineStanding::Latest => None,
            LineStanding::Replaced => {
                Some("ne compte plus : un effacement ultérieur du même support le remplace")
            }
            LineStanding::UnitNotFoundLater => {
                Some("ne compte plus : le diagnostic suivant n'a pas relevé ce support")
            }
        }
    }
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
    /// An erasure names a unit that the latest diagnosis did not find, so
    /// the device's rules block the handover until it is checked.
    ErasedUnitNotFound(String),
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
            UnitGap::ErasedUnitNotFound(unit) => {
                format!("support {unit} effacé mais absent du dernier diagnostic")
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
    let mut lines: Vec<ErasureLine> = Vec::new();
    for (recorded, event) in &events[1..] {
        match event {
            DeviceEvent::Returned { .. } => lines.clear(),
            DeviceEvent::DataErased(erasure) => {
                for line in lines.iter_mut().filter(|line| line.unit == erasure.unit) {
                    line.standing = LineStanding::Replaced;
                }
                lines.push(erasure_line(&device, erasure, recorded.occurred_at));
            }
            // The device drops the erasures of units a new diagnosis did
            // not find, so those lines no longer count either.
            DeviceEvent::Diagnosed(diagnosis) => {
                let found = |unit: &str| diagnosis.storage_units.iter().any(|u| u.unit == unit);
                for line in lines
                    .iter_mut()
                    .filter(|line| line.standing == LineStanding::Latest && !found(&line.unit))
                {
                    line.standing = LineStanding::UnitNotFoundLater;
                }
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
        standing: LineStanding::Latest,
    }
}

/// Applies the domain's readiness rule: each unit of the latest diagnosis
/// needs a passed latest erasure since intake or the last return, and an
/// erasure of a unit that diagnosis did not find is a gap too.
fn erasure_status(device: &Device) -> ErasureStatus {
    if device.functional_test.is_none() {
        return if device.category.holds_data() {
            ErasureStatus::NotDiagnosed
        } else {
            ErasureStatus::NotRequired
        };
    }
    if device.storage_units.is_empty() && device.erasures.is_empty() {
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
        .chain(
            unmatched_units(device)
                .into_iter()
                .map(UnitGap::ErasedUnitNotFound),
        )
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

#[cfg(test)]
mod tests {
    use filiere_domain::device::Intake;
    use filiere_domain::event::{Diagnosis, StorageUnit};
    use filiere_domain::types::{DonorKind, Verdict};
    use filiere_domain::{DeviceCode, DeviceId};
    use filiere_store::Metadata;

    use super::*;

    const DISK: &str = "S41V0SEGYD";
    const UNSERIALED: &str = " (sans numéro de série)";

    fn recorded(events: Vec<DeviceEvent>) -> Vec<(RecordedEvent, DeviceEvent)> {
        events
            .into_iter()
            .enumerate()
            .map(|(index, event)| {
                let recorded = RecordedEvent {
                    position: index as i64 + 1,
                    event_id: uuid::Uuid::now_v7(),
                    stream_id: "device-test".into(),
                    stream_version: index as i64 + 1,
                    event_type: String::new(),
                    schema_version: 1,
                    payload: serde_json::Value::Null,
                    metadata: Metadata::new("test:camille", "local"),
                    command_id: None,
                    occurred_at: Utc::now(),
                    recorded_at: Utc::now(),
                    hash: String::new(),
                };
                (recorded, event)
            })
            .collect()
    }

    fn received() -> Vec<DeviceEvent> {
        let intake = Intake {
            device_id: DeviceId::generate(),
            donation_id: DonationId::generate(),
            category: Category::Laptop,
            brand: "Lenovo".into(),
            model: "ThinkPad T480".into(),
            serial: None,
            asset_tag: None,
            site: "Chartres".into(),
            donor_kind: DonorKind::PublicBody,
            free_transfer: true,
        };
        Device::receive_for(intake, DeviceCode::from_random([1; 6]), "local").unwrap()
    }

    fn diagnosed(unit: &str) -> DeviceEvent {
        DeviceEvent::Diagnosed(Diagnosis {
            functional_test: Outcome::Passed,
            verdict: Verdict::Refurbish,
            storage_units: vec![StorageUnit {
                unit: unit.into(),
                kind: StorageKind::Ssd,
                model: String::new(),
                size_bytes: None,
                healthy: None,
            }],
            cpu: String::new(),
            memory_bytes: None,
            battery_wear_percent: None,
            notes: String::new(),
            evidence_sha256: Vec::new(),
        })
    }

    fn erased(unit: &str, result: Outcome) -> DeviceEvent {
        DeviceEvent::DataErased(Erasure {
            unit: unit.into(),
            method: ErasureMethod::Clear,
            technique: ErasureTechnique::Overwrite,
            tool: "nwipe".into(),
            tool_version: "0.29".into(),
            verified: true,
            result,
            operator: "Camille".into(),
            evidence_sha256: Some("a".repeat(64)),
        })
    }

    fn certificate(steps: Vec<DeviceEvent>) -> ErasureCertificate {
        let mut events = received();
        events.extend(steps);
        build_certificate(&recorded(events)).unwrap()
    }

    #[test]
    fn failed_erasure_of_dropped_unit_marked() {
        let certificate = certificate(vec![
            diagnosed(DISK),
            erased(UNSERIALED, Outcome::Failed),
            diagnosed(DISK),
            erased(DISK, Outcome::Passed),
        ]);
        assert_eq!(
            certificate.erasure_status,
            ErasureStatus::Complete { units: 1 }
        );
        assert_eq!(certificate.lines.len(), 2);
        assert_eq!(
            certificate.lines[0].standing,
            LineStanding::UnitNotFoundLater
        );
        assert!(certificate.lines[0].standing.note_fr().is_some());
        assert_eq!(certificate.lines[1].standing, LineStanding::Latest);
    }

    #[test]
    fn erasure_of_unknown_unit_incomplete() {
        let certificate = certificate(vec![
            diagnosed(DISK),
            erased(DISK, Outcome::Passed),
            erased(UNSERIALED, Outcome::Failed),
        ]);
        assert_eq!(
            certificate.erasure_status,
            ErasureStatus::Incomplete(vec![UnitGap::ErasedUnitNotFound(UNSERIALED.into())])
        );
        assert!(!certificate.erasure_status.is_complete());
        assert!(certificate
            .erasure_status
            .line_fr()
            .starts_with("Effacement incomplet"));
    }

    #[test]
    fn earlier_failed_erasure_replaced() {
        let certificate = certificate(vec![
            diagnosed(DISK),
            erased(DISK, Outcome::Failed),
            erased(DISK, Outcome::Passed),
        ]);
        assert_eq!(
            certificate.erasure_status,
            ErasureStatus::Complete { units: 1 }
        );
        assert_eq!(certificate.lines[0].standing, LineStanding::Replaced);
        assert_eq!(certificate.lines[1].standing, LineStanding::Latest);
    }
}
