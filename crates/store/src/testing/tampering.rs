//! Tampering with a copy of a test log, to check that
//! [`EventStore::verify_chain`] finds each kind of change at the right
//! position. The copy is a copied file on SQLite and a database created from
//! the original as a template on PostgreSQL; only the copy loses its
//! append-only triggers.

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use sqlx::{AnyConnection, Connection, Executor};
use uuid::Uuid;

use super::TestDatabase;
use crate::connect::Backend;
use crate::{AppendBatch, EventStore, ExpectedVersion, Metadata, NewEvent, StreamAppend};

/// Number of events [`fill_log`] appends.
pub const FILLED_EVENTS: i64 = 8;

/// One change made to a copy of the log behind the store's back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tampering {
    /// The payload of the event at this position is rewritten.
    Payload(i64),
    /// The actor recorded with the event at this position is rewritten.
    Actor(i64),
    /// The organisation recorded with the event at this position is rewritten.
    Organisation(i64),
    /// The time the event at this position occurred is moved by a day.
    OccurredAt(i64),
    /// The correlation id of the event at this position is replaced.
    CorrelationId(i64),
    /// The row at this position is deleted.
    Delete(i64),
    /// The rows at this position and the next one exchange positions.
    SwapPositions(i64),
    /// The rows at this position and the next one exchange their payloads,
    /// keeping their positions, metadata and hashes.
    SwapPayloads(i64),
    /// Rows from this position on move up by one, and a copy of the
    /// previous row under a new event id takes the position. The head
    /// moves to the new last position.
    InsertAt(i64),
    /// A copy of the last row is added after it, the head left as it was.
    Append,
    /// A copy of the first row is added at position 0.
    InsertBeforeFirst,
    /// The head's hash is replaced.
    HeadHash,
}

/// Every kind of tampering on a log of [`FILLED_EVENTS`] events, with the
/// first position `verify_chain` must report as broken.
pub fn tampering_cases() -> Vec<(Tampering, i64)> {
    vec![
        (Tampering::Payload(3), 3),
        (Tampering::Actor(3), 3),
        (Tampering::Organisation(6), 6),
        (Tampering::OccurredAt(2), 2),
        (Tampering::CorrelationId(5), 5),
        (Tampering::Delete(4), 4),
        (Tampering::Delete(FILLED_EVENTS), FILLED_EVENTS),
        (Tampering::SwapPositions(4), 4),
        (Tampering::SwapPayloads(4), 4),
        (Tampering::InsertAt(5), 5),
        (Tampering::Append, FILLED_EVENTS + 1),
        (Tampering::InsertBeforeFirst, 0),
        (Tampering::HeadHash, FILLED_EVENTS),
    ]
}

/// Appends [`FILLED_EVENTS`] events, one per batch, to three streams.
pub async fn fill_log(store: &EventStore) {
    let start = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
    for n in 1..=FILLED_EVENTS {
        let mut metadata = Metadata::new("test:filler", "atelier-test");
        metadata.causation_id = (n % 2 == 0).then(Uuid::now_v7);
        store
            .append(AppendBatch {
                command_id: Some(Uuid::now_v7()),
                metadata,
                occurred_at: start + Duration::hours(n),
                streams: vec![StreamAppend {
                    stream_id: format!("tamper-{}", n % 3),
                    expected: ExpectedVersion::Any,
                    events: vec![NewEvent::new("noted", 1, json!({ "n": n, "note": "ok" }))],
                    unique_keys: vec![],
                }],
            })
            .await
            .expect("the test log accepts appends");
    }
}

/// Copies a filled log into a new database without the append-only
/// triggers. Nothing may write to `original` meanwhile. On PostgreSQL the
/// sessions open on `original` are ended, because a template database
/// copies only without sessions, so its pools reconnect on next use. On
/// SQLite the write-ahead log file is copied with the database file.
pub async fn tamperable_copy(original: &TestDatabase) -> TestDatabase {
    let copy = match original.backend {
        Backend::Sqlite => {
            let copy = TestDatabase::sqlite();
            let from = original
                .sqlite_file
                .as_ref()
                .expect("SQLite tests have a file");
            let to = copy.sqlite_file.as_ref().expect("SQLite tests have a file");
            for suffix in ["", "-wal"] {
                let mut source = from.clone().into_os_string();
                source.push(suffix);
                let mut target = to.clone().into_os_string();
                target.push(suffix);
                if std::path::Path::new(&source).exists() {
                    std::fs::copy(&source, &target).expect("the test log file copies");
                }
            }
            copy
        }
        Backend::Postgres => {
            let (admin_url, template) = original.postgres.clone().expect("PostgreSQL tests");
            TestDatabase::postgres_named(&admin_url, Some(&template)).await
        }
    };
    let mut connection = connect(&copy).await;
    let statements = match copy.backend {
        Backend::Sqlite => "DROP TRIGGER events_reject_update; DROP TRIGGER events_reject_delete;",
        Backend::Postgres => "DROP TRIGGER events_reject_change ON events;",
    };
    connection
        .execute(statements)
        .await
        .expect("the copy's triggers drop");
    connection.close().await.ok();
    copy
}

/// Applies `tampering` to a copy made by [`tamperable_copy`].
pub async fn tamper(copy: &TestDatabase, tampering: Tampering) {
    let mut connection = connect(copy).await;
    for statement in statements(tampering) {
        connection
            .execute(statement.as_str())
            .await
            .unwrap_or_else(|e| panic!("tampering {tampering:?} with `{statement}` failed: {e}"));
    }
    connection.close().await.ok();
}

async fn connect(database: &TestDatabase) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(&database.url)
        .await
        .expect("the test copy opens")
}

/// SQL of one tampering. Positions move one row at a time, through a
/// negative spare position, so that no statement breaks the primary key.
fn statements(tampering: Tampering) -> Vec<String> {
    const COLUMNS: &str = "event_id, stream_id, stream_version, event_type, schema_version, \
         payload, actor, organisation, command_id, correlation_id, causation_id, occurred_at, \
         recorded_at, hash";
    let set = |position: i64, assignment: &str| {
        format!("UPDATE events SET {assignment} WHERE position = {position}")
    };
    let copy_row = |from: i64, to: i64, event_id: &str| {
        format!(
            "INSERT INTO events (position, {COLUMNS}) SELECT {to}, '{event_id}', stream_id, \
             stream_version + 1000, event_type, schema_version, payload, actor, organisation, \
             command_id, correlation_id, causation_id, occurred_at, recorded_at, hash \
             FROM events WHERE position = {from}"
        )
    };
    let new_id = Uuid::now_v7().to_string();
    match tampering {
        Tampering::Payload(p) => vec![set(p, "payload = '{\"n\":999,\"note\":\"ok\"}'")],
        Tampering::Actor(p) => vec![set(p, "actor = 'test:intruder'")],
        Tampering::Organisation(p) => vec![set(p, "organisation = 'atelier-autre'")],
        Tampering::OccurredAt(p) => {
            vec![set(p, "occurred_at = '2025-02-28T10:00:00.000000Z'")]
        }
        Tampering::CorrelationId(p) => vec![set(p, &format!("correlation_id = '{new_id}'"))],
        Tampering::Delete(p) => vec![format!("DELETE FROM events WHERE position = {p}")],
        Tampering::SwapPositions(p) => vec![
            set(p, "position = -1"),
            set(p + 1, &format!("position = {p}")),
            set(-1, &format!("position = {}", p + 1)),
        ],
        Tampering::SwapPayloads(p) => swap_payloads(p),
        Tampering::InsertAt(p) => {
            let mut statements: Vec<String> = (p..=FILLED_EVENTS)
                .rev()
                .map(|q| set(q, &format!("position = {}", q + 1)))
                .collect();
            statements.push(copy_row(p - 1, p, &new_id));
            statements.push(format!(
                "UPDATE log_head SET position = {} WHERE id = 1",
                FILLED_EVENTS + 1
            ));
            statements
        }
        Tampering::Append => vec![copy_row(FILLED_EVENTS, FILLED_EVENTS + 1, &new_id)],
        Tampering::InsertBeforeFirst => vec![copy_row(1, 0, &new_id)],
        Tampering::HeadHash => vec![format!(
            "UPDATE log_head SET hash = '{}' WHERE id = 1",
            "f".repeat(64)
        )],
    }
}

/// Exchanges the payloads of the rows at `p` and `p + 1` through a spare
/// table.
fn swap_payloads(p: i64) -> Vec<String> {
    vec![
        "CREATE TABLE tamper_spare (payload TEXT NOT NULL)".to_string(),
        format!("INSERT INTO tamper_spare SELECT payload FROM events WHERE position = {p}"),
        format!(
            "UPDATE events SET payload = (SELECT payload FROM events WHERE position = {}) \
             WHERE position = {p}",
            p + 1
        ),
        format!(
            "UPDATE events SET payload = (SELECT payload FROM tamper_spare) WHERE position = {}",
            p + 1
        ),
        "DROP TABLE tamper_spare".to_string(),
    ]
}
