//! Catching projections up with the log, and rebuilding them from zero.

use std::time::Duration;

use filiere_store::{EventStore, RecordedEvent};
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
}

impl Projection {
    pub const ALL: [Projection; 3] = [
        Projection::Stock,
        Projection::Timeline,
        Projection::Donations,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Projection::Stock => "stock",
            Projection::Timeline => "timeline",
            Projection::Donations => "donations",
        }
    }

    fn tables(&self) -> &'static [&'static str] {
        match self {
            Projection::Stock => &["stock_devices", "stock_storage_units"],
            Projection::Timeline => &["device_timeline"],
            Projection::Donations => &["donation_batches"],
        }
    }
}

/// Updates the read models from the event log.
#[derive(Clone, Debug)]
pub struct Projector {
    store: EventStore,
}

impl Projector {
    pub fn new(store: EventStore) -> Self {
        Self { store }
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

    /// Empties every projection and replays the whole log, each projection in
    /// one transaction: readers see the old rows until the new ones are
    /// complete, and a live projector waits on the locked checkpoint.
    pub async fn rebuild(&self) -> Result<u64, ProjectionError> {
        let mut replayed = 0;
        for projection in Projection::ALL {
            let mut transaction = self.store.pool().begin().await?;
            lock_checkpoint(&mut transaction, projection).await?;
            for table in projection.tables() {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *transaction)
                    .await?;
            }
            let mut position = 0;
            loop {
                let events: Vec<RecordedEvent> = self.store.read_all(position, BATCH_SIZE).await?;
                let Some(last) = events.last().map(|e| e.position) else {
                    break;
                };
                apply_batch(&self.store, &mut transaction, projection, &events).await?;
                position = last;
                replayed += events.len() as u64;
            }
            save_checkpoint(&mut transaction, projection, position).await?;
            transaction.commit().await?;
            tracing::info!(
                projection = projection.name(),
                position,
                "projection rebuilt"
            );
        }
        Ok(replayed)
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
async fn lock_checkpoint(
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

async fn save_checkpoint(
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
