//! Parser for nwipe and ShredOS erasure logs, from the oldest
//! `[date] nwipe: level: message` format to the current one with its
//! `Error Summary` and `Drive Status` tables.
//!
//! A disk's result is Passed only when the log states that its wipe
//! completed (`Blanked device ...`, `Wrote final random pattern ...`,
//! `/dev/sda: Success`, a Drive Status row `Erased`, or the last round
//! finished with blanking disabled followed by `Nwipe successfully ...`), and
//! no failure was logged for it. Error entries, warnings about unflushed
//! data, failed or aborted table rows, and a log that stops before the end
//! make it Failed, with each cause in `failure_reasons`.
//!
//! Fields that the log does not state stay empty: `method` is "" and
//! `verification` is `None` when no line names them. `verification` is
//! inferred from the verification steps when the run summary is missing,
//! because nwipe's `nwipe_runmethod` verifies each pass only with
//! `--verify=all`, and only the final blanking pass with `--verify=last`.

mod disk;
mod lines;

use disk::{Disk, RunSettings};
use lines::{Entry, Record, Table, TableRow};

use crate::{ErasureLog, EvidenceError};

/// Device files that nwipe names but never wipes.
const PSEUDO_DEVICES: &[&str] = &["/dev/urandom", "/dev/random", "/dev/null", "/dev/zero"];

/// Error Summary columns after the device, in order.
const ERROR_COLUMNS: &[&str] = &["pass errors", "verification errors", "fdatasync I/O errors"];

/// Parses an nwipe or ShredOS log into one erasure record per disk.
pub fn parse_nwipe(bytes: &[u8]) -> Result<ErasureLog, EvidenceError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(EvidenceError::new(
            "file",
            "the file is empty; expected an nwipe or ShredOS log",
        )
        .with_kind(crate::EvidenceErrorKind::Empty));
    }

    let records = lines::split_records(text);
    let entries = log_entries(&records);
    if !entries.iter().any(|entry| entry.level.is_some()) {
        return Err(EvidenceError::new(
            "line 1",
            "not an nwipe or ShredOS log: no line has the form `[2024/08/13 14:23:36]  notice: \
             message`; expected the log that nwipe writes with --logfile or that ShredOS saves",
        ));
    }
    let (tool, tool_version) = detect_tool(&entries);

    let mut run = Run::default();
    for record in &records {
        match record {
            Record::Entry(entry) => run.apply_entry(entry),
            Record::Row(row) => run.apply_row(row),
        }
    }
    let disks = run.finish();
    if disks.is_empty() {
        return Err(EvidenceError::new(
            "file",
            "the log names no disk to wipe; expected lines such as `Found /dev/sda, ...` or \
             `Starting round 1 of 1 on /dev/sda`",
        ));
    }

    Ok(ErasureLog {
        tool,
        tool_version,
        disks,
    })
}

fn log_entries(records: &[Record]) -> Vec<&Entry> {
    records
        .iter()
        .filter_map(|record| match record {
            Record::Entry(entry) => Some(entry),
            Record::Row(_) => None,
        })
        .collect()
}

/// Reads the tool and its version from the banner entry: `nwipe 0.35` or
/// `ShredOS v2024.02.2_26.0_x86-64_0.37`. ShredOS wins when both appear,
/// because its version also names the nwipe release.
fn detect_tool(entries: &[&Entry]) -> (String, Option<String>) {
    let banner_version = |prefix: &str| {
        entries.iter().find_map(|entry| {
            let version = entry
                .message
                .strip_prefix(prefix)?
                .split_whitespace()
                .next()?;
            version
                .starts_with(|c: char| c.is_ascii_digit() || c == 'v')
                .then(|| version.to_string())
        })
    };
    match banner_version("ShredOS ") {
        Some(version) => ("ShredOS (nwipe)".to_string(), Some(version)),
        None => ("nwipe".to_string(), banner_version("nwipe ")),
    }
}

/// State of the whole log while it is read.
#[derive(Default)]
struct Run {
    /// Disks in order of first mention.
    disks: Vec<Disk>,
    /// Size from a geometry header line that names no device
    /// (`Total device bytes   = 256060514304`).
    pending_size: Option<u64>,
    settings: RunSettings,
    succeeded: bool,
    user_aborted: bool,
    has_drive_status: bool,
}

impl Run {
    fn apply_entry(&mut self, entry: &Entry) {
        self.apply_run_message(entry);
        let message = entry.message.as_str();
        match device_path(message) {
            Some(_) if message.contains("excluded") || message.contains("ignored as per") => {}
            Some(path) => self.apply_disk_entry(path, entry),
            None if disk::is_failure(entry) => {
                // An error that names no device, such as
                // "nwipe_random_forward_pass: write: No space left on device",
                // counts against every wipe still running.
                for disk in self.disks.iter_mut().filter(|disk| disk.in_progress()) {
                    disk.fail(format!("line {}: {}", entry.line, entry.message));
                }
            }
            None => {}
        }
    }

    fn apply_run_message(&mut self, entry: &Entry) {
        let message = entry.message.as_str();
        if let Some(summary) = message.strip_prefix("Total Throughput ") {
            self.settings = read_run_settings(summary);
        } else if message.starts_with("Nwipe successfully") {
            self.succeeded = true;
        } else if message.contains("aborted by the user") {
            self.user_aborted = true;
        } else if let Some((_, size)) = message.split_once("Total device bytes") {
            // NOTE: this header line names no device. Its size goes to the
            // next disk that the log names, which is the disk the header
            // precedes in the logs seen so far. With several disks wiped at
            // once, the lines of two disks may interleave.
            self.pending_size = size.trim_start_matches([' ', '=']).trim().parse().ok();
        }
    }

    fn apply_disk_entry(&mut self, path: String, entry: &Entry) {
        let index = match self.disks.iter().position(|disk| disk.path == path) {
            Some(index) => {
                self.disks[index].apply(entry);
                index
            }
            None => {
                let mut disk = Disk::new(path);
                if !disk.apply(entry) {
                    return;
                }
                self.disks.push(disk);
                self.disks.len() - 1
            }
        };
        if let Some(size) = self.pending_size.take() {
            self.disks[index].size_bytes.get_or_insert(size);
        }
    }

    fn apply_row(&mut self, row: &TableRow) {
        if row.table == Table::DriveStatus {
            self.has_drive_status = true;
        }
        let disk = self.disk_by_short_name(&row.device);
        match row.table {
            Table::ErrorSummary => apply_error_summary(disk, row),
            Table::DriveStatus => apply_drive_status(disk, row),
        }
    }

    /// Finds the disk that a table row names without "/dev/", adding it when
    /// the log has not named it before.
    fn disk_by_short_name(&mut self, name: &str) -> &mut Disk {
        let position = self
            .disks
            .iter()
            .position(|disk| disk.path.rsplit('/').next() == Some(name));
        let index = position.unwrap_or_else(|| {
            self.disks.push(Disk::new(format!("/dev/{name}")));
            self.disks.len() - 1
        });
        &mut self.disks[index]
    }

    /// Builds the records. When the log has a Drive Status table, disks that
    /// it does not list and that no wipe step names were found but not
    /// selected, so they are left out.
    fn finish(self) -> Vec<crate::DiskErasure> {
        let has_drive_status = self.has_drive_status;
        self.disks
            .into_iter()
            .filter(|disk| {
                !has_drive_status || disk.in_drive_status || disk.phase != disk::Phase::Idle
            })
            .map(|disk| disk.finish(&self.settings, self.succeeded, self.user_aborted))
            .collect()
    }
}

fn apply_error_summary(disk: &mut Disk, row: &TableRow) {
    for (cell, column) in row.cells.iter().zip(ERROR_COLUMNS) {
        let count: u64 = cell.parse().unwrap_or(0);
        if count > 0 {
            disk.fail(format!(
                "line {}: the Error Summary table reports {count} {column}",
                row.line
            ));
        }
    }
}

/// Reads `Erased |  31 MB/s | 00:00:01 | Loopback device/`. The model is cut
/// to 17 characters, so the one from the `Found` line is kept when known.
fn apply_drive_status(disk: &mut Disk, row: &TableRow) {
    disk.in_drive_status = true;
    disk.final_status = true;
    let status = row
        .cells
        .first()
        .map(|status| status.trim_matches('-'))
        .unwrap_or_default();
    if status == "Erased" {
        disk.complete();
    } else {
        disk.fail(format!(
            "line {}: the Drive Status table reports {status}",
            row.line
        ));
    }
    if let Some((model, serial)) = row.cells.get(3).and_then(|cell| cell.rsplit_once('/')) {
        if disk.model.is_none() && !model.trim().is_empty() {
            disk.model = Some(model.trim().to_string());
        }
        disk.serial
            .get_or_insert_with(|| disk::parse_serial(serial));
    }
}

/// Reads `31 MB/s, PRNG Stream, 1R+B+VA`: throughput, method, then rounds,
/// blanking (B or NB) and verification (VA all, VL last, NV none).
fn read_run_settings(summary: &str) -> RunSettings {
    let fields: Vec<&str> = summary.split(", ").map(str::trim).collect();
    let verification = fields.get(2).and_then(|options| {
        options.split('+').find_map(|option| match option {
            "VA" => Some(Some("All".to_string())),
            "VL" => Some(Some("Last".to_string())),
            "NV" => Some(None),
            _ => None,
        })
    });
    RunSettings {
        method: fields.get(1).map(|method| method.to_string()),
        verification,
    }
}

/// Returns the first device path in a message, without quotes or trailing
/// punctuation: "on device '/dev/sdb'." gives "/dev/sdb".
fn device_path(message: &str) -> Option<String> {
    message.match_indices("/dev/").find_map(|(start, _)| {
        let rest = &message[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | ',' | ')' | ':' | ';'))
            .unwrap_or(rest.len());
        let path = rest[..end].trim_end_matches('.');
        (path.len() > "/dev/".len() && !PSEUDO_DEVICES.contains(&path)).then(|| path.to_string())
    })
}
