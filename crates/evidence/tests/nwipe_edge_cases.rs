//! Tests of the nwipe parser on small synthetic logs: completion markers,
//! failure lines, summary tables and inputs that are not nwipe logs.

use filiere_domain::types::Outcome::{Failed, Passed};
use filiere_evidence::nwipe::parse_nwipe;
use filiere_evidence::{DiskErasure, ErasureLog, EvidenceError};

fn parse_text(text: &str) -> Result<ErasureLog, EvidenceError> {
    parse_nwipe(text.as_bytes())
}

fn synthetic_disk(text: &str) -> DiskErasure {
    let mut log = parse_text(text).expect("synthetic log parses");
    assert_eq!(log.disks.len(), 1, "one disk");
    log.disks.remove(0)
}

/// Builds a log from (level, message) pairs, one second apart.
fn log(entries: &[(&str, &str)]) -> String {
    entries
        .iter()
        .enumerate()
        .map(|(second, (level, message))| {
            format!("[2024/01/02 10:00:{second:02}] {level:>8}: {message}\n")
        })
        .collect()
}

/// A PRNG wipe of /dev/sda up to its last round, before blanking.
const ROUNDS_DONE: &[(&str, &str)] = &[
    ("notice", "nwipe 0.35"),
    (
        "notice",
        "Found /dev/sda, ATA    , TEST DISK, 500 GB, S/N=TST123   ",
    ),
    ("notice", "Invoking method 'PRNG Stream' on /dev/sda"),
    ("notice", "Starting round 1 of 1 on /dev/sda"),
    ("notice", "Starting pass 1/1, round 1/1, on /dev/sda"),
    ("notice", "Finished pass 1/1, round 1/1, on /dev/sda"),
    ("notice", "Finished final round 1 of 1 on /dev/sda"),
];

fn with(extra: &[(&'static str, &'static str)]) -> String {
    log(&[ROUNDS_DONE, extra].concat())
}

const BLANKED: &[(&str, &str)] = &[
    ("notice", "Blanking device /dev/sda"),
    ("notice", "Verifying that /dev/sda is empty."),
    ("notice", "Blanked device /dev/sda"),
];

#[test]
fn blanked_wipe_passes() {
    let text = with(BLANKED);
    let log = parse_text(&text).expect("parses");
    let disk = &log.disks[0];
    assert_eq!(log.tool_version.as_deref(), Some("0.35"));
    assert_eq!(disk.result, Passed);
    assert_eq!(disk.serial.as_deref(), Some("TST123"));
    assert_eq!(disk.model, "TEST DISK");
    assert_eq!(disk.verification.as_deref(), Some("Last"));
    assert_eq!(disk.passes, Some(2));
    assert_eq!(disk.started.as_deref(), Some("2024/01/02 10:00:02"));
    assert_eq!(disk.ended.as_deref(), Some("2024/01/02 10:00:09"));
}

#[test]
fn error_after_blanking_fails() {
    let text = with(
        &[
            BLANKED,
            &[("error", "Nwipe exited with errors on device = /dev/sda")],
        ]
        .concat(),
    );
    let disk = synthetic_disk(&text);
    assert_eq!(disk.result, Failed);
    assert_eq!(
        disk.failure_reasons,
        ["line 11: Nwipe exited with errors on device = /dev/sda"]
    );
}

#[test]
fn retried_write_warning_passes() {
    let retry = (
        "warning",
        "nwipe_write_with_retry: write() failed on '/dev/sda' (attempt 1/3): Input/output error",
    );
    let disk = synthetic_disk(&with(&[&[retry], BLANKED].concat()));
    assert_eq!(disk.result, Passed);
}

#[test]
fn disabled_fdatasync_warning_passes() {
    let notice = (
        "warning",
        "Disabled fdatasync for /dev/sda, DirectI/O in use.",
    );
    let disk = synthetic_disk(&with(&[&[notice], BLANKED].concat()));
    assert_eq!(disk.result, Passed);
}

#[test]
fn fdatasync_error_warning_fails() {
    let warning = (
        "warning",
        "nwipe_static_pass: fdatasync: Remote I/O error on /dev/sda",
    );
    let disk = synthetic_disk(&with(&[&[warning], BLANKED].concat()));
    assert_eq!(disk.result, Failed);
    assert_eq!(disk.failure_reasons.len(), 1);
}

#[test]
fn rounds_done_without_status_fails() {
    let disk = synthetic_disk(&with(&[]));
    assert_eq!(disk.result, Failed);
    assert!(
        disk.failure_reasons[0].contains("the log ends"),
        "{:?}",
        disk.failure_reasons
    );
}

#[test]
fn noblank_run_success_passes() {
    let disk = synthetic_disk(&with(&[(
        "info",
        "Nwipe successfully completed. See summary table for details.",
    )]));
    assert_eq!(disk.result, Passed);
    assert_eq!(disk.passes, Some(1));
}

#[test]
fn unrelated_error_while_writing_fails() {
    let disk = synthetic_disk(&with(&[
        ("error", "nwipe_random_pass: write: Input/output error"),
        BLANKED[2],
    ]));
    assert_eq!(disk.result, Failed);
    assert_eq!(
        disk.failure_reasons,
        ["line 8: nwipe_random_pass: write: Input/output error"]
    );
}

#[test]
fn user_abort_fails() {
    let disk = synthetic_disk(&with(&[(
        "info",
        "Nwipe was aborted by the user. Check the summary table for the drive status.",
    )]));
    assert_eq!(
        disk.failure_reasons,
        ["nwipe was aborted by the user before the wipe of /dev/sda finished"]
    );
}

#[test]
fn signal_status_success_passes() {
    let disk = synthetic_disk(&with(&[("info", "/dev/sda: Success")]));
    assert_eq!(disk.result, Passed);
}

const SUMMARY_HEAD: &str = "\n********************************* Drive Status *********************************\n\
                            !   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number\n\
                            --------------------------------------------------------------------------------\n";

fn with_drive_status(rows: &str, totals: &str) -> String {
    format!("{}{SUMMARY_HEAD}{rows}----\n[2024/01/02 11:00:00] Total Throughput 100 MB/s, {totals}\n****\n", with(&[]))
}

#[test]
fn failed_row_fails() {
    let text = with_drive_status(
        "!      sda |-FAILED-| 100MB/s | 01:00:00 | TEST DISK/TST123\n",
        "PRNG Stream, 1R+B+VL",
    );
    let disk = synthetic_disk(&text);
    assert_eq!(disk.result, Failed);
    assert_eq!(
        disk.failure_reasons,
        ["line 12: the Drive Status table reports FAILED"]
    );
    assert_eq!(disk.ended.as_deref(), Some("2024/01/02 10:00:06"));
}

#[test]
fn aborted_row_fails() {
    let disk = synthetic_disk(&with_drive_status(
        "!      sda |UABORTED| 100MB/s | 01:00:00 | TEST DISK/TST123\n",
        "PRNG Stream, 1R+B+VA",
    ));
    assert_eq!(
        disk.failure_reasons,
        ["line 12: the Drive Status table reports UABORTED"]
    );
}

#[test]
fn summary_states_settings() {
    let wipe = log(&[
        ("notice", "Starting round 1 of 1 on /dev/sda"),
        ("notice", "Finished final round 1 of 1 on /dev/sda"),
    ]);
    let rows = "       sda | Erased | 100MB/s | 01:00:00 | TEST DISK/TST123\n";
    let text = format!("{wipe}{SUMMARY_HEAD}{rows}----\n[2024/01/02 11:00:00] Total Throughput 100 MB/s, Zero Fill, 1R+NB+NV\n");
    let disk = synthetic_disk(&text);
    assert_eq!(disk.result, Passed);
    assert_eq!(disk.method, "Zero Fill");
    assert_eq!(disk.verification, None);
    assert_eq!(disk.model, "TEST DISK");
    assert_eq!(disk.serial.as_deref(), Some("TST123"));
}

#[test]
fn unselected_disk_left_out() {
    let found = (
        "notice",
        "Found /dev/sdb, USB    , BOOT STICK, 16 GB, S/N=USB1",
    );
    let text = format!(
        "{}{SUMMARY_HEAD}       sda | Erased | 100MB/s | 01:00:00 | TEST DISK/TST123\n****\n",
        log(&[&[found], ROUNDS_DONE].concat())
    );
    let log = parse_text(&text).expect("parses");
    assert_eq!(log.disks.len(), 1);
    assert_eq!(log.disks[0].serial.as_deref(), Some("TST123"));
}

#[test]
fn error_summary_counts_fail() {
    let text = format!(
        "{}\n****** Error Summary ******\n!   Device | Pass Errors | Verifications Errors | Fdatasync I\\O Errors\n\
         !      sda |           2 |                    0 |                    0\n****\n",
        with(BLANKED)
    );
    let disk = synthetic_disk(&text);
    assert_eq!(
        disk.failure_reasons,
        ["line 14: the Error Summary table reports 2 pass errors"]
    );
}

#[test]
fn crlf_line_endings_parse() {
    let disk = synthetic_disk(&with(BLANKED).replace('\n', "\r\n"));
    assert_eq!(disk.result, Passed);
    assert_eq!(disk.serial.as_deref(), Some("TST123"));
}

#[test]
fn other_text_rejected() {
    let error = parse_text("Hello\nThis is not a log\n").expect_err("not nwipe");
    assert_eq!(error.location, "line 1");
    assert!(
        error.reason.contains("not an nwipe or ShredOS log"),
        "{}",
        error.reason
    );
}

#[test]
fn empty_file_rejected() {
    let error = parse_text("  \n").expect_err("empty");
    assert_eq!(error.location, "file");
}

#[test]
fn log_without_disk_rejected() {
    let error = parse_text(&log(&[
        ("notice", "nwipe 0.35"),
        ("info", "Automatically enumerated 0 devices."),
    ]))
    .expect_err("no disk");
    assert_eq!(error.location, "file");
    assert!(error.reason.contains("names no disk"), "{}", error.reason);
}

#[test]
fn serial_at_console_width_dropped() {
    let line = "[2020/03/18 17:59:56] notice: Found /dev/sdc, ATA WDC WD1600AAJS, 160GB, S/N=WCA";
    assert_eq!(line.chars().count(), 80);
    let disk = synthetic_disk(&format!("{line}\n"));
    assert_eq!(disk.serial, None);
    assert_eq!(disk.model, "WDC WD1600AAJS");
}

#[test]
fn serial_below_console_width_kept() {
    let line = "[2020/03/18 17:59:56] notice: Found /dev/sdc, ATA WDC WD1600AAJS, 160GB, S/N=WC";
    let disk = synthetic_disk(&format!("{line}\n"));
    assert_eq!(disk.serial.as_deref(), Some("WC"));
}
