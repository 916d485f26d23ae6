//! Turning a batch of events into rows of one projection.

use std::collections::BTreeSet;

use filiere_domain::codec::decode_device_event;
use filiere_domain::donation::DonationEvent;
use filiere_domain::{Device, DeviceId};
use filiere_store::{placeholders, Backend, EventStore, RecordedEvent};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Transaction};

use crate::projector::Projection;
use crate::ProjectionError;

pub(crate) async fn apply_batch(
    store: &EventStore,
    transaction: &mut Transaction<'static, Any>,
    projection: Projection,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    match projection {
        Projection::Stock => apply_stock(store, transaction, events).await,
        Projection::Timeline => apply_timeline(store.backend(), transaction, events).await,
        Projection::Donations => apply_donations(transaction, events).await,
        Projection::Prescriptions => {
            crate::prescriptions::apply_prescriptions(store.backend(), transaction, events).await
        }
        Projection::Dashboard => {
            crate::dashboard::apply_dashboard(store.backend(), transaction, events).await
        }
    }
}

pub(crate) fn is_device_stream(stream_id: &str) -> bool {
    stream_id.starts_with(DeviceId::STREAM_PREFIX) && stream_id.as_bytes().get(6) == Some(&b'-')
}

/// Re-folds every device touched by the batch from its stream, up to the
/// batch's last position, and writes its row. Folding with the domain's own
/// aggregate keeps the stock's status and readiness identical to what the
/// command handlers decide on.
async fn apply_stock(
    store: &EventStore,
    transaction: &mut Transaction<'static, Any>,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let Some(last) = events.last().map(|e| e.position) else {
        return Ok(());
    };
    let streams: BTreeSet<&str> = events
        .iter()
        .map(|e| e.stream_id.as_str())
        .filter(|s| is_device_stream(s))
        .collect();
    for stream_id in streams {
        let recorded = store.read_stream_until(stream_id, last).await?;
        let mut decoded = Vec::with_capacity(recorded.len());
        for event in &recorded {
            decoded.push(
                decode_device_event(&event.event_type, event.schema_version, &event.payload)
                    .map_err(|e| ProjectionError::Event {
                        position: event.position,
                        reason: e.to_string(),
                    })?,
            );
        }
        let Some(device) = Device::from_events(&decoded) else {
            continue;
        };
        let (Some(first), Some(latest)) = (recorded.first(), recorded.last()) else {
            continue;
        };
        let values = StockValues::of(
            &device,
            format_time(first),
            format_time(latest),
            latest.position,
        );
        upsert_stock_row(transaction, &values).await?;
        replace_storage_units(transaction, &device).await?;
    }
    Ok(())
}

/// Rewrites the device's rows of `stock_storage_units` from its latest
/// diagnosis.
async fn replace_storage_units(
    transaction: &mut Transaction<'static, Any>,
    device: &Device,
) -> Result<(), ProjectionError> {
    let device_id = device.id.to_string();
    sqlx::query("DELETE FROM stock_storage_units WHERE device_id = $1")
        .bind(&device_id)
        .execute(&mut **transaction)
        .await?;
    for (unit, match_key) in storage_unit_keys(device) {
        sqlx::query(
            "INSERT INTO stock_storage_units (device_id, unit, match_key) VALUES ($1, $2, $3) \
             ON CONFLICT (device_id, unit) DO NOTHING",
        )
        .bind(&device_id)
        .bind(unit)
        .bind(match_key)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// Units of the device's latest diagnosis whose name parses as a serial
/// number, with the serial's match key: the rows of `stock_storage_units`.
pub(crate) fn storage_unit_keys(device: &Device) -> Vec<(&str, String)> {
    device
        .storage_units
        .iter()
        .filter_map(|unit| {
            let Ok(Some(serial)) = filiere_domain::serial::SerialNumber::parse(&unit.unit) else {
                return None;
            };
            Some((unit.unit.as_str(), serial.match_key()))
        })
        .collect()
}

/// Erasure state of a device for the stock view.
fn erasure_state(device: &Device) -> &'static str {
    if device.functional_test.is_none() {
        return if device.category.holds_data() {
            "pending"
        } else {
            "none"
        };
    }
    if device.storage_units.is_empty() {
        return "none";
    }
    let results: Vec<_> = device
        .storage_units
        .iter()
        .map(|unit| device.erasures.get(&unit.unit).map(|e| e.result))
        .collect();
    if results.contains(&Some(filiere_domain::types::Outcome::Failed)) {
        "failed"
    } else if results.iter().any(Option::is_none) {
        "pending"
    } else {
        "passed"
    }
}

/// Columns of `stock_devices`, in the order [`bind_stock_values`] binds them.
pub(crate) const STOCK_COLUMNS: &str = "device_id, code, donation_id, category, brand, model, \
     serial, status, site, location, grade, functional_test, erasure, ready, received_at, \
     updated_at, last_position, holder";
pub(crate) const STOCK_COLUMN_COUNT: usize = 18;

/// Values of one `stock_devices` row.
pub(crate) struct StockValues {
    device_id: String,
    code: String,
    donation_id: String,
    category: &'static str,
    brand: String,
    model: String,
    serial: Option<String>,
    status: &'static str,
    site: String,
    location: String,
    grade: Option<&'static str>,
    functional_test: Option<&'static str>,
    erasure: &'static str,
    ready: i64,
    received_at: String,
    updated_at: String,
    last_position: i64,
    holder: String,
}

impl StockValues {
    /// Row of a folded device whose first event occurred at `received_at`
    /// and whose latest event, at `last_position`, occurred at `updated_at`.
    pub(crate) fn of(
        device: &Device,
        received_at: String,
        updated_at: String,
        last_position: i64,
    ) -> StockValues {
        StockValues {
            device_id: device.id.to_string(),
            code: device
                .code
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            donation_id: device.donation_id.to_string(),
            category: device.category.as_str(),
            brand: device.brand.clone(),
            model: device.model.clone(),
            serial: device.serial.as_ref().map(|s| s.to_string()),
            status: device.status.as_str(),
            site: device.placement.site.clone(),
            location: device.placement.location.clone(),
            grade: device.grade.map(|g| g.as_str()),
            functional_test: device.functional_test.map(|t| t.as_str()),
            erasure: erasure_state(device),
            ready: i64::from(device.readiness_gaps().is_empty()),
            received_at,
            updated_at,
            last_position,
            holder: device.holder.clone(),
        }
    }

    pub(crate) fn device_id(&self) -> &str {
        &self.device_id
    }
}

/// Binds one row's values in [`STOCK_COLUMNS`] order.
pub(crate) fn bind_stock_values<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    values: &'q StockValues,
) -> Query<'q, Any, AnyArguments<'q>> {
    query
        .bind(values.device_id.as_str())
        .bind(values.code.as_str())
        .bind(values.donation_id.as_str())
        .bind(values.category)
        .bind(values.brand.as_str())
        .bind(values.model.as_str())
        .bind(values.serial.as_deref())
        .bind(values.status)
        .bind(values.site.as_str())
        .bind(values.location.as_str())
        .bind(values.grade)
        .bind(values.functional_test)
        .bind(values.erasure)
        .bind(values.ready)
        .bind(values.received_at.as_str())
        .bind(values.updated_at.as_str())
        .bind(values.last_position)
        .bind(values.holder.as_str())
}

async fn upsert_stock_row(
    transaction: &mut Transaction<'static, Any>,
    values: &StockValues,
) -> Result<(), ProjectionError> {
    let sql = format!(
        "INSERT INTO stock_devices ({STOCK_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (device_id) DO UPDATE SET code = excluded.code, status = excluded.status, \
         site = excluded.site, location = excluded.location, grade = excluded.grade, \
         functional_test = excluded.functional_test, erasure = excluded.erasure, \
         ready = excluded.ready, updated_at = excluded.updated_at, \
         last_position = excluded.last_position, holder = excluded.holder"
    );
    bind_stock_values(sqlx::query(&sql), values)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

pub(crate) fn format_time(event: &RecordedEvent) -> String {
    event
        .occurred_at
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Rows per INSERT into `device_timeline`: 6 values each.
const TIMELINE_ROWS_PER_INSERT: usize = 500;

async fn apply_timeline(
    backend: Backend,
    transaction: &mut Transaction<'static, Any>,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let mut rows = Vec::new();
    for event in events.iter().filter(|e| is_device_stream(&e.stream_id)) {
        let decoded = decode_device_event(&event.event_type, event.schema_version, &event.payload)
            .map_err(|e| ProjectionError::Event {
                position: event.position,
                reason: e.to_string(),
            })?;
        let device_id = &event.stream_id[DeviceId::STREAM_PREFIX.len() + 1..];
        rows.push((event, device_id, format_time(event), decoded.summary_fr()));
    }
    for chunk in rows.chunks(TIMELINE_ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO device_timeline (position, device_id, event_type, occurred_at, actor, summary) \
             VALUES {}",
            placeholders::value_groups(backend, chunk.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for (event, device_id, occurred_at, summary) in chunk {
            query = query
                .bind(event.position)
                .bind(*device_id)
                .bind(event.event_type.as_str())
                .bind(occurred_at.as_str())
                .bind(event.metadata.actor.as_str())
                .bind(summary.as_str());
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

async fn apply_donations(
    transaction: &mut Transaction<'static, Any>,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    for event in events
        .iter()
        .filter(|e| e.event_type == "donation_received")
    {
        let mut payload = event.payload.clone();
        if let serde_json::Value::Object(map) = &mut payload {
            map.insert("type".into(), event.event_type.clone().into());
        }
        let DonationEvent::DonationReceived(donation) =
            serde_json::from_value(payload).map_err(|e| ProjectionError::Event {
                position: event.position,
                reason: e.to_string(),
            })?;
        sqlx::query(
            "INSERT INTO donation_batches (donation_id, donor_name, donor_kind, free_transfer, \
             received_on, site, reference, device_count, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(donation.donation_id.to_string())
        .bind(&donation.donor_name)
        .bind(donation.donor_kind.as_str())
        .bind(i64::from(donation.free_transfer))
        .bind(donation.received_on.to_string())
        .bind(&donation.site)
        .bind(&donation.reference)
        .bind(i64::from(donation.device_count))
        .bind(format_time(event))
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}
