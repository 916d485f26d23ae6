//! Appending events: one transaction per batch, serialised on `log_head`.
//!
//! Every append starts by updating the `log_head` row. On PostgreSQL this
//! locks the row until commit, so appends run one after the other and
//! positions become visible in order. On SQLite the first write takes the
//! database's write lock for the whole transaction, which is what `BEGIN
//! IMMEDIATE` would do: no later read-then-write upgrade can fail with a busy
//! snapshot.

use std::collections::HashMap;

use chrono::Utc;
use sqlx::{Any, Transaction};

use crate::connect::{Backend, EventStore};
use crate::error::StoreError;
use crate::hash::{canonical_json, chain_hash, ChainFields};
use crate::model::{AppendBatch, AppendResult, ExpectedVersion, StreamAppend};
use crate::placeholders;

/// Columns of one `events` row, in insert order.
const EVENT_COLUMNS: &str = "position, event_id, stream_id, stream_version, event_type, \
     schema_version, payload, actor, organisation, command_id, correlation_id, causation_id, \
     occurred_at, recorded_at, hash";
const EVENT_COLUMN_COUNT: usize = 15;

/// Rows per INSERT statement: well under the bind-parameter limits of both
/// databases (32,766 on SQLite 3.32+, 65,535 on PostgreSQL).
const ROWS_PER_INSERT: usize = 200;

/// An append whose transaction is still open: its events are invisible to
/// every reader, and every other append waits, until [`HeldAppend::commit`].
/// Dropping it rolls back.
pub struct HeldAppend {
    transaction: Option<Transaction<'static, Any>>,
    result: AppendResult,
}

impl HeldAppend {
    pub fn result(&self) -> &AppendResult {
        &self.result
    }

    pub async fn commit(self) -> Result<AppendResult, StoreError> {
        if let Some(transaction) = self.transaction {
            transaction.commit().await?;
        }
        Ok(self.result)
    }
}

struct EventRow {
    position: i64,
    event_id: String,
    stream_id: String,
    stream_version: i64,
    event_type: String,
    schema_version: i64,
    payload: String,
    hash: String,
}

impl EventStore {
    /// Appends a batch atomically and commits it.
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendResult, StoreError> {
        self.append_held(batch).await?.commit().await
    }

    /// Writes a batch inside a transaction and returns it uncommitted.
    pub async fn append_held(&self, batch: AppendBatch) -> Result<HeldAppend, StoreError> {
        let mut transaction = self.pool().begin().await?;
        let (head_position, head_hash): (i64, String) = sqlx::query_as(
            "UPDATE log_head SET position = position WHERE id = 1 RETURNING position, hash",
        )
        .fetch_one(&mut *transaction)
        .await?;

        if let Some(previous) = find_command(&mut transaction, &batch).await? {
            transaction.rollback().await?;
            return Ok(HeldAppend {
                transaction: None,
                result: previous,
            });
        }

        let recorded_at = format_time(Utc::now());
        let occurred_at = format_time(batch.occurred_at);
        let mut rows = Vec::new();
        let mut versions: HashMap<String, i64> = HashMap::new();
        let mut stream_versions = Vec::new();
        for stream in &batch.streams {
            let current = match versions.get(&stream.stream_id) {
                Some(version) => Some(*version),
                None => stream_version(&mut transaction, &stream.stream_id).await?,
            };
            check_expected(stream, current)?;
            claim_unique_keys(&mut transaction, stream).await?;
            let mut version = current.unwrap_or(0);
            for event in &stream.events {
                version += 1;
                rows.push(EventRow {
                    position: head_position + rows.len() as i64 + 1,
                    event_id: event.event_id.to_string(),
                    stream_id: stream.stream_id.clone(),
                    stream_version: version,
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    payload: canonical_json(&event.payload),
                    hash: String::new(),
                });
            }
            versions.insert(stream.stream_id.clone(), version);
            stream_versions.push((stream.stream_id.clone(), version));
        }

        let command_id = batch.command_id.map(|id| id.to_string());
        let correlation_id = batch.metadata.correlation_id.to_string();
        let causation_id = batch.metadata.causation_id.map(|id| id.to_string());
        let mut hash = head_hash;
        for row in &mut rows {
            row.hash = chain_hash(
                &hash,
                &ChainFields {
                    position: row.position,
                    stream_id: &row.stream_id,
                    stream_version: row.stream_version,
                    event_type: &row.event_type,
                    schema_version: row.schema_version,
                    payload: &row.payload,
                    actor: &batch.metadata.actor,
                    organisation: &batch.metadata.organisation,
                    command_id: command_id.as_deref(),
                    correlation_id: &correlation_id,
                    causation_id: causation_id.as_deref(),
                    occurred_at: &occurred_at,
                    recorded_at: &recorded_at,
                },
            );
            hash = row.hash.clone();
        }

        let shared = SharedColumns {
            actor: &batch.metadata.actor,
            organisation: &batch.metadata.organisation,
            command_id: command_id.as_deref(),
            correlation_id: &correlation_id,
            causation_id: causation_id.as_deref(),
            occurred_at: &occurred_at,
            recorded_at: &recorded_at,
        };
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            insert_events(self.backend(), &mut transaction, chunk, &shared).await?;
        }
        for (stream_id, version) in &versions {
            sqlx::query(
                "INSERT INTO streams (stream_id, version) VALUES ($1, $2) \
                 ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version",
            )
            .bind(stream_id)
            .bind(*version)
            .execute(&mut *transaction)
            .await?;
        }

        let last_position = head_position + rows.len() as i64;
        let result = AppendResult {
            first_position: if rows.is_empty() {
                0
            } else {
                head_position + 1
            },
            last_position: if rows.is_empty() { 0 } else { last_position },
            stream_versions,
            duplicate: false,
        };
        if let Some(command_id) = &command_id {
            let stored = AppendResult {
                duplicate: true,
                ..result.clone()
            };
            sqlx::query("INSERT INTO commands (command_id, result) VALUES ($1, $2)")
                .bind(command_id)
                .bind(serde_json::to_string(&stored).expect("append results serialise"))
                .execute(&mut *transaction)
                .await?;
        }
        sqlx::query("UPDATE log_head SET position = $1, hash = $2 WHERE id = 1")
            .bind(last_position)
            .bind(&hash)
            .execute(&mut *transaction)
            .await?;

        Ok(HeldAppend {
            transaction: Some(transaction),
            result,
        })
    }
}

/// Formats a time as RFC 3339 UTC with microseconds; text order is then time
/// order.
pub(crate) fn format_time(time: chrono::DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

async fn find_command(
    transaction: &mut Transaction<'static, Any>,
    batch: &AppendBatch,
) -> Result<Option<AppendResult>, StoreError> {
    let Some(command_id) = batch.command_id else {
        return Ok(None);
    };
    let stored: Option<String> =
        sqlx::query_scalar("SELECT result FROM commands WHERE command_id = $1")
            .bind(command_id.to_string())
            .fetch_optional(&mut **transaction)
            .await?;
    match stored {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| StoreError::Corrupt {
                position: 0,
                reason: format!("stored result of command {command_id} is invalid: {error}"),
            }),
    }
}

async fn stream_version(
    transaction: &mut Transaction<'static, Any>,
    stream_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM streams WHERE stream_id = $1")
            .bind(stream_id)
            .fetch_optional(&mut **transaction)
            .await?,
    )
}

pub(crate) fn check_expected(
    stream: &StreamAppend,
    current: Option<i64>,
) -> Result<(), StoreError> {
    let matches = match stream.expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => current.is_none(),
        ExpectedVersion::Exact(version) => current.unwrap_or(0) == version,
    };
    if matches {
        return Ok(());
    }
    Err(StoreError::Conflict {
        stream_id: stream.stream_id.clone(),
        expected: stream.expected,
        actual: current.unwrap_or(0),
    })
}

async fn claim_unique_keys(
    transaction: &mut Transaction<'static, Any>,
    stream: &StreamAppend,
) -> Result<(), StoreError> {
    for key in &stream.unique_keys {
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT stream_id FROM unique_keys WHERE namespace = $1 AND value = $2",
        )
        .bind(&key.namespace)
        .bind(&key.value)
        .fetch_optional(&mut **transaction)
        .await?;
        match owner {
            Some(owner) if owner == stream.stream_id => {}
            Some(owner) => {
                return Err(StoreError::UniqueKeyTaken {
                    namespace: key.namespace.clone(),
                    value: key.value.clone(),
                    owner,
                })
            }
            None => {
                sqlx::query(
                    "INSERT INTO unique_keys (namespace, value, stream_id) VALUES ($1, $2, $3)",
                )
                .bind(&key.namespace)
                .bind(&key.value)
                .bind(&stream.stream_id)
                .execute(&mut **transaction)
                .await?;
            }
        }
    }
    Ok(())
}

/// Columns that every event of one batch shares.
struct SharedColumns<'a> {
    actor: &'a str,
    organisation: &'a str,
    command_id: Option<&'a str>,
    correlation_id: &'a str,
    causation_id: Option<&'a str>,
    occurred_at: &'a str,
    recorded_at: &'a str,
}

async fn insert_events(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    rows: &[EventRow],
    shared: &SharedColumns<'_>,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO events ({EVENT_COLUMNS}) VALUES {}",
        placeholders::value_groups(backend, rows.len(), EVENT_COLUMN_COUNT)
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(row.position)
            .bind(&row.event_id)
            .bind(&row.stream_id)
            .bind(row.stream_version)
            .bind(&row.event_type)
            .bind(row.schema_version)
            .bind(&row.payload)
            .bind(shared.actor)
            .bind(shared.organisation)
            .bind(shared.command_id)
            .bind(shared.correlation_id)
            .bind(shared.causation_id)
            .bind(shared.occurred_at)
            .bind(shared.recorded_at)
            .bind(&row.hash);
    }
    query.execute(&mut **transaction).await?;
    Ok(())
}
