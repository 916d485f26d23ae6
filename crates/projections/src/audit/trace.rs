//! Per-device traceability export: every device with its donation batch,
//! donor kind, category, outcome and each step with its date and holder.
//! It contains no household id and no identity, because handovers show their mode only.

use serde::Serialize;

use super::csv::CsvWriter;
use super::fold::DeviceHistory;
use super::replay::Replay;
use super::report::{log_reference, LogReference};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceStepRow {
    pub position: i64,
    pub date: String,
    pub step: &'static str,
    pub holder: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceDevice {
    /// Label code, empty when no label was assigned.
    pub code: String,
    pub device_id: String,
    pub donation_id: String,
    pub donor_kind: &'static str,
    pub category: &'static str,
    /// Status as of the cutoff, such as `handed_over` or `recycled`.
    pub outcome: &'static str,
    pub holder: String,
    pub steps: Vec<TraceStepRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub log: LogReference,
    pub devices: Vec<TraceDevice>,
}

/// Builds the trace of a replayed prefix, devices sorted by code then id and
/// steps by log position.
pub fn build_trace(replay: &Replay) -> Trace {
    let mut devices: Vec<TraceDevice> = replay.fold.devices.values().map(trace_device).collect();
    devices.sort_by(|a, b| (&a.code, &a.device_id).cmp(&(&b.code, &b.device_id)));
    Trace {
        log: log_reference(replay),
        devices,
    }
}

fn trace_device(history: &DeviceHistory) -> TraceDevice {
    let device = &history.device;
    let mut steps: Vec<TraceStepRow> = history
        .steps
        .iter()
        .map(|step| TraceStepRow {
            position: step.position,
            date: step.date.to_string(),
            step: step.event_type,
            holder: step.holder.clone(),
            detail: step.detail.clone(),
        })
        .collect();
    steps.sort_by_key(|step| step.position);
    TraceDevice {
        code: device
            .code
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        device_id: device.id.to_string(),
        donation_id: device.donation_id.to_string(),
        donor_kind: device.donor_kind.as_str(),
        category: device.category.as_str(),
        outcome: device.status.as_str(),
        holder: device.holder.clone(),
        steps,
    }
}

/// Renders the trace as pretty JSON ending with a newline.
pub fn trace_json(trace: &Trace) -> String {
    let mut text = serde_json::to_string_pretty(trace).expect("traces serialise to JSON");
    text.push('\n');
    text
}

/// Renders the trace as CSV, one row per step. Every row repeats the log
/// position and hash, so a row copied alone still names its source.
pub fn trace_csv(trace: &Trace) -> String {
    let mut csv = CsvWriter::new(&[
        "log_position",
        "log_hash",
        "code",
        "device_id",
        "donation_id",
        "donor_kind",
        "category",
        "outcome",
        "step_position",
        "step_date",
        "step",
        "step_holder",
        "step_detail",
    ]);
    let position = trace.log.position.to_string();
    for device in &trace.devices {
        for step in &device.steps {
            csv.row(&[
                &position,
                &trace.log.hash,
                &device.code,
                &device.device_id,
                &device.donation_id,
                device.donor_kind,
                device.category,
                device.outcome,
                &step.position.to_string(),
                &step.date,
                step.step,
                &step.holder,
                &step.detail,
            ]);
        }
    }
    csv.finish()
}
