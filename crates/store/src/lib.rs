//! The event log of Filière: an append-only table reached through sqlx, on
//! SQLite (the embedded default, a file created on first run) or PostgreSQL
//! (selected by a `postgres://` URL).
//!
//! One code shape serves both databases through sqlx's `Any` driver; the few
//! statements that differ are chosen by [`Backend`]. Guarantees, tested by the
//! contract suite on both databases:
//! - per-stream optimistic concurrency: a stale expected version is
//!   [`StoreError::Conflict`], never an overwrite;
//! - a global position that readers follow without skipping: appends are
//!   serialised on the `log_head` row, so positions are assigned in commit
//!   order;
//! - idempotent appends: a repeated command id records nothing and returns the
//!   first result;
//! - every event carries its metadata, schema version and a hash chained to
//!   the previous event;
//! - append-only: this crate has no update or delete of events, and triggers
//!   reject both on each database.
//!
//! Errors: [`StoreError`] is the only error type of this crate.

pub mod accounts;
mod append;
mod bulk;
mod connect;
mod error;
pub mod evidence;
pub mod evidence_import;
mod hash;
pub mod households;
mod model;
pub mod placeholders;
pub mod prescriptions;
pub mod privacy;
mod read;
pub mod schemes;
pub mod testing;
pub mod workshop;

pub use append::HeldAppend;
pub use connect::{Backend, EventStore};
pub use error::StoreError;
pub use hash::{canonical_json, GENESIS_HASH};
pub use model::{
    AppendBatch, AppendResult, ExpectedVersion, Metadata, NewEvent, RecordedEvent, StreamAppend,
    UniqueKey,
};
pub use read::ChainReport;
