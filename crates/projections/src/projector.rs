//! Catching projections up with the log, and rebuilding them from zero.

use std::time::Duration;

use filiere_store::EventStore;
use sqlx::{Any, Transaction};
use tokio::sync::watch;

use crate::apply::apply_batch;
use crate::ProjectionError;

/// Events applied per transaction.
const BATCH_SIZE: i64 = 1_000;

/// The read models, each with its own checkpoint row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projection {
    Stock,
    Timeline,
    Donations,
    Prescriptions,
    Dashboard,
}

impl Projection {
    pub const ALL: [Projection; 5] = [
        Projection::Stock,
        Projection::Timeline,
        Projection::Donations,
        Projection::Prescriptions,
        Projection::Dashboard,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Projection::Stock => "stock",
            Projection::Timeline => "timeline",
            Projection::Donations => "donations",
            Projection::Prescriptions => "prescriptions",
            Projection::Dashboard => "dashboard",
        }
    }

    pub(crate) fn tables(&self) -> &'static [&'static str] {
        match self {
            Projection::Stock => &["stock_devices", "stock_storage_units"],
            Projection::Timeline => &["device_timeline"],
            Projection::Donations => &["donation_batches"],
            Projection::Prescriptions => &["prescription_views"],
            Projection::Dashboard => &[
                "dashboard_counters",
                "dashboard_rollup",
                "dashboard_commune_counters",
                "dashboard_status",
                "dashboard_status_totals",
                "dashboard_devices",
                "dashboard_prescriptions",
                "dashboard_households",
                "dashboard_batches",
            ],
        }
    }
}

/// Updates the read models from the event log.
#[derive(Clone, Debug)]
pub struct Projector {
    store: EventStore,
    /// Events read per page by [`Projector::rebuild`].
    rebuild_page_size: i64,
}

impl Projector {
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            rebuild_page_size: crate::rebuild::PAGE_SIZE,
        }
    }

    /// Sets the number of events [`Projector::rebuild`] reads per page (at
    /// least 1). Small pages make tests replay a short log in many pages.
    pub fn with_rebuild_page_size(mut self, events: i64) -> Self {
        self.rebuild_page_size = events.max(1);
        self
    }

    /// Applies every event not yet applied, to every projection. Returns the
    /// number of events applied, summed over projections.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        let mut applied = 0;
        for projection in Projection::ALL {
            loop {
                let mut transaction = self.store.pool().begin().await?;
                let checkpoint = lock_checkpoint(&mut transaction, projection).await?;
                let events = self.store.read_all(checkpoint, BATCH_SIZE).await?;
                let Some(last) = events.last().map(|e| e.position) else {
                    transaction.rollback().await?;
                    break;
                };
                apply_batch(&self.store, &mut transaction, projection, &events).await?;
                save_checkpoint(&mut transaction, projection, last).await?;
                transaction.commit().await?;
                applied += events.len() as u64;
            }
        }
        Ok(applied)
    }

    /// Empties every projection and replays the log up to its head, reading
    /// it once for all projections, in one transaction: readers see the old
    /// rows until the new ones are complete, and a live projector waits on
    /// the locked checkpoints. Returns the number of events applied, summed
    /// over projections.
    pub async fn rebuild(&self) -> Result<u64, ProjectionError> {
        crate::rebuild::rebuild_all(&self.store, self.rebuild_page_size).await
    }

    /// Keeps the projections caught up until `shutdown` turns true, waking
    /// every `interval` or when `wake` changes.
    pub async fn run(
        self,
        interval: Duration,
        mut wake: watch::Receiver<()>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            match self.catch_up().await {
                Ok(0) => {}
                Ok(applied) => tracing::debug!(applied, "projections caught up"),
                Err(error) => tracing::error!(%error, "projection catch-up failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = wake.changed() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }

    /// Positions up to which each projection has applied the log.
    pub async fn checkpoints(&self) -> Result<Vec<(String, i64)>, ProjectionError> {
        Ok(
            sqlx::query_as("SELECT name, position FROM projection_checkpoints ORDER BY name")
                .fetch_all(self.store.pool())
                .await?,
        )
    }
}

/// Locks a projection's checkpoint row for the transaction and returns its
/// position. Another process updating the same projection waits here.
pub(crate) async fn lock_checkpoint(
    transaction: &mut Transaction<'static, Any>,
    projection: Projection,
) -> Result<i64, ProjectionError> {
    Ok(sqlx::query_scalar(
        "UPDATE projection_checkpoints SET position = position WHERE name = $1 RETURNING position",
    )
    .bind(projection.name())
    .fetch_one(&mut **transaction)
    .await?)
}

pub(crate) async fn save_checkpoint(
    transaction: &mut Transaction<'static, Any>,
    projection: Projection,
    position: i64,
) -> Result<(), ProjectionError> {
    sqlx::query("UPDATE projection_checkpoints SET position = $1 WHERE name = $2")
        .bind(position)
        .bind(projection.name())
        .execute(&mut **transaction)
        .await?;
    Ok(())
}
