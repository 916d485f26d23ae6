//! Recording tool reports on a device. Each file is parsed and checked
//! against the device (system serial, disk serials, files already recorded).
//! It is then stored as evidence under its SHA-256 and turned into a
//! diagnosis or erasures, which the device's rules check like any other
//! step. All the events of one import are appended together, or none.
//!
//! Two entry points share these checks. [`Workshop::import_evidence`]
//! records every file or nothing, for the command line.
//! [`Workshop::import_evidence_files`] reports on each file and records the
//! good ones, for uploads from the pages and the API.

use std::collections::HashSet;

use filiere_domain::serial::SerialNumber;
use filiere_domain::types::Outcome;
use filiere_domain::{Device, DeviceCode, DeviceEvent};
use filiere_evidence::detect::{parse_evidence, ParsedEvidence};
use filiere_evidence::plan::{inventory_units, plan_commands, EvidenceFile, PlanOptions};
use filiere_evidence::{DiskErasure, ErasureLog, EvidenceKind, HardwareReport};
pub use filiere_evidence::{EvidenceError, EvidenceErrorKind};

use crate::evidence::sha256_hex;
use crate::workshop::{CommandContext, Workshop, WorkshopError};
use crate::{AppendBatch, AppendResult, ExpectedVersion, StreamAppend};

/// A file as uploaded or read from disk.
#[derive(Clone, Debug)]
pub struct EvidenceUpload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// One imported file: its kind and the hash it is stored under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedFile {
    pub file_name: String,
    pub kind: String,
    pub sha256: String,
}

/// Outcome of an all-or-nothing evidence import.
#[derive(Clone, Debug)]
pub struct EvidenceImport {
    pub device: Device,
    /// Files recorded by this import.
    pub files: Vec<ImportedFile>,
    /// Files already recorded on this device, left out of this import.
    pub already_recorded: Vec<ImportedFile>,
    pub events: Vec<DeviceEvent>,
    /// `None` when every file was already recorded and nothing was appended.
    pub append: Option<AppendResult>,
}

/// Reason a file was not recorded on the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileRejection {
    /// The file is not a report Filière reads, or it is damaged.
    Unreadable(EvidenceError),
    /// The report's system serial is not the device's serial.
    OtherMachine {
        report_serial: String,
        device_serial: String,
    },
    /// An inventory that no system serial ties to the device, and none of
    /// whose disks is a storage unit of the device.
    OtherMachineDisks {
        /// Vendor and product of the report's system, such as "QEMU
        /// Standard PC (i440FX + PIIX, 1996)".
        report_system: String,
        report_serial: Option<String>,
        device_serial: Option<String>,
        report_disks: Vec<String>,
        device_disks: Vec<String>,
    },
    /// None of the report's disks is a storage unit of the device.
    OtherDisks {
        report_disks: Vec<String>,
        device_disks: Vec<String>,
    },
    /// An erasure log names a disk without a serial, so the erasure cannot
    /// be tied to a storage unit.
    DiskWithoutSerial {
        /// Each such disk, as "/dev/sda" or "/dev/sda (model)".
        disks: Vec<String>,
        device_disks: Vec<String>,
    },
    /// An erasure log on a device with no storage unit known yet.
    NoStorageUnit { report_disks: Vec<String> },
}

impl FileRejection {
    /// Describes the rejection in English, naming the file and the values.
    pub fn to_evidence_error(&self, file_name: &str) -> EvidenceError {
        match self {
            FileRejection::Unreadable(error) => error.clone(),
            FileRejection::OtherMachine {
                report_serial,
                device_serial,
            } => EvidenceError::new(
                format!("{file_name}, system serial"),
                format!(
                    "the report is of machine {report_serial}, but this device has serial \
                     {device_serial}; import it on the device with serial {report_serial}"
                ),
            ),
            FileRejection::OtherMachineDisks {
                report_system,
                report_serial,
                device_serial,
                report_disks,
                device_disks,
            } => EvidenceError::new(
                format!("{file_name}, system and disk serials"),
                format!(
                    "the report is of {report_system} (serial {}), and this device has serial \
                     {}; the report's disks ({}) are none of this device's storage units ({}). \
                     Import it on the device that holds these disks",
                    report_serial.as_deref().unwrap_or("none"),
                    device_serial.as_deref().unwrap_or("none"),
                    report_disks.join(", "),
                    device_disks.join(", ")
                ),
            ),
            FileRejection::OtherDisks {
                report_disks,
                device_disks,
            } => EvidenceError::new(
                format!("{file_name}, disk serial"),
                format!(
                    "the report's disks ({}) are none of this device's storage units ({}); \
                     import it on the device that holds these disks, or, if this device holds \
                     them, import its inventory (lshw or Workbench) first",
                    report_disks.join(", "),
                    device_disks.join(", ")
                ),
            ),
            FileRejection::DiskWithoutSerial {
                disks,
                device_disks,
            } => EvidenceError::new(
                format!("{file_name}, disk serial"),
                format!(
                    "the log gives no serial for {}, so the erasure cannot be matched to a \
                     storage unit of this device ({}); erase the disk again with an nwipe \
                     release that logs serials, or record the erasure by hand with the unit \
                     (`filiere device record CODE erase --unit UNIT ...`)",
                    disks.join(", "),
                    list_or_none(device_disks)
                ),
            ),
            FileRejection::NoStorageUnit { report_disks } => EvidenceError::new(
                format!("{file_name}, disk serial"),
                format!(
                    "this device has no storage unit known yet, so the erasures of {} cannot \
                     be matched; import the device's inventory (lshw or Workbench) first, or \
                     in the same upload",
                    report_disks.join(", ")
                ),
            ),
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none known".to_string()
    } else {
        items.join(", ")
    }
}

/// Outcome of one file of an upload.
#[derive(Debug)]
pub enum FileOutcome {
    Recorded {
        kind: String,
        sha256: String,
    },
    /// The device's events already cite this file (or it came twice in the
    /// same upload); nothing new was recorded for it.
    AlreadyRecorded {
        kind: String,
        sha256: String,
    },
    Rejected(FileRejection),
    /// The file is readable and belongs to the device, but the device's rules
    /// rejected the steps it leads to; see [`EvidenceBatch::failure`].
    NotRecorded {
        kind: String,
        sha256: String,
    },
}

/// One file of an upload and what happened to it.
#[derive(Debug)]
pub struct FileReport {
    pub file_name: String,
    pub outcome: FileOutcome,
}

/// Outcome of an upload recorded file by file.
#[derive(Debug)]
pub struct EvidenceBatch {
    /// The device after the import.
    pub device: Device,
    /// One report per uploaded file, in upload order.
    pub files: Vec<FileReport>,
    pub events: Vec<DeviceEvent>,
    /// `None` when nothing was appended.
    pub append: Option<AppendResult>,
    /// Why the readable files were not recorded, when the device's rules or
    /// the log rejected them; every such file is [`FileOutcome::NotRecorded`].
    pub failure: Option<WorkshopError>,
}

/// A readable file that belongs to the device.
struct Accepted<'a> {
    upload: &'a EvidenceUpload,
    kind: EvidenceKind,
    sha256: String,
    parsed: ParsedEvidence,
}

/// Result of checking the files of one upload against a device, indexed like
/// the uploads.
enum Screened<'a> {
    Accepted(Box<Accepted<'a>>),
    AlreadyRecorded { kind: EvidenceKind, sha256: String },
    Rejected(FileRejection),
}

fn serial_key(raw: &str) -> Option<String> {
    SerialNumber::parse(raw)
        .ok()
        .flatten()
        .map(|serial| serial.match_key())
}

/// Match key of a storage unit name, or `None` for a name that is not a
/// serial: an operating-system name ("/dev/sda", "sda", "nvme0n1"), a rank
/// ("disque 1") or a disk imported without serial ("… (sans numéro de
/// série)"). Such names come from manual diagnoses and from inventories
/// that could not read a serial, and must not be compared with serials.
fn unit_key(unit: &str) -> Option<String> {
    let name = unit.trim();
    let lower = name.to_lowercase();
    let is_slot_name = lower.starts_with("/dev/")
        || lower.ends_with("(sans numéro de série)")
        || lower
            .strip_prefix("disque ")
            .is_some_and(|rank| !rank.is_empty() && rank.chars().all(|c| c.is_ascii_digit()))
        || is_block_device_name(&lower);
    if is_slot_name {
        None
    } else {
        serial_key(name)
    }
}

/// Checks whether `name` is a Linux block device name: "sda", "hdb", "vda",
/// "xvda", "sdab", "nvme0n1", "mmcblk0" or "loop44".
fn is_block_device_name(name: &str) -> bool {
    let letters_only =
        |rest: &str| (1..=3).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_lowercase());
    let digits_only = |rest: &str| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit());
    let letters = ["sd", "hd", "vd", "xvd"]
        .iter()
        .any(|prefix| name.strip_prefix(prefix).is_some_and(letters_only));
    let numbered = ["mmcblk", "loop"]
        .iter()
        .any(|prefix| name.strip_prefix(prefix).is_some_and(digits_only));
    let nvme = name
        .strip_prefix("nvme")
        .and_then(|rest| rest.split_once('n'))
        .is_some_and(|(controller, namespace)| digits_only(controller) && digits_only(namespace));
    letters || numbered || nvme
}

fn is_hardware(parsed: &ParsedEvidence) -> bool {
    matches!(
        parsed,
        ParsedEvidence::Hardware(_) | ParsedEvidence::Workbench(_)
    )
}

/// Serials of the disks a report names, as written.
fn disk_serials(parsed: &ParsedEvidence) -> Vec<String> {
    match parsed {
        ParsedEvidence::Hardware(report) => report
            .storage
            .iter()
            .filter_map(|d| d.serial.clone())
            .collect(),
        ParsedEvidence::Workbench(snapshot) => snapshot
            .hardware
            .storage
            .iter()
            .filter_map(|d| d.serial.clone())
            .collect(),
        ParsedEvidence::Health(health) => health.serial.iter().cloned().collect(),
        ParsedEvidence::Erasure(log) => log.disks.iter().filter_map(|d| d.serial.clone()).collect(),
    }
}

/// Names a disk of an erasure log: its serial, else its device path and
/// model.
fn erased_disk_name(disk: &DiskErasure) -> String {
    if let Some(serial) = &disk.serial {
        return serial.clone();
    }
    let model = disk.model.trim();
    match (disk.device_path.as_deref(), model.is_empty()) {
        (Some(path), true) => path.to_string(),
        (Some(path), false) => format!("{path} ({model})"),
        (None, false) => model.to_string(),
        (None, true) => "a disk without model or device name".to_string(),
    }
}

/// Checks whether any of `report_disks` has the match key of one of
/// `known_units`.
fn any_disk_known(report_disks: &[String], known_units: &[String]) -> bool {
    let known: HashSet<String> = known_units.iter().filter_map(|u| unit_key(u)).collect();
    report_disks
        .iter()
        .filter_map(|d| serial_key(d))
        .any(|key| known.contains(&key))
}

/// Rejects a disk health report whose disks are all unknown to
/// `known_units`. A report without disk serial passes, and so does any
/// report when no unit is named by serial.
fn check_health(parsed: &ParsedEvidence, known_units: &[String]) -> Result<(), FileRejection> {
    let report_disks = disk_serials(parsed);
    let comparable = known_units.iter().any(|u| unit_key(u).is_some())
        && report_disks.iter().any(|d| serial_key(d).is_some());
    if !comparable || any_disk_known(&report_disks, known_units) {
        return Ok(());
    }
    Err(FileRejection::OtherDisks {
        report_disks,
        device_disks: known_units.to_vec(),
    })
}

/// Rejects an erasure log that cannot be tied to the device's storage
/// units: a disk without serial, a device with no unit known yet, or disks
/// none of which is a unit of the device.
fn check_erasures(log: &ErasureLog, known_units: &[String]) -> Result<(), FileRejection> {
    let without_serial: Vec<String> = log
        .disks
        .iter()
        .filter(|disk| disk.serial.as_deref().and_then(serial_key).is_none())
        .map(erased_disk_name)
        .collect();
    if !without_serial.is_empty() {
        return Err(FileRejection::DiskWithoutSerial {
            disks: without_serial,
            device_disks: known_units.to_vec(),
        });
    }
    let report_disks: Vec<String> = log.disks.iter().map(erased_disk_name).collect();
    if known_units.is_empty() {
        return Err(FileRejection::NoStorageUnit { report_disks });
    }
    if any_disk_known(&report_disks, known_units) {
        return Ok(());
    }
    Err(FileRejection::OtherDisks {
        report_disks,
        device_disks: known_units.to_vec(),
    })
}

/// Rejects a hardware report of another machine. When both the report and
/// the device have a system serial, they must match. Otherwise the report's
/// disks are compared with every storage unit the device has been found
/// with, and the report is rejected when none of them matches. With nothing
/// to compare on either side, the report passes. The erasures of a
/// Workbench snapshot are checked against the snapshot's own inventory.
fn check_machine(
    parsed: &ParsedEvidence,
    device: &Device,
    known_units: &[String],
) -> Result<(), FileRejection> {
    let (report, erasures) = match parsed {
        ParsedEvidence::Hardware(report) => (report, None),
        ParsedEvidence::Workbench(snapshot) => (&snapshot.hardware, snapshot.erasures.as_ref()),
        _ => return Ok(()),
    };
    let system = &report.system;
    let report_serial = system.serial.as_deref().filter(|s| serial_key(s).is_some());
    if let (Some(report_serial), Some(device_serial)) = (report_serial, &device.serial) {
        if serial_key(report_serial) != Some(device_serial.match_key()) {
            return Err(FileRejection::OtherMachine {
                report_serial: report_serial.to_string(),
                device_serial: device_serial.to_string(),
            });
        }
    } else {
        let report_disks = disk_serials(parsed);
        let comparable = known_units.iter().any(|u| unit_key(u).is_some())
            && report_disks.iter().any(|d| serial_key(d).is_some());
        if comparable && !any_disk_known(&report_disks, known_units) {
            let report_system = format!("{} {}", system.vendor.trim(), system.product.trim())
                .trim()
                .to_string();
            return Err(FileRejection::OtherMachineDisks {
                report_system: if report_system.is_empty() {
                    "an unnamed machine".to_string()
                } else {
                    report_system
                },
                report_serial: report_serial.map(str::to_string),
                device_serial: device.serial.as_ref().map(|s| s.to_string()),
                report_disks,
                device_disks: known_units.to_vec(),
            });
        }
    }
    match erasures {
        Some(log) => check_erasures(log, &report_units(report)),
        None => Ok(()),
    }
}

/// Storage unit names that a diagnosis from `report` records.
fn report_units(report: &HardwareReport) -> Vec<String> {
    inventory_units(report)
        .into_iter()
        .map(|unit| unit.unit)
        .collect()
}

fn hardware_of(parsed: &ParsedEvidence) -> Option<&HardwareReport> {
    match parsed {
        ParsedEvidence::Hardware(report) => Some(report),
        ParsedEvidence::Workbench(snapshot) => Some(&snapshot.hardware),
        _ => None,
    }
}

impl Workshop {
    /// Parses `uploads`, stores them, and records what they show on the
    /// device with `code`: every file, or nothing when one is unreadable or
    /// belongs to another machine. Files already recorded on the device are
    /// left out and listed in [`EvidenceImport::already_recorded`].
    /// `functional_test` goes with a hardware report when the device has no
    /// functional test result yet.
    pub async fn import_evidence(
        &self,
        code: &DeviceCode,
        uploads: Vec<EvidenceUpload>,
        functional_test: Option<Outcome>,
        context: &CommandContext,
    ) -> Result<EvidenceImport, WorkshopError> {
        if uploads.is_empty() {
            return Err(no_file_error());
        }
        let device = self
            .find_device(code)
            .await?
            .ok_or_else(|| WorkshopError::DeviceNotFound(code.to_string()))?;
        let screened = self.screen(&device, &uploads).await?;
        let mut problems = Vec::new();
        let mut accepted = Vec::new();
        let mut already_recorded = Vec::new();
        for (upload, screened) in uploads.iter().zip(screened) {
            match screened {
                Screened::Accepted(file) => accepted.push(*file),
                Screened::AlreadyRecorded { kind, sha256 } => already_recorded.push(ImportedFile {
                    file_name: upload.file_name.clone(),
                    kind: kind.as_str().to_string(),
                    sha256,
                }),
                Screened::Rejected(rejection) => {
                    problems.push(rejection.to_evidence_error(&upload.file_name));
                }
            }
        }
        if !problems.is_empty() {
            return Err(WorkshopError::Evidence(problems));
        }
        let files = accepted
            .iter()
            .map(|file| ImportedFile {
                file_name: file.upload.file_name.clone(),
                kind: file.kind.as_str().to_string(),
                sha256: file.sha256.clone(),
            })
            .collect();
        let (device, events, append) = self
            .record_accepted(device, accepted, functional_test, context)
            .await?;
        Ok(EvidenceImport {
            device,
            files,
            already_recorded,
            events,
            append,
        })
    }

    /// Checks each of `uploads` on its own and records the good ones
    /// together on the device with `code`. Unreadable files, reports of
    /// another machine and files already recorded are reported and left out.
    /// Only a missing device, an empty upload or a failure to read the log
    /// is an error. A rule that rejects the good files is reported in
    /// [`EvidenceBatch::failure`].
    pub async fn import_evidence_files(
        &self,
        code: &DeviceCode,
        uploads: Vec<EvidenceUpload>,
        functional_test: Option<Outcome>,
        context: &CommandContext,
    ) -> Result<EvidenceBatch, WorkshopError> {
        if uploads.is_empty() {
            return Err(no_file_error());
        }
        let device = self
            .find_device(code)
            .await?
            .ok_or_else(|| WorkshopError::DeviceNotFound(code.to_string()))?;
        let screened = self.screen(&device, &uploads).await?;
        let mut outcomes: Vec<Option<FileOutcome>> = Vec::new();
        let mut accepted = Vec::new();
        for screened in screened {
            match screened {
                Screened::Accepted(file) => {
                    outcomes.push(None);
                    accepted.push(*file);
                }
                Screened::AlreadyRecorded { kind, sha256 } => {
                    outcomes.push(Some(FileOutcome::AlreadyRecorded {
                        kind: kind.as_str().to_string(),
                        sha256,
                    }));
                }
                Screened::Rejected(rejection) => {
                    outcomes.push(Some(FileOutcome::Rejected(rejection)))
                }
            }
        }
        let accepted_facts: Vec<(String, String)> = accepted
            .iter()
            .map(|file| (file.kind.as_str().to_string(), file.sha256.clone()))
            .collect();
        let before = device.clone();
        let recorded = self
            .record_accepted(device, accepted, functional_test, context)
            .await;
        let (device, events, append, failure) = match recorded {
            Ok((device, events, append)) => (device, events, append, None),
            Err(
                error @ (WorkshopError::Domain(_)
                | WorkshopError::Evidence(_)
                | WorkshopError::Store(crate::StoreError::Conflict { .. })),
            ) => (before, Vec::new(), None, Some(error)),
            Err(error) => return Err(error),
        };
        let mut accepted_facts = accepted_facts.into_iter();
        let files = uploads
            .iter()
            .zip(outcomes)
            .map(|(upload, outcome)| {
                let outcome = outcome.unwrap_or_else(|| {
                    let (kind, sha256) = accepted_facts.next().unwrap_or_default();
                    match failure {
                        None => FileOutcome::Recorded { kind, sha256 },
                        Some(_) => FileOutcome::NotRecorded { kind, sha256 },
                    }
                });
                FileReport {
                    file_name: upload.file_name.clone(),
                    outcome,
                }
            })
            .collect();
        Ok(EvidenceBatch {
            device,
            files,
            events,
            append,
            failure,
        })
    }

    /// Hashes of the evidence files cited by the events of `device`, oldest
    /// first, without repeats.
    pub async fn device_evidence(&self, device: &Device) -> Result<Vec<String>, WorkshopError> {
        let mut hashes: Vec<String> = Vec::new();
        for (_, event) in self.device_events(device.id).await? {
            let cited = match &event {
                DeviceEvent::Diagnosed(diagnosis) => diagnosis.evidence_sha256.clone(),
                DeviceEvent::DataErased(erasure) => {
                    erasure.evidence_sha256.iter().cloned().collect()
                }
                _ => Vec::new(),
            };
            for sha256 in cited {
                if !hashes.contains(&sha256) {
                    hashes.push(sha256);
                }
            }
        }
        Ok(hashes)
    }

    /// Names of the storage units `device` has been found with: those of
    /// its current diagnosis, then those of its earlier diagnoses. A later
    /// diagnosis may list no unit (a machine that does not start), and its
    /// disks still identify it.
    async fn known_units(&self, device: &Device) -> Result<Vec<String>, WorkshopError> {
        let mut units: Vec<String> = device
            .storage_units
            .iter()
            .map(|u| u.unit.clone())
            .collect();
        for (_, event) in self.device_events(device.id).await?.into_iter().rev() {
            if let DeviceEvent::Diagnosed(diagnosis) = event {
                for unit in diagnosis.storage_units {
                    if !units.contains(&unit.unit) {
                        units.push(unit.unit);
                    }
                }
            }
        }
        Ok(units)
    }

    /// Parses each upload and checks it against `device`: hardware reports
    /// first, so that disk reports of the same upload are compared with the
    /// disks those reports found.
    async fn screen<'a>(
        &self,
        device: &Device,
        uploads: &'a [EvidenceUpload],
    ) -> Result<Vec<Screened<'a>>, WorkshopError> {
        let mut seen: HashSet<String> = self.device_evidence(device).await?.into_iter().collect();
        let device_units = self.known_units(device).await?;
        let mut parsed: Vec<Option<Result<(EvidenceKind, ParsedEvidence), EvidenceError>>> =
            uploads
                .iter()
                .map(|upload| Some(parse_evidence(&upload.file_name, &upload.bytes)))
                .collect();
        let mut results: Vec<Option<Screened<'a>>> = uploads.iter().map(|_| None).collect();
        // Units of an inventory accepted from this upload, which the
        // diagnosis it records will list.
        let mut upload_units: Option<Vec<String>> = None;
        let hardware_first = (0..uploads.len())
            .filter(|&i| matches!(&parsed[i], Some(Ok((_, p))) if is_hardware(p)))
            .chain(
                (0..uploads.len())
                    .filter(|&i| !matches!(&parsed[i], Some(Ok((_, p))) if is_hardware(p))),
            )
            .collect::<Vec<_>>();
        for index in hardware_first {
            let upload = &uploads[index];
            let screened = match parsed[index].take() {
                None => continue,
                Some(Err(error)) => Screened::Rejected(FileRejection::Unreadable(error)),
                Some(Ok((kind, evidence))) => {
                    let known = upload_units.as_deref().unwrap_or(&device_units);
                    let check = match &evidence {
                        ParsedEvidence::Hardware(_) | ParsedEvidence::Workbench(_) => {
                            check_machine(&evidence, device, &device_units)
                        }
                        // A disk health report that comes with an inventory
                        // may add a disk the inventory missed.
                        ParsedEvidence::Health(_) if upload_units.is_some() => Ok(()),
                        ParsedEvidence::Health(_) => check_health(&evidence, known),
                        ParsedEvidence::Erasure(log) => check_erasures(log, known),
                    };
                    let sha256 = sha256_hex(&upload.bytes);
                    // A file the device already cites is reported as such,
                    // even when the device's units changed since.
                    match check {
                        _ if seen.contains(&sha256) => Screened::AlreadyRecorded { kind, sha256 },
                        Err(rejection) => Screened::Rejected(rejection),
                        Ok(()) => {
                            seen.insert(sha256.clone());
                            if let Some(report) = hardware_of(&evidence) {
                                upload_units = Some(report_units(report));
                            }
                            Screened::Accepted(Box::new(Accepted {
                                upload,
                                kind,
                                sha256,
                                parsed: evidence,
                            }))
                        }
                    }
                }
            };
            results[index] = Some(screened);
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// Plans, decides, stores and appends the accepted files in one batch;
    /// nothing is appended when there is none.
    async fn record_accepted(
        &self,
        mut device: Device,
        accepted: Vec<Accepted<'_>>,
        functional_test: Option<Outcome>,
        context: &CommandContext,
    ) -> Result<(Device, Vec<DeviceEvent>, Option<AppendResult>), WorkshopError> {
        if accepted.is_empty() {
            return Ok((device, Vec::new(), None));
        }
        let planned: Vec<EvidenceFile> = accepted
            .iter()
            .map(|file| EvidenceFile {
                file_name: file.upload.file_name.clone(),
                sha256: file.sha256.clone(),
                parsed: file.parsed.clone(),
            })
            .collect();
        let options = PlanOptions {
            functional_test,
            operator: context.metadata.actor.clone(),
        };
        let commands = plan_commands(&device, &planned, &options)
            .map_err(|error| WorkshopError::Evidence(vec![error]))?;

        let expected = device.version as i64;
        let today = context.now.date_naive();
        let mut events = Vec::new();
        for command in commands {
            for event in device.decide(command, today)? {
                device.apply(&event);
                events.push(event);
            }
        }
        // The bytes are stored only once the steps are known to be allowed.
        // A file stored by an append that then fails is cited by no event.
        for file in &accepted {
            self.store()
                .put_evidence(
                    file.kind.as_str(),
                    &file.upload.file_name,
                    &file.upload.bytes,
                )
                .await?;
        }
        let append = self
            .store()
            .append(AppendBatch {
                command_id: context.command_id,
                metadata: context.metadata.clone(),
                occurred_at: context.now,
                streams: vec![StreamAppend {
                    stream_id: device.id.stream_id(),
                    expected: ExpectedVersion::Exact(expected),
                    events: events.iter().map(crate::workshop::new_event).collect(),
                    unique_keys: vec![],
                }],
            })
            .await?;
        Ok((device, events, Some(append)))
    }
}

fn no_file_error() -> WorkshopError {
    WorkshopError::Evidence(vec![EvidenceError::new(
        "files",
        "no file given; attach lshw, smartctl, nwipe or Workbench reports",
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_not_compared() {
        for name in [
            "sda",
            "/dev/sda",
            "sdab",
            "hdb",
            "xvda",
            "nvme0n1",
            "mmcblk0",
            "loop44",
            "disque 2",
            "Loopback device (sans numéro de série)",
        ] {
            assert_eq!(unit_key(name), None, "{name}");
        }
    }

    #[test]
    fn serials_compared() {
        for (name, key) in [
            ("S41V0SEGYD", "S41V0SEGYD"),
            ("WD-WX11A80W7430", "WDWX11A80W7430"),
            ("164014297BCC", "164014297BCC"),
            ("SDA1234567", "SDA1234567"),
        ] {
            assert_eq!(unit_key(name).as_deref(), Some(key), "{name}");
        }
    }
}
