//! Tests of the smartctl parser on small synthetic reports: each failing
//! rule on its own, raw-value quirks and malformed input.

use filiere_evidence::smartctl::parse_smartctl;
use filiere_evidence::{DiskHealth, EvidenceError};
use serde_json::{json, Value};

fn parse_json(json: &str) -> Result<DiskHealth, EvidenceError> {
    parse_smartctl(json.as_bytes())
}

/// Builds a minimal ATA report around `extra` fields.
fn ata_report(extra: Value) -> String {
    let mut report = json!({
        "smartctl": {"exit_status": 0},
        "device": {"name": "/dev/sda", "type": "sat", "protocol": "ATA"},
        "model_name": "TEST DISK",
        "serial_number": "SN0001",
        "rotation_rate": 7200,
    });
    for (key, value) in extra.as_object().expect("object") {
        report[key] = value.clone();
    }
    report.to_string()
}

fn attribute(id: u64, name: &str, raw: &str, when_failed: &str) -> Value {
    json!({"id": id, "name": name, "when_failed": when_failed, "raw": {"value": 0, "string": raw}})
}

fn nvme_report(log: Value) -> String {
    json!({
        "device": {"name": "/dev/nvme0", "type": "nvme", "protocol": "NVMe"},
        "model_name": "TEST NVME",
        "serial_number": "NV0001",
        "smart_status": {"passed": true},
        "nvme_smart_health_information_log": log,
    })
    .to_string()
}

#[test]
fn attribute_failing_now_fails() {
    let table = [attribute(184, "End-to-End_Error", "0", "now")];
    let report = ata_report(json!({"ata_smart_attributes": {"table": table}}));
    let health = parse_json(&report).expect("parses");
    assert!(health.failing);
    assert_eq!(
        health.failing_reasons,
        ["attribute 184 End-to-End_Error is failing now (normalized value at or below threshold)"]
    );
}

#[test]
fn attribute_failed_in_past_passes() {
    let table = [attribute(194, "Temperature_Celsius", "40", "past")];
    let report = ata_report(json!({"ata_smart_attributes": {"table": table}}));
    assert!(!parse_json(&report).expect("parses").failing);
}

#[test]
fn pending_sectors_alone_fail() {
    let table = [attribute(197, "Current_Pending_Sector", "3", "")];
    let report = ata_report(json!({"ata_smart_attributes": {"table": table}}));
    let health = parse_json(&report).expect("parses");
    assert_eq!(health.pending_sectors, Some(3));
    assert_eq!(
        health.failing_reasons,
        ["3 sectors pending reallocation (attribute 197)"]
    );
}

#[test]
fn packed_power_on_hours_read() {
    let table = [attribute(9, "Power_On_Hours", "2725 (151 234 0)", "")];
    let report = ata_report(json!({"ata_smart_attributes": {"table": table}}));
    assert_eq!(
        parse_json(&report).expect("parses").power_on_hours,
        Some(2725)
    );
}

#[test]
fn smart_verdict_alone_fails() {
    let report = ata_report(json!({"smart_status": {"passed": false}}));
    let health = parse_json(&report).expect("parses");
    assert!(health.failing);
    assert_eq!(health.failing_reasons.len(), 1);
}

#[test]
fn nvme_critical_warning_fails() {
    let report = nvme_report(json!({"critical_warning": 4, "media_errors": 0}));
    let health = parse_json(&report).expect("parses");
    assert!(health.failing);
    assert_eq!(
        health.failing_reasons,
        ["NVMe critical warning 0x04: reliability degraded by media or internal errors"]
    );
}

#[test]
fn nvme_media_errors_fail() {
    let report = nvme_report(json!({"critical_warning": 0, "media_errors": 3}));
    let health = parse_json(&report).expect("parses");
    assert_eq!(health.nvme_media_errors, Some(3));
    assert_eq!(health.failing_reasons, ["3 NVMe media errors"]);
}

#[test]
fn scsi_grown_defects_fail() {
    let report = ata_report(json!({"scsi_grown_defect_list": 12}));
    let health = parse_json(&report).expect("parses");
    assert_eq!(health.reallocated_sectors, Some(12));
    assert_eq!(
        health.failing_reasons,
        ["12 grown defects (reallocated blocks) in the SCSI defect list"]
    );
}

#[test]
fn byte_order_mark_accepted() {
    let report = format!(
        "\u{feff}{}",
        ata_report(json!({"smart_status": {"passed": true}}))
    );
    assert!(parse_json(&report).is_ok());
}

#[test]
fn invalid_json_names_line() {
    let error = parse_json("{\n  \"model_name\": \n}").expect_err("invalid");
    assert_eq!(error.location, "line 3");
    assert!(error.reason.contains("invalid JSON"), "{}", error.reason);
}

#[test]
fn json_array_rejected() {
    let error = parse_json("[]").expect_err("array");
    assert_eq!(error.location, "file");
    assert!(error.reason.contains("not an object"), "{}", error.reason);
}

#[test]
fn exit_status_bit_two_accepted() {
    let mut report: Value =
        serde_json::from_str(&ata_report(json!({"smart_status": {"passed": true}})))
            .expect("valid JSON");
    report["smartctl"]["exit_status"] = 4.into();
    assert!(parse_json(&report.to_string()).is_ok());
}

#[test]
fn spreadsheet_serial_rejected() {
    let report =
        ata_report(json!({"serial_number": "6.37702E+15", "smart_status": {"passed": true}}));
    let error = parse_json(&report).expect_err("serial");
    assert_eq!(error.location, "field serial_number");
}

#[test]
fn non_utf8_model_replaced() {
    let report = ata_report(json!({"smart_status": {"passed": true}}));
    let mut bytes = report.replace("TEST DISK", "TEST @@ DISK").into_bytes();
    let at = bytes
        .windows(2)
        .position(|w| w == b"@@")
        .expect("model marker");
    bytes[at] = 0xE9;
    bytes[at + 1] = 0xFF;
    let health = parse_smartctl(&bytes).expect("report with Latin-1 bytes is read");
    assert_eq!(health.model, "TEST \u{FFFD}\u{FFFD} DISK");
    assert_eq!(health.serial.as_deref(), Some("SN0001"));
}
