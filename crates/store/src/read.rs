//! Reading the log: one stream, everything after a position, the head, and
//! verification of the hash chain.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::connect::EventStore;
use crate::error::StoreError;
use crate::hash::{chain_hash, ChainFields, GENESIS_HASH};
use crate::model::{Metadata, RecordedEvent};

const SELECT_EVENTS: &str = "SELECT position, event_id, stream_id, stream_version, event_type, \
     schema_version, payload, actor, organisation, command_id, correlation_id, causation_id, \
     occurred_at, recorded_at, hash FROM events";

/// Result of re-computing the hash chain over the whole log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    pub events_checked: i64,
    /// Position and hash of the last event, as recomputed.
    pub head_position: i64,
    pub head_hash: String,
    /// First position where the chain breaks, with the reason.
    pub first_break: Option<(i64, String)>,
}

impl EventStore {
    /// Every event of one stream, oldest first.
    pub async fn read_stream(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENTS} WHERE stream_id = $1 ORDER BY stream_version"
        ))
        .bind(stream_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode_row).collect()
    }

    /// Events of one stream up to and including `max_position`.
    pub async fn read_stream_until(
        &self,
        stream_id: &str,
        max_position: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENTS} WHERE stream_id = $1 AND position <= $2 ORDER BY stream_version"
        ))
        .bind(stream_id)
        .bind(max_position)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode_row).collect()
    }

    /// Up to `limit` events after `position`, in position order.
    pub async fn read_all(&self, after: i64, limit: i64) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENTS} WHERE position > $1 ORDER BY position LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode_row).collect()
    }

    /// Position and hash of the last committed event (0 and the genesis hash
    /// for an empty log).
    pub async fn head(&self) -> Result<(i64, String), StoreError> {
        Ok(
            sqlx::query_as("SELECT position, hash FROM log_head WHERE id = 1")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Current version of a stream, `None` when it does not exist.
    pub async fn stream_version(&self, stream_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT version FROM streams WHERE stream_id = $1")
                .bind(stream_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Stream that owns a unique key, such as the device with a given code.
    pub async fn stream_for_key(
        &self,
        namespace: &str,
        value: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT stream_id FROM unique_keys WHERE namespace = $1 AND value = $2",
        )
        .bind(namespace)
        .bind(value)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Re-computes the hash chain from the first event and reports the first
    /// break: a changed field, a missing or reordered row, or a head that does
    /// not match the last event.
    pub async fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        const PAGE: i64 = 5_000;
        // The page query below starts at position 1, so a row inserted
        // below it would go unseen.
        let lowest: Option<i64> = sqlx::query_scalar("SELECT MIN(position) FROM events")
            .fetch_one(self.pool())
            .await?;
        if let Some(position) = lowest.filter(|position| *position < 1) {
            return Ok(self.report_break(
                0,
                position,
                format!(
                    "a row at position {position} precedes position 1: rows were inserted before the first event"
                ),
            ));
        }
        let mut previous_hash = GENESIS_HASH.to_string();
        let mut expected_position = 1;
        let mut checked = 0;
        loop {
            let rows = sqlx::query(&format!(
                "{SELECT_EVENTS} WHERE position >= $1 ORDER BY position LIMIT $2"
            ))
            .bind(expected_position)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if let Some(reason) = check_link(row, expected_position, &previous_hash)? {
                    return Ok(self.report_break(checked, expected_position, reason));
                }
                previous_hash = row.try_get("hash")?;
                expected_position += 1;
                checked += 1;
            }
        }
        let (head_position, head_hash) = self.head().await?;
        let last_position = expected_position - 1;
        if head_position == last_position && head_hash != previous_hash {
            return Ok(self.report_break(
                (checked - 1).max(0),
                last_position,
                format!(
                    "the log head's hash differs from the hash of the event at position {last_position}: the head was changed"
                ),
            ));
        }
        if head_position != last_position {
            return Ok(self.report_break(
                checked,
                last_position.min(head_position) + 1,
                format!(
                    "the log head says position {head_position}, but the events end at position {last_position}; events were deleted or the head was changed"
                ),
            ));
        }
        Ok(ChainReport {
            events_checked: checked,
            head_position,
            head_hash,
            first_break: None,
        })
    }

    fn report_break(&self, checked: i64, position: i64, reason: String) -> ChainReport {
        ChainReport {
            events_checked: checked,
            head_position: (position - 1).max(0),
            head_hash: String::new(),
            first_break: Some((position, reason)),
        }
    }
}

/// Checks one row against the position and previous hash it must have.
fn check_link(
    row: &AnyRow,
    expected_position: i64,
    previous_hash: &str,
) -> Result<Option<String>, StoreError> {
    let position: i64 = row.try_get("position")?;
    if position != expected_position {
        return Ok(Some(format!(
            "position {expected_position} is missing (next event found is at {position})"
        )));
    }
    let stored: String = row.try_get("hash")?;
    let command_id: Option<String> = row.try_get("command_id")?;
    let causation_id: Option<String> = row.try_get("causation_id")?;
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(name)?) };
    let computed = chain_hash(
        previous_hash,
        &ChainFields {
            position,
            stream_id: &text("stream_id")?,
            stream_version: row.try_get("stream_version")?,
            event_type: &text("event_type")?,
            schema_version: row.try_get("schema_version")?,
            payload: &text("payload")?,
            actor: &text("actor")?,
            organisation: &text("organisation")?,
            command_id: command_id.as_deref(),
            correlation_id: &text("correlation_id")?,
            causation_id: causation_id.as_deref(),
            occurred_at: &text("occurred_at")?,
            recorded_at: &text("recorded_at")?,
        },
    );
    if computed != stored {
        return Ok(Some(format!(
            "event at position {position} does not match its hash: its content was changed, or an earlier event was"
        )));
    }
    Ok(None)
}

fn decode_row(row: &AnyRow) -> Result<RecordedEvent, StoreError> {
    let position: i64 = row.try_get("position")?;
    let corrupt = |reason: String| StoreError::Corrupt { position, reason };
    let uuid = |name: &str| -> Result<Uuid, StoreError> {
        let text: String = row.try_get(name)?;
        Uuid::parse_str(&text).map_err(|e| corrupt(format!("{name} '{text}': {e}")))
    };
    let optional_uuid = |name: &str| -> Result<Option<Uuid>, StoreError> {
        let text: Option<String> = row.try_get(name)?;
        text.map(|t| Uuid::parse_str(&t).map_err(|e| corrupt(format!("{name} '{t}': {e}"))))
            .transpose()
    };
    let time = |name: &str| -> Result<DateTime<Utc>, StoreError> {
        let text: String = row.try_get(name)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt(format!("{name} '{text}': {e}")))
    };
    let payload: String = row.try_get("payload")?;
    Ok(RecordedEvent {
        position,
        event_id: uuid("event_id")?,
        stream_id: row.try_get("stream_id")?,
        stream_version: row.try_get("stream_version")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| corrupt(format!("payload is not JSON: {e}")))?,
        metadata: Metadata {
            actor: row.try_get("actor")?,
            organisation: row.try_get("organisation")?,
            correlation_id: uuid("correlation_id")?,
            causation_id: optional_uuid("causation_id")?,
        },
        command_id: optional_uuid("command_id")?,
        occurred_at: time("occurred_at")?,
        recorded_at: time("recorded_at")?,
        hash: row.try_get("hash")?,
    })
}
