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
use filiere_evidence::plan::{plan_commands, EvidenceFile, PlanOptions};
use filiere_evidence::{EvidenceError, EvidenceKind};

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
    /// None of the report's disks is a storage unit of the device.
    OtherDisks {
        report_disks: Vec<String>,
        device_disks: Vec<String>,
    },
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
            FileRejection::OtherDisks {
                report_disks,
                device_disks,
            } => EvidenceError::new(
                format!("{file_name}, disk serial"),
                format!(
                    "the report's disks ({}) are none of this device's storage units ({}); \
                     import it on the device that holds these disks",
                    report_disks.join(", "),
                    device_disks.join(", ")
                ),
            ),
        }
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

/// Rejects a report whose disks are all unknown to `known_disks`, a list of
/// storage unit names; a report or a device without disk serials passes.
fn check_disks(parsed: &ParsedEvidence, known_disks: &[String]) -> Result<(), FileRejection> {
    let known: HashSet<String> = known_disks.iter().filter_map(|d| serial_key(d)).collect();
    let report_disks = disk_serials(parsed);
    let report_keys: Vec<String> = report_disks.iter().filter_map(|d| serial_key(d)).collect();
    if known.is_empty() || report_keys.is_empty() {
        return Ok(());
    }
    if report_keys.iter().any(|key| known.contains(key)) {
        return Ok(());
    }
    Err(FileRejection::OtherDisks {
        report_disks,
        device_disks: known_disks.to_vec(),
    })
}

/// Rejects a hardware report of another machine: by system serial when both
/// the report and the device have one, else by disk serials.
fn check_machine(parsed: &ParsedEvidence, device: &Device) -> Result<(), FileRejection> {
    let system = match parsed {
        ParsedEvidence::Hardware(report) => &report.system,
        ParsedEvidence::Workbench(snapshot) => &snapshot.hardware.system,
        _ => return Ok(()),
    };
    let report_serial = system.serial.as_deref().filter(|s| serial_key(s).is_some());
    match (report_serial, &device.serial) {
        (Some(report_serial), Some(device_serial)) => {
            if serial_key(report_serial) == Some(device_serial.match_key()) {
                Ok(())
            } else {
                Err(FileRejection::OtherMachine {
                    report_serial: report_serial.to_string(),
                    device_serial: device_serial.to_string(),
                })
            }
        }
        _ => {
            let units: Vec<String> = device
                .storage_units
                .iter()
                .map(|u| u.unit.clone())
                .collect();
            check_disks(parsed, &units)
        }
    }
}

/// Storage unit names a hardware report lists, as the plan names them.
fn report_units(parsed: &ParsedEvidence) -> Vec<String> {
    disk_serials(parsed)
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

    /// Parses each upload and checks it against `device`: hardware reports
    /// first, so that disk reports of the same upload are compared with the
    /// disks those reports found.
    async fn screen<'a>(
        &self,
        device: &Device,
        uploads: &'a [EvidenceUpload],
    ) -> Result<Vec<Screened<'a>>, WorkshopError> {
        let mut seen: HashSet<String> = self.device_evidence(device).await?.into_iter().collect();
        let mut parsed: Vec<Option<Result<(EvidenceKind, ParsedEvidence), EvidenceError>>> =
            uploads
                .iter()
                .map(|upload| Some(parse_evidence(&upload.file_name, &upload.bytes)))
                .collect();
        let mut results: Vec<Option<Screened<'a>>> = uploads.iter().map(|_| None).collect();
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
                    let sha256 = sha256_hex(&upload.bytes);
                    let check = if is_hardware(&evidence) {
                        check_machine(&evidence, device)
                    } else {
                        let known = upload_units.clone().unwrap_or_else(|| {
                            device
                                .storage_units
                                .iter()
                                .map(|u| u.unit.clone())
                                .collect()
                        });
                        // A disk health report that comes with an inventory
                        // may add a disk the inventory missed.
                        match (&evidence, upload_units.is_some()) {
                            (ParsedEvidence::Health(_), true) => Ok(()),
                            _ => check_disks(&evidence, &known),
                        }
                    };
                    match check {
                        Err(rejection) => Screened::Rejected(rejection),
                        Ok(()) if !seen.insert(sha256.clone()) => {
                            Screened::AlreadyRecorded { kind, sha256 }
                        }
                        Ok(()) => {
                            if is_hardware(&evidence) {
                                upload_units = Some(report_units(&evidence));
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
