//! Bulk appends: many batches in one transaction, for generated logs and
//! large imports.
//!
//! [`EventStore::append_bulk`] gives every batch exactly what
//! [`EventStore::append`] would give it if the batches were appended one
//! after the other. Positions are contiguous, stream versions are checked
//! against each batch's expected version, unique keys are claimed, command
//! ids keep appends idempotent, and every event gets its batch's metadata
//! and its link in the hash chain. Only the cost differs: the
//! stream versions, unique keys and command ids of all batches are read with
//! one `IN (...)` query per chunk, and rows are written with multi-row
//! INSERT statements, so a bulk append of 20,000 events sends a few dozen
//! statements instead of tens of thousands.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use filiere_domain::HouseholdId;
use sqlx::{Any, Transaction};

use crate::append::{check_expected, format_time};
use crate::connect::{Backend, EventStore};
use crate::error::StoreError;
use crate::hash::{canonical_json, chain_hash, ChainFields};
use crate::households::HouseholdIdentity;
use crate::model::{AppendBatch, AppendResult};
use crate::placeholders;
use crate::prescriptions::PrescriptionStoreError;

/// Columns of one `events` row, in insert order.
const EVENT_COLUMNS: &str = "position, event_id, stream_id, stream_version, event_type, \
     schema_version, payload, actor, organisation, command_id, correlation_id, causation_id, \
     occurred_at, recorded_at, hash";
const EVENT_COLUMN_COUNT: usize = 15;

/// Event rows per INSERT: 15,000 bound values, below the bind-parameter
/// limits of both databases (32,766 on SQLite 3.32+, 65,535 on PostgreSQL).
const EVENT_ROWS_PER_INSERT: usize = 1_000;

/// Rows per INSERT of the narrow tables (`streams`, `unique_keys`,
/// `commands`), and values per `IN (...)` lookup.
const ROWS_PER_STATEMENT: usize = 2_000;

/// One `events` row, ready to insert.
struct BulkRow<'a> {
    position: i64,
    event_id: String,
    stream_id: &'a str,
    stream_version: i64,
    event_type: &'a str,
    schema_version: i64,
    payload: String,
    actor: &'a str,
    organisation: &'a str,
    command_id: Option<String>,
    correlation_id: String,
    causation_id: Option<String>,
    occurred_at: String,
    hash: String,
}

/// Everything one bulk append writes besides the events.
#[derive(Default)]
struct Writes {
    /// Final version of every stream the call touched.
    stream_versions: HashMap<String, i64>,
    /// Unique keys claimed by this call: (namespace, value, stream).
    new_keys: Vec<(String, String, String)>,
    /// Command ids recorded by this call, with the stored result.
    new_commands: Vec<(String, String)>,
}

impl EventStore {
    /// Appends `batches` in one transaction, in order, and commits. Each
    /// batch gets the result that [`EventStore::append`] would return if
    /// the batches were appended one after the other, including duplicates
    /// of a command id recorded earlier or earlier in `batches`. All or
    /// nothing: a conflict or a taken unique key in any batch rolls back
    /// every batch and returns that error.
    pub async fn append_bulk(
        &self,
        batches: &[AppendBatch],
    ) -> Result<Vec<AppendResult>, StoreError> {
        let mut transaction = self.pool().begin().await?;
        let (head_position, head_hash): (i64, String) = sqlx::query_as(
            "UPDATE log_head SET position = position WHERE id = 1 RETURNING position, hash",
        )
        .fetch_one(&mut *transaction)
        .await?;

        let stored_commands = stored_commands(self.backend(), &mut transaction, batches).await?;
        let mut versions = current_versions(self.backend(), &mut transaction, batches).await?;
        let mut owners = current_key_owners(self.backend(), &mut transaction, batches).await?;

        let recorded_at = format_time(Utc::now());
        let mut rows: Vec<BulkRow> = Vec::new();
        let mut results = Vec::with_capacity(batches.len());
        let mut writes = Writes::default();
        let mut results_by_command: HashMap<String, AppendResult> = HashMap::new();
        for batch in batches {
            let command_id = batch.command_id.map(|id| id.to_string());
            if let Some(command_id) = &command_id {
                if let Some(previous) = results_by_command.get(command_id) {
                    results.push(previous.clone());
                    continue;
                }
                if let Some(text) = stored_commands.get(command_id) {
                    let previous: AppendResult =
                        serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
                            position: 0,
                            reason: format!(
                                "stored result of command {command_id} is invalid: {error}"
                            ),
                        })?;
                    results_by_command.insert(command_id.clone(), previous.clone());
                    results.push(previous);
                    continue;
                }
            }

            let first_row = rows.len();
            let correlation_id = batch.metadata.correlation_id.to_string();
            let causation_id = batch.metadata.causation_id.map(|id| id.to_string());
            let occurred_at = format_time(batch.occurred_at);
            let mut stream_versions = Vec::with_capacity(batch.streams.len());
            for stream in &batch.streams {
                let current = versions.get(&stream.stream_id).copied().flatten();
                check_expected(stream, current)?;
                for key in &stream.unique_keys {
                    let owner_key = (key.namespace.clone(), key.value.clone());
                    match owners.get(&owner_key) {
                        Some(owner) if *owner == stream.stream_id => {}
                        Some(owner) => {
                            return Err(StoreError::UniqueKeyTaken {
                                namespace: key.namespace.clone(),
                                value: key.value.clone(),
                                owner: owner.clone(),
                            })
                        }
                        None => {
                            owners.insert(owner_key, stream.stream_id.clone());
                            writes.new_keys.push((
                                key.namespace.clone(),
                                key.value.clone(),
                                stream.stream_id.clone(),
                            ));
                        }
                    }
                }
                let mut version = current.unwrap_or(0);
                for event in &stream.events {
                    version += 1;
                    rows.push(BulkRow {
                        position: head_position + rows.len() as i64 + 1,
                        event_id: event.event_id.to_string(),
                        stream_id: &stream.stream_id,
                        stream_version: version,
                        event_type: &event.event_type,
                        schema_version: event.schema_version,
                        payload: canonical_json(&event.payload),
                        actor: &batch.metadata.actor,
                        organisation: &batch.metadata.organisation,
                        command_id: command_id.clone(),
                        correlation_id: correlation_id.clone(),
                        causation_id: causation_id.clone(),
                        occurred_at: occurred_at.clone(),
                        hash: String::new(),
                    });
                }
                versions.insert(stream.stream_id.clone(), Some(version));
                writes
                    .stream_versions
                    .insert(stream.stream_id.clone(), version);
                stream_versions.push((stream.stream_id.clone(), version));
            }

            let written = rows.len() - first_row;
            let result = AppendResult {
                first_position: if written == 0 {
                    0
                } else {
                    head_position + first_row as i64 + 1
                },
                last_position: if written == 0 {
                    0
                } else {
                    head_position + rows.len() as i64
                },
                stream_versions,
                duplicate: false,
            };
            if let Some(command_id) = command_id {
                let stored = AppendResult {
                    duplicate: true,
                    ..result.clone()
                };
                writes.new_commands.push((
                    command_id.clone(),
                    serde_json::to_string(&stored).expect("append results serialise"),
                ));
                results_by_command.insert(command_id, stored);
            }
            results.push(result);
        }

        let mut hash = head_hash;
        for row in &mut rows {
            row.hash = chain_hash(
                &hash,
                &ChainFields {
                    position: row.position,
                    stream_id: row.stream_id,
                    stream_version: row.stream_version,
                    event_type: row.event_type,
                    schema_version: row.schema_version,
                    payload: &row.payload,
                    actor: row.actor,
                    organisation: row.organisation,
                    command_id: row.command_id.as_deref(),
                    correlation_id: &row.correlation_id,
                    causation_id: row.causation_id.as_deref(),
                    occurred_at: &row.occurred_at,
                    recorded_at: &recorded_at,
                },
            );
            hash.clone_from(&row.hash);
        }

        for chunk in rows.chunks(EVENT_ROWS_PER_INSERT) {
            insert_event_rows(self.backend(), &mut transaction, chunk, &recorded_at).await?;
        }
        write_side_tables(self.backend(), &mut transaction, &writes).await?;
        let last_position = head_position + rows.len() as i64;
        sqlx::query("UPDATE log_head SET position = $1, hash = $2 WHERE id = 1")
            .bind(last_position)
            .bind(&hash)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(results)
    }
}

/// Stored results of the command ids that `batches` carry and that an
/// earlier append recorded.
async fn stored_commands(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    batches: &[AppendBatch],
) -> Result<HashMap<String, String>, StoreError> {
    let ids: Vec<String> = batches
        .iter()
        .filter_map(|batch| batch.command_id.map(|id| id.to_string()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut stored = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT command_id, result FROM commands WHERE command_id IN ({})",
            placeholders::list(backend, 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        stored.extend(query.fetch_all(&mut **transaction).await?);
    }
    Ok(stored)
}

/// Current version of every stream that `batches` append to: `None` for a
/// stream that does not exist.
async fn current_versions(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    batches: &[AppendBatch],
) -> Result<HashMap<String, Option<i64>>, StoreError> {
    let mut versions: HashMap<String, Option<i64>> = HashMap::new();
    for batch in batches {
        for stream in &batch.streams {
            versions.entry(stream.stream_id.clone()).or_insert(None);
        }
    }
    let ids: Vec<&String> = versions.keys().collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT stream_id, version FROM streams WHERE stream_id IN ({})",
            placeholders::list(backend, 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        found.extend(query.fetch_all(&mut **transaction).await?);
    }
    for (stream_id, version) in found {
        versions.insert(stream_id, Some(version));
    }
    Ok(versions)
}

/// Owner stream of every unique key that `batches` claim and that already
/// belongs to a stream.
async fn current_key_owners(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    batches: &[AppendBatch],
) -> Result<HashMap<(String, String), String>, StoreError> {
    let mut by_namespace: HashMap<&str, HashSet<&str>> = HashMap::new();
    for batch in batches {
        for stream in &batch.streams {
            for key in &stream.unique_keys {
                by_namespace
                    .entry(key.namespace.as_str())
                    .or_default()
                    .insert(key.value.as_str());
            }
        }
    }
    let mut owners = HashMap::new();
    for (namespace, values) in by_namespace {
        let values: Vec<&str> = values.into_iter().collect();
        for chunk in values.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT value, stream_id FROM unique_keys WHERE namespace = {} AND value IN ({})",
                placeholders::list(backend, 1, 1),
                placeholders::list(backend, 2, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(namespace);
            for value in chunk {
                query = query.bind(*value);
            }
            for (value, stream_id) in query.fetch_all(&mut **transaction).await? {
                owners.insert((namespace.to_string(), value), stream_id);
            }
        }
    }
    Ok(owners)
}

async fn insert_event_rows(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    rows: &[BulkRow<'_>],
    recorded_at: &str,
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
            .bind(row.stream_id)
            .bind(row.stream_version)
            .bind(row.event_type)
            .bind(row.schema_version)
            .bind(&row.payload)
            .bind(row.actor)
            .bind(row.organisation)
            .bind(row.command_id.as_deref())
            .bind(&row.correlation_id)
            .bind(row.causation_id.as_deref())
            .bind(&row.occurred_at)
            .bind(recorded_at)
            .bind(&row.hash);
    }
    query.execute(&mut **transaction).await?;
    Ok(())
}

/// Writes the stream versions, claimed unique keys and command results of
/// one bulk append.
async fn write_side_tables(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    writes: &Writes,
) -> Result<(), StoreError> {
    let streams: Vec<(&String, &i64)> = writes.stream_versions.iter().collect();
    for chunk in streams.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO streams (stream_id, version) VALUES {} \
             ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version",
            placeholders::value_groups(backend, chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (stream_id, version) in chunk {
            query = query.bind(stream_id.as_str()).bind(**version);
        }
        query.execute(&mut **transaction).await?;
    }
    for chunk in writes.new_keys.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO unique_keys (namespace, value, stream_id) VALUES {}",
            placeholders::value_groups(backend, chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for (namespace, value, stream_id) in chunk {
            query = query.bind(namespace).bind(value).bind(stream_id);
        }
        query.execute(&mut **transaction).await?;
    }
    for chunk in writes.new_commands.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO commands (command_id, result) VALUES {}",
            placeholders::value_groups(backend, chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (command_id, result) in chunk {
            query = query.bind(command_id).bind(result);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

impl EventStore {
    /// Records many households' identities in one transaction, under ids
    /// chosen by the caller and with their creation times, as
    /// [`EventStore::create_household`] does one at a time. Every identity
    /// is checked first, and nothing is recorded when one is invalid or an
    /// id is taken.
    pub async fn insert_households(
        &self,
        households: &[(HouseholdId, HouseholdIdentity, DateTime<Utc>)],
    ) -> Result<(), PrescriptionStoreError> {
        let mut rows = Vec::with_capacity(households.len());
        for (id, identity, created_at) in households {
            rows.push((
                id.to_string(),
                identity.clone().normalized()?,
                format_time(*created_at),
            ));
        }
        let mut transaction = self.pool().begin().await.map_err(StoreError::from)?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT / 4) {
            let sql = format!(
                "INSERT INTO households (id, first_name, last_name, phone, email, address, \
                 created_at) VALUES {}",
                placeholders::value_groups(self.backend(), chunk.len(), 7)
            );
            let mut query = sqlx::query(&sql);
            for (id, identity, created_at) in chunk {
                query = query
                    .bind(id)
                    .bind(&identity.first_name)
                    .bind(&identity.last_name)
                    .bind(identity.phone.as_deref())
                    .bind(identity.email.as_deref())
                    .bind(identity.address.as_deref())
                    .bind(created_at);
            }
            query
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::from)?;
        }
        transaction.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}
