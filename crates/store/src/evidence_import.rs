//! Recording tool reports on a device: each file is parsed, stored as
//! evidence under its SHA-256, and turned into a diagnosis or erasures that
//! the device's rules check like any other step. All the events of one
//! import are appended together, or none.

use filiere_domain::types::Outcome;
use filiere_domain::{Device, DeviceCode, DeviceEvent};
use filiere_evidence::detect::parse_evidence;
use filiere_evidence::plan::{plan_commands, EvidenceFile, PlanOptions};
use filiere_evidence::EvidenceError;

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

/// Outcome of an evidence import.
#[derive(Clone, Debug)]
pub struct EvidenceImport {
    pub device: Device,
    pub files: Vec<ImportedFile>,
    pub events: Vec<DeviceEvent>,
    pub append: AppendResult,
}

impl Workshop {
    /// Parses `uploads`, stores them, and records what they show on the
    /// device with `code`. `functional_test` goes with a hardware report
    /// when the device has no functional test result yet.
    pub async fn import_evidence(
        &self,
        code: &DeviceCode,
        uploads: Vec<EvidenceUpload>,
        functional_test: Option<Outcome>,
        context: &CommandContext,
    ) -> Result<EvidenceImport, WorkshopError> {
        if uploads.is_empty() {
            return Err(WorkshopError::Evidence(vec![EvidenceError::new(
                "files",
                "no file given; attach lshw, smartctl, nwipe or Workbench reports",
            )]));
        }
        let mut device = self
            .find_device(code)
            .await?
            .ok_or_else(|| WorkshopError::DeviceNotFound(code.to_string()))?;

        let mut parsed = Vec::new();
        let mut problems = Vec::new();
        for upload in &uploads {
            match parse_evidence(&upload.file_name, &upload.bytes) {
                Ok((kind, evidence)) => parsed.push((upload, kind, evidence)),
                Err(error) => problems.push(error),
            }
        }
        if !problems.is_empty() {
            return Err(WorkshopError::Evidence(problems));
        }

        let mut files = Vec::new();
        let mut planned = Vec::new();
        for (upload, kind, evidence) in parsed {
            let sha256 = self
                .store()
                .put_evidence(kind.as_str(), &upload.file_name, &upload.bytes)
                .await?;
            files.push(ImportedFile {
                file_name: upload.file_name.clone(),
                kind: kind.as_str().to_string(),
                sha256: sha256.clone(),
            });
            planned.push(EvidenceFile {
                file_name: upload.file_name.clone(),
                sha256,
                parsed: evidence,
            });
        }
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
        Ok(EvidenceImport {
            device,
            files,
            events,
            append,
        })
    }
}
