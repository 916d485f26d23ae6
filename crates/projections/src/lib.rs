//! Read models built from the event log: the stock (one row per device), the
//! device timeline and the donation batches.
//!
//! Each projection keeps a checkpoint, the last log position it applied,
//! written in the same transaction as its rows. The [`Projector`] locks a
//! projection's checkpoint row before reading the events after it, so when
//! several processes share one PostgreSQL database each batch of events is
//! applied by exactly one of them, and none is skipped or applied twice.
//!
//! The [`audit`] module computes funders' figures by replaying the log up to
//! a date or position, without a read model.
//!
//! Errors: [`ProjectionError`] for the read models and [`audit::AuditError`]
//! for audit figures.

mod apply;
pub mod audit;
pub mod dashboard;
pub mod prescriptions;
mod projector;
pub mod queries;
mod rebuild;

pub use prescriptions::{LoanScope, PrescriptionRow};
pub use projector::{Projection, Projector};
pub use queries::{DonationRow, StockFilter, StockRow, TimelineRow};

/// Error of updating or reading a projection.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] filiere_store::StoreError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at position {position} cannot be projected: {reason}")]
    Event { position: i64, reason: String },
}
