//! Tests of the nwipe parser on every real log in `fixtures/nwipe/` and on
//! small synthetic logs for edge cases.

use std::fs;
use std::path::Path;

use filiere_domain::types::Outcome;
use filiere_evidence::nwipe::parse_nwipe;
use filiere_evidence::{DiskErasure, ErasureLog};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nwipe");

/// Expected parse of one fixture: the tool, the result of each disk, and
/// text from the first disk's first failure reason.
struct Case {
    file: &'static str,
    tool: &'static str,
    results: &'static [Outcome],
    /// Text that the first disk's first failure reason contains.
    first_reason: Option<&'static str>,
}

use Outcome::{Failed, Passed};

const LOG_ENDS: Option<&str> = Some("the log ends before the wipe");
const NOT_STARTED: Option<&str> = Some("the log ends before a wipe of /dev/sda started");

const CASES: &[Case] = &[
    Case {
        file: "nwipe-0.29_2020_issue283_3-rounds-verify.log",
        tool: "nwipe",
        results: &[Failed],
        first_reason: LOG_ENDS,
    },
    Case {
        file: "nwipe-0.2x_2016_issue21_old-format_blanking-no-end.log",
        tool: "nwipe",
        results: &[Failed],
        first_reason: LOG_ENDS,
    },
    Case {
        file: "nwipe-dev_2026_pr722_geometry-header_prng-and-blank.log",
        tool: "nwipe",
        results: &[Failed],
        first_reason: LOG_ENDS,
    },
    Case {
        file: "nwipe-dev_2026_pr722_write-error_reverse-wipe_FAILED.log",
        tool: "nwipe",
        results: &[Failed],
        first_reason: Some("giving up write()"),
    },
    Case {
        file: "nwipe_2019_pr105_maxtor-80gb_buffer-flush-failure.log",
        tool: "nwipe",
        results: &[Failed],
        first_reason: Some("Buffer flush failure"),
    },
    Case {
        file: "nwipe_2020_pr223_80col-truncated-lines_smbios.log",
        tool: "nwipe",
        results: &[Failed],
        first_reason: Some("before a wipe of /dev/sdc started"),
    },
    Case {
        file: "nwipe_2021_pr325_error-summary_drive-status_loop.log",
        tool: "nwipe",
        results: &[Passed],
        first_reason: None,
    },
    Case {
        file: "nwipe_2021_pr366_quiet-mode_anonymised-serials_hwmon.log",
        tool: "nwipe",
        results: &[Failed, Failed],
        first_reason: LOG_ENDS,
    },
    Case {
        file: "shredos-0.37_2024_issue213_micron1100_laptop-freeze.log",
        tool: "ShredOS (nwipe)",
        results: &[Failed],
        first_reason: NOT_STARTED,
    },
    Case {
        file: "shredos-0.38_2025_issue332_toshiba-mq01abd1_oom.log",
        tool: "ShredOS (nwipe)",
        results: &[Failed],
        first_reason: NOT_STARTED,
    },
];

fn parse_fixture(name: &str) -> ErasureLog {
    let bytes = fs::read(Path::new(FIXTURES).join(name)).expect("fixture is readable");
    parse_nwipe(&bytes).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn only_disk(name: &str) -> DiskErasure {
    let mut log = parse_fixture(name);
    assert_eq!(log.disks.len(), 1, "{name}: one disk");
    log.disks.remove(0)
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
            CASES.iter().any(|case| case.file == name),
            "{name} has no expected outcome"
        );
    }
}

#[test]
fn fixtures_match_table() {
    for case in CASES {
        let log = parse_fixture(case.file);
        let results: Vec<Outcome> = log.disks.iter().map(|disk| disk.result).collect();
        assert_eq!(log.tool, case.tool, "{}: tool", case.file);
        assert_eq!(results, case.results, "{}: results", case.file);
        for disk in &log.disks {
            let passed = disk.result == Passed;
            assert_eq!(
                disk.failure_reasons.is_empty(),
                passed,
                "{}: reasons",
                case.file
            );
        }
        let first_reason = log.disks[0].failure_reasons.first();
        match case.first_reason {
            Some(text) => assert!(
                first_reason.is_some_and(|reason| reason.contains(text)),
                "{}: first reason was {first_reason:?}",
                case.file
            ),
            None => assert_eq!(first_reason, None, "{}: first reason", case.file),
        }
    }
}

#[test]
fn three_rounds_verify_log() {
    let disk = only_disk("nwipe-0.29_2020_issue283_3-rounds-verify.log");
    assert_eq!(disk.verification.as_deref(), Some("All"));
    // Only round 1 of 3 is logged as written and verified.
    assert_eq!(disk.passes, Some(1));
    assert_eq!(disk.started.as_deref(), Some("2020/06/26 22:26:03"));
    assert_eq!(disk.ended, None);
    assert!(
        disk.failure_reasons[0].contains("round 1 of 3"),
        "{:?}",
        disk.failure_reasons
    );
}

#[test]
fn write_error_log_fails() {
    let disk = only_disk("nwipe-dev_2026_pr722_write-error_reverse-wipe_FAILED.log");
    let reasons = disk.failure_reasons.join("\n");
    assert_eq!(disk.result, Failed);
    assert!(
        reasons.contains("line 13: nwipe_write_with_retry: giving up write()"),
        "{reasons}"
    );
    assert!(reasons.contains("No space left on device"), "{reasons}");
    assert!(reasons.contains("starting reverse wipe"), "{reasons}");
    assert!(
        reasons.contains("the log ends before the wipe of /dev/sdc finished"),
        "{reasons}"
    );
    assert_eq!(disk.method, "PRNG Stream");
    assert_eq!(disk.size_bytes, Some(256_060_514_304));
}

#[test]
fn old_format_without_end() {
    let log = parse_fixture("nwipe-0.2x_2016_issue21_old-format_blanking-no-end.log");
    let disk = &log.disks[0];
    assert_eq!(log.tool_version, None);
    assert_eq!(disk.result, Failed);
    assert!(
        disk.failure_reasons[0].contains("log ends"),
        "{:?}",
        disk.failure_reasons
    );
    assert!(
        disk.failure_reasons[0].contains("Blanking device"),
        "{:?}",
        disk.failure_reasons
    );
    assert_eq!(disk.method, "PRNG Stream");
    assert_eq!(disk.size_bytes, Some(600_127_266_816));
    assert_eq!(disk.passes, Some(1));
}

#[test]
fn quiet_mode_serials_are_none() {
    let log = parse_fixture("nwipe_2021_pr366_quiet-mode_anonymised-serials_hwmon.log");
    let sizes: Vec<Option<u64>> = log.disks.iter().map(|disk| disk.size_bytes).collect();
    assert_eq!(log.disks.len(), 2);
    assert_eq!(log.disks[0].serial, None);
    assert_eq!(log.disks[1].serial, None);
    assert_eq!(sizes, [Some(1_000_204_886_016), Some(2_000_398_934_016)]);
    assert_eq!(log.disks[0].method, "DoD Short");
}

#[test]
fn drive_status_erased_passes() {
    let disk = only_disk("nwipe_2021_pr325_error-summary_drive-status_loop.log");
    assert_eq!(disk.result, Passed);
    assert_eq!(disk.model, "Loopback device");
    assert_eq!(disk.serial, None);
    assert_eq!(disk.passes, Some(1));
    assert_eq!(disk.ended.as_deref(), Some("2021/06/04 21:41:13"));
}

#[test]
fn truncated_serial_is_dropped() {
    let disk = only_disk("nwipe_2020_pr223_80col-truncated-lines_smbios.log");
    assert_eq!(disk.serial, None);
    assert_eq!(disk.model, "WDC WD1600AAJS-2");
    assert_eq!(disk.passes, None);
}

#[test]
fn shredos_banner_and_identity() {
    let log = parse_fixture("shredos-0.37_2024_issue213_micron1100_laptop-freeze.log");
    assert_eq!(
        log.tool_version.as_deref(),
        Some("v2024.02.2_26.0_x86-64_0.37")
    );
    assert_eq!(log.disks[0].model, "Micron 1100 SATA");
    assert_eq!(log.disks[0].serial.as_deref(), Some("18291D85DF09"));
}

#[test]
fn trailing_spaces_left_off_serial() {
    let disk = only_disk("shredos-0.38_2025_issue332_toshiba-mq01abd1_oom.log");
    assert_eq!(disk.model, "TOSHIBA MQ01ABD1");
    assert_eq!(disk.serial.as_deref(), Some("35H2SCTWS"));
}

#[test]
fn geometry_header_gives_size() {
    let disk = only_disk("nwipe-dev_2026_pr722_geometry-header_prng-and-blank.log");
    assert_eq!(disk.size_bytes, Some(256_060_514_304));
    assert!(
        disk.failure_reasons[0].contains("256060514304 bytes written"),
        "{:?}",
        disk.failure_reasons
    );
}

#[test]
fn flush_failure_fails_wipe() {
    let disk = only_disk("nwipe_2019_pr105_maxtor-80gb_buffer-flush-failure.log");
    assert_eq!(disk.failure_reasons.len(), 2);
    assert_eq!(
        disk.failure_reasons[0],
        "line 3: Buffer flush failure on '/dev/sdc'."
    );
    assert_eq!(disk.passes, Some(1));
}
