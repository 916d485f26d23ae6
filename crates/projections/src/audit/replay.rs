//! Feeding the audit fold from the event log, in position order, up to a
//! date or a log position.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use filiere_domain::codec::decode_device_event;
use filiere_domain::donation::DonationEvent;
use filiere_domain::prescription::codec::decode_prescription_event;
use filiere_domain::{DeviceId, DonationId, PrescriptionId};
use filiere_store::{EventStore, RecordedEvent};

use super::fold::{AuditEvent, AuditFold};
use super::AuditError;

/// Events read per query.
const PAGE_SIZE: i64 = 5_000;

/// Point of the log the figures are computed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cutoff {
    /// Every event that occurred on or before this UTC day.
    Date(NaiveDate),
    /// Every event up to and including this log position.
    Position(i64),
    /// Every event up to the head read when the replay starts.
    Head,
}

/// The fold of a log prefix, with what identifies that prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    pub fold: AuditFold,
    /// The date given with [`Cutoff::Date`].
    pub as_of: Option<NaiveDate>,
    /// Day used for overdue loans and stock age: the date given, or the
    /// latest day of the included events (their times need not follow
    /// positions, for example in the demonstration data).
    pub reference_date: NaiveDate,
    /// Position of the last included event.
    pub log_position: i64,
    /// Hash of the event at `log_position`, which chains every event before
    /// it.
    pub log_hash: String,
}

/// Checks the cutoff against the log and `today`, then folds every included
/// event. The head is read once at the start, so events appended during the
/// replay are not included.
pub async fn replay(
    store: &EventStore,
    cutoff: Cutoff,
    today: NaiveDate,
) -> Result<Replay, AuditError> {
    let (head_position, _) = store.head().await?;
    let first = store.read_all(0, 1).await?;
    let Some(first) = first.first() else {
        return Err(AuditError::InvalidCutoff(
            "the event log is empty: there is nothing to compute yet".to_string(),
        ));
    };
    let last_position = check_cutoff(cutoff, head_position, first, today)?;
    let day_end = match cutoff {
        Cutoff::Date(date) => Some(end_of_day(date)),
        _ => None,
    };
    let mut fold = AuditFold::default();
    let mut included: Option<(i64, String, DateTime<Utc>)> = None;
    let mut after = 0;
    while after < last_position {
        let events = store
            .read_all(after, PAGE_SIZE.min(last_position - after))
            .await?;
        let Some(last) = events.last() else {
            break;
        };
        after = last.position;
        for event in &events {
            if day_end.is_some_and(|end| event.occurred_at >= end) {
                continue;
            }
            if let Some(decoded) = decode_event(event)? {
                fold.apply(event.position, event.occurred_at, &decoded);
            }
            let latest = included.as_ref().map_or(event.occurred_at, |(_, _, time)| {
                event.occurred_at.max(*time)
            });
            included = Some((event.position, event.hash.clone(), latest));
        }
    }
    let (log_position, log_hash, last_time) = included.ok_or_else(|| {
        AuditError::InvalidCutoff("no event is included at this cutoff".to_string())
    })?;
    let as_of = match cutoff {
        Cutoff::Date(date) => Some(date),
        _ => None,
    };
    Ok(Replay {
        fold,
        as_of,
        reference_date: as_of.unwrap_or_else(|| last_time.date_naive()),
        log_position,
        log_hash,
    })
}

/// Returns the last position to read, or an error for a date in the future
/// or before the first event, or a position outside the log.
pub fn check_cutoff(
    cutoff: Cutoff,
    head_position: i64,
    first: &RecordedEvent,
    today: NaiveDate,
) -> Result<i64, AuditError> {
    match cutoff {
        Cutoff::Head => Ok(head_position),
        Cutoff::Position(position) if position < 1 => Err(AuditError::InvalidCutoff(format!(
            "invalid log position {position}: positions start at 1"
        ))),
        Cutoff::Position(position) if position > head_position => {
            Err(AuditError::InvalidCutoff(format!(
                "log position {position} is beyond the head of the log ({head_position}): \
                 give a position from 1 to {head_position}"
            )))
        }
        Cutoff::Position(position) => Ok(position),
        Cutoff::Date(date) if date > today => Err(AuditError::InvalidCutoff(format!(
            "date {date} is in the future (today is {today}): figures exist only up to today"
        ))),
        Cutoff::Date(date) if date < first.occurred_at.date_naive() => {
            Err(AuditError::InvalidCutoff(format!(
                "date {date} is before the first event of the log ({}): give a later date",
                first.occurred_at.date_naive()
            )))
        }
        Cutoff::Date(_) => Ok(head_position),
    }
}

/// Returns the first instant after `date`, in UTC.
pub(crate) fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    next.and_time(NaiveTime::MIN).and_utc()
}

/// Decodes a device or donation event; other streams return `None`.
pub fn decode_event(event: &RecordedEvent) -> Result<Option<AuditEvent>, AuditError> {
    let invalid = |reason: String| AuditError::Decode {
        position: event.position,
        reason,
    };
    if has_prefix(&event.stream_id, DeviceId::STREAM_PREFIX) {
        let decoded = decode_device_event(&event.event_type, event.schema_version, &event.payload)
            .map_err(|e| invalid(e.to_string()))?;
        return Ok(Some(AuditEvent::Device {
            stream_id: event.stream_id.clone(),
            event: decoded,
        }));
    }
    if has_prefix(&event.stream_id, DonationId::STREAM_PREFIX) {
        let mut payload = event.payload.clone();
        if let serde_json::Value::Object(map) = &mut payload {
            map.insert("type".to_string(), event.event_type.clone().into());
        }
        let decoded: DonationEvent =
            serde_json::from_value(payload).map_err(|e| invalid(e.to_string()))?;
        return Ok(Some(AuditEvent::Donation(decoded)));
    }
    if let Some(id) = id_after_prefix(&event.stream_id, PrescriptionId::STREAM_PREFIX) {
        let prescription_id: PrescriptionId = id
            .parse()
            .map_err(|e| invalid(format!("stream id '{}': {e}", event.stream_id)))?;
        let decoded =
            decode_prescription_event(&event.event_type, event.schema_version, &event.payload)
                .map_err(|e| invalid(e.to_string()))?;
        return Ok(Some(AuditEvent::Prescription {
            prescription_id,
            event: decoded,
        }));
    }
    Ok(None)
}

/// Returns the part after `PREFIX-` of a stream id of that kind.
fn id_after_prefix<'a>(stream_id: &'a str, prefix: &str) -> Option<&'a str> {
    stream_id.strip_prefix(prefix)?.strip_prefix('-')
}

/// Whether `stream_id` is `PREFIX-...`.
fn has_prefix(stream_id: &str, prefix: &str) -> bool {
    stream_id
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('-'))
}
