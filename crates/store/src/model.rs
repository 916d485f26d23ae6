//! Values going into and out of the event log.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Actor, organisation and causation recorded with every event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The acting user or process, such as `cli:root` or a user id.
    pub actor: String,
    /// The organisation the actor acted for.
    pub organisation: String,
    /// Ties together every event caused by one user action.
    pub correlation_id: Uuid,
    /// The event or command that caused this one, when known.
    pub causation_id: Option<Uuid>,
}

impl Metadata {
    /// Metadata of a new user action by `actor` for `organisation`.
    pub fn new(actor: impl Into<String>, organisation: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            organisation: organisation.into(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        }
    }
}

/// Condition on a stream's version for an append to go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version (its number of events).
    Exact(i64),
    /// No check; for streams written by one process only.
    Any,
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
            ExpectedVersion::Any => f.write_str("any version"),
        }
    }
}

/// An event to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i64,
    pub payload: Value,
}

impl NewEvent {
    pub fn new(event_type: impl Into<String>, schema_version: i64, payload: Value) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            payload,
        }
    }
}

/// A value that must belong to one stream only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueKey {
    pub namespace: String,
    pub value: String,
}

impl UniqueKey {
    pub fn new(namespace: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            value: value.into(),
        }
    }
}

/// Events for one stream within an append.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamAppend {
    pub stream_id: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub unique_keys: Vec<UniqueKey>,
}

/// One atomic append: every stream's events are recorded, or none.
#[derive(Clone, Debug, PartialEq)]
pub struct AppendBatch {
    /// Id of the command that produced the events; a second append with the
    /// same id records nothing and returns the first result.
    pub command_id: Option<Uuid>,
    pub metadata: Metadata,
    pub occurred_at: DateTime<Utc>,
    pub streams: Vec<StreamAppend>,
}

/// Outcome of an append.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResult {
    /// Position of the first event written; 0 when the batch had none.
    pub first_position: i64,
    pub last_position: i64,
    /// Version of each stream after the append, in batch order.
    pub stream_versions: Vec<(String, i64)>,
    /// True when the command id had been applied before and nothing was
    /// recorded this time.
    #[serde(default)]
    pub duplicate: bool,
}

/// An event as stored in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    pub position: i64,
    pub event_id: Uuid,
    pub stream_id: String,
    pub stream_version: i64,
    pub event_type: String,
    pub schema_version: i64,
    pub payload: Value,
    pub metadata: Metadata,
    pub command_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub hash: String,
}
