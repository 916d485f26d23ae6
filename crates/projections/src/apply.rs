//! Turning a batch of events into rows of one projection.

use std::collections::BTreeSet;

use filiere_domain::codec::decode_device_event;
use filiere_domain::donation::DonationEvent;
use filiere_domain::{Device, DeviceId};
use filiere_store::{EventStore, RecordedEvent};
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
        Projection::Timeline => apply_timeline(transaction, events).await,
        Projection::Donations => apply_donations(transaction, events).await,
    }
}

fn is_device_stream(stream_id: &str) -> bool {
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
        upsert_stock_row(transaction, &device, first, latest).await?;
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
    for unit in &device.storage_units {
        let Ok(Some(serial)) = filiere_domain::serial::SerialNumber::parse(&unit.unit) else {
            continue;
        };
        sqlx::query(
            "INSERT INTO stock_storage_units (device_id, unit, match_key) VALUES ($1, $2, $3) \
             ON CONFLICT (device_id, unit) DO NOTHING",
        )
        .bind(&device_id)
        .bind(&unit.unit)
        .bind(serial.match_key())
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
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

async fn upsert_stock_row(
    transaction: &mut Transaction<'static, Any>,
    device: &Device,
    first: &RecordedEvent,
    latest: &RecordedEvent,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO stock_devices (device_id, code, donation_id, category, brand, model, serial, \
         status, site, location, grade, functional_test, erasure, ready, received_at, updated_at, \
         last_position, holder) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (device_id) DO UPDATE SET code = excluded.code, status = excluded.status, \
         site = excluded.site, location = excluded.location, grade = excluded.grade, \
         functional_test = excluded.functional_test, erasure = excluded.erasure, \
         ready = excluded.ready, updated_at = excluded.updated_at, \
         last_position = excluded.last_position, holder = excluded.holder",
    )
    .bind(device.id.to_string())
    .bind(
        device
            .code
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
    )
    .bind(device.donation_id.to_string())
    .bind(device.category.as_str())
    .bind(&device.brand)
    .bind(&device.model)
    .bind(device.serial.as_ref().map(|s| s.to_string()))
    .bind(device.status.as_str())
    .bind(&device.placement.site)
    .bind(&device.placement.location)
    .bind(device.grade.map(|g| g.as_str()))
    .bind(device.functional_test.map(|t| t.as_str()))
    .bind(erasure_state(device))
    .bind(i64::from(device.readiness_gaps().is_empty()))
    .bind(format_time(first))
    .bind(format_time(latest))
    .bind(latest.position)
    .bind(&device.holder)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

fn format_time(event: &RecordedEvent) -> String {
    event
        .occurred_at
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

async fn apply_timeline(
    transaction: &mut Transaction<'static, Any>,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    for event in events.iter().filter(|e| is_device_stream(&e.stream_id)) {
        let decoded = decode_device_event(&event.event_type, event.schema_version, &event.payload)
            .map_err(|e| ProjectionError::Event {
                position: event.position,
                reason: e.to_string(),
            })?;
        let device_id = &event.stream_id[DeviceId::STREAM_PREFIX.len() + 1..];
        sqlx::query(
            "INSERT INTO device_timeline (position, device_id, event_type, occurred_at, actor, summary) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event.position)
        .bind(device_id)
        .bind(&event.event_type)
        .bind(format_time(event))
        .bind(&event.metadata.actor)
        .bind(decoded.summary_fr())
        .execute(&mut **transaction)
        .await?;
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
