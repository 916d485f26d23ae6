//! Matching devices to a prescription from the devices' own streams. The
//! caller chooses the candidate codes, typically the in-stock devices of the
//! needed category from the stock projection. Readiness, grade, autonomy and
//! stock date are read here from each device's events, because the events
//! are authoritative and the projection may lag.

use filiere_domain::prescription::matching::{match_devices, CandidateDevice};
use filiere_domain::{DeviceCode, DeviceEvent, PrescriptionId};

use super::PrescriptionStoreError;
use crate::workshop::Workshop;

impl Workshop {
    /// Returns the devices among `codes` that fit the accepted prescription
    /// `id`, best first (see [`match_devices`]). Unknown codes are skipped.
    pub async fn match_devices_for(
        &self,
        id: PrescriptionId,
        codes: &[DeviceCode],
    ) -> Result<Vec<CandidateDevice>, PrescriptionStoreError> {
        let prescription = self.require_prescription(id).await?;
        let mut candidates = Vec::with_capacity(codes.len());
        for code in codes {
            if let Some(candidate) = self.candidate_device(code).await? {
                candidates.push(candidate);
            }
        }
        Ok(match_devices(&prescription, candidates)?)
    }

    /// Reads what matching needs about one device, `None` for an unknown
    /// code. The stock date is the time of its latest `stocked` event.
    pub async fn candidate_device(
        &self,
        code: &DeviceCode,
    ) -> Result<Option<CandidateDevice>, PrescriptionStoreError> {
        let Some(device) = self.find_device(code).await? else {
            return Ok(None);
        };
        let events = self.device_events(device.id).await?;
        let stocked_at = events
            .iter()
            .rev()
            .find(|(_, event)| matches!(event, DeviceEvent::Stocked(_)))
            .or(events.last())
            .map(|(recorded, _)| recorded.occurred_at)
            .unwrap_or_default();
        Ok(Some(CandidateDevice {
            code: code.clone(),
            category: device.category,
            grade: device.grade,
            autonomy: device.autonomy,
            ready: device.readiness_gaps().is_empty(),
            status: device.status,
            in_stock_since: stocked_at,
        }))
    }
}
