//! Disk erasures in 2018-format snapshots (Workbench 10).
//!
//! Each erased disk component carries a record such as:
//!
//! ```json
//! "erasure": {
//!   "@type": "EraseSectors",
//!   "startingTime": "2018-02-07T09:39:57", "endingTime": "2018-02-07T11:51:46",
//!   "steps": [
//!     {"@type": "Zeros", "success": true, ...},
//!     {"@type": "Random", "success": true, ...}
//!   ],
//!   "success": true
//! }
//! ```

use filiere_domain::types::Outcome;
use serde_json::Value;

use crate::lshw::node::serial_or_none;
use crate::{DiskErasure, ErasureLog};

/// Bytes in a mebibyte, the unit of disk sizes in this format.
const MIB: u64 = 1_048_576;

/// Reads the erasure record of every disk component, or returns `None` when no
/// component has one.
pub(super) fn erasure_log(root: &Value, version: &str) -> Option<ErasureLog> {
    let disks: Vec<DiskErasure> = root
        .get("components")?
        .as_array()?
        .iter()
        .filter_map(|component| Some(disk_erasure(component, component.get("erasure")?)))
        .collect();
    if disks.is_empty() {
        return None;
    }
    Some(ErasureLog {
        tool: "eReuse Workbench".to_string(),
        tool_version: (!version.is_empty()).then(|| version.to_string()),
        disks,
    })
}

fn disk_erasure(disk: &Value, record: &Value) -> DiskErasure {
    let steps: &[Value] = record
        .get("steps")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let failure_reasons = failure_reasons(record, steps);
    let step_names: Vec<&str> = steps.iter().map(step_name).collect();
    let method_name = text(record, "@type").unwrap_or("erasure");
    let method = if step_names.is_empty() {
        method_name.to_string()
    } else {
        format!("{method_name} ({})", step_names.join(", "))
    };
    let passes = steps.iter().filter(|step| succeeded(step)).count();
    DiskErasure {
        model: text(disk, "model").unwrap_or_default().to_string(),
        serial: text(disk, "serialNumber").and_then(serial_or_none),
        device_path: None,
        size_bytes: disk
            .get("size")
            .and_then(Value::as_u64)
            .and_then(|size| size.checked_mul(MIB)),
        method,
        verification: None,
        passes: u32::try_from(passes).ok(),
        started: text(record, "startingTime").map(str::to_string),
        ended: text(record, "endingTime").map(str::to_string),
        result: if failure_reasons.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        failure_reasons,
    }
}

/// Lists why the erasure does not count as passed. A passed erasure has
/// `"success": true`, at least one step, and `"success": true` in every
/// step.
fn failure_reasons(record: &Value, steps: &[Value]) -> Vec<String> {
    let mut reasons = Vec::new();
    match record.get("success").and_then(Value::as_bool) {
        Some(true) => {}
        Some(false) => reasons.push("the erasure record reports success false".to_string()),
        None => reasons.push("the erasure record has no success field".to_string()),
    }
    if steps.is_empty() {
        reasons.push("the erasure record lists no steps, so nothing was written".to_string());
    }
    for (index, step) in steps.iter().enumerate() {
        if !succeeded(step) {
            reasons.push(format!(
                "step {} ({}) did not report success",
                index + 1,
                step_name(step)
            ));
        }
    }
    reasons
}

fn succeeded(step: &Value) -> bool {
    step.get("success").and_then(Value::as_bool) == Some(true)
}

fn step_name(step: &Value) -> &str {
    text(step, "@type").unwrap_or("unnamed step")
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    let text = value.get(key)?.as_str()?.trim();
    (!text.is_empty()).then_some(text)
}
