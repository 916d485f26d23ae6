//! Tests of the Workbench snapshot parser on real snapshots of the three
//! formats and on synthetic variants.

use std::path::PathBuf;

use filiere_domain::types::{Outcome, StorageKind};
use filiere_evidence::workbench::{parse_workbench, WorkbenchFormat, WorkbenchSnapshot};
use serde_json::{json, Value};

use WorkbenchFormat::{Legacy2018, Workbench11, Workbench2022};

/// Expected result per fixture: format, system serial as reported, number
/// of storage units and of warnings.
#[rustfmt::skip]
const EXPECTED: &[(&str, WorkbenchFormat, &str, usize, usize)] = &[
    ("wb-legacy2018_hp-dc7900_erasure_snapshot.json", Legacy2018, "CZC901381R", 1, 0),
    ("wb11_desktop-system-manufacturer_snapshot.json", Workbench11, "System Serial Number", 1, 0),
    ("wb11_toshiba-satellite-l655_snapshot.json", Workbench11, "2B335208Q", 1, 0),
    ("wb2022_acer-aohappy_BAD-timestamp_snapshot.json", Workbench2022, "LUSEA0D010038879A01601", 2, 1),
    ("wb2022_acer-aohappy_snapshot.json", Workbench2022, "LUSEA0D010038879A01601", 2, 0),
    ("wb2022_desktop-no-serial_snapshot.json", Workbench2022, "System Serial Number", 2, 0),
    ("wb2022_hp-compaq-8100_snapshot.json", Workbench2022, "CZC0408YPV", 2, 0),
    ("wb2022_lenovo-x1-carbon-5th_snapshot.json", Workbench2022, "PF0QMY5N", 1, 0),
];

fn fixture_path(folder: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join(file)
}

fn read_fixture(file: &str) -> Vec<u8> {
    std::fs::read(fixture_path("workbench", file)).expect("fixture is readable")
}

fn parse_fixture(file: &str) -> WorkbenchSnapshot {
    parse_workbench(&read_fixture(file)).unwrap_or_else(|error| panic!("{file}: {error}"))
}

fn parse_value(value: &Value) -> WorkbenchSnapshot {
    parse_workbench(value.to_string().as_bytes()).unwrap_or_else(|error| panic!("{error}"))
}

const LEGACY: &str = "wb-legacy2018_hp-dc7900_erasure_snapshot.json";

#[test]
fn every_fixture_has_expected_outcome() {
    let mut files: Vec<String> = std::fs::read_dir(fixture_path("workbench", ""))
        .expect("fixture folder exists")
        .map(|entry| {
            entry
                .expect("folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|(file, ..)| *file).collect();
    assert_eq!(
        files, listed,
        "every fixture needs a row in EXPECTED, in name order"
    );

    for &(file, format, raw_serial, storage_units, warnings) in EXPECTED {
        let snapshot = parse_fixture(file);
        let hardware = &snapshot.hardware;
        assert_eq!(snapshot.format, format, "{file}: format");
        assert_eq!(hardware.system.raw_serial, raw_serial, "{file}: serial");
        assert_eq!(hardware.storage.len(), storage_units, "{file}: storage");
        assert_eq!(
            snapshot.warnings.len(),
            warnings,
            "{file}: {:?}",
            snapshot.warnings
        );
        assert!(!snapshot.version.is_empty(), "{file}: version");
        assert!(snapshot.uuid.is_some(), "{file}: uuid");
        assert!(snapshot.timestamp.is_some(), "{file}: timestamp");
        assert!(
            !snapshot.hardware.system.vendor.is_empty(),
            "{file}: vendor"
        );
        assert_eq!(snapshot.hardware.cpus.len(), 1, "{file}: processors");
        assert_eq!(
            snapshot.erasures.is_some(),
            file == LEGACY,
            "{file}: erasures"
        );
    }
}

#[test]
fn wb2022_identity_and_nvme_disk() {
    let snapshot = parse_fixture("wb2022_lenovo-x1-carbon-5th_snapshot.json");
    assert_eq!(snapshot.version, "2022.03.00");
    let system = &snapshot.hardware.system;
    assert_eq!(system.vendor, "LENOVO");
    assert_eq!(system.serial.as_deref(), Some("PF0QMY5N"));
    assert_eq!(system.chassis.as_deref(), Some("notebook"));
    let disk = &snapshot.hardware.storage[0];
    assert_eq!(disk.kind, StorageKind::Nvme);
    assert_eq!(disk.serial.as_deref(), Some("S35ANX0J401001"));
    assert_eq!(disk.size_bytes, Some(1_024_209_543_168));
}

#[test]
fn wb2022_smart_completes_disks() {
    let snapshot = parse_fixture("wb2022_hp-compaq-8100_snapshot.json");
    let disk = snapshot
        .hardware
        .storage
        .iter()
        .find(|disk| disk.logical_name.as_deref() == Some("/dev/sda"));
    let disk = disk.expect("internal disk");
    assert_eq!(
        disk.model, "WDC WDS120G1G0A-00SS50",
        "full model from smartctl"
    );
    assert_eq!(disk.kind, StorageKind::Ssd, "rotation rate 0");
    let acer = parse_fixture("wb2022_acer-aohappy_snapshot.json");
    let hdd = acer
        .hardware
        .storage
        .iter()
        .find(|disk| disk.model.starts_with("WDC"))
        .expect("HDD");
    assert_eq!(hdd.kind, StorageKind::Hdd, "rotation rate 5400");
}

#[test]
fn wb2022_lshw_string_is_parsed() {
    let lshw = std::fs::read_to_string(fixture_path(
        "lshw",
        "lenovo-thinkpad-x1-carbon-5th.lshw.json",
    ))
    .unwrap();
    let snapshot = parse_value(&json!({"version": "2022.03.00", "data": {"lshw": lshw}}));
    assert_eq!(snapshot.hardware.system.serial.as_deref(), Some("PF0QMY5N"));
    assert_eq!(snapshot.hardware.storage[0].kind, StorageKind::Nvme);
    assert_eq!(snapshot.timestamp, None);
}

#[test]
fn wb2022_broken_lshw_string_repaired() {
    let lshw = std::fs::read_to_string(fixture_path(
        "lshw",
        "qemu-vm-INVALID-missing-children.lshw.json",
    ))
    .unwrap();
    let snapshot = parse_value(&json!({"version": "2022.03.00", "data": {"lshw": lshw}}));
    assert_eq!(snapshot.hardware.system.vendor, "QEMU");
    assert_eq!(snapshot.hardware.repairs.len(), 1);
}

#[test]
fn wb2022_bad_lshw_string_located() {
    let snapshot = json!({"version": "2022.03.00", "data": {"lshw": "{\n\"class\": \"system\",\n\"vendor\": ]"}});
    let error = parse_workbench(snapshot.to_string().as_bytes()).unwrap_err();
    assert_eq!(error.location, "field data.lshw, line 3, column 11");
    assert!(error.reason.contains("expected a value"), "{error}");
}

#[test]
fn wb2022_missing_lshw_rejected() {
    for data in [
        json!({}),
        json!({"lshw": null}),
        json!({"lshw": {"hwinfo": "x"}}),
    ] {
        let error = parse_workbench(
            json!({"version": "2022.4.0", "data": data})
                .to_string()
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(error.location, "field data.lshw", "{data}");
        assert!(error.reason.contains("lshw"), "{error}");
    }
}

#[test]
fn bad_timestamp_kept_with_warning() {
    let snapshot = parse_fixture("wb2022_acer-aohappy_BAD-timestamp_snapshot.json");
    assert_eq!(snapshot.timestamp.as_deref(), Some("2022-04-09_10h51m48s"));
    assert_eq!(snapshot.warnings.len(), 1);
    assert!(
        snapshot.warnings[0].starts_with("field timestamp: \"2022-04-09_10h51m48s\""),
        "{:?}",
        snapshot.warnings
    );
    assert!(
        snapshot.warnings[0].contains("ISO 8601"),
        "{:?}",
        snapshot.warnings
    );
    assert_eq!(
        snapshot.hardware.system.serial.as_deref(),
        Some("LUSEA0D010038879A01601")
    );
}

#[test]
fn wb11_identity_from_device() {
    let snapshot = parse_fixture("wb11_toshiba-satellite-l655_snapshot.json");
    let system = &snapshot.hardware.system;
    assert_eq!(system.vendor, "TOSHIBA");
    assert_eq!(system.product, "Satellite L655");
    assert_eq!(system.serial.as_deref(), Some("2B335208Q"));
    assert_eq!(
        system.chassis.as_deref(),
        Some("Netbook"),
        "as Workbench wrote it"
    );
    assert_eq!(
        snapshot.hardware.memory_bytes,
        Some(4 << 30),
        "two 2048 MiB modules"
    );
    let disk = &snapshot.hardware.storage[0];
    assert_eq!(disk.model, "HGST HTS725050A7");
    assert_eq!(disk.serial.as_deref(), Some("TF0500WJ1T3N4V"));
    assert_eq!(disk.size_bytes, Some(500_107_862_016), "500107.862016 MB");
    assert_eq!(disk.kind, StorageKind::Hdd);
    assert_eq!(
        disk.logical_name.as_deref(),
        Some("/dev/sda"),
        "from debug.lshw"
    );
}

#[test]
fn wb11_null_identity_uses_lshw() {
    let snapshot = parse_fixture("wb11_desktop-system-manufacturer_snapshot.json");
    let system = &snapshot.hardware.system;
    assert_eq!(system.vendor, "System manufacturer");
    assert_eq!(system.serial, None);
    assert_eq!(system.raw_serial, "System Serial Number");
    assert_eq!(system.chassis.as_deref(), Some("Tower"));
    assert_eq!(
        snapshot.hardware.storage[0].serial.as_deref(),
        Some("Z3TCEZAC")
    );
}

#[test]
fn legacy_identity_and_disk() {
    let snapshot = parse_fixture(LEGACY);
    assert_eq!(snapshot.version, "10.0b1");
    let system = &snapshot.hardware.system;
    assert_eq!(system.vendor, "Hewlett-Packard");
    assert_eq!(system.product, "HP Compaq dc7900 Small Form Factor");
    assert_eq!(system.serial.as_deref(), Some("CZC901381R"));
    let disk = &snapshot.hardware.storage[0];
    assert_eq!(disk.model, "ST3160815AS");
    assert_eq!(disk.serial.as_deref(), Some("6RX7AWEZ"));
    assert_eq!(disk.size_bytes, Some(152_627 << 20), "152627 MiB");
    assert_eq!(disk.kind, StorageKind::Hdd);
}

#[test]
fn legacy_erasure_per_disk() {
    let log = parse_fixture(LEGACY).erasures.expect("erasure log");
    assert_eq!(log.tool, "eReuse Workbench");
    assert_eq!(log.tool_version.as_deref(), Some("10.0b1"));
    assert_eq!(log.disks.len(), 1);
    let disk = &log.disks[0];
    assert_eq!(disk.serial.as_deref(), Some("6RX7AWEZ"));
    assert_eq!(disk.method, "EraseSectors (Zeros, Random)");
    assert_eq!(disk.passes, Some(2));
    assert_eq!(disk.started.as_deref(), Some("2018-02-07T09:39:57"));
    assert_eq!(disk.ended.as_deref(), Some("2018-02-07T11:51:46"));
    assert_eq!(disk.result, Outcome::Passed);
    assert!(disk.failure_reasons.is_empty());
}

#[test]
fn legacy_failed_step_fails_disk() {
    let mut snapshot: Value = serde_json::from_slice(&read_fixture(LEGACY)).unwrap();
    snapshot["components"][1]["erasure"]["steps"][1]["success"] = json!(false);
    let disk = &parse_value(&snapshot).erasures.expect("erasure log").disks[0];
    assert_eq!(disk.result, Outcome::Failed);
    assert_eq!(disk.passes, Some(1));
    assert_eq!(
        disk.failure_reasons,
        ["step 2 (Random) did not report success"]
    );
}

#[test]
fn legacy_unsuccessful_record_fails() {
    let mut snapshot: Value = serde_json::from_slice(&read_fixture(LEGACY)).unwrap();
    snapshot["components"][1]["erasure"]["success"] = json!(false);
    snapshot["components"][1]["erasure"]["steps"] = json!([]);
    let disk = &parse_value(&snapshot).erasures.expect("erasure log").disks[0];
    assert_eq!(disk.result, Outcome::Failed);
    assert_eq!(disk.failure_reasons.len(), 2);
    assert!(
        disk.failure_reasons[0].contains("success false"),
        "{:?}",
        disk.failure_reasons
    );
    assert!(
        disk.failure_reasons[1].contains("no steps"),
        "{:?}",
        disk.failure_reasons
    );
}

#[test]
fn invalid_json_names_position() {
    let error = parse_workbench(b"{\n  \"version\": \"11.0\",\n  \"device\": }").unwrap_err();
    assert_eq!(error.location, "line 3, column 13");
    assert!(
        error.reason.starts_with("invalid JSON: expected value"),
        "{error}"
    );
}

#[test]
fn unknown_json_rejected() {
    for text in [r#"{"smartctl": {}}"#, "[1, 2]"] {
        let error = parse_workbench(text.as_bytes()).unwrap_err();
        assert_eq!(error.location, "file", "{text}");
        assert!(error.reason.contains("Workbench snapshot"), "{error}");
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|byte| vec![byte]).collect();
    let legacy = read_fixture(LEGACY);
    inputs.extend(
        (0..legacy.len())
            .step_by(7)
            .map(|end| legacy[..end].to_vec()),
    );
    let qemu = std::fs::read_to_string(fixture_path(
        "lshw",
        "qemu-vm-INVALID-missing-children.lshw.json",
    ))
    .unwrap();
    for end in (0..qemu.len()).step_by(97) {
        let snapshot = json!({"version": "2022.03.00", "data": {"lshw": &qemu[..end]}});
        inputs.push(snapshot.to_string().into_bytes());
    }
    inputs.push(b"[".repeat(100_000));
    for input in &inputs {
        let _ = parse_workbench(input);
    }
}
