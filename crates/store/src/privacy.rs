//! Households and the GDPR: the export for a right-of-access request, the
//! retention sweep that erases identities once a household's needs are
//! settled, and the counts funders see, which erasure leaves unchanged.
//!
//! A household's prescriptions and devices are found by its id in the
//! events' canonical JSON payloads (`"household_id":"<uuid>"`).
//!
//! NOTE: these LIKE queries scan the whole `events` table, since no index
//! covers payloads. No timing was measured on a large log.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use filiere_domain::codec::decode_device_event;
use filiere_domain::event::{HandoverMode, Reservation};
use filiere_domain::prescription::{EligibilityCategory, Prescription};
use filiere_domain::{Device, DeviceEvent, DeviceStatus, HouseholdId, PrescriptionId};
use serde::Serialize;
use serde_json::{json, Value};

use crate::prescriptions::PrescriptionStoreError;
use crate::workshop::{Workshop, CODE_KEY};
use crate::{RecordedEvent, StoreError};

/// Retention period of `filiere retention` and of the sweep `filiere serve`
/// runs daily, in days, when none is configured.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// Number of prescriptions issued for one commune and eligibility category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrescriptionCount {
    pub commune: String,
    pub eligibility: EligibilityCategory,
    pub count: u64,
}

/// A prescription with the time of its latest event.
struct Dated {
    prescription: Prescription,
    last_event_at: DateTime<Utc>,
}

impl Workshop {
    /// Everything stored about a household, as JSON: its identity (null once
    /// erased), the events of its prescriptions, and the events of each
    /// device from its reservation for, or handover to, the household until
    /// it came back.
    pub async fn export_household(&self, id: HouseholdId) -> Result<Value, PrescriptionStoreError> {
        let record = self
            .store()
            .household(id)
            .await?
            .ok_or(PrescriptionStoreError::HouseholdNotFound(id))?;
        let identity = record.identity.as_ref().map(|identity| {
            json!({
                "first_name": identity.first_name,
                "last_name": identity.last_name,
                "phone": identity.phone,
                "email": identity.email,
                "address": identity.address,
            })
        });
        let mut prescriptions = Vec::new();
        for stream_id in self.prescription_streams(Some(id)).await? {
            let events = self.store().read_stream(&stream_id).await?;
            prescriptions.push(json!({
                "stream_id": stream_id,
                "events": events.iter().map(event_json).collect::<Vec<_>>(),
            }));
        }
        let mut devices = Vec::new();
        for stream_id in self.device_streams(id).await? {
            let events = self.decoded_device_stream(&stream_id).await?;
            let code = self.store().code_of_stream(&stream_id).await?;
            devices.push(json!({
                "stream_id": stream_id,
                "code": code,
                "events": custody_events(&events, id).iter().map(|e| event_json(e)).collect::<Vec<_>>(),
            }));
        }
        Ok(json!({
            "household": {
                "id": id,
                "identity": identity,
                "created_at": record.created_at,
                "erased_at": record.erased_at,
            },
            "prescriptions": prescriptions,
            "devices": devices,
        }))
    }

    /// Erases the identity of every household whose needs are settled since
    /// more than `retention_days` before `now`: all its prescriptions are
    /// closed (see [`Prescription::is_closed`]) and none changed since, and
    /// no device is reserved for it or on loan to it. A household without
    /// any prescription is erased once it was created that long ago.
    /// Returns the erased households.
    pub async fn erase_closed_households(
        &self,
        retention_days: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<HouseholdId>, PrescriptionStoreError> {
        let cutoff = now - Duration::days(i64::from(retention_days));
        let mut by_household: BTreeMap<HouseholdId, Vec<Dated>> = BTreeMap::new();
        for dated in self.dated_prescriptions(None).await? {
            let household = dated.prescription.household_id();
            by_household.entry(household).or_default().push(dated);
        }
        let mut erased = Vec::new();
        for (household, created_at) in self.store().households_with_identity().await? {
            let settled = match by_household.get(&household) {
                Some(prescriptions) => prescriptions
                    .iter()
                    .all(|p| p.prescription.is_closed() && p.last_event_at <= cutoff),
                None => created_at <= cutoff,
            };
            if settled && !self.holds_device(household).await? {
                self.store().erase_household(household, now).await?;
                erased.push(household);
            }
        }
        tracing::info!(
            erased = erased.len(),
            retention_days,
            "retention sweep done"
        );
        Ok(erased)
    }

    /// Prescriptions issued, counted by commune and eligibility category.
    /// Read from the events only, so erasing identities does not change it.
    pub async fn prescription_counts(
        &self,
    ) -> Result<Vec<PrescriptionCount>, PrescriptionStoreError> {
        let mut counts: BTreeMap<(String, EligibilityCategory), u64> = BTreeMap::new();
        for dated in self.dated_prescriptions(None).await? {
            let issued = &dated.prescription.issued;
            let key = (issued.household.commune.to_string(), issued.eligibility);
            *counts.entry(key).or_default() += 1;
        }
        Ok(counts
            .into_iter()
            .map(|((commune, eligibility), count)| PrescriptionCount {
                commune,
                eligibility,
                count,
            })
            .collect())
    }

    /// Loads every prescription issued for a household, oldest first (their
    /// ids are UUIDv7, which sort by creation time).
    pub async fn household_prescriptions(
        &self,
        id: HouseholdId,
    ) -> Result<Vec<Prescription>, PrescriptionStoreError> {
        let dated = self.dated_prescriptions(Some(id)).await?;
        Ok(dated.into_iter().map(|d| d.prescription).collect())
    }

    async fn dated_prescriptions(
        &self,
        household: Option<HouseholdId>,
    ) -> Result<Vec<Dated>, PrescriptionStoreError> {
        let mut dated = Vec::new();
        for stream_id in self.prescription_streams(household).await? {
            let id: PrescriptionId = stream_id[PrescriptionId::STREAM_PREFIX.len() + 1..]
                .parse()
                .map_err(|error| corrupt(format!("stream '{stream_id}': {error}")))?;
            let events = self.prescription_events(id).await?;
            let last_event_at = events.last().map(|(recorded, _)| recorded.occurred_at);
            let decoded: Vec<_> = events.into_iter().map(|(_, event)| event).collect();
            if let (Some(prescription), Some(last_event_at)) =
                (Prescription::from_events(&decoded), last_event_at)
            {
                dated.push(Dated {
                    prescription,
                    last_event_at,
                });
            }
        }
        Ok(dated)
    }

    /// Returns whether a device is reserved for the household or on loan to
    /// it now.
    async fn holds_device(&self, household: HouseholdId) -> Result<bool, PrescriptionStoreError> {
        for stream_id in self.device_streams(household).await? {
            let events = self.decoded_device_stream(&stream_id).await?;
            let decoded: Vec<DeviceEvent> = events.into_iter().map(|(_, e)| e).collect();
            let Some(device) = Device::from_events(&decoded) else {
                continue;
            };
            let on_loan = matches!(device.handover_mode, Some(HandoverMode::Loan { .. }));
            let held = device.status == DeviceStatus::Reserved
                || (device.status == DeviceStatus::HandedOver && on_loan);
            if held && device.household_id == Some(household) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Streams of prescriptions, of one household or of all, by stream id.
    async fn prescription_streams(
        &self,
        household: Option<HouseholdId>,
    ) -> Result<Vec<String>, PrescriptionStoreError> {
        let pattern = household.map_or_else(|| "%".to_string(), household_pattern);
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT stream_id FROM events \
             WHERE event_type = 'prescription_issued' AND payload LIKE $1 ORDER BY stream_id",
        )
        .bind(pattern)
        .fetch_all(self.store().pool())
        .await
        .map_err(StoreError::from)?)
    }

    /// Streams of devices whose events name the household.
    async fn device_streams(
        &self,
        household: HouseholdId,
    ) -> Result<Vec<String>, PrescriptionStoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT stream_id FROM events \
             WHERE stream_id LIKE 'device-%' AND payload LIKE $1 ORDER BY stream_id",
        )
        .bind(household_pattern(household))
        .fetch_all(self.store().pool())
        .await
        .map_err(StoreError::from)?)
    }

    async fn decoded_device_stream(
        &self,
        stream_id: &str,
    ) -> Result<Vec<(RecordedEvent, DeviceEvent)>, PrescriptionStoreError> {
        let recorded = self.store().read_stream(stream_id).await?;
        recorded
            .into_iter()
            .map(|event| {
                let decoded =
                    decode_device_event(&event.event_type, event.schema_version, &event.payload)?;
                Ok((event, decoded))
            })
            .collect()
    }
}

impl crate::EventStore {
    /// Code of the device that owns `stream_id`, from the unique keys.
    pub(crate) async fn code_of_stream(
        &self,
        stream_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM unique_keys WHERE namespace = $1 AND stream_id = $2",
        )
        .bind(CODE_KEY)
        .bind(stream_id)
        .fetch_optional(self.pool())
        .await?)
    }
}

/// LIKE pattern matching a canonical JSON payload that names the household.
/// UUID text contains no LIKE wildcard (`%` or `_`).
fn household_pattern(household: HouseholdId) -> String {
    format!("%\"household_id\":\"{household}\"%")
}

/// Device events from each reservation for, or handover to, `household`
/// until the device was returned, released or reserved for someone else.
fn custody_events(
    events: &[(RecordedEvent, DeviceEvent)],
    household: HouseholdId,
) -> Vec<&RecordedEvent> {
    let mut in_custody = false;
    let mut selected = Vec::new();
    for (recorded, event) in events {
        let named = match event {
            DeviceEvent::Reserved(Reservation { household_id, .. }) => Some(*household_id),
            DeviceEvent::HandedOver(handover) => Some(handover.household_id),
            _ => None,
        };
        if let Some(named) = named {
            in_custody = named == household;
        }
        if in_custody {
            selected.push(recorded);
        }
        if matches!(
            event,
            DeviceEvent::Returned { .. } | DeviceEvent::ReservationReleased { .. }
        ) {
            in_custody = false;
        }
    }
    selected
}

fn event_json(event: &RecordedEvent) -> Value {
    json!({
        "position": event.position,
        "stream_version": event.stream_version,
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "actor": event.metadata.actor,
        "organisation": event.metadata.organisation,
        "payload": event.payload,
    })
}

fn corrupt(reason: String) -> PrescriptionStoreError {
    StoreError::Corrupt {
        position: 0,
        reason,
    }
    .into()
}
