//! Reads shared by every document: the log head, a donation batch header,
//! the devices of a batch and one device's events, all as of one head.

use std::str::FromStr;

use filiere_domain::codec::decode_device_event;
use filiere_domain::donation::{DonationEvent, DonationReceived};
use filiere_domain::{DeviceEvent, DeviceId, DonationId};
use filiere_projections::{queries, StockFilter};
use filiere_store::{EventStore, RecordedEvent};
use serde::Serialize;

use super::error::DocumentError;

/// Position and hash of the last log event a document was computed from.
/// Events recorded after it do not appear in the document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogSnapshot {
    pub position: i64,
    /// Chained SHA-256 hash of the event at `position`, in lower-case hex;
    /// all zeros for an empty log.
    pub hash: String,
}

impl LogSnapshot {
    /// Reads the current head of the log.
    pub async fn current(store: &EventStore) -> Result<LogSnapshot, DocumentError> {
        let (position, hash) = store.head().await?;
        Ok(LogSnapshot { position, hash })
    }
}

/// Parses a donation id as typed by a user or taken from a URL.
pub fn parse_donation_id(text: &str) -> Result<DonationId, DocumentError> {
    DonationId::from_str(text).map_err(|_| DocumentError::InvalidDonationId(text.to_string()))
}

/// Reads the header of a donation batch as of `log`.
pub(super) async fn load_donation(
    store: &EventStore,
    donation_id: DonationId,
    log: &LogSnapshot,
) -> Result<DonationReceived, DocumentError> {
    let events = store
        .read_stream_until(&donation_id.stream_id(), log.position)
        .await?;
    let Some(first) = events.iter().find(|e| e.event_type == "donation_received") else {
        return Err(DocumentError::DonationNotFound(donation_id.to_string()));
    };
    // Donation payloads are stored without their `type` tag, as device
    // payloads are, so the tag is put back before deserialising.
    let mut payload = first.payload.clone();
    if let serde_json::Value::Object(map) = &mut payload {
        map.insert("type".into(), first.event_type.clone().into());
    }
    match serde_json::from_value(payload) {
        Ok(DonationEvent::DonationReceived(received)) => Ok(received),
        Err(error) => Err(DocumentError::Event {
            position: first.position,
            reason: error.to_string(),
        }),
    }
}

/// Lists the ids of the devices of a donation batch, in code order.
///
/// The stock projection lists them, so it must have applied the batch: a
/// count that differs from the batch header is
/// [`DocumentError::ProjectionBehind`]. Devices are only ever added to a
/// batch in the transaction that records it, so the list cannot be ahead of
/// `donation`.
pub(super) async fn donation_device_ids(
    store: &EventStore,
    donation: &DonationReceived,
) -> Result<Vec<DeviceId>, DocumentError> {
    let filter = StockFilter {
        donation_id: Some(donation.donation_id.to_string()),
        ..StockFilter::default()
    };
    let limit = i64::from(donation.device_count) + 1;
    let mut rows = queries::stock_list(store.pool(), &filter, limit).await?;
    if rows.len() != donation.device_count as usize {
        return Err(DocumentError::ProjectionBehind {
            donation: donation.donation_id.to_string(),
            expected: donation.device_count,
            listed: rows.len(),
        });
    }
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    rows.iter()
        .map(|row| {
            DeviceId::from_str(&row.device_id).map_err(|error| DocumentError::Event {
                position: 0,
                reason: format!("stock row has invalid device id {}: {error}", row.device_id),
            })
        })
        .collect()
}

/// Reads and decodes every event of a device stream up to `log`, oldest
/// first.
pub(super) async fn device_events(
    store: &EventStore,
    stream_id: &str,
    log: &LogSnapshot,
) -> Result<Vec<(RecordedEvent, DeviceEvent)>, DocumentError> {
    let recorded = store.read_stream_until(stream_id, log.position).await?;
    recorded
        .into_iter()
        .map(|event| {
            let decoded =
                decode_device_event(&event.event_type, event.schema_version, &event.payload)?;
            Ok((event, decoded))
        })
        .collect()
}
