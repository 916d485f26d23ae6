//! Audit figures for funders: how much of a territory's share of the
//! national target of refurbished devices for modest households is reached.
//!
//! Every figure is recomputed by replaying the event log up to a date or a
//! log position ([`replay`]) into a pure fold ([`fold::AuditFold`]). Each
//! result names the position and hash of the last event it includes, so a
//! funder can check it against `filiere verify`. Exports of the same log
//! prefix and target are byte-identical.

mod csv;
pub mod figures;
pub mod fold;
pub mod impact;
pub mod quarterly;
pub mod replay;
pub mod report;
pub mod scope;
pub mod target;
pub mod target_table;
pub mod trace;

pub use figures::{compute_figures, compute_figures_in, Figures, HouseholdFigures};
pub use fold::{AuditEvent, AuditFold};
pub use quarterly::{build_quarterly_report, Quarter, QuarterError, QuarterlyReport};
pub use replay::{replay, Cutoff, Replay};
pub use report::{build_report, report_csv, report_json, Report};
pub use scope::{CountedBy, HouseholdTerritory, Scope};
pub use target::{resolve_target, AuditTarget, ResolvedTarget, ShareMethod, TargetUnit};
pub use target_table::{load_target, load_target_at, save_target};
pub use trace::{build_trace, trace_csv, trace_json, Trace};

/// Error of computing audit figures or managing the target.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Target(#[from] target::TargetError),
    #[error(transparent)]
    Quarter(#[from] quarterly::QuarterError),
    #[error(transparent)]
    Store(#[from] filiere_store::StoreError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at position {position} cannot be decoded: {reason}")]
    Decode { position: i64, reason: String },
    #[error("{0}")]
    InvalidCutoff(String),
    #[error("audit target revision {revision} is invalid in the database: {reason}")]
    CorruptTarget { revision: i64, reason: String },
}
