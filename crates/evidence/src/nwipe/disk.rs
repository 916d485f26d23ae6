//! Erasure state of one disk, built up from the log entries that name it.

use std::collections::BTreeSet;

use filiere_domain::serial::SerialNumber;
use filiere_domain::types::Outcome;

use super::lines::Entry;
use crate::DiskErasure;

/// Bus names that nwipe prints before the model in its `Found` line, such
/// as "ATA-SSD" or "USB".
const BUS_NAMES: &[&str] = &[
    "ATA", "USB", "SAS", "SCSI", "NVME", "IDE", "UNK", "VIRT", "CPQ", "1394", "MMC",
];

/// Parts of warning messages that mean data may not have reached the disk,
/// such as "Buffer flush failure on '/dev/sdc'." Other warnings, such as a
/// write retried successfully or "Disabled fdatasync", are not failures.
const FAILING_WARNINGS: &[&str] = &["flush failure", "fdatasync:", "error fsyncing"];

/// Progress of the wipe of one disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Phase {
    /// No wipe step logged yet.
    #[default]
    Idle,
    Writing,
    /// The last round of the method finished, and blanking may still follow.
    RoundsDone,
    Blanking,
    /// The log states that the wipe completed.
    Completed,
}

/// Settings of the whole run, from the summary line after the Drive Status
/// table, such as `Total Throughput 31 MB/s, PRNG Stream, 1R+B+VA`.
#[derive(Debug, Default)]
pub(super) struct RunSettings {
    pub method: Option<String>,
    /// `Some(None)` when the summary states that no verification ran.
    pub verification: Option<Option<String>>,
}

#[derive(Debug, Default)]
pub(super) struct Disk {
    pub path: String,
    pub model: Option<String>,
    /// `Some(None)` when the log reported a placeholder or anonymised serial.
    pub serial: Option<Option<String>>,
    pub size_bytes: Option<u64>,
    pub phase: Phase,
    /// Whether the Drive Status table or a final failure line gave a status.
    pub final_status: bool,
    pub in_drive_status: bool,
    method: Option<String>,
    verification: Option<String>,
    /// (round, pass) pairs that the log shows finished or verified.
    finished_passes: BTreeSet<(u32, u32)>,
    blanked: bool,
    started: Option<String>,
    last_time: Option<String>,
    last_line: Option<String>,
    failure_reasons: Vec<String>,
}

impl Disk {
    pub fn new(path: String) -> Self {
        Self {
            path,
            ..Self::default()
        }
    }

    /// Applies one entry that names this disk. Returns whether it was an
    /// identity, wipe or failure event, as opposed to a line that only
    /// mentions the disk.
    pub fn apply(&mut self, entry: &Entry) -> bool {
        self.last_line = Some(format!("line {}: {}", entry.line, entry.message));
        let event =
            self.apply_identity(entry) || self.apply_progress(entry) || self.apply_failure(entry);
        if event {
            self.last_time = Some(entry.time.clone());
        }
        event
    }

    pub fn fail(&mut self, reason: String) {
        self.failure_reasons.push(reason);
    }

    pub fn complete(&mut self) {
        self.phase = Phase::Completed;
    }

    pub fn in_progress(&self) -> bool {
        matches!(
            self.phase,
            Phase::Writing | Phase::RoundsDone | Phase::Blanking
        )
    }

    fn apply_identity(&mut self, entry: &Entry) -> bool {
        let message = entry.message.as_str();
        if let Some(found) = message.strip_prefix("Found ") {
            self.read_found_line(found, entry.maybe_truncated);
        } else if let Some((_, serial)) = message.split_once(" has serial number ") {
            self.serial.get_or_insert(parse_serial(serial));
        } else if let Some((_, geometry)) = message.split_once(", sect/blk/dev ") {
            self.size_bytes = geometry
                .rsplit('/')
                .next()
                .and_then(|size| size.trim().parse().ok());
        } else if let Some((_, size)) = message.split_once("' is size ") {
            self.size_bytes = size.trim_end_matches('.').trim().parse().ok();
        } else {
            return message.contains("' has sector size ");
        }
        true
    }

    /// Reads `/dev/sda,  ATA-SSD, Micron 1100 SATA,  256 GB, S/N=18291D85DF09`.
    /// Older versions join bus and model (`ATA WDC WD1600AAJS-2`). The size
    /// is rounded ("256 GB"), so it is not used.
    fn read_found_line(&mut self, found: &str, maybe_truncated: bool) {
        let mut fields: Vec<&str> = found.split(',').map(str::trim).skip(1).collect();
        if maybe_truncated {
            // The last field of a line cut at the console width is partial.
            fields.pop();
        }
        let mut model_parts = Vec::new();
        for field in fields {
            if let Some(serial) = field.strip_prefix("S/N=") {
                self.serial.get_or_insert(parse_serial(serial));
            } else if !looks_like_size(field) {
                model_parts.push(field);
            }
        }
        if let Some(first) = model_parts.first_mut() {
            *first = strip_bus_name(first);
        }
        let model = model_parts
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        if !model.is_empty() {
            self.model = Some(model);
        }
    }

    fn apply_progress(&mut self, entry: &Entry) -> bool {
        let message = entry.message.as_str();
        if let Some(method) = message
            .strip_prefix("Invoking method '")
            .and_then(|rest| rest.split_once('\''))
        {
            self.method = Some(method.0.to_string());
            self.start(entry);
        } else if message.starts_with("Starting round ") || message.starts_with("Starting pass ") {
            self.start(entry);
        } else if message.starts_with("Verifying pass ") {
            self.verification = Some("All".to_string());
            self.start(entry);
        } else if message.starts_with("Finished pass ") || message.starts_with("Verified pass ") {
            self.finished_passes.extend(round_and_pass(message));
        } else if message.starts_with("Finished round ")
            || message.starts_with("Finished final round ")
        {
            if fraction_after(message, "round ").is_some_and(|(round, rounds)| round == rounds) {
                self.phase = Phase::RoundsDone;
            }
        } else if message.starts_with("Blanking device") {
            self.phase = Phase::Blanking;
        } else if message.starts_with("Verifying that ")
            || message.starts_with("Verifying the final ")
        {
            self.verification.get_or_insert_with(|| "Last".to_string());
        } else if message.starts_with("Blanked device")
            || message.starts_with("Wrote final random pattern")
        {
            self.blanked = true;
            self.complete();
        } else if message.ends_with(": Success") {
            self.complete();
        } else {
            return false;
        }
        true
    }

    fn apply_failure(&mut self, entry: &Entry) -> bool {
        if !is_failure(entry) {
            return false;
        }
        self.fail(format!("line {}: {}", entry.line, entry.message));
        if entry.message.contains("FAILURE") || entry.message.starts_with("Nwipe exited with") {
            self.final_status = true;
        }
        true
    }

    fn start(&mut self, entry: &Entry) {
        if self.phase == Phase::Idle {
            self.phase = Phase::Writing;
        }
        self.started.get_or_insert_with(|| entry.time.clone());
    }

    /// Builds the erasure record once the whole log has been read.
    pub fn finish(
        mut self,
        settings: &RunSettings,
        run_succeeded: bool,
        user_aborted: bool,
    ) -> DiskErasure {
        if self.phase == Phase::RoundsDone && run_succeeded {
            self.complete();
        }
        let completed = self.phase == Phase::Completed;
        if !completed && !self.final_status {
            let reason = self.unfinished_reason(user_aborted);
            self.fail(reason);
        }
        let verification = match &settings.verification {
            Some(stated) => stated.clone(),
            None => self.verification,
        };
        let passes = (self.phase != Phase::Idle)
            .then(|| self.finished_passes.len() as u32 + u32::from(self.blanked));
        DiskErasure {
            model: self.model.unwrap_or_default(),
            serial: self.serial.flatten(),
            device_path: Some(self.path.clone()),
            size_bytes: self.size_bytes,
            method: self
                .method
                .or_else(|| settings.method.clone())
                .unwrap_or_default(),
            verification,
            passes,
            started: self.started,
            ended: if completed || self.final_status {
                self.last_time
            } else {
                None
            },
            result: if completed && self.failure_reasons.is_empty() {
                Outcome::Passed
            } else {
                Outcome::Failed
            },
            failure_reasons: self.failure_reasons,
        }
    }

    fn unfinished_reason(&self, user_aborted: bool) -> String {
        let path = &self.path;
        if user_aborted {
            format!("nwipe was aborted by the user before the wipe of {path} finished")
        } else if self.phase == Phase::Idle {
            format!("the log ends before a wipe of {path} started")
        } else {
            let last = self.last_line.as_deref().unwrap_or("none");
            format!("the log ends before the wipe of {path} finished (last line about it: {last})")
        }
    }
}

/// Checks whether an entry reports a failure: an error, fatal or sanity
/// entry, a warning about unflushed data, or a `>>> FAILURE! <<<` status.
pub(super) fn is_failure(entry: &Entry) -> bool {
    let lowercase = entry.message.to_lowercase();
    match entry.level.as_deref() {
        Some("error" | "fatal" | "sanity") => true,
        Some("warning")
            if FAILING_WARNINGS
                .iter()
                .any(|words| lowercase.contains(words)) =>
        {
            true
        }
        _ => entry.message.contains(">>> FAILURE! <<<"),
    }
}

/// Parses a serial. Placeholders, including the anonymised
/// "XXXXXXXXXXXXXXX" of `nwipe -q`, are not identities and become `None`.
pub(super) fn parse_serial(raw: &str) -> Option<String> {
    SerialNumber::parse(raw.trim())
        .ok()
        .flatten()
        .map(|serial| serial.as_str().to_string())
}

fn looks_like_size(field: &str) -> bool {
    field.starts_with(|c: char| c.is_ascii_digit()) && field.ends_with('B')
}

fn strip_bus_name(field: &str) -> &str {
    let is_bus =
        |word: &str| BUS_NAMES.contains(&word.trim_end_matches("-SSD").to_uppercase().as_str());
    match field.split_once(' ') {
        _ if is_bus(field) => "",
        Some((first, rest)) if is_bus(first) => rest.trim(),
        _ => field,
    }
}

/// Reads the (round, pass) pair of "pass 1 of 3, round 1 of 1" or
/// "pass 1/3, round 1/1".
fn round_and_pass(message: &str) -> Option<(u32, u32)> {
    let (pass, _) = fraction_after(message, "pass ")?;
    let (round, _) = fraction_after(message, "round ")?;
    Some((round, pass))
}

/// Reads "N of M" or "N/M" right after the first `label` in `text`.
fn fraction_after(text: &str, label: &str) -> Option<(u32, u32)> {
    let rest = &text[text.find(label)? + label.len()..];
    let (first, rest) = split_number(rest)?;
    let rest = rest
        .strip_prefix(" of ")
        .or_else(|| rest.strip_prefix('/'))?;
    let (second, _) = split_number(rest)?;
    Some((first, second))
}

fn split_number(text: &str) -> Option<(u32, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    Some((text[..end].parse().ok()?, &text[end..]))
}
