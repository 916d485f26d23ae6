//! The funders' dashboard read model: counters pre-aggregated by month and
//! by the dimensions funders filter on (workshop, device category,
//! eligibility category, QPV/ZRR area, funder programme, household
//! département and commune), plus the per-device and per-prescription state
//! needed to key later events.
//!
//! Each batch of events is folded in memory ([`state`]) and each touched
//! row is written once per batch, adding deltas ([`write`]), so the cost of
//! a batch does not grow with the size of the log. Pages read sums of these
//! counters ([`query`]) and never replay the log. With no filter, the sums
//! equal the [`crate::audit::Figures`] replayed from the same log prefix.
//!
//! The tables hold statistical attributes only. Households are counted
//! through their opaque ids in `dashboard_households`, never by name.

mod query;
mod state;
mod write;

pub use query::{
    checkpoint_position, load_dashboard, read_dashboard, Breakdown, DashboardFigures,
    DashboardFilter, DashboardSnapshot, HandoverBreakdowns, TerritoryScope,
};
pub(crate) use write::{apply_dashboard, DashboardRebuild};
