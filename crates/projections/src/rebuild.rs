//! Replaying the whole log into empty projections in one sequential read.
//!
//! The log is read once, in pages by position, and each page goes to every
//! projection of [`Projection::ALL`]. The timeline, donation and
//! prescription projections get the page through [`apply_batch`], exactly
//! as when catching up. The stock and the dashboard are folded in memory
//! instead. Catching up re-reads, for every page, the state of each device
//! the page touches: its whole stream for the stock, its row for the
//! dashboard. A rebuild keeps each device's state from one page to the next
//! and writes its rows once, after folding its last event. The dashboard
//! writes its counters at the end, because they are sums over every device.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use filiere_domain::codec::decode_device_event;
use filiere_domain::{Device, DeviceEvent, DeviceId};
use filiere_store::{placeholders, Backend, EventStore, RecordedEvent};
use sqlx::{Any, Transaction};
use tokio::sync::mpsc;

use crate::apply::{
    apply_batch, bind_stock_values, format_time, is_device_stream, storage_unit_keys, StockValues,
    STOCK_COLUMNS, STOCK_COLUMN_COUNT,
};
use crate::dashboard::DashboardRebuild;
use crate::projector::{lock_checkpoint, save_checkpoint, Projection};
use crate::ProjectionError;

/// Events read per page, unless the projector sets another size.
pub(crate) const PAGE_SIZE: i64 = 10_000;

/// Pages read ahead while the previous ones are applied.
const PAGES_AHEAD: usize = 2;

/// Stock rows per INSERT: 18 values each.
const STOCK_ROWS_PER_INSERT: usize = 500;

/// Storage-unit rows per INSERT: 3 values each.
const UNIT_ROWS_PER_INSERT: usize = 2_000;

/// Empties every projection and replays the log up to its current head in
/// one transaction. Returns the number of events applied, summed over
/// projections.
pub(crate) async fn rebuild_all(
    store: &EventStore,
    page_size: i64,
) -> Result<u64, ProjectionError> {
    let mut transaction = store.pool().begin().await?;
    for projection in Projection::ALL {
        lock_checkpoint(&mut transaction, projection).await?;
    }
    for projection in Projection::ALL {
        for table in projection.tables() {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *transaction)
                .await?;
        }
    }

    // The head is read before the stream versions, so every version read is
    // at least the number of events of that stream up to the head. A device
    // whose stream grew meanwhile is written at the end of the replay.
    let (head, _) = store.head().await?;
    let mut stock = StockFold::new(store.backend(), device_versions(store).await?);
    let mut dashboard = DashboardRebuild::default();
    let mut elapsed: HashMap<&'static str, Duration> = HashMap::new();
    let (sender, mut pages) = mpsc::channel(PAGES_AHEAD);
    let reader = tokio::spawn(read_pages(store.clone(), head, page_size, sender));
    let mut replayed = 0;
    while let Some(page) = pages.recv().await {
        let events = page?;
        // Devices whose last event this page contains, from the stock fold
        // (first in `Projection::ALL`) to the dashboard.
        let mut ended = Vec::new();
        for projection in Projection::ALL {
            let start = Instant::now();
            if projection == Projection::Stock {
                ended = stock.feed(&mut transaction, &events).await?;
            } else if projection == Projection::Dashboard {
                let ended = std::mem::take(&mut ended);
                dashboard
                    .feed(store.backend(), &mut transaction, &events, ended)
                    .await?;
            } else {
                apply_batch(store, &mut transaction, projection, &events).await?;
            }
            *elapsed.entry(projection.name()).or_default() += start.elapsed();
        }
        replayed += events.len() as u64 * Projection::ALL.len() as u64;
    }
    reader.await.map_err(|error| ProjectionError::Event {
        position: head,
        reason: format!("the log reader stopped: {error}"),
    })?;
    let start = Instant::now();
    stock.finish(&mut transaction).await?;
    *elapsed.entry(Projection::Stock.name()).or_default() += start.elapsed();
    let start = Instant::now();
    dashboard.finish(store.backend(), &mut transaction).await?;
    *elapsed.entry(Projection::Dashboard.name()).or_default() += start.elapsed();

    for projection in Projection::ALL {
        save_checkpoint(&mut transaction, projection, head).await?;
    }
    transaction.commit().await?;
    for projection in Projection::ALL {
        tracing::info!(
            projection = projection.name(),
            position = head,
            seconds = elapsed
                .get(projection.name())
                .copied()
                .unwrap_or_default()
                .as_secs_f64(),
            "projection rebuilt"
        );
    }
    Ok(replayed)
}

/// Sends the events up to `head` in pages, in position order, until the
/// receiver is dropped.
async fn read_pages(
    store: EventStore,
    head: i64,
    page_size: i64,
    pages: mpsc::Sender<Result<Vec<RecordedEvent>, ProjectionError>>,
) {
    let mut position = 0;
    while position < head {
        let page = store
            .read_all(position, page_size.min(head - position))
            .await;
        let page = match page {
            Ok(events) if events.is_empty() => break,
            Ok(events) => events,
            Err(error) => {
                pages.send(Err(error.into())).await.ok();
                return;
            }
        };
        position = page.last().map_or(head, |event| event.position);
        let mut page = page;
        page.retain(|event| event.position <= head);
        if pages.send(Ok(page)).await.is_err() {
            return;
        }
    }
}

/// Version of every device stream, to know when a device's last event has
/// been folded.
async fn device_versions(store: &EventStore) -> Result<HashMap<String, i64>, ProjectionError> {
    let prefix = format!("{}-%", DeviceId::STREAM_PREFIX);
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT stream_id, version FROM streams WHERE stream_id LIKE $1")
            .bind(prefix)
            .fetch_all(store.pool())
            .await?;
    Ok(rows
        .into_iter()
        .filter(|(stream_id, _)| is_device_stream(stream_id))
        .collect())
}

/// A device stream being folded.
struct InFlight {
    /// `None` when the stream does not start with a reception, as
    /// [`Device::from_events`] requires: such a stream gets no stock row.
    device: Option<Device>,
    received_at: String,
    updated_at: String,
    last_position: i64,
    events_folded: i64,
}

/// The stock projection folded in memory during a rebuild.
struct StockFold {
    backend: Backend,
    /// Stream version of each device, read before the replay.
    final_versions: HashMap<String, i64>,
    in_flight: HashMap<String, InFlight>,
    /// Folded devices whose rows are not written yet.
    finished: Vec<(StockValues, Vec<(String, String)>)>,
}

impl StockFold {
    fn new(backend: Backend, final_versions: HashMap<String, i64>) -> StockFold {
        StockFold {
            backend,
            final_versions,
            in_flight: HashMap::new(),
            finished: Vec::new(),
        }
    }

    /// Folds a page of events and writes the rows of the devices whose last
    /// event it contained. Returns the ids of those devices.
    async fn feed(
        &mut self,
        transaction: &mut Transaction<'static, Any>,
        events: &[RecordedEvent],
    ) -> Result<Vec<String>, ProjectionError> {
        let mut ended = Vec::new();
        for event in events.iter().filter(|e| is_device_stream(&e.stream_id)) {
            let decoded =
                decode_device_event(&event.event_type, event.schema_version, &event.payload)
                    .map_err(|e| ProjectionError::Event {
                        position: event.position,
                        reason: e.to_string(),
                    })?;
            let time = format_time(event);
            let entry = self
                .in_flight
                .entry(event.stream_id.clone())
                .or_insert_with(|| InFlight {
                    device: match &decoded {
                        DeviceEvent::Received(_) => Device::from_events([&decoded]),
                        _ => None,
                    },
                    received_at: time.clone(),
                    updated_at: String::new(),
                    last_position: 0,
                    events_folded: 0,
                });
            if entry.events_folded > 0 {
                if let Some(device) = &mut entry.device {
                    device.apply(&decoded);
                }
            }
            entry.events_folded += 1;
            entry.updated_at = time;
            entry.last_position = event.position;
            let complete = self
                .final_versions
                .get(&event.stream_id)
                .is_some_and(|version| entry.events_folded >= *version);
            if complete {
                if let Some(done) = self.in_flight.remove(&event.stream_id) {
                    self.final_versions.remove(&event.stream_id);
                    self.finish_device(done);
                }
                if let Some(device_id) = event.stream_id.split_once('-').map(|(_, id)| id) {
                    ended.push(device_id.to_string());
                }
            }
        }
        if self.finished.len() >= STOCK_ROWS_PER_INSERT {
            self.write_finished(transaction).await?;
        }
        Ok(ended)
    }

    fn finish_device(&mut self, done: InFlight) {
        let Some(device) = done.device else {
            return;
        };
        let units = storage_unit_keys(&device)
            .into_iter()
            .map(|(unit, key)| (unit.to_string(), key))
            .collect();
        let values = StockValues::of(
            &device,
            done.received_at,
            done.updated_at,
            done.last_position,
        );
        self.finished.push((values, units));
    }

    /// Writes the devices still in flight, whose streams grew after the
    /// replay started, and every row not written yet.
    async fn finish(
        &mut self,
        transaction: &mut Transaction<'static, Any>,
    ) -> Result<(), ProjectionError> {
        let remaining: Vec<InFlight> = self.in_flight.drain().map(|(_, f)| f).collect();
        for done in remaining {
            self.finish_device(done);
        }
        self.write_finished(transaction).await
    }

    async fn write_finished(
        &mut self,
        transaction: &mut Transaction<'static, Any>,
    ) -> Result<(), ProjectionError> {
        let finished = std::mem::take(&mut self.finished);
        for chunk in finished.chunks(STOCK_ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO stock_devices ({STOCK_COLUMNS}) VALUES {}",
                placeholders::value_groups(self.backend, chunk.len(), STOCK_COLUMN_COUNT)
            );
            let mut query = sqlx::query(&sql);
            for (values, _) in chunk {
                query = bind_stock_values(query, values);
            }
            query.execute(&mut **transaction).await?;
        }
        let units: Vec<(&str, &str, &str)> = finished
            .iter()
            .flat_map(|(values, units)| {
                units
                    .iter()
                    .map(|(unit, key)| (values.device_id(), unit.as_str(), key.as_str()))
            })
            .collect();
        for chunk in units.chunks(UNIT_ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO stock_storage_units (device_id, unit, match_key) VALUES {} \
                 ON CONFLICT (device_id, unit) DO NOTHING",
                placeholders::value_groups(self.backend, chunk.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for (device_id, unit, key) in chunk {
                query = query.bind(*device_id).bind(*unit).bind(*key);
            }
            query.execute(&mut **transaction).await?;
        }
        Ok(())
    }
}
