//! Parser for `smartctl --json` reports (`-a -j`, `-x -j`, `--json=cosviu`)
//! of ATA/SATA, NVMe and SCSI/SAS disks.
//!
//! A failing disk is a parsed [`DiskHealth`] with `failing` set. Errors are
//! for files that contain no health data: smartctl could not open the device,
//! the file is the output of `smartctl --scan`, `-A` or `-i`, or it is the
//! plain-text report. The `smartctl_NNNN_i`/`_u` keys and the `output` text
//! array that `--json=cosviu` adds are ignored.

use filiere_domain::serial::SerialNumber;
use filiere_domain::types::StorageKind;
use serde_json::Value;

use crate::{DiskHealth, EvidenceError};

/// ATA attribute ids read from `ata_smart_attributes.table`.
const REALLOCATED_SECTOR_COUNT: u64 = 5;
const POWER_ON_HOURS: u64 = 9;
const CURRENT_PENDING_SECTOR: u64 = 197;

/// Meaning of the bits of the NVMe `critical_warning` byte (NVMe base
/// specification, SMART / Health Information log page, byte 0).
const NVME_CRITICAL_WARNINGS: [&str; 6] = [
    "available spare below threshold",
    "temperature outside the allowed range",
    "reliability degraded by media or internal errors",
    "media placed in read-only mode",
    "volatile memory backup device failed",
    "persistent memory region placed in read-only mode",
];

/// Parses one `smartctl --json` report into the health of one disk.
pub fn parse_smartctl(bytes: &[u8]) -> Result<DiskHealth, EvidenceError> {
    let report = parse_json(bytes)?;
    reject_scan_output(&report)?;
    reject_failed_run(&report)?;
    let model = read_model(&report)?;
    if !has_health_data(&report) {
        return Err(EvidenceError::new(
            "field smart_status",
            format!(
                "the report identifies the disk ({model}) but contains no SMART health data: \
                 no smart_status, ATA attributes, NVMe health log or SCSI defect list. The \
                 output of `smartctl -i` and reports on RAID volumes look like this; run `{}`, \
                 or for a RAID volume, run it on each member disk",
                json_command(&report)
            ),
        ));
    }
    let mut health = DiskHealth {
        model,
        serial: read_serial(&report)?,
        capacity_bytes: read_capacity(&report),
        kind: read_kind(&report),
        power_on_hours: read_power_on_hours(&report),
        smart_passed: pointer_bool(&report, "/smart_status/passed"),
        reallocated_sectors: ata_raw(&report, REALLOCATED_SECTOR_COUNT)
            .or_else(|| pointer_u64(&report, "/scsi_grown_defect_list")),
        pending_sectors: ata_raw(&report, CURRENT_PENDING_SECTOR),
        nvme_percentage_used: nvme_field(&report, "percentage_used"),
        nvme_media_errors: nvme_field(&report, "media_errors"),
        failing: false,
        failing_reasons: Vec::new(),
    };
    health.failing_reasons = failing_reasons(&report, &health);
    health.failing = !health.failing_reasons.is_empty();
    Ok(health)
}

fn parse_json(bytes: &[u8]) -> Result<Value, EvidenceError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // smartctl copies the drive's identity strings as the firmware returns
    // them, which may not be UTF-8; those bytes become U+FFFD, as in the
    // other parsers, instead of failing the whole report.
    let text = String::from_utf8_lossy(bytes);
    match serde_json::from_str::<Value>(&text) {
        Ok(report @ Value::Object(_)) => Ok(report),
        Ok(_) => Err(EvidenceError::new(
            "file",
            "the JSON document is not an object; expected the output of `smartctl -x --json`",
        )),
        Err(error) if looks_like_text_report(bytes) => Err(EvidenceError::new(
            "file",
            format!(
                "this is the plain-text output of smartctl, not JSON ({error}); run smartctl \
                 with --json, such as `smartctl -x --json /dev/sdX`"
            ),
        )),
        Err(error) => Err(EvidenceError::new(
            format!("line {}", error.line()),
            format!("invalid JSON ({error}); expected the output of `smartctl -x --json`"),
        )
        .with_kind(crate::EvidenceErrorKind::InvalidJson)),
    }
}

fn looks_like_text_report(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    head.trim_start().starts_with("smartctl ") || head.contains("=== START OF ")
}

fn reject_scan_output(report: &Value) -> Result<(), EvidenceError> {
    let Some(devices) = report.get("devices").and_then(Value::as_array) else {
        return Ok(());
    };
    if has_key(report, "device") {
        return Ok(());
    }
    Err(EvidenceError::new(
        "field devices",
        format!(
            "this is the output of `smartctl --scan`, which lists {} devices but no health \
             data; run `smartctl -x --json` on each device, such as `smartctl -x --json /dev/sda`",
            devices.len()
        ),
    ))
}

/// Rejects a run where smartctl could not read the device: exit status bit 0
/// (command line or device type not understood) or bit 1 (device open
/// failed), or no `device` block at all. Bit 2 (some SMART command failed)
/// still leaves a usable report, so it is accepted.
fn reject_failed_run(report: &Value) -> Result<(), EvidenceError> {
    let exit_status = pointer_u64(report, "/smartctl/exit_status");
    let messages = smartctl_messages(report);
    let quoted = if messages.is_empty() {
        "smartctl printed no message".to_string()
    } else {
        format!("smartctl: \"{}\"", messages.join("\"; \""))
    };
    if let Some(status) = exit_status.filter(|status| status & 0b11 != 0) {
        let cause = if status & 0b10 != 0 {
            "the device could not be opened"
        } else {
            "the command line or the device type was not understood; give the device type \
             with -d, such as `-d sat`"
        };
        return Err(EvidenceError::new(
            "field smartctl.exit_status",
            format!("smartctl exited with status {status}: {cause} ({quoted})"),
        ));
    }
    if !has_key(report, "device") && !has_key(report, "model_name") {
        return Err(EvidenceError::new(
            "field device",
            format!(
                "the report names no device, so smartctl read nothing ({quoted}); run \
                 `smartctl -x --json /dev/sdX` as root"
            ),
        ));
    }
    Ok(())
}

fn smartctl_messages(report: &Value) -> Vec<String> {
    let Some(messages) = report
        .get("smartctl")
        .and_then(|smartctl| smartctl.get("messages"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    messages
        .iter()
        .filter_map(|message| message.get("string").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn read_model(report: &Value) -> Result<String, EvidenceError> {
    let model = ["/model_name", "/scsi_model_name"]
        .iter()
        .find_map(|pointer| pointer_str(report, pointer))
        .map(str::to_string)
        .or_else(|| {
            let vendor = pointer_str(report, "/vendor").or(pointer_str(report, "/scsi_vendor"));
            let product = pointer_str(report, "/product").or(pointer_str(report, "/scsi_product"));
            product.map(|product| format!("{} {product}", vendor.unwrap_or_default()))
        });
    match model {
        Some(model) if !model.trim().is_empty() => Ok(model.trim().to_string()),
        _ => Err(EvidenceError::new(
            "field model_name",
            format!(
                "the report has no identity block (model, serial), as in the output of \
                 `smartctl -A`; run `{}` instead",
                json_command(report)
            ),
        )
        .with_kind(crate::EvidenceErrorKind::MissingField)),
    }
}

/// Reads `serial_number`. Placeholders and fully masked values such as "--"
/// become `None`, but partly masked values such as "9RK1XXXX" are kept.
fn read_serial(report: &Value) -> Result<Option<String>, EvidenceError> {
    let Some(raw) = pointer_str(report, "/serial_number") else {
        return Ok(None);
    };
    // Some NVMe firmware (a Corsair Force MP510 seen with smartctl 7.0)
    // reports the serial as "yes". That names no unit, so it is not an
    // identity.
    if raw.trim().eq_ignore_ascii_case("yes") {
        return Ok(None);
    }
    SerialNumber::parse(raw)
        .map(|serial| serial.map(|serial| serial.as_str().to_string()))
        .map_err(|error| EvidenceError::new("field serial_number", error.to_string()))
}

fn read_capacity(report: &Value) -> Option<u64> {
    pointer_u64(report, "/user_capacity/bytes")
        .or_else(|| pointer_u64(report, "/nvme_total_capacity"))
}

/// Derives the kind: NVMe from the device protocol, otherwise SSD for a
/// rotation rate of 0 and HDD for any other rate. Without a rotation rate
/// the kind is unknown and reported as `Other`.
fn read_kind(report: &Value) -> StorageKind {
    let protocol = pointer_str(report, "/device/protocol").unwrap_or_default();
    let device_type = pointer_str(report, "/device/type").unwrap_or_default();
    if protocol.eq_ignore_ascii_case("nvme") || device_type.eq_ignore_ascii_case("nvme") {
        return StorageKind::Nvme;
    }
    match pointer_u64(report, "/rotation_rate") {
        Some(0) => StorageKind::Ssd,
        Some(_) => StorageKind::Hdd,
        None => StorageKind::Other,
    }
}

/// Reads the power-on hours. `power_on_time.hours` comes first because
/// smartctl has already converted it for drives whose attribute 9 counts
/// minutes or half-minutes.
fn read_power_on_hours(report: &Value) -> Option<u64> {
    pointer_u64(report, "/power_on_time/hours")
        .or_else(|| nvme_field(report, "power_on_hours"))
        .or_else(|| ata_raw(report, POWER_ON_HOURS))
}

fn has_health_data(report: &Value) -> bool {
    [
        "/smart_status/passed",
        "/ata_smart_attributes/table",
        "/nvme_smart_health_information_log",
        "/scsi_grown_defect_list",
    ]
    .iter()
    .any(|pointer| {
        report
            .pointer(pointer)
            .is_some_and(|value| !value.is_null())
    })
}

fn failing_reasons(report: &Value, health: &DiskHealth) -> Vec<String> {
    let mut reasons = Vec::new();
    if health.smart_passed == Some(false) {
        reasons.push(
            "SMART overall-health self-assessment failed (smart_status.passed is false)"
                .to_string(),
        );
    }
    reasons.extend(attributes_failing_now(report));
    if let Some(warning) = nvme_field(report, "critical_warning").filter(|warning| *warning != 0) {
        reasons.push(describe_critical_warning(warning));
    }
    if let Some(errors) = health.nvme_media_errors.filter(|errors| *errors > 0) {
        reasons.push(format!("{errors} NVMe media errors"));
    }
    if let Some(count) = health.reallocated_sectors.filter(|count| *count > 0) {
        if ata_raw(report, REALLOCATED_SECTOR_COUNT).is_some() {
            reasons.push(format!("{count} reallocated sectors (attribute 5)"));
        } else {
            reasons.push(format!(
                "{count} grown defects (reallocated blocks) in the SCSI defect list"
            ));
        }
    }
    if let Some(count) = health.pending_sectors.filter(|count| *count > 0) {
        reasons.push(format!(
            "{count} sectors pending reallocation (attribute 197)"
        ));
    }
    reasons
}

/// Lists ATA attributes whose normalized value is at or below the threshold
/// now (`when_failed` "now"). "past" is not a failure by itself.
fn attributes_failing_now(report: &Value) -> Vec<String> {
    ata_attributes(report)
        .filter(|attribute| attribute.get("when_failed").and_then(Value::as_str) == Some("now"))
        .map(|attribute| {
            let id = attribute
                .get("id")
                .and_then(Value::as_u64)
                .unwrap_or_default();
            let name = attribute
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("unnamed");
            format!("attribute {id} {name} is failing now (normalized value at or below threshold)")
        })
        .collect()
}

fn describe_critical_warning(warning: u64) -> String {
    let set: Vec<&str> = NVME_CRITICAL_WARNINGS
        .iter()
        .enumerate()
        .filter(|(bit, _)| warning & (1 << bit) != 0)
        .map(|(_, meaning)| *meaning)
        .collect();
    format!("NVMe critical warning {warning:#04x}: {}", set.join(", "))
}

fn ata_attributes(report: &Value) -> impl Iterator<Item = &Value> {
    report
        .pointer("/ata_smart_attributes/table")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Reads an ATA attribute's raw value. The leading number of `raw.string`
/// comes first because `raw.value` packs extra vendor fields for some drives
/// ("2725 (151 234 0)" has `raw.value` 167031278144165).
fn ata_raw(report: &Value, id: u64) -> Option<u64> {
    let attribute = ata_attributes(report)
        .find(|attribute| attribute.get("id").and_then(Value::as_u64) == Some(id))?;
    let raw = attribute.get("raw")?;
    let from_string = raw.get("string").and_then(Value::as_str).and_then(|text| {
        let digits: String = text
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    });
    from_string.or_else(|| raw.get("value").and_then(Value::as_u64))
}

fn nvme_field(report: &Value, name: &str) -> Option<u64> {
    pointer_u64(
        report,
        &format!("/nvme_smart_health_information_log/{name}"),
    )
}

fn json_command(report: &Value) -> String {
    let device = pointer_str(report, "/device/name").unwrap_or("/dev/sdX");
    format!("smartctl -x --json {device}")
}

fn has_key(report: &Value, key: &str) -> bool {
    report.get(key).is_some()
}

fn pointer_str<'a>(report: &'a Value, pointer: &str) -> Option<&'a str> {
    report.pointer(pointer).and_then(Value::as_str)
}

fn pointer_u64(report: &Value, pointer: &str) -> Option<u64> {
    report.pointer(pointer).and_then(Value::as_u64)
}

fn pointer_bool(report: &Value, pointer: &str) -> Option<bool> {
    report.pointer(pointer).and_then(Value::as_bool)
}
