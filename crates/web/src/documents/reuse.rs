//! Reuse report data: what became of each device of a donation batch, with
//! totals and the batch's reuse rate.
//!
//! Public bodies must show that a growing share of the IT equipment they
//! retire is reused: 25 % in 2023, 35 % in 2024 and 50 % from 2025 (décret
//! n° 2023-266 du 12 avril 2023, article 3). A device given away counts only
//! if the recipient committed to reuse it and can show that it did, which
//! this report does for one batch.

use chrono::{DateTime, Utc};
use filiere_domain::donation::DonationReceived;
use filiere_domain::event::HandoverMode;
use filiere_domain::types::Category;
use filiere_domain::{Device, DeviceEvent, DeviceStatus};
use filiere_store::RecordedEvent;

use super::error::DocumentError;
use super::source::LogSnapshot;

/// Outcome of a device, as reported to its donor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReuseOutcome {
    /// With a household: loan, donation or solidarity sale.
    HandedOver,
    /// On a shelf and ready, reserved or not.
    InStock,
    /// Received, on the bench, or back from a household.
    InRefurbishment,
    Recycled,
    Dismantled,
    /// Lost, stolen, damaged beyond use or otherwise removed.
    WrittenOff,
}

impl ReuseOutcome {
    /// Every outcome, in the order of the report's totals.
    pub const ALL: &'static [ReuseOutcome] = &[
        ReuseOutcome::HandedOver,
        ReuseOutcome::InStock,
        ReuseOutcome::InRefurbishment,
        ReuseOutcome::Recycled,
        ReuseOutcome::Dismantled,
        ReuseOutcome::WrittenOff,
    ];

    pub fn from_status(status: DeviceStatus) -> ReuseOutcome {
        match status {
            DeviceStatus::HandedOver => ReuseOutcome::HandedOver,
            DeviceStatus::InStock | DeviceStatus::Reserved => ReuseOutcome::InStock,
            DeviceStatus::Received | DeviceStatus::InWorkshop | DeviceStatus::Returned => {
                ReuseOutcome::InRefurbishment
            }
            DeviceStatus::Recycled => ReuseOutcome::Recycled,
            DeviceStatus::Dismantled => ReuseOutcome::Dismantled,
            DeviceStatus::WrittenOff => ReuseOutcome::WrittenOff,
        }
    }

    /// Stable name, used in the CSV file's outcome code column.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReuseOutcome::HandedOver => "handed_over",
            ReuseOutcome::InStock => "in_stock",
            ReuseOutcome::InRefurbishment => "in_refurbishment",
            ReuseOutcome::Recycled => "recycled",
            ReuseOutcome::Dismantled => "dismantled",
            ReuseOutcome::WrittenOff => "written_off",
        }
    }

    pub fn label_fr(&self) -> &'static str {
        match self {
            ReuseOutcome::HandedOver => "Remis à un foyer",
            ReuseOutcome::InStock => "En stock",
            ReuseOutcome::InRefurbishment => "En reconditionnement",
            ReuseOutcome::Recycled => "Recyclé",
            ReuseOutcome::Dismantled => "Démantelé pour pièces",
            ReuseOutcome::WrittenOff => "Sorti de l'inventaire",
        }
    }

    /// True for the outcomes counted as reused: only a handover to a
    /// household proves reuse, so a device in stock is not counted yet.
    pub fn is_reuse(&self) -> bool {
        *self == ReuseOutcome::HandedOver
    }
}

/// One device of the reuse report. It never names the household.
#[derive(Clone, Debug, PartialEq)]
pub struct ReuseItem {
    pub code: String,
    pub category: Category,
    pub brand: String,
    pub model: String,
    pub serial: Option<String>,
    pub outcome: ReuseOutcome,
    /// Time of the event that gave the device its current outcome.
    pub outcome_at: DateTime<Utc>,
    /// Handover mode (loan, donation or solidarity sale); `None` unless
    /// handed over.
    pub handover_mode: Option<HandoverMode>,
}

/// Number of devices with one outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeTotal {
    pub outcome: ReuseOutcome,
    pub count: usize,
}

/// Reuse report of one donation batch.
#[derive(Clone, Debug, PartialEq)]
pub struct ReuseReport {
    pub log: LogSnapshot,
    pub donation: DonationReceived,
    pub items: Vec<ReuseItem>,
    /// One total per outcome of [`ReuseOutcome::ALL`], zeros included.
    pub totals: Vec<OutcomeTotal>,
    /// Devices handed over to a household.
    pub reused: usize,
    /// `reused` divided by the number of devices of the batch, in percent;
    /// `None` for a batch without devices.
    pub reuse_rate_percent: Option<f64>,
}

impl ReuseReport {
    /// Builds the report and its totals from its items.
    pub fn new(log: LogSnapshot, donation: DonationReceived, items: Vec<ReuseItem>) -> Self {
        let totals: Vec<OutcomeTotal> = ReuseOutcome::ALL
            .iter()
            .map(|outcome| OutcomeTotal {
                outcome: *outcome,
                count: items.iter().filter(|i| i.outcome == *outcome).count(),
            })
            .collect();
        let reused = items.iter().filter(|i| i.outcome.is_reuse()).count();
        let reuse_rate_percent =
            (!items.is_empty()).then(|| reused as f64 * 100.0 / items.len() as f64);
        ReuseReport {
            log,
            donation,
            items,
            totals,
            reused,
            reuse_rate_percent,
        }
    }
}

/// Builds the report line of one device from its events, oldest first.
pub(super) fn build_item(
    events: &[(RecordedEvent, DeviceEvent)],
) -> Result<ReuseItem, DocumentError> {
    let stream = events
        .first()
        .map_or_else(String::new, |(e, _)| e.stream_id.clone());
    let malformed = || DocumentError::MalformedStream {
        stream: stream.clone(),
    };
    let (first_recorded, first) = events.first().ok_or_else(malformed)?;
    let mut device = Device::from_events([first]).ok_or_else(malformed)?;
    let mut outcome_at = first_recorded.occurred_at;
    for (recorded, event) in &events[1..] {
        let before = ReuseOutcome::from_status(device.status);
        device.apply(event);
        if ReuseOutcome::from_status(device.status) != before {
            outcome_at = recorded.occurred_at;
        }
    }
    let outcome = ReuseOutcome::from_status(device.status);
    Ok(ReuseItem {
        code: device.display_name(),
        category: device.category,
        brand: device.brand.clone(),
        model: device.model.clone(),
        serial: device.serial.as_ref().map(ToString::to_string),
        outcome,
        outcome_at,
        handover_mode: device
            .handover_mode
            .clone()
            .filter(|_| outcome == ReuseOutcome::HandedOver),
    })
}
