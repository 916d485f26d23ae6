//! Handover sheet ("fiche de remise") data: what the household and the
//! workshop sign when a prescribed device is handed over. It names the
//! device, its erasure, the mode and its conditions, the training booked and
//! the prescription. The household's name is printed only while its
//! identity is still stored.

use chrono::{DateTime, NaiveDate, Utc};
use filiere_domain::codec::decode_device_event;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::codec::decode_prescription_event;
use filiere_domain::prescription::{Prescription, PrescriptionEvent, PrescriptionStatus, Training};
use filiere_domain::types::Grade;
use filiere_domain::{Device, DeviceEvent, PrescriptionId};
use filiere_store::accounts::AccountError;
use filiere_store::workshop::Workshop;
use filiere_store::{EventStore, RecordedEvent};

use super::assemble::check_evidence;
use super::certificate::{build_certificate, ErasureCertificate};
use super::error::DocumentError;
use super::source::LogSnapshot;

/// Everything printed on a handover sheet, as of one log head.
#[derive(Clone, Debug, PartialEq)]
pub struct HandoverSheet {
    pub log: LogSnapshot,
    pub prescription_id: PrescriptionId,
    /// Name of the referrer's organisation, or its id when no organisation
    /// with that id is recorded.
    pub referrer_name: String,
    /// Name of the workshop that handed the device over.
    pub workshop_name: String,
    /// Mode in force: a loan's due date follows its extensions, and a loan
    /// converted to a donation is a donation.
    pub mode: HandoverMode,
    /// Time the handover was recorded.
    pub handed_over_at: DateTime<Utc>,
    /// Site where the device was when it was handed over.
    pub place: String,
    /// Identity, erasure and site of the device as it was handed over.
    pub device: ErasureCertificate,
    pub grade: Option<Grade>,
    pub training: Option<Training>,
    /// Contact person's first and last name, or `None` once the household's
    /// identity is erased.
    pub beneficiary_name: Option<String>,
}

impl HandoverSheet {
    /// Start of the loan or day of the donation or sale.
    pub fn handover_date(&self) -> NaiveDate {
        self.handed_over_at.date_naive()
    }
}

/// Gathers the handover sheet of prescription `id`. The device must have
/// been handed over through it, and a prescription that has not reached the
/// handover is [`DocumentError::NotHandedOver`]. `default_workshop_name` is
/// printed when the workshop's organisation is not recorded (the command
/// line acts for the organisation `local`).
pub async fn handover_sheet(
    workshop: &Workshop,
    id: PrescriptionId,
    default_workshop_name: &str,
) -> Result<HandoverSheet, DocumentError> {
    let store = workshop.store();
    let log = LogSnapshot::current(store).await?;
    let events = prescription_events(store, id, &log).await?;
    let decoded: Vec<PrescriptionEvent> = events.iter().map(|(_, e)| e.clone()).collect();
    let prescription = Prescription::from_events(&decoded)
        .ok_or_else(|| DocumentError::PrescriptionNotFound(id.to_string()))?;
    let handover = events
        .iter()
        .rev()
        .find_map(|(recorded, event)| match event {
            PrescriptionEvent::HandedOver(handover) => Some((recorded.occurred_at, handover)),
            _ => None,
        });
    let (handed_over_at, handover, mode) = match (handover, &prescription.handover_mode) {
        (Some((at, handover)), Some(mode)) if reached_handover(prescription.status) => {
            (at, handover, mode.clone())
        }
        _ => {
            return Err(DocumentError::NotHandedOver {
                prescription: id.to_string(),
                status: prescription.status,
            })
        }
    };

    let device_events = device_events_until_handover(store, handover.device_id, id, &log).await?;
    let device = build_device(&device_events)?;
    let mut certificate = build_certificate(&device_events)?;
    check_evidence(store, std::slice::from_mut(&mut certificate)).await?;

    let workshop_organisation = prescription.workshop_organisation.clone();
    let workshop_name = match workshop_organisation {
        Some(organisation) => organisation_name(store, &organisation)
            .await
            .unwrap_or_else(|| default_workshop_name.to_string()),
        None => default_workshop_name.to_string(),
    };
    let referrer = &prescription.issued.referrer_organisation;
    let referrer_name = organisation_name(store, referrer)
        .await
        .unwrap_or_else(|| referrer.clone());
    let beneficiary_name = store
        .household(prescription.household_id())
        .await?
        .and_then(|record| record.identity)
        .map(|identity| format!("{} {}", identity.first_name, identity.last_name));

    Ok(HandoverSheet {
        log,
        prescription_id: id,
        referrer_name,
        workshop_name,
        mode,
        handed_over_at,
        place: device.placement.site.clone(),
        grade: device.grade,
        training: prescription.issued.training.clone(),
        device: certificate,
        beneficiary_name,
    })
}

/// Returns whether a prescription in `status` has had its device handed
/// over: it is handed over now, or the loan ended with a return.
fn reached_handover(status: PrescriptionStatus) -> bool {
    matches!(
        status,
        PrescriptionStatus::HandedOver | PrescriptionStatus::Returned
    )
}

async fn prescription_events(
    store: &EventStore,
    id: PrescriptionId,
    log: &LogSnapshot,
) -> Result<Vec<(RecordedEvent, PrescriptionEvent)>, DocumentError> {
    let recorded = store
        .read_stream_until(&id.stream_id(), log.position)
        .await?;
    recorded
        .into_iter()
        .map(|event| {
            let decoded =
                decode_prescription_event(&event.event_type, event.schema_version, &event.payload)?;
            Ok((event, decoded))
        })
        .collect()
}

/// Reads the device's events up to and including its handover for
/// prescription `id`, so that a later return (which clears the erasures)
/// does not change what the household signed for.
async fn device_events_until_handover(
    store: &EventStore,
    device_id: filiere_domain::DeviceId,
    id: PrescriptionId,
    log: &LogSnapshot,
) -> Result<Vec<(RecordedEvent, DeviceEvent)>, DocumentError> {
    let stream_id = device_id.stream_id();
    let recorded = store.read_stream_until(&stream_id, log.position).await?;
    let mut events = Vec::with_capacity(recorded.len());
    for event in recorded {
        let decoded = decode_device_event(&event.event_type, event.schema_version, &event.payload)?;
        events.push((event, decoded));
    }
    let handover_index = events.iter().rposition(|(_, event)| {
        matches!(event, DeviceEvent::HandedOver(handover) if handover.prescription_id == Some(id))
    });
    match handover_index {
        Some(index) => {
            events.truncate(index + 1);
            Ok(events)
        }
        None => Err(DocumentError::HandoverMissing {
            prescription: id.to_string(),
            stream: stream_id,
        }),
    }
}

fn build_device(events: &[(RecordedEvent, DeviceEvent)]) -> Result<Device, DocumentError> {
    let decoded: Vec<&DeviceEvent> = events.iter().map(|(_, event)| event).collect();
    Device::from_events(decoded).ok_or_else(|| DocumentError::MalformedStream {
        stream: events
            .first()
            .map_or_else(String::new, |(e, _)| e.stream_id.clone()),
    })
}

/// Name of the organisation with id `id`, `None` when none is recorded.
async fn organisation_name(store: &EventStore, id: &str) -> Option<String> {
    match store.organisation(id).await {
        Ok(organisation) => Some(organisation.name),
        Err(AccountError::NotFound(_)) => None,
        Err(error) => {
            tracing::warn!(organisation = id, %error, "cannot read the organisation's name; printing its id");
            None
        }
    }
}
