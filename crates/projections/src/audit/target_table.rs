//! Storage of the audit target. Every change appends an `audit_target_set`
//! event to the stream [`filiere_domain::audit_target::STREAM_ID`], whose
//! version is the revision number. A replay reads the latest revision it
//! includes, so a report as of a past date uses the target that applied then.
//!
//! Databases written before targets were events hold revisions in the
//! `audit_targets` table. Those rows are read as a fallback and never copied
//! into the log: a copy would get positions after events it predates, so a
//! report up to an earlier position would lose the target it had. A table
//! row applies from its `set_at` time until the first event revision.

use chrono::{DateTime, Utc};
use filiere_domain::audit_target::{
    decode_audit_target_event, encode_audit_target_event, AuditTargetEvent, AuditTargetSet,
    STREAM_ID,
};
use filiere_store::{
    AppendBatch, EventStore, ExpectedVersion, Metadata, NewEvent, RecordedEvent, StreamAppend,
};

use super::replay::{end_of_day, Replay};
use super::target::{AuditTarget, ShareMethod, TargetError};
use super::AuditError;

type TargetRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
);

/// Appends `target` as a new revision with `metadata`, as occurred at
/// `set_at`, and returns the revision number. A revision appended meanwhile
/// by someone else makes this fail with a conflict, and nothing is recorded.
pub async fn save_target(
    store: &EventStore,
    target: &AuditTarget,
    metadata: Metadata,
    set_at: DateTime<Utc>,
) -> Result<i64, AuditError> {
    to_i64("national target", target.national_target)?;
    let manual_share = match target.share_method {
        ShareMethod::Population => None,
        ShareMethod::Manual(share) => {
            to_i64("share", share)?;
            Some(share)
        }
    };
    let event = AuditTargetEvent::Set(AuditTargetSet {
        national_target: target.national_target,
        unit: target.unit.as_str().to_string(),
        territory_code: target.territory_code.clone(),
        manual_share,
        workshops: target.workshops.clone(),
    });
    let (event_type, schema_version, payload) = encode_audit_target_event(&event);
    let current = store.stream_version(STREAM_ID).await?;
    let expected = match current {
        Some(version) => ExpectedVersion::Exact(version),
        None => ExpectedVersion::NoStream,
    };
    let result = store
        .append(AppendBatch {
            command_id: None,
            metadata,
            occurred_at: set_at,
            streams: vec![StreamAppend {
                stream_id: STREAM_ID.to_string(),
                expected,
                events: vec![NewEvent::new(event_type, schema_version, payload)],
                unique_keys: vec![],
            }],
        })
        .await?;
    let revision = result
        .stream_versions
        .first()
        .map_or(current.unwrap_or(0) + 1, |(_, version)| *version);
    Ok(revision)
}

/// Loads the target that applied at the replay's cutoff: the latest revision
/// among the events the replay included, else the latest row of the former
/// table set on or before the cutoff date. `None` when no target applied.
pub async fn load_target_at(
    store: &EventStore,
    replay: &Replay,
) -> Result<Option<AuditTarget>, AuditError> {
    let day_end = replay.as_of.map(end_of_day);
    let events = store
        .read_stream_until(STREAM_ID, replay.log_position)
        .await?;
    let included = events
        .iter()
        .rev()
        .find(|event| day_end.is_none_or(|end| event.occurred_at < end));
    if let Some(event) = included {
        return target_from_event(event).map(Some);
    }
    load_table_target(store, day_end).await
}

/// Loads the current target, whatever its time: the last event revision,
/// else the last row of the former table. Reports computed from a replay
/// use [`load_target_at`] instead.
pub async fn load_target(store: &EventStore) -> Result<Option<AuditTarget>, AuditError> {
    let events = store.read_stream(STREAM_ID).await?;
    if let Some(event) = events.last() {
        return target_from_event(event).map(Some);
    }
    load_table_target(store, None).await
}

fn target_from_event(event: &RecordedEvent) -> Result<AuditTarget, AuditError> {
    let corrupt = |reason: String| AuditError::CorruptTarget {
        revision: event.stream_version,
        reason,
    };
    let decoded =
        decode_audit_target_event(&event.event_type, event.schema_version, &event.payload)
            .map_err(|e| corrupt(e.to_string()))?;
    let AuditTargetEvent::Set(set) = decoded;
    let share_method = match set.manual_share {
        None => ShareMethod::Population,
        Some(share) => ShareMethod::Manual(share),
    };
    Ok(AuditTarget {
        national_target: set.national_target,
        unit: set
            .unit
            .parse()
            .map_err(|e: TargetError| corrupt(e.to_string()))?,
        territory_code: set.territory_code,
        share_method,
        workshops: set.workshops,
    })
}

/// Reads the latest row of the `audit_targets` table set before `before`, or
/// the latest row at all when `before` is `None`.
async fn load_table_target(
    store: &EventStore,
    before: Option<DateTime<Utc>>,
) -> Result<Option<AuditTarget>, AuditError> {
    let rows: Vec<TargetRow> = sqlx::query_as(
        "SELECT revision, national_target, unit, territory_code, share_method, manual_share, \
         workshops, set_at FROM audit_targets ORDER BY revision DESC",
    )
    .fetch_all(store.pool())
    .await?;
    for row in rows {
        let revision = row.0;
        let set_at = DateTime::parse_from_rfc3339(&row.7)
            .map_err(|e| AuditError::CorruptTarget {
                revision,
                reason: format!("set_at '{}': {e}", row.7),
            })?
            .with_timezone(&Utc);
        if before.is_none_or(|end| set_at < end) {
            return target_from_row(row).map(Some);
        }
    }
    Ok(None)
}

fn target_from_row(row: TargetRow) -> Result<AuditTarget, AuditError> {
    let (revision, national_target, unit, territory_code, method, manual, workshops, _) = row;
    let corrupt = |reason: String| AuditError::CorruptTarget { revision, reason };
    let share_method = match (method.as_str(), manual) {
        ("population", _) => ShareMethod::Population,
        ("manual", Some(share)) if share > 0 => ShareMethod::Manual(share as u64),
        _ => {
            return Err(corrupt(format!(
                "share method '{method}' with share {manual:?}"
            )))
        }
    };
    let workshops: Vec<String> =
        serde_json::from_str(&workshops).map_err(|e| corrupt(format!("workshops: {e}")))?;
    Ok(AuditTarget {
        national_target: u64::try_from(national_target)
            .map_err(|_| corrupt(format!("national target {national_target}")))?,
        unit: unit
            .parse()
            .map_err(|e: TargetError| corrupt(e.to_string()))?,
        territory_code,
        share_method,
        workshops,
    })
}

/// Checks that a count fits the signed 64-bit integers of the database and
/// of JSON readers.
fn to_i64(field: &'static str, value: u64) -> Result<i64, AuditError> {
    i64::try_from(value).map_err(|_| {
        AuditError::Target(TargetError::TooLarge {
            field,
            value,
            max: i64::MAX,
        })
    })
}
