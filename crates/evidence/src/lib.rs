//! Parsers for the files that refurbishment tools write: `lshw -json`
//! (hardware inventory), `smartctl --json` (disk health), nwipe and ShredOS
//! logs (erasure), and eReuse Workbench snapshots. Each parser takes the
//! file's bytes as they are, quirks included, and returns domain values.
//!
//! Pure and synchronous: no I/O. Callers read the file, keep its bytes as
//! evidence, and turn the parsed values into events.
//!
//! Errors: [`EvidenceError`] is the only error type of this crate; it names
//! where in the file the problem is (a line or a JSON field) and why.

pub mod detect;
pub mod lshw;
pub mod nwipe;
pub mod plan;
pub mod smartctl;
pub mod workbench;

use filiere_domain::types::{Outcome, StorageKind};
use serde::Serialize;

/// Kind of evidence file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Lshw,
    Smartctl,
    Nwipe,
    Workbench,
}

/// A problem found in an evidence file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct EvidenceError {
    /// Where the problem is: "line 12", "field smart_status.passed", "file".
    pub location: String,
    pub reason: String,
    /// Class of the problem, so that a caller can describe it in another
    /// language; `reason` gives the detail in English.
    pub kind: EvidenceErrorKind,
}

/// Class of an [`EvidenceError`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EvidenceErrorKind {
    /// The content matches none of the report formats Filière reads.
    NotEvidence,
    /// The file is empty.
    Empty,
    /// The JSON cannot be read at `location`, as when a file is cut short.
    InvalidJson,
    /// A field the report needs is missing; `location` names it.
    MissingField,
    /// Any other problem.
    #[default]
    Other,
}

impl EvidenceError {
    pub fn new(location: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            reason: reason.into(),
            kind: EvidenceErrorKind::Other,
        }
    }

    /// Returns the error with its class set to `kind`.
    pub fn with_kind(mut self, kind: EvidenceErrorKind) -> Self {
        self.kind = kind;
        self
    }
}

/// Hardware inventory of one machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HardwareReport {
    pub system: SystemIdentity,
    /// One entry per processor, such as "Intel(R) Core(TM) i5-4300U CPU @ 1.90GHz".
    pub cpus: Vec<String>,
    pub memory_bytes: Option<u64>,
    pub storage: Vec<StorageDevice>,
    pub battery: Option<Battery>,
    /// Display panel or graphics product, when reported.
    pub display: Option<String>,
    /// Serial numbers of network interfaces (MAC addresses).
    pub network_serials: Vec<String>,
    /// Defects of the file that the parser repaired, in plain English, such
    /// as the `children` arrays that a buggy lshw release left out.
    pub repairs: Vec<String>,
}

/// Vendor, model and serial of a machine. `serial` is `None` when the
/// firmware reports a placeholder such as "System Serial Number".
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SystemIdentity {
    pub vendor: String,
    pub product: String,
    pub serial: Option<String>,
    /// The serial exactly as reported, placeholder included.
    pub raw_serial: String,
    /// Chassis or form factor as reported (laptop, desktop, notebook...).
    pub chassis: Option<String>,
}

/// A storage unit found in an inventory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StorageDevice {
    pub model: String,
    /// Manufacturer as the tool reports it, such as "Western Digital".
    pub vendor: Option<String>,
    pub serial: Option<String>,
    pub size_bytes: Option<u64>,
    pub kind: StorageKind,
    /// Operating-system name such as "/dev/sda", when reported.
    pub logical_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Battery {
    pub design_capacity_mwh: Option<u64>,
    pub full_capacity_mwh: Option<u64>,
    /// Capacity lost, in percent of the design capacity.
    pub wear_percent: Option<u8>,
}

/// Health of one disk from a SMART report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiskHealth {
    pub model: String,
    pub serial: Option<String>,
    pub capacity_bytes: Option<u64>,
    pub kind: StorageKind,
    pub power_on_hours: Option<u64>,
    /// SMART overall-health verdict; `None` when the report has none.
    pub smart_passed: Option<bool>,
    pub reallocated_sectors: Option<u64>,
    pub pending_sectors: Option<u64>,
    pub nvme_percentage_used: Option<u64>,
    pub nvme_media_errors: Option<u64>,
    /// True when the disk must not be reused: SMART verdict failed, an
    /// attribute failing now, NVMe critical warnings or media errors, or any
    /// reallocated, pending or grown-defect sectors.
    pub failing: bool,
    /// Why the disk is failing, in plain English; empty when it is not.
    pub failing_reasons: Vec<String>,
}

/// One erasure tool run, with one record per disk.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErasureLog {
    /// "nwipe", "ShredOS (nwipe)" or "eReuse Workbench".
    pub tool: String,
    pub tool_version: Option<String>,
    pub disks: Vec<DiskErasure>,
}

/// Erasure of one disk as the tool reported it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiskErasure {
    pub model: String,
    pub serial: Option<String>,
    /// Operating-system name of the disk, such as "/dev/sda", when the log
    /// gives one.
    pub device_path: Option<String>,
    pub size_bytes: Option<u64>,
    /// Method as the tool names it, such as "DoD Short" or "PRNG Stream".
    pub method: String,
    /// Verification as the tool names it, such as "Last" or "All"; `None`
    /// when no verification was run.
    pub verification: Option<String>,
    /// Rounds or passes completed, when reported.
    pub passes: Option<u32>,
    /// Start and end as written in the log (the tool's local time, no zone).
    pub started: Option<String>,
    pub ended: Option<String>,
    /// Passed only when the log states the wipe completed without error; an
    /// aborted, failed or unfinished wipe is Failed.
    pub result: Outcome,
    /// Why the wipe counts as failed; empty when it passed.
    pub failure_reasons: Vec<String>,
}
