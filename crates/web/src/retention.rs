//! The retention schedule of `filiere serve`: the sweep that erases the
//! identities of households whose prescriptions closed more than the
//! retention period ago (see
//! [`Workshop::erase_closed_households`]) runs once at start, then once per
//! interval, until shutdown.

use std::time::Duration;

use chrono::Utc;
use filiere_store::workshop::Workshop;
use tokio::sync::watch;

/// Time between two sweeps while the server runs.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Runs the sweep now and then every `interval`, until `shutdown` turns true
/// or its sender is dropped. A failed sweep is logged and retried at the
/// next interval. Logs count households, never name one.
pub async fn run_retention(
    workshop: Workshop,
    retention_days: u32,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(
        retention_days,
        interval_hours = interval.as_secs_f64() / 3600.0,
        "retention schedule started"
    );
    loop {
        if *shutdown.borrow() {
            break;
        }
        match workshop
            .erase_closed_households(retention_days, Utc::now())
            .await
        {
            Ok(erased) => tracing::info!(
                erased = erased.len(),
                retention_days,
                "scheduled retention sweep erased household identities"
            ),
            Err(error) => tracing::error!(
                %error,
                retention_days,
                "scheduled retention sweep failed; it runs again at the next interval"
            ),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!("retention schedule stopped");
}
