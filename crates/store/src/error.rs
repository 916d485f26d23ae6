//! The one error type of the event store.

use crate::model::ExpectedVersion;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream_id} changed meanwhile: expected {expected}, found version {actual}; reload and try again")]
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: i64,
    },

    #[error("{namespace} '{value}' already belongs to {owner}")]
    UniqueKeyTaken {
        namespace: String,
        value: String,
        owner: String,
    },

    #[error("invalid database URL '{url}': {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("event at position {position} is unreadable: {reason}")]
    Corrupt { position: i64, reason: String },

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether retrying the same command after reloading may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}
