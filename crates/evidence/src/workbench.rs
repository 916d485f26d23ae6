//! Parser for eReuse Workbench snapshots, in their three formats:
//!
//! - Workbench 2022 (`"version": "2022.x"`): raw tool outputs under `data`,
//!   with `data.lshw` as a JSON object or as a string of lshw output;
//! - Workbench 11 (`"version": "11.x"`): a `device` object, a `components`
//!   list with sizes in MB (10^6 bytes), and the lshw tree in `debug.lshw`;
//! - Workbench 10 (`"@type": "devices:Snapshot"`, 2018): a
//!   `device` object and `components` with sizes in MiB, where each erased
//!   disk carries an `erasure` record.

mod components;
mod erasure;

use filiere_domain::types::StorageKind;
use serde::Serialize;
use serde_json::Value;

use crate::{lshw, ErasureLog, EvidenceError, HardwareReport};

/// Contents of a Workbench snapshot about one machine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkbenchSnapshot {
    pub format: WorkbenchFormat,
    /// Workbench version as written, such as "2022.03.3-alpha" or "11.0b11".
    pub version: String,
    /// Snapshot identifier (`uuid`, or `_uuid` in the 2018 format).
    pub uuid: Option<String>,
    /// When the snapshot was taken, as written: `timestamp` (2022), `endTime`
    /// (11) or `date` (2018). Kept even when it is not ISO 8601, with a
    /// warning.
    pub timestamp: Option<String>,
    pub hardware: HardwareReport,
    /// Disk erasures recorded in the snapshot (2018 format only).
    pub erasures: Option<ErasureLog>,
    /// Problems that did not prevent the import, in plain English.
    pub warnings: Vec<String>,
}

/// Snapshot format, by the Workbench release that writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkbenchFormat {
    Workbench2022,
    Workbench11,
    Legacy2018,
}

/// Parses the bytes of a Workbench snapshot.
///
/// Fails with the line and column when the file is not valid JSON, and with
/// the field name when the snapshot has no hardware inventory.
pub fn parse_workbench(bytes: &[u8]) -> Result<WorkbenchSnapshot, EvidenceError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let root: Value = serde_json::from_str(text).map_err(json_error)?;
    let format = detect_format(&root)?;
    let mut warnings = Vec::new();
    let version = match root.get("version").and_then(Value::as_str) {
        Some(version) => version.to_string(),
        None => {
            warnings
                .push("field version is missing, so the Workbench version is unknown".to_string());
            String::new()
        }
    };
    let (hardware, erasures) = match format {
        WorkbenchFormat::Workbench2022 => {
            let mut hardware = hardware_2022(&root)?;
            complete_from_smart(&root, &mut hardware);
            (hardware, None)
        }
        WorkbenchFormat::Workbench11 => (components::hardware_11(&root, &mut warnings), None),
        WorkbenchFormat::Legacy2018 => {
            let hardware = components::hardware_2018(&root);
            (hardware, erasure::erasure_log(&root, &version))
        }
    };
    Ok(WorkbenchSnapshot {
        format,
        uuid: text_field(&root, "uuid").or_else(|| text_field(&root, "_uuid")),
        timestamp: timestamp(&root, format, &mut warnings),
        version,
        hardware,
        erasures,
        warnings,
    })
}

fn json_error(error: serde_json::Error) -> EvidenceError {
    let message = error.to_string();
    let reason = match message.rfind(" at line ") {
        Some(end) => &message[..end],
        None => message.as_str(),
    };
    EvidenceError::new(
        format!("line {}, column {}", error.line(), error.column()),
        format!("invalid JSON: {reason}. A Workbench snapshot is one JSON object: check that the file was copied whole"),
    )
    .with_kind(crate::EvidenceErrorKind::InvalidJson)
}

fn detect_format(root: &Value) -> Result<WorkbenchFormat, EvidenceError> {
    if !root.is_object() {
        return Err(EvidenceError::new(
            "file",
            "expected a JSON object, the Workbench snapshot",
        ));
    }
    if root.get("data").is_some_and(Value::is_object) {
        return Ok(WorkbenchFormat::Workbench2022);
    }
    let has_components = root.get("components").is_some_and(Value::is_array);
    let has_device = root.get("device").is_some_and(Value::is_object);
    if root.get("@type").and_then(Value::as_str) == Some("devices:Snapshot") {
        return Ok(WorkbenchFormat::Legacy2018);
    }
    if has_components && has_device {
        return Ok(WorkbenchFormat::Workbench11);
    }
    Err(EvidenceError::new(
        "file",
        "not a Workbench snapshot: expected a `data` object (Workbench 2022), `device` and \
         `components` (Workbench 11), or \"@type\": \"devices:Snapshot\" (Workbench 2018)",
    ))
}

/// Reads `data.lshw`, which Workbench 2022 stores as parsed JSON or, in some
/// releases, as the text lshw printed.
fn hardware_2022(root: &Value) -> Result<HardwareReport, EvidenceError> {
    let field = "field data.lshw";
    match root.pointer("/data/lshw") {
        Some(Value::String(output)) => {
            lshw::parse_lshw_text(output).map_err(|error| EvidenceError {
                location: format!("{field}, {}", error.location),
                ..error
            })
        }
        Some(value @ (Value::Object(_) | Value::Array(_))) => {
            lshw::report_from_values(std::slice::from_ref(value)).map_err(|error| EvidenceError {
                location: field.to_string(),
                ..error
            })
        }
        Some(other) => Err(EvidenceError::new(
            field,
            format!(
                "expected lshw output, found {other}. Re-run Workbench so that it captures lshw"
            ),
        )),
        None => Err(EvidenceError::new(
            field,
            "missing: the snapshot has no lshw output. Re-run Workbench so that it captures lshw",
        )
        .with_kind(crate::EvidenceErrorKind::MissingField)),
    }
}

/// Completes lshw disks with the smartctl output of the same drive (same
/// serial) in `data.smart`. smartctl gives the full model name, while lshw
/// prints the SCSI product cut at 16 characters ("WDC WD1600BEVT-2"). The
/// kind comes from the rotation rate (0 for an SSD) or the NVMe device type.
fn complete_from_smart(root: &Value, hardware: &mut HardwareReport) {
    let Some(reports) = root.pointer("/data/smart").and_then(Value::as_array) else {
        return;
    };
    for disk in &mut hardware.storage {
        let Some(serial) = disk.serial.as_deref() else {
            continue;
        };
        let same_drive = |report: &&Value| {
            report
                .get("serial_number")
                .and_then(Value::as_str)
                .map(str::trim)
                == Some(serial)
        };
        let Some(report) = reports.iter().find(same_drive) else {
            continue;
        };
        if let Some(model) = text_field(report, "model_name") {
            disk.model = model;
        }
        let nvme = report.pointer("/device/type").and_then(Value::as_str) == Some("nvme");
        let rotation = report.get("rotation_rate").and_then(Value::as_u64);
        disk.kind = match (nvme, rotation) {
            (true, _) => StorageKind::Nvme,
            (false, Some(0)) => StorageKind::Ssd,
            (false, Some(_)) => StorageKind::Hdd,
            (false, None) => disk.kind,
        };
    }
}

fn timestamp(root: &Value, format: WorkbenchFormat, warnings: &mut Vec<String>) -> Option<String> {
    let field = match format {
        WorkbenchFormat::Workbench2022 => "timestamp",
        WorkbenchFormat::Workbench11 => "endTime",
        WorkbenchFormat::Legacy2018 => "date",
    };
    let value = text_field(root, field)?;
    if !is_iso_date_time(&value) {
        warnings.push(format!(
            "field {field}: {value:?} is not an ISO 8601 date and time \
             (expected YYYY-MM-DDTHH:MM:SS), kept as written"
        ));
    }
    Some(value)
}

/// Checks whether `value` starts with `YYYY-MM-DDTHH:MM` (a space in place of the
/// `T` is accepted, as ISO 8601 profiles such as RFC 3339 allow).
fn is_iso_date_time(value: &str) -> bool {
    let bytes = value.as_bytes();
    let pattern = b"dddd-dd-ddTdd:dd";
    bytes.len() >= pattern.len()
        && pattern
            .iter()
            .zip(bytes)
            .all(|(expected, actual)| match expected {
                b'd' => actual.is_ascii_digit(),
                b'T' => matches!(actual, b'T' | b' '),
                other => other == actual,
            })
}

/// Returns a non-empty text field of a JSON object.
fn text_field(root: &Value, key: &str) -> Option<String> {
    let value = root.get(key)?.as_str()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}
