//! Tests of the smartctl parser on every real report in
//! `fixtures/smartctl/` and on small synthetic reports for edge cases.

use std::fs;
use std::path::Path;

use filiere_domain::types::StorageKind;
use filiere_evidence::smartctl::parse_smartctl;
use filiere_evidence::{DiskHealth, EvidenceError};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smartctl");

/// Expected outcome of parsing one fixture.
enum Expected {
    /// The report parses; `failing` is the expected verdict.
    Parses { failing: bool },
    /// The report is rejected at `location` with a reason containing `reason`.
    Rejected {
        location: &'static str,
        reason: &'static str,
    },
}

use Expected::{Parses, Rejected};

const OPEN_FAILED: Expected = Rejected {
    location: "field smartctl.exit_status",
    reason: "Unknown USB bridge",
};

const CASES: &[(&str, Expected)] = &[
    // 126 reallocated sectors although the SMART verdict is PASSED.
    (
        "ereuse_hdd_hitachi-hdt722520dlat80_desktop.json",
        Parses { failing: true },
    ),
    (
        "ereuse_hdd_hitachi-hdt722520dlat80_desktop__error_sdb_json-cosviu.json",
        OPEN_FAILED,
    ),
    // Exit status 4 (a SMART command failed) still carries a full report.
    (
        "ereuse_hdd_wdc-wd1600bevt_acer-aohappy.json",
        Parses { failing: false },
    ),
    (
        "ereuse_hdd_wdc-wd1600bevt_acer-aohappy__error_sdb_json-cosviu.json",
        OPEN_FAILED,
    ),
    (
        "ereuse_nvme_samsung-mzvlw1t0_x1carbon.json",
        Parses { failing: false },
    ),
    (
        "ereuse_sata-ssd_wdc-wds120g1g0a_hp8100.json",
        Parses { failing: false },
    ),
    (
        "ereuse_sata-ssd_wdc-wds120g1g0a_hp8100__error_sdb_json-cosviu.json",
        OPEN_FAILED,
    ),
    (
        "hwprobe_apple-hts541010a9e632_smartctl-text.txt",
        Rejected {
            location: "file",
            reason: "run smartctl with --json",
        },
    ),
    // CRC errors count cable faults, not disk wear.
    (
        "scrutiny_smart-ata-failed-scrutiny.json",
        Parses { failing: false },
    ),
    ("scrutiny_smart-ata-full.json", Parses { failing: false }),
    ("scrutiny_smart-ata.json", Parses { failing: false }),
    (
        "scrutiny_smart-fail.json",
        Rejected {
            location: "field smartctl.exit_status",
            reason: "Open failed, Error=5",
        },
    ),
    ("scrutiny_smart-fail2.json", Parses { failing: true }),
    ("scrutiny_smart-nvme.json", Parses { failing: false }),
    ("scrutiny_smart-nvme2.json", Parses { failing: false }),
    (
        "scrutiny_smart-raid.json",
        Rejected {
            location: "field smart_status",
            reason: "each member disk",
        },
    ),
    (
        "scrutiny_smart-sat.json",
        Rejected {
            location: "field model_name",
            reason: "run `smartctl -x --json /dev/sdc`",
        },
    ),
    ("scrutiny_smart-scsi2.json", Parses { failing: false }),
    (
        "scrutiny_smartctl_info_sata_smart_support_bool.json",
        Rejected {
            location: "field smart_status",
            reason: "no SMART health data",
        },
    ),
    (
        "scrutiny_smartctl_scan_simple.json",
        Rejected {
            location: "field devices",
            reason: "`smartctl --scan`",
        },
    ),
];

fn parse_fixture(name: &str) -> Result<DiskHealth, EvidenceError> {
    let bytes = fs::read(Path::new(FIXTURES).join(name)).expect("fixture is readable");
    parse_smartctl(&bytes)
}

fn health(name: &str) -> DiskHealth {
    parse_fixture(name).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn rejection(name: &str) -> EvidenceError {
    parse_fixture(name).expect_err(name)
}

#[test]
fn every_fixture_has_a_case() {
    for entry in fs::read_dir(FIXTURES).expect("fixture folder exists") {
        let name = entry
            .expect("folder entry")
            .file_name()
            .into_string()
            .expect("UTF-8 name");
        if name == "SOURCES.md" {
            continue;
        }
        assert!(
            CASES.iter().any(|(file, _)| *file == name),
            "{name} has no expected outcome"
        );
    }
}

#[test]
fn fixtures_match_table() {
    for (name, expected) in CASES {
        match (parse_fixture(name), expected) {
            (Ok(health), Parses { failing }) => {
                assert_eq!(health.failing, *failing, "{name}: failing");
                assert_eq!(
                    health.failing_reasons.is_empty(),
                    !failing,
                    "{name}: reasons"
                );
                assert!(!health.model.is_empty(), "{name}: model");
            }
            (Err(error), Rejected { location, reason }) => {
                assert_eq!(error.location, *location, "{name}: location");
                assert!(
                    error.reason.contains(reason),
                    "{name}: reason was {:?}",
                    error.reason
                );
            }
            (Ok(_), Rejected { .. }) => panic!("{name}: parsed but should be rejected"),
            (Err(error), Parses { .. }) => panic!("{name}: rejected: {error}"),
        }
    }
}

#[test]
fn failing_hitachi_names_reasons() {
    let health = health("scrutiny_smart-fail2.json");
    let reasons = health.failing_reasons.join("\n");
    assert!(health.failing);
    assert_eq!(health.smart_passed, Some(false));
    assert_eq!(health.reallocated_sectors, Some(1975));
    assert_eq!(health.pending_sectors, Some(8));
    assert!(
        reasons.contains("SMART overall-health self-assessment failed"),
        "{reasons}"
    );
    assert!(reasons.contains("1975 reallocated sectors"), "{reasons}");
    assert!(
        reasons.contains("attribute 5 Reallocated_Sector_Ct is failing now"),
        "{reasons}"
    );
    assert!(
        reasons.contains("8 sectors pending reallocation"),
        "{reasons}"
    );
    assert_eq!(health.kind, StorageKind::Hdd);
    assert_eq!(health.power_on_hours, Some(65592));
}

#[test]
fn intel_nvme_is_healthy() {
    let health = health("scrutiny_smart-nvme.json");
    assert_eq!(health.model, "INTEL SSDPEKNW010T8");
    assert_eq!(health.kind, StorageKind::Nvme);
    assert_eq!(health.nvme_percentage_used, Some(0));
    assert_eq!(health.nvme_media_errors, Some(0));
    assert_eq!(health.power_on_hours, Some(2401));
    assert_eq!(health.capacity_bytes, Some(1_024_209_543_168));
    assert!(!health.failing);
}

#[test]
fn windows_open_failure_quoted() {
    let error = rejection("scrutiny_smart-fail.json");
    assert_eq!(error.location, "field smartctl.exit_status");
    assert!(error.reason.contains("status 2"), "{}", error.reason);
    assert!(
        error
            .reason
            .contains(r"\\.\PhysicalDrive0: Open failed, Error=5"),
        "{}",
        error.reason
    );
}

#[test]
fn serial_yes_is_no_identity() {
    let health = health("scrutiny_smart-nvme2.json");
    assert_eq!(health.serial, None);
    assert_eq!(health.model, "Force MP510");
}

#[test]
fn masked_serial_is_kept() {
    let health = health("scrutiny_smart-ata.json");
    assert_eq!(health.serial.as_deref(), Some("9RK1XXXX"));
    assert_eq!(health.capacity_bytes, Some(14_000_519_643_136));
}

#[test]
fn workbench_report_ignores_extra_keys() {
    let health = health("ereuse_nvme_samsung-mzvlw1t0_x1carbon.json");
    assert_eq!(health.serial.as_deref(), Some("S35ANX0J401001"));
    assert_eq!(health.kind, StorageKind::Nvme);
    assert_eq!(health.nvme_percentage_used, Some(2));
    assert_eq!(health.power_on_hours, Some(6032));
}

#[test]
fn reallocated_sectors_fail_passed_disk() {
    let health = health("ereuse_hdd_hitachi-hdt722520dlat80_desktop.json");
    assert_eq!(health.smart_passed, Some(true));
    assert_eq!(
        health.failing_reasons,
        ["126 reallocated sectors (attribute 5)"]
    );
    // The report has no rotation rate, so the kind stays unknown.
    assert_eq!(health.kind, StorageKind::Other);
}

#[test]
fn sata_ssd_kind_from_rotation() {
    let health = health("ereuse_sata-ssd_wdc-wds120g1g0a_hp8100.json");
    assert_eq!(health.kind, StorageKind::Ssd);
    assert_eq!(health.pending_sectors, None);
}

#[test]
fn scsi_defects_and_hours() {
    let health = health("scrutiny_smart-scsi2.json");
    assert_eq!(health.model, "SEAGATE ST1200MM0088");
    assert_eq!(health.reallocated_sectors, Some(0));
    assert_eq!(health.power_on_hours, Some(5675));
    assert_eq!(health.kind, StorageKind::Hdd);
}
