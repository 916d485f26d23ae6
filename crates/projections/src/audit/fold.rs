//! The audit fold: the history of every device and donation batch, built by
//! applying decoded events in log order. Pure: the caller reads the log and
//! decides which events are included.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use filiere_domain::donation::DonationEvent;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::{EligibilityCategory, HouseholdAttributes, PrescriptionEvent};
use filiere_domain::{Device, DeviceEvent, DonationId, HouseholdId, PrescriptionId};

/// One decoded event of the log that the audit reads.
#[derive(Clone, Debug, PartialEq)]
pub enum AuditEvent {
    Device {
        stream_id: String,
        event: DeviceEvent,
    },
    Donation(DonationEvent),
    Prescription {
        prescription_id: PrescriptionId,
        event: PrescriptionEvent,
    },
}

/// One step of a device's history, without any household data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    pub position: i64,
    pub date: NaiveDate,
    pub event_type: &'static str,
    /// Organisation holding the device after the step.
    pub holder: String,
    /// Machine-readable facts of the step, such as `mode=loan`.
    pub detail: String,
}

/// One handover of a device to a household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandoverRecord {
    pub date: NaiveDate,
    pub household_id: HouseholdId,
    /// Organisation that held the device when it was handed over.
    pub holder: String,
    /// Due date when the handover was a loan.
    pub loan_due_on: Option<NaiveDate>,
    /// Prescription the handover was recorded for; `None` for a handover
    /// recorded on the device alone.
    pub prescription_id: Option<PrescriptionId>,
}

/// Statistical facts of one prescription: where the household lives, its
/// eligibility and the training it attended. Never its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrescriptionRecord {
    /// Day of the `prescription_issued` event.
    pub issued_on: NaiveDate,
    pub household: HouseholdAttributes,
    pub eligibility: EligibilityCategory,
    pub training_prescribed: bool,
    /// Days of the training sessions attended, in log order.
    pub training_attended_on: Vec<NaiveDate>,
    /// Days of the training sessions missed, in log order.
    pub training_missed_on: Vec<NaiveDate>,
}

/// Everything the audit needs about one device.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceHistory {
    /// State folded by the domain's own aggregate.
    pub device: Device,
    pub received_on: NaiveDate,
    /// Holder when the device was received.
    pub received_by: String,
    pub steps: Vec<TraceStep>,
    pub handovers: Vec<HandoverRecord>,
    /// Day of the latest `stocked` event, while the device is in stock.
    pub stocked_on: Option<NaiveDate>,
    pub loans_returned: u64,
    pub recycled_weight_grams: u64,
}

/// A donation batch as recorded by its `donation_received` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DonationBatch {
    pub received_on: NaiveDate,
    pub device_count: u32,
}

/// State of the audit after some prefix of the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFold {
    /// Devices by stream id.
    pub devices: BTreeMap<String, DeviceHistory>,
    pub donations: BTreeMap<DonationId, DonationBatch>,
    /// Prescriptions by id, from their `prescription_issued` event on.
    pub prescriptions: BTreeMap<PrescriptionId, PrescriptionRecord>,
    pub events_applied: u64,
    /// Device events whose stream does not start with a reception; they are
    /// counted and otherwise ignored.
    pub orphan_events: u64,
}

impl AuditFold {
    /// Applies one event recorded at `position` and `occurred_at`.
    pub fn apply(&mut self, position: i64, occurred_at: DateTime<Utc>, event: &AuditEvent) {
        self.events_applied += 1;
        // NOTE: dates are UTC days, so an event at 00:30 in Paris counts on
        // the previous day.
        let date = occurred_at.date_naive();
        match event {
            AuditEvent::Donation(DonationEvent::DonationReceived(received)) => {
                self.donations.insert(
                    received.donation_id,
                    DonationBatch {
                        received_on: received.received_on,
                        device_count: received.device_count,
                    },
                );
            }
            AuditEvent::Device { stream_id, event } => {
                self.apply_device(stream_id, position, date, event);
            }
            AuditEvent::Prescription {
                prescription_id,
                event,
            } => self.apply_prescription(*prescription_id, date, event),
        }
    }

    fn apply_prescription(
        &mut self,
        prescription_id: PrescriptionId,
        date: NaiveDate,
        event: &PrescriptionEvent,
    ) {
        if let PrescriptionEvent::Issued(issued) = event {
            self.prescriptions.insert(
                prescription_id,
                PrescriptionRecord {
                    issued_on: date,
                    household: issued.household.clone(),
                    eligibility: issued.eligibility,
                    training_prescribed: issued.training.is_some(),
                    training_attended_on: Vec::new(),
                    training_missed_on: Vec::new(),
                },
            );
            return;
        }
        let Some(record) = self.prescriptions.get_mut(&prescription_id) else {
            return;
        };
        match event {
            PrescriptionEvent::TrainingAttended { on } => record.training_attended_on.push(*on),
            PrescriptionEvent::TrainingMissed { on } => record.training_missed_on.push(*on),
            _ => {}
        }
    }

    fn apply_device(
        &mut self,
        stream_id: &str,
        position: i64,
        date: NaiveDate,
        event: &DeviceEvent,
    ) {
        if let DeviceEvent::Received(_) = event {
            let Some(device) = Device::from_events([event]) else {
                return;
            };
            let history = DeviceHistory {
                received_on: date,
                received_by: device.holder.clone(),
                device,
                steps: Vec::new(),
                handovers: Vec::new(),
                stocked_on: None,
                loans_returned: 0,
                recycled_weight_grams: 0,
            };
            self.devices.insert(stream_id.to_string(), history);
            if let Some(history) = self.devices.get_mut(stream_id) {
                history.record_step(position, date, event);
            }
            return;
        }
        match self.devices.get_mut(stream_id) {
            Some(history) => {
                history.record_before_apply(date, event);
                history.device.apply(event);
                history.record_step(position, date, event);
            }
            None => self.orphan_events += 1,
        }
    }
}

impl DeviceHistory {
    /// Records the facts that depend on the state before `event`.
    fn record_before_apply(&mut self, date: NaiveDate, event: &DeviceEvent) {
        match event {
            DeviceEvent::HandedOver(handover) => {
                let loan_due_on = match handover.mode {
                    HandoverMode::Loan { due_on } => Some(due_on),
                    _ => None,
                };
                self.handovers.push(HandoverRecord {
                    date,
                    household_id: handover.household_id,
                    holder: self.device.holder.clone(),
                    loan_due_on,
                    prescription_id: handover.prescription_id,
                });
            }
            DeviceEvent::Returned { .. } => {
                if matches!(self.device.handover_mode, Some(HandoverMode::Loan { .. })) {
                    self.loans_returned += 1;
                }
            }
            DeviceEvent::Recycled(recycling) => {
                self.recycled_weight_grams += u64::from(recycling.weight_grams);
            }
            _ => {}
        }
    }

    /// Appends the step and updates the stock date after `event` applied.
    fn record_step(&mut self, position: i64, date: NaiveDate, event: &DeviceEvent) {
        if let DeviceEvent::Stocked(_) = event {
            self.stocked_on = Some(date);
        }
        if self.device.status != filiere_domain::DeviceStatus::InStock {
            self.stocked_on = None;
        }
        self.steps.push(TraceStep {
            position,
            date,
            event_type: event.event_type(),
            holder: self.device.holder.clone(),
            detail: step_detail(event),
        });
    }
}

/// Returns the facts of a step that may be published: never a household id,
/// a free-text note or a person's name.
fn step_detail(event: &DeviceEvent) -> String {
    match event {
        DeviceEvent::Received(r) => format!("donor_kind={}", r.donor_kind),
        DeviceEvent::Diagnosed(d) => {
            format!(
                "functional_test={};verdict={}",
                d.functional_test, d.verdict
            )
        }
        DeviceEvent::DataErased(e) => format!("method={};result={}", e.method, e.result),
        DeviceEvent::Graded(g) => format!("grade={}", g.grade),
        DeviceEvent::HandedOver(h) => match &h.mode {
            HandoverMode::Loan { due_on } => format!("mode=loan;due_on={due_on}"),
            other => format!("mode={}", other.as_str()),
        },
        DeviceEvent::LoanExtended { due_on } => format!("due_on={due_on}"),
        DeviceEvent::Recycled(r) => format!("weight_grams={}", r.weight_grams),
        DeviceEvent::WrittenOff { reason, .. } => format!("reason={reason}"),
        DeviceEvent::Transferred { from, to } => format!("from={from};to={to}"),
        _ => String::new(),
    }
}
