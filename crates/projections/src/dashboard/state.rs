//! The pure part of the dashboard projection: per-device and
//! per-prescription state, and the counter deltas one batch of decoded
//! events adds. It mirrors the audit fold ([`crate::audit::fold`]) so that
//! the counters sum to the replayed [`crate::audit::Figures`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use filiere_domain::donation::DonationEvent;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::{PrescriptionEvent, PrescriptionIssued};
use filiere_domain::{DeviceEvent, DeviceStatus};

/// Statistical attributes of the household a device or a prescription is
/// for. Every field is empty when no prescription is known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct HouseholdDims {
    pub eligibility: String,
    /// `qpv`, `zrr`, `qpv_zrr` or `neither`.
    pub area: String,
    pub programme: String,
    pub departement: String,
    pub commune: String,
}

impl HouseholdDims {
    pub fn of_prescription(issued: &PrescriptionIssued) -> HouseholdDims {
        let household = &issued.household;
        let area = match (household.qpv, household.zrr) {
            (true, true) => "qpv_zrr",
            (true, false) => "qpv",
            (false, true) => "zrr",
            (false, false) => "neither",
        };
        HouseholdDims {
            eligibility: issued.eligibility.as_str().to_string(),
            area: area.to_string(),
            programme: issued.scheme.programme.clone().unwrap_or_default(),
            departement: household.commune.departement().to_string(),
            commune: household.commune.as_str().to_string(),
        }
    }
}

/// Département of the rollup rows that sum every département, households
/// without a prescription included.
pub(crate) const ALL_DEPARTEMENTS: &str = "*";

/// Flow metrics of `dashboard_counters`.
pub(crate) mod metric {
    pub const DONATED_DEVICE: &str = "donated_device";
    pub const DONATION_BATCH: &str = "donation_batch";
    pub const HANDOVER: &str = "handover";
    pub const DEVICE_HANDED_OVER: &str = "device_handed_over";
    pub const HOUSEHOLD_EQUIPPED: &str = "household_equipped";
    pub const LEAD_TIME: &str = "lead_time";
    pub const LOAN_RETURNED: &str = "loan_returned";
    pub const TRAINING_ATTENDED: &str = "training_attended";

    /// Metrics tied to a household, also counted by commune.
    pub const HOUSEHOLD_METRICS: [&str; 6] = [
        HANDOVER,
        DEVICE_HANDED_OVER,
        HOUSEHOLD_EQUIPPED,
        LEAD_TIME,
        LOAN_RETURNED,
        TRAINING_ATTENDED,
    ];
}

/// Key of one row of `dashboard_counters` (and of
/// `dashboard_commune_counters` for household metrics).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CounterKey {
    pub metric: &'static str,
    pub month: String,
    pub workshop: String,
    pub category: String,
    pub dims: HouseholdDims,
    pub days: i64,
}

/// Key of one row of `dashboard_status`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct StatusKey {
    pub status: &'static str,
    pub workshop: String,
    pub category: String,
    pub departement: String,
    pub commune: String,
    pub day: String,
}

/// Row of `dashboard_devices`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeviceState {
    pub category: String,
    pub donation_id: String,
    pub received_on: NaiveDate,
    pub holder: String,
    pub status: DeviceStatus,
    /// Day of the latest `stocked` event while in stock.
    pub stocked_on: Option<NaiveDate>,
    /// Due date while the device is lent.
    pub due_on: Option<NaiveDate>,
    pub handed_over: bool,
    pub recycled_grams: i64,
    /// Household of the prescription the device is reserved for or handed
    /// over under.
    pub dims: HouseholdDims,
}

impl DeviceState {
    /// Returns the row of `dashboard_status` the device counts in, if any,
    /// with the recycled weight it adds.
    pub fn status_key(&self) -> Option<(StatusKey, i64)> {
        let key = |status: &'static str, day: String, dims: Option<&HouseholdDims>| StatusKey {
            status,
            workshop: self.holder.clone(),
            category: self.category.clone(),
            departement: dims.map(|d| d.departement.clone()).unwrap_or_default(),
            commune: dims.map(|d| d.commune.clone()).unwrap_or_default(),
            day,
        };
        let day = |date: Option<NaiveDate>| date.map(|d| d.to_string()).unwrap_or_default();
        match self.status {
            DeviceStatus::InStock => Some((key("in_stock", day(self.stocked_on), None), 0)),
            DeviceStatus::Reserved => Some((key("reserved", String::new(), None), 0)),
            DeviceStatus::HandedOver if self.due_on.is_some() => {
                Some((key("loan", day(self.due_on), Some(&self.dims)), 0))
            }
            DeviceStatus::Recycled => {
                Some((key("recycled", String::new(), None), self.recycled_grams))
            }
            DeviceStatus::Dismantled => Some((key("dismantled", String::new(), None), 0)),
            DeviceStatus::WrittenOff => Some((key("written_off", String::new(), None), 0)),
            _ => None,
        }
    }
}

/// Row of `dashboard_prescriptions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PrescriptionState {
    pub category: String,
    /// Workshop that accepted the prescription; empty before.
    pub workshop: String,
    pub dims: HouseholdDims,
}

/// Row of `dashboard_batches`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DonationBatchState {
    pub received_on: Option<NaiveDate>,
    /// Whether a device of the batch was counted in `donation_batch`.
    pub counted: bool,
}

/// The state rows a batch reads and writes, loaded before the batch and
/// written back after it, with the counter deltas it adds.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Devices by id, with the status key they had before the batch.
    pub devices: BTreeMap<String, DeviceState>,
    pub initial_status: BTreeMap<String, Option<(StatusKey, i64)>>,
    pub prescriptions: BTreeMap<String, PrescriptionState>,
    pub batches: BTreeMap<String, DonationBatchState>,
    /// Households already equipped before the batch (among those it names).
    pub known_households: BTreeSet<String>,
    pub new_households: BTreeSet<String>,
    pub counters: BTreeMap<CounterKey, i64>,
    pub touched_devices: BTreeSet<String>,
    pub touched_prescriptions: BTreeSet<String>,
    pub touched_batches: BTreeSet<String>,
}

fn month_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

impl Batch {
    fn count(&mut self, key: CounterKey) {
        *self.counters.entry(key).or_default() += 1;
    }

    /// Applies a donation event.
    pub fn apply_donation(&mut self, event: &DonationEvent) {
        let DonationEvent::DonationReceived(received) = event;
        let id = received.donation_id.to_string();
        let batch = self.batches.entry(id.clone()).or_default();
        batch.received_on = Some(received.received_on);
        self.touched_batches.insert(id);
    }

    /// Applies a device event that occurred on `date` (UTC) to the device
    /// `device_id`. Events of a device whose reception is unknown are
    /// ignored, as the audit fold does.
    pub fn apply_device(&mut self, device_id: &str, date: NaiveDate, event: &DeviceEvent) {
        if let DeviceEvent::Received(received) = event {
            self.receive(device_id, date, received);
            return;
        }
        let Some(mut device) = self.devices.remove(device_id) else {
            return;
        };
        self.touched_devices.insert(device_id.to_string());
        match event {
            DeviceEvent::Received(_) => {}
            DeviceEvent::Diagnosed(_) => {
                if matches!(
                    device.status,
                    DeviceStatus::Received | DeviceStatus::Returned | DeviceStatus::InStock
                ) {
                    device.status = DeviceStatus::InWorkshop;
                }
            }
            DeviceEvent::Stocked(_) => {
                device.status = DeviceStatus::InStock;
                device.stocked_on = Some(date);
            }
            DeviceEvent::Reserved(_) => device.status = DeviceStatus::Reserved,
            DeviceEvent::ReservationReleased { .. } => {
                device.status = DeviceStatus::InStock;
                device.dims = HouseholdDims::default();
            }
            DeviceEvent::HandedOver(handover) => {
                self.hand_over(&mut device, date, &handover.household_id.to_string());
                device.status = DeviceStatus::HandedOver;
                device.due_on = match handover.mode {
                    HandoverMode::Loan { due_on } => Some(due_on),
                    _ => None,
                };
            }
            DeviceEvent::Returned { .. } => {
                if device.due_on.is_some() {
                    self.count(CounterKey {
                        metric: metric::LOAN_RETURNED,
                        month: month_of(date),
                        workshop: device.holder.clone(),
                        category: device.category.clone(),
                        dims: device.dims.clone(),
                        days: 0,
                    });
                }
                device.status = DeviceStatus::Returned;
                device.due_on = None;
                device.dims = HouseholdDims::default();
            }
            DeviceEvent::LoanConvertedToDonation {} => device.due_on = None,
            // The status row of a lent device is keyed by its due date, so
            // the new date moves the device to another `loan` row.
            DeviceEvent::LoanExtended { due_on } => device.due_on = Some(*due_on),
            DeviceEvent::Recycled(recycling) => {
                device.status = DeviceStatus::Recycled;
                device.recycled_grams += i64::from(recycling.weight_grams);
            }
            DeviceEvent::Dismantled { .. } => device.status = DeviceStatus::Dismantled,
            DeviceEvent::WrittenOff { .. } => device.status = DeviceStatus::WrittenOff,
            DeviceEvent::Transferred { to, .. } => device.holder = to.clone(),
            DeviceEvent::LabelAssigned { .. }
            | DeviceEvent::DataErased(_)
            | DeviceEvent::Repaired(_)
            | DeviceEvent::SoftwareInstalled(_)
            | DeviceEvent::Graded(_)
            | DeviceEvent::Moved(_) => {}
        }
        if device.status != DeviceStatus::InStock {
            device.stocked_on = None;
        }
        if device.status != DeviceStatus::HandedOver {
            device.due_on = None;
        }
        self.devices.insert(device_id.to_string(), device);
    }

    fn receive(
        &mut self,
        device_id: &str,
        date: NaiveDate,
        received: &filiere_domain::event::Received,
    ) {
        let device = DeviceState {
            category: received.category.as_str().to_string(),
            donation_id: received.donation_id.to_string(),
            received_on: date,
            holder: received.holder.clone(),
            status: DeviceStatus::Received,
            stocked_on: None,
            due_on: None,
            handed_over: false,
            recycled_grams: 0,
            dims: HouseholdDims::default(),
        };
        let key = CounterKey {
            metric: metric::DONATED_DEVICE,
            month: month_of(date),
            workshop: device.holder.clone(),
            category: device.category.clone(),
            dims: HouseholdDims::default(),
            days: 0,
        };
        self.count(key.clone());
        let batch = self.batches.entry(device.donation_id.clone()).or_default();
        if !batch.counted {
            batch.counted = true;
            self.count(CounterKey {
                metric: metric::DONATION_BATCH,
                ..key
            });
        }
        self.touched_batches.insert(device.donation_id.clone());
        self.touched_devices.insert(device_id.to_string());
        self.devices.insert(device_id.to_string(), device);
    }

    /// Counts a handover with the holder and household before the event.
    fn hand_over(&mut self, device: &mut DeviceState, date: NaiveDate, household_id: &str) {
        let key = CounterKey {
            metric: metric::HANDOVER,
            month: month_of(date),
            workshop: device.holder.clone(),
            category: device.category.clone(),
            dims: device.dims.clone(),
            days: 0,
        };
        self.count(key.clone());
        if !self.known_households.contains(household_id)
            && self.new_households.insert(household_id.to_string())
        {
            self.count(CounterKey {
                metric: metric::HOUSEHOLD_EQUIPPED,
                ..key.clone()
            });
        }
        if !device.handed_over {
            device.handed_over = true;
            self.count(CounterKey {
                metric: metric::DEVICE_HANDED_OVER,
                ..key.clone()
            });
            let start = self
                .batches
                .get(&device.donation_id)
                .and_then(|batch| batch.received_on)
                .unwrap_or(device.received_on);
            self.count(CounterKey {
                metric: metric::LEAD_TIME,
                days: (date - start).num_days(),
                ..key
            });
        }
    }

    /// Applies a prescription event of the prescription `prescription_id`.
    pub fn apply_prescription(&mut self, prescription_id: &str, event: &PrescriptionEvent) {
        if let PrescriptionEvent::Issued(issued) = event {
            let state = PrescriptionState {
                category: issued.need.category.as_str().to_string(),
                workshop: String::new(),
                dims: HouseholdDims::of_prescription(issued),
            };
            self.prescriptions
                .insert(prescription_id.to_string(), state);
            self.touched_prescriptions
                .insert(prescription_id.to_string());
            return;
        }
        let Some(prescription) = self.prescriptions.get(prescription_id).cloned() else {
            return;
        };
        match event {
            PrescriptionEvent::Accepted {
                workshop_organisation,
            } => {
                let state = PrescriptionState {
                    workshop: workshop_organisation.clone(),
                    ..prescription
                };
                self.prescriptions
                    .insert(prescription_id.to_string(), state);
                self.touched_prescriptions
                    .insert(prescription_id.to_string());
            }
            PrescriptionEvent::DeviceReserved(device) => {
                let device_id = device.device_id.to_string();
                if let Some(state) = self.devices.get_mut(&device_id) {
                    state.dims = prescription.dims.clone();
                    self.touched_devices.insert(device_id);
                }
            }
            PrescriptionEvent::TrainingAttended { on } => self.count(CounterKey {
                metric: metric::TRAINING_ATTENDED,
                month: month_of(*on),
                workshop: prescription.workshop,
                category: prescription.category,
                dims: prescription.dims,
                days: 0,
            }),
            _ => {}
        }
    }
}
