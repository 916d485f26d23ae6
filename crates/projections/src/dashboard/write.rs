//! Applying a batch of events to the dashboard tables: load the state rows
//! the batch names, fold the batch in memory, then write each touched row
//! and each counter once, with multi-row UPSERTs that add the deltas.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use filiere_domain::codec::decode_device_event;
use filiere_domain::donation::DonationEvent;
use filiere_domain::prescription::codec::decode_prescription_event;
use filiere_domain::prescription::PrescriptionEvent;
use filiere_domain::{DeviceEvent, DeviceId, DeviceStatus, DonationId, PrescriptionId};
use filiere_store::{placeholders, Backend, RecordedEvent};
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Row, Transaction};

use super::state::{
    metric, Batch, CounterKey, DeviceState, DonationBatchState, HouseholdDims, PrescriptionState,
    StatusKey, ALL_DEPARTEMENTS,
};
use crate::ProjectionError;

/// Rows per multi-row statement: 100 rows of at most 16 columns stay far
/// below the bind limits of SQLite (32,766) and PostgreSQL (65,535).
const ROWS_PER_STATEMENT: usize = 100;

/// One decoded event of the batch.
enum Decoded {
    Device {
        device_id: String,
        date: NaiveDate,
        event: DeviceEvent,
    },
    Donation(DonationEvent),
    Prescription {
        prescription_id: String,
        event: PrescriptionEvent,
    },
}

/// Returns the part after `PREFIX-` of a stream id.
fn stream_key<'a>(stream_id: &'a str, prefix: &str) -> Option<&'a str> {
    stream_id.strip_prefix(prefix)?.strip_prefix('-')
}

fn decode(event: &RecordedEvent) -> Result<Option<Decoded>, ProjectionError> {
    let invalid = |reason: String| ProjectionError::Event {
        position: event.position,
        reason,
    };
    if let Some(device_id) = stream_key(&event.stream_id, DeviceId::STREAM_PREFIX) {
        let decoded = decode_device_event(&event.event_type, event.schema_version, &event.payload)
            .map_err(|e| invalid(e.to_string()))?;
        return Ok(Some(Decoded::Device {
            device_id: device_id.to_string(),
            date: event.occurred_at.date_naive(),
            event: decoded,
        }));
    }
    if stream_key(&event.stream_id, DonationId::STREAM_PREFIX).is_some() {
        let mut payload = event.payload.clone();
        if let serde_json::Value::Object(map) = &mut payload {
            map.insert("type".to_string(), event.event_type.clone().into());
        }
        let decoded: DonationEvent =
            serde_json::from_value(payload).map_err(|e| invalid(e.to_string()))?;
        return Ok(Some(Decoded::Donation(decoded)));
    }
    if let Some(id) = stream_key(&event.stream_id, PrescriptionId::STREAM_PREFIX) {
        let decoded =
            decode_prescription_event(&event.event_type, event.schema_version, &event.payload)
                .map_err(|e| invalid(e.to_string()))?;
        return Ok(Some(Decoded::Prescription {
            prescription_id: id.to_string(),
            event: decoded,
        }));
    }
    Ok(None)
}

/// Applies `events` to the dashboard tables inside `transaction`.
pub(crate) async fn apply_dashboard(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let decoded = decode_all(events)?;
    if decoded.is_empty() {
        return Ok(());
    }
    let mut batch = Batch::default();
    load_state(backend, transaction, &decoded, &mut batch).await?;
    fold(&mut batch, &decoded);
    write_state(backend, transaction, &batch).await
}

/// Device rows written per round while a rebuild retires devices.
const RETIRED_ROWS_PER_WRITE: usize = 2_000;

/// The dashboard projection during a rebuild. Its tables start empty, so
/// no state row has to be read back: the log is folded into one [`Batch`]
/// kept in memory, and the counters, prescriptions, batches and households
/// are written once at the end. Reading back the rows of every page's
/// devices is what made a rebuild slow, because the devices of one page are
/// spread over the whole table.
///
/// A device whose stream has ended is retired: its row is written, its
/// current state is added to the status sums, and it leaves memory, so that
/// memory follows the devices still moving rather than the whole log. The
/// caller names the devices whose last event a page contained. They are
/// retired one page later, because one append can be split across two
/// pages, and the prescription event that reserves a device may be in the
/// next one.
#[derive(Default)]
pub(crate) struct DashboardRebuild {
    batch: Batch,
    /// Ids of the devices whose streams ended in the previous page.
    ended: Vec<String>,
    retired: Vec<(String, DeviceState)>,
    status: BTreeMap<StatusKey, (i64, i64)>,
}

impl DashboardRebuild {
    /// Folds a page of events, then retires the devices whose streams ended
    /// in the previous page. `ended` contains the ids of the devices whose
    /// last event is in this page.
    pub(crate) async fn feed(
        &mut self,
        backend: Backend,
        transaction: &mut Transaction<'static, Any>,
        events: &[RecordedEvent],
        ended: Vec<String>,
    ) -> Result<(), ProjectionError> {
        fold(&mut self.batch, &decode_all(events)?);
        for device_id in std::mem::replace(&mut self.ended, ended) {
            self.retire(device_id);
        }
        if self.retired.len() >= RETIRED_ROWS_PER_WRITE {
            self.write_retired(backend, transaction).await?;
        }
        Ok(())
    }

    fn retire(&mut self, device_id: String) {
        self.batch.touched_devices.remove(&device_id);
        let Some(device) = self.batch.devices.remove(&device_id) else {
            return;
        };
        if let Some((key, grams)) = device.status_key() {
            add_status(&mut self.status, key, 1, grams);
        }
        self.retired.push((device_id, device));
    }

    async fn write_retired(
        &mut self,
        backend: Backend,
        transaction: &mut Transaction<'static, Any>,
    ) -> Result<(), ProjectionError> {
        let retired = std::mem::take(&mut self.retired);
        let devices: Vec<(&str, &DeviceState)> = retired
            .iter()
            .map(|(id, device)| (id.as_str(), device))
            .collect();
        write_devices(backend, transaction, &devices).await
    }

    /// Retires every device left and writes every row and counter.
    pub(crate) async fn finish(
        mut self,
        backend: Backend,
        transaction: &mut Transaction<'static, Any>,
    ) -> Result<(), ProjectionError> {
        let remaining: Vec<String> = self.batch.devices.keys().cloned().collect();
        for device_id in remaining {
            self.retire(device_id);
        }
        self.write_retired(backend, transaction).await?;
        write_flows(backend, transaction, &self.batch).await?;
        write_status(backend, transaction, self.status).await
    }
}

fn decode_all(events: &[RecordedEvent]) -> Result<Vec<Decoded>, ProjectionError> {
    let mut decoded = Vec::with_capacity(events.len());
    for event in events {
        if let Some(one) = decode(event)? {
            decoded.push(one);
        }
    }
    Ok(decoded)
}

fn fold(batch: &mut Batch, decoded: &[Decoded]) {
    for event in decoded {
        match event {
            Decoded::Device {
                device_id,
                date,
                event,
            } => batch.apply_device(device_id, *date, event),
            Decoded::Donation(event) => batch.apply_donation(event),
            Decoded::Prescription {
                prescription_id,
                event,
            } => batch.apply_prescription(prescription_id, event),
        }
    }
}

/// Loads the rows of the devices, prescriptions, batches and households the
/// events name.
async fn load_state(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    decoded: &[Decoded],
    batch: &mut Batch,
) -> Result<(), ProjectionError> {
    let mut device_ids = BTreeSet::new();
    let mut prescription_ids = BTreeSet::new();
    let mut donation_ids = BTreeSet::new();
    let mut household_ids = BTreeSet::new();
    for event in decoded {
        match event {
            Decoded::Device {
                device_id, event, ..
            } => {
                device_ids.insert(device_id.clone());
                match event {
                    DeviceEvent::Received(received) => {
                        donation_ids.insert(received.donation_id.to_string());
                    }
                    DeviceEvent::HandedOver(handover) => {
                        household_ids.insert(handover.household_id.to_string());
                    }
                    _ => {}
                }
            }
            Decoded::Donation(DonationEvent::DonationReceived(received)) => {
                donation_ids.insert(received.donation_id.to_string());
            }
            Decoded::Prescription {
                prescription_id,
                event,
            } => {
                prescription_ids.insert(prescription_id.clone());
                if let PrescriptionEvent::DeviceReserved(device) = event {
                    device_ids.insert(device.device_id.to_string());
                }
            }
        }
    }
    load_devices(backend, transaction, &device_ids, batch).await?;
    for device in batch.devices.values() {
        donation_ids.insert(device.donation_id.clone());
    }
    load_prescriptions(backend, transaction, &prescription_ids, batch).await?;
    load_batches(backend, transaction, &donation_ids, batch).await?;
    load_households(backend, transaction, &household_ids, batch).await?;
    Ok(())
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    text.parse().ok()
}

async fn load_devices(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    ids: &BTreeSet<String>,
    batch: &mut Batch,
) -> Result<(), ProjectionError> {
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        let sql = format!(
            "SELECT device_id, category, donation_id, received_on, holder, status, stocked_on, \
             due_on, handed_over, recycled_grams, eligibility, area, programme, departement, \
             commune FROM dashboard_devices WHERE device_id IN ({})",
            placeholders::list(backend, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut **transaction).await? {
            let id: String = row.try_get("device_id")?;
            let status: String = row.try_get("status")?;
            let received_on: String = row.try_get("received_on")?;
            let corrupt = |reason: String| ProjectionError::Event {
                position: 0,
                reason: format!("dashboard row of device {id}: {reason}"),
            };
            let device = DeviceState {
                category: row.try_get("category")?,
                donation_id: row.try_get("donation_id")?,
                received_on: parse_day(&received_on)
                    .ok_or_else(|| corrupt(format!("invalid day '{received_on}'")))?,
                holder: row.try_get("holder")?,
                status: DeviceStatus::parse(&status)
                    .ok_or_else(|| corrupt(format!("unknown status '{status}'")))?,
                stocked_on: parse_day(&row.try_get::<String, _>("stocked_on")?),
                due_on: parse_day(&row.try_get::<String, _>("due_on")?),
                handed_over: row.try_get::<i64, _>("handed_over")? != 0,
                recycled_grams: row.try_get("recycled_grams")?,
                dims: HouseholdDims {
                    eligibility: row.try_get("eligibility")?,
                    area: row.try_get("area")?,
                    programme: row.try_get("programme")?,
                    departement: row.try_get("departement")?,
                    commune: row.try_get("commune")?,
                },
            };
            batch.initial_status.insert(id.clone(), device.status_key());
            batch.devices.insert(id, device);
        }
    }
    Ok(())
}

async fn load_prescriptions(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    ids: &BTreeSet<String>,
    batch: &mut Batch,
) -> Result<(), ProjectionError> {
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        let sql = format!(
            "SELECT prescription_id, category, workshop, eligibility, area, programme, \
             departement, commune FROM dashboard_prescriptions WHERE prescription_id IN ({})",
            placeholders::list(backend, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut **transaction).await? {
            let prescription = PrescriptionState {
                category: row.try_get("category")?,
                workshop: row.try_get("workshop")?,
                dims: HouseholdDims {
                    eligibility: row.try_get("eligibility")?,
                    area: row.try_get("area")?,
                    programme: row.try_get("programme")?,
                    departement: row.try_get("departement")?,
                    commune: row.try_get("commune")?,
                },
            };
            batch
                .prescriptions
                .insert(row.try_get("prescription_id")?, prescription);
        }
    }
    Ok(())
}

async fn load_batches(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    ids: &BTreeSet<String>,
    batch: &mut Batch,
) -> Result<(), ProjectionError> {
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        let sql = format!(
            "SELECT donation_id, received_on, counted FROM dashboard_batches \
             WHERE donation_id IN ({})",
            placeholders::list(backend, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut **transaction).await? {
            let state = DonationBatchState {
                received_on: parse_day(&row.try_get::<String, _>("received_on")?),
                counted: row.try_get::<i64, _>("counted")? != 0,
            };
            batch.batches.insert(row.try_get("donation_id")?, state);
        }
    }
    Ok(())
}

async fn load_households(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    ids: &BTreeSet<String>,
    batch: &mut Batch,
) -> Result<(), ProjectionError> {
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        let sql = format!(
            "SELECT household_id FROM dashboard_households WHERE household_id IN ({})",
            placeholders::list(backend, 1, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        batch
            .known_households
            .extend(query.fetch_all(&mut **transaction).await?);
    }
    Ok(())
}

/// One value of a row to bind.
enum Value {
    Text(String),
    Int(i64),
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Value {
        Value::Int(number)
    }
}

/// Writes `rows` with `INSERT INTO table (columns) VALUES ... conflict`, at
/// most [`ROWS_PER_STATEMENT`] rows per statement. Each conflict key must
/// appear once in `rows`, because PostgreSQL rejects a statement that
/// updates one row twice.
async fn insert_rows(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    table: &str,
    columns: &[&str],
    conflict: &str,
    rows: Vec<Vec<Value>>,
) -> Result<(), ProjectionError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut arguments = AnyArguments::default();
        for value in chunk.iter().flatten() {
            let added = match value {
                Value::Text(text) => arguments.add(text.as_str()),
                Value::Int(number) => arguments.add(*number),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} {conflict}",
            columns.join(", "),
            placeholders::value_groups(backend, chunk.len(), columns.len())
        );
        sqlx::query_with(&sql, arguments)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// Writes one row per item, like [`insert_rows`], but builds the values of
/// one statement at a time: the counters of a whole rebuild are millions of
/// rows.
async fn insert_items<T: Sync>(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    table: &str,
    columns: &[&str],
    conflict: &str,
    items: &[T],
    row: fn(&T) -> Vec<Value>,
) -> Result<(), ProjectionError> {
    for chunk in items.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk.iter().map(row).collect();
        insert_rows(backend, transaction, table, columns, conflict, rows).await?;
    }
    Ok(())
}

/// Writes the touched state rows and adds the counter deltas.
async fn write_state(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    batch: &Batch,
) -> Result<(), ProjectionError> {
    let devices: Vec<(&str, &DeviceState)> = batch
        .touched_devices
        .iter()
        .filter_map(|id| batch.devices.get(id).map(|device| (id.as_str(), device)))
        .collect();
    write_devices(backend, transaction, &devices).await?;
    write_flows(backend, transaction, batch).await?;
    write_status(backend, transaction, status_deltas(batch)).await
}

/// Writes the touched prescription, batch and household rows and adds the
/// counter deltas.
async fn write_flows(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    batch: &Batch,
) -> Result<(), ProjectionError> {
    write_prescriptions(backend, transaction, batch).await?;
    write_batches(backend, transaction, batch).await?;
    let households = batch
        .new_households
        .iter()
        .map(|id| vec![Value::from(id.as_str())])
        .collect();
    insert_rows(
        backend,
        transaction,
        "dashboard_households",
        &["household_id"],
        "ON CONFLICT (household_id) DO NOTHING",
        households,
    )
    .await?;
    write_counters(backend, transaction, &batch.counters).await
}

fn day_text(day: Option<NaiveDate>) -> String {
    day.map(|d| d.to_string()).unwrap_or_default()
}

fn device_values(&(id, device): &(&str, &DeviceState)) -> Vec<Value> {
    vec![
        Value::from(id),
        device.category.clone().into(),
        device.donation_id.clone().into(),
        device.received_on.to_string().into(),
        device.holder.clone().into(),
        device.status.as_str().into(),
        day_text(device.stocked_on).into(),
        day_text(device.due_on).into(),
        i64::from(device.handed_over).into(),
        device.recycled_grams.into(),
        device.dims.eligibility.clone().into(),
        device.dims.area.clone().into(),
        device.dims.programme.clone().into(),
        device.dims.departement.clone().into(),
        device.dims.commune.clone().into(),
    ]
}

async fn write_devices(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    devices: &[(&str, &DeviceState)],
) -> Result<(), ProjectionError> {
    insert_items(
        backend,
        transaction,
        "dashboard_devices",
        &[
            "device_id",
            "category",
            "donation_id",
            "received_on",
            "holder",
            "status",
            "stocked_on",
            "due_on",
            "handed_over",
            "recycled_grams",
            "eligibility",
            "area",
            "programme",
            "departement",
            "commune",
        ],
        "ON CONFLICT (device_id) DO UPDATE SET category = excluded.category, \
         donation_id = excluded.donation_id, received_on = excluded.received_on, \
         holder = excluded.holder, status = excluded.status, stocked_on = excluded.stocked_on, \
         due_on = excluded.due_on, handed_over = excluded.handed_over, \
         recycled_grams = excluded.recycled_grams, eligibility = excluded.eligibility, \
         area = excluded.area, programme = excluded.programme, \
         departement = excluded.departement, commune = excluded.commune",
        devices,
        device_values,
    )
    .await
}

async fn write_prescriptions(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    batch: &Batch,
) -> Result<(), ProjectionError> {
    let rows = batch
        .touched_prescriptions
        .iter()
        .filter_map(|id| batch.prescriptions.get(id).map(|p| (id, p)))
        .map(|(id, prescription)| {
            vec![
                Value::from(id.as_str()),
                prescription.category.clone().into(),
                prescription.workshop.clone().into(),
                prescription.dims.eligibility.clone().into(),
                prescription.dims.area.clone().into(),
                prescription.dims.programme.clone().into(),
                prescription.dims.departement.clone().into(),
                prescription.dims.commune.clone().into(),
            ]
        })
        .collect();
    insert_rows(
        backend,
        transaction,
        "dashboard_prescriptions",
        &[
            "prescription_id",
            "category",
            "workshop",
            "eligibility",
            "area",
            "programme",
            "departement",
            "commune",
        ],
        "ON CONFLICT (prescription_id) DO UPDATE SET category = excluded.category, \
         workshop = excluded.workshop, eligibility = excluded.eligibility, \
         area = excluded.area, programme = excluded.programme, \
         departement = excluded.departement, commune = excluded.commune",
        rows,
    )
    .await
}

async fn write_batches(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    batch: &Batch,
) -> Result<(), ProjectionError> {
    let rows = batch
        .touched_batches
        .iter()
        .filter_map(|id| batch.batches.get(id).map(|b| (id, b)))
        .map(|(id, state)| {
            vec![
                Value::from(id.as_str()),
                day_text(state.received_on).into(),
                i64::from(state.counted).into(),
            ]
        })
        .collect();
    insert_rows(
        backend,
        transaction,
        "dashboard_batches",
        &["donation_id", "received_on", "counted"],
        "ON CONFLICT (donation_id) DO UPDATE SET received_on = excluded.received_on, \
         counted = excluded.counted",
        rows,
    )
    .await
}

/// Columns of one row of `dashboard_counters` or
/// `dashboard_commune_counters` but the value: metric, month, workshop,
/// category, eligibility, area, programme, place (département or commune)
/// and days.
type CounterRow<'a> = (
    &'static str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    i64,
);

fn counter_row<'a>(key: &'a CounterKey, place: &'a str) -> CounterRow<'a> {
    (
        key.metric,
        &key.month,
        &key.workshop,
        &key.category,
        &key.dims.eligibility,
        &key.dims.area,
        &key.dims.programme,
        place,
        key.days,
    )
}

fn counter_values((row, delta): &(CounterRow, i64)) -> Vec<Value> {
    vec![
        Value::from(row.0),
        row.1.into(),
        row.2.into(),
        row.3.into(),
        row.4.into(),
        row.5.into(),
        row.6.into(),
        row.7.into(),
        row.8.into(),
        (*delta).into(),
    ]
}

async fn write_counters(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    counters: &BTreeMap<CounterKey, i64>,
) -> Result<(), ProjectionError> {
    // Counter keys that differ only by commune share a row of
    // `dashboard_counters`, and PostgreSQL rejects an upsert that touches
    // one row twice, so the deltas are summed per row first.
    let mut by_departement: BTreeMap<CounterRow, i64> = BTreeMap::new();
    let mut by_commune: BTreeMap<CounterRow, i64> = BTreeMap::new();
    for (key, delta) in counters {
        *by_departement
            .entry(counter_row(key, &key.dims.departement))
            .or_default() += delta;
        if metric::HOUSEHOLD_METRICS.contains(&key.metric) && !key.dims.commune.is_empty() {
            *by_commune
                .entry(counter_row(key, &key.dims.commune))
                .or_default() += delta;
        }
    }
    let by_departement: Vec<(CounterRow, i64)> = by_departement.into_iter().collect();
    let by_commune: Vec<(CounterRow, i64)> = by_commune.into_iter().collect();
    let columns = |place: &'static str| {
        [
            "metric",
            "month",
            "workshop",
            "category",
            "eligibility",
            "area",
            "programme",
            place,
            "days",
            "value",
        ]
    };
    write_rollup(backend, transaction, counters).await?;
    insert_items(
        backend,
        transaction,
        "dashboard_counters",
        &columns("departement"),
        "ON CONFLICT (metric, month, workshop, category, eligibility, area, programme, \
         departement, days) DO UPDATE SET value = dashboard_counters.value + excluded.value",
        &by_departement,
        counter_values,
    )
    .await?;
    insert_items(
        backend,
        transaction,
        "dashboard_commune_counters",
        &columns("commune"),
        "ON CONFLICT (commune, metric, month, workshop, category, eligibility, area, programme, \
         days) DO UPDATE SET value = dashboard_commune_counters.value + excluded.value",
        &by_commune,
        counter_values,
    )
    .await
}

/// Columns of one row of `dashboard_rollup` but the value: metric,
/// dimension, month, département, category and item.
type RollupRow<'a> = (
    &'static str,
    &'static str,
    &'a str,
    &'a str,
    &'a str,
    String,
);

fn rollup_values((row, delta): &(RollupRow, i64)) -> Vec<Value> {
    vec![
        Value::from(row.0),
        row.1.into(),
        row.2.into(),
        row.3.into(),
        row.4.into(),
        row.5.clone().into(),
        (*delta).into(),
    ]
}

/// Adds the counter deltas to `dashboard_rollup`, summed over workshops
/// for every dimension but the workshop's own. Each delta is added once
/// under its département and once under [`ALL_DEPARTEMENTS`], so that the
/// national figures read a few rows per month and category.
async fn write_rollup(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    counters: &BTreeMap<CounterKey, i64>,
) -> Result<(), ProjectionError> {
    let mut sums: BTreeMap<RollupRow, i64> = BTreeMap::new();
    for (key, delta) in counters {
        let mut items: Vec<(&'static str, String)> = vec![
            ("total", String::new()),
            ("workshop", key.workshop.clone()),
            ("eligibility", key.dims.eligibility.clone()),
            ("area", key.dims.area.clone()),
            ("programme", key.dims.programme.clone()),
        ];
        if key.metric == metric::LEAD_TIME {
            items.push(("days", key.days.to_string()));
        }
        for (dimension, item) in items {
            for departement in [key.dims.departement.as_str(), ALL_DEPARTEMENTS] {
                let sum_key = (
                    key.metric,
                    dimension,
                    key.month.as_str(),
                    departement,
                    key.category.as_str(),
                    item.clone(),
                );
                *sums.entry(sum_key).or_default() += delta;
            }
        }
    }
    let sums: Vec<(RollupRow, i64)> = sums.into_iter().collect();
    insert_items(
        backend,
        transaction,
        "dashboard_rollup",
        &[
            "metric",
            "dimension",
            "month",
            "departement",
            "category",
            "item",
            "value",
        ],
        "ON CONFLICT (metric, dimension, departement, month, category, item) DO UPDATE SET \
         value = dashboard_rollup.value + excluded.value",
        &sums,
        rollup_values,
    )
    .await
}

/// Changes of the `dashboard_status` rows: each touched device leaves the
/// row it had before the batch and joins the one it has after.
fn status_deltas(batch: &Batch) -> BTreeMap<StatusKey, (i64, i64)> {
    let mut deltas = BTreeMap::new();
    for id in &batch.touched_devices {
        let before = batch.initial_status.get(id).cloned().flatten();
        let after = batch.devices.get(id).and_then(DeviceState::status_key);
        if before == after {
            continue;
        }
        if let Some((key, grams)) = before {
            add_status(&mut deltas, key, -1, -grams);
        }
        if let Some((key, grams)) = after {
            add_status(&mut deltas, key, 1, grams);
        }
    }
    deltas
}

fn add_status(
    deltas: &mut BTreeMap<StatusKey, (i64, i64)>,
    key: StatusKey,
    devices: i64,
    grams: i64,
) {
    let entry = deltas.entry(key).or_default();
    entry.0 += devices;
    entry.1 += grams;
}

/// Adds `deltas` (devices, grams) to the `dashboard_status` rows and to
/// their sums in `dashboard_status_totals`.
async fn write_status(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    deltas: BTreeMap<StatusKey, (i64, i64)>,
) -> Result<(), ProjectionError> {
    let mut totals: BTreeMap<(&'static str, String, String), (i64, i64)> = BTreeMap::new();
    for (key, (value, grams)) in &deltas {
        let total = totals
            .entry((key.status, key.departement.clone(), key.day.clone()))
            .or_default();
        total.0 += value;
        total.1 += grams;
    }
    let totals = totals
        .into_iter()
        .filter(|(_, delta)| *delta != (0, 0))
        .map(|((status, departement, day), (value, grams))| {
            vec![
                Value::from(status),
                departement.into(),
                day.into(),
                value.into(),
                grams.into(),
            ]
        })
        .collect();
    insert_rows(
        backend,
        transaction,
        "dashboard_status_totals",
        &["status", "departement", "day", "value", "grams"],
        "ON CONFLICT (status, departement, day) DO UPDATE SET \
         value = dashboard_status_totals.value + excluded.value, \
         grams = dashboard_status_totals.grams + excluded.grams",
        totals,
    )
    .await?;
    let rows = deltas
        .into_iter()
        .filter(|(_, delta)| *delta != (0, 0))
        .map(|(key, (value, grams))| {
            vec![
                Value::from(key.status),
                key.workshop.into(),
                key.category.into(),
                key.departement.into(),
                key.commune.into(),
                key.day.into(),
                value.into(),
                grams.into(),
            ]
        })
        .collect();
    // NOTE: rows whose count falls back to 0 stay in the table; readers sum
    // them, so they change no figure.
    insert_rows(
        backend,
        transaction,
        "dashboard_status",
        &[
            "status",
            "workshop",
            "category",
            "departement",
            "commune",
            "day",
            "value",
            "grams",
        ],
        "ON CONFLICT (status, workshop, category, departement, commune, day) DO UPDATE SET \
         value = dashboard_status.value + excluded.value, \
         grams = dashboard_status.grams + excluded.grams",
        rows,
    )
    .await
}
