//! Turning parsed evidence files into device commands: a hardware or disk
//! health report becomes a diagnosis, an erasure log one erasure per disk.
//!
//! Disks are matched by serial number, compared by
//! [`SerialNumber::match_key`]. An erased disk that matches no storage unit
//! keeps its own serial (or a description) as its unit name; the device rules
//! then block the handover until someone checks it.

use filiere_domain::event::{Diagnosis, Erasure, StorageUnit};
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::{ErasureMethod, ErasureTechnique, Outcome, StorageKind, Verdict};
use filiere_domain::{Device, DeviceCommand};

use crate::detect::ParsedEvidence;
use crate::{DiskErasure, DiskHealth, ErasureLog, EvidenceError, HardwareReport, StorageDevice};

/// A parsed file and the SHA-256 it is stored under.
#[derive(Clone, Debug)]
pub struct EvidenceFile {
    pub file_name: String,
    pub sha256: String,
    pub parsed: ParsedEvidence,
}

/// Choices the files cannot carry.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// Functional test result to record with a hardware report; when absent,
    /// the device's latest result is kept.
    pub functional_test: Option<Outcome>,
    /// Person who ran the erasures.
    pub operator: String,
}

fn key(serial: &str) -> Option<String> {
    SerialNumber::parse(serial)
        .ok()
        .flatten()
        .map(|s| s.match_key())
}

/// Builds the commands that record `files` on `device`, diagnosis first.
pub fn plan_commands(
    device: &Device,
    files: &[EvidenceFile],
    options: &PlanOptions,
) -> Result<Vec<DeviceCommand>, EvidenceError> {
    let mut hardware: Option<(&EvidenceFile, &HardwareReport)> = None;
    let mut healths = Vec::new();
    let mut erasures = Vec::new();
    for file in files {
        match &file.parsed {
            ParsedEvidence::Hardware(report) => hardware = Some((file, report)),
            ParsedEvidence::Health(health) => healths.push((file, health)),
            ParsedEvidence::Erasure(log) => erasures.push((file, log)),
            ParsedEvidence::Workbench(snapshot) => {
                hardware = Some((file, &snapshot.hardware));
                if let Some(log) = &snapshot.erasures {
                    erasures.push((file, log));
                }
            }
        }
    }

    let mut commands = Vec::new();
    let mut units = device.storage_units.clone();
    if hardware.is_some() || !healths.is_empty() {
        let diagnosis = diagnosis(device, hardware, &healths, options)?;
        units = diagnosis.storage_units.clone();
        commands.push(DeviceCommand::Diagnose(diagnosis));
    }
    for (file, log) in erasures {
        for disk in &log.disks {
            commands.push(DeviceCommand::RecordErasure(erasure(
                &units, file, log, disk, options,
            )));
        }
    }
    Ok(commands)
}

fn diagnosis(
    device: &Device,
    hardware: Option<(&EvidenceFile, &HardwareReport)>,
    healths: &[(&EvidenceFile, &DiskHealth)],
    options: &PlanOptions,
) -> Result<Diagnosis, EvidenceError> {
    let functional_test = options
        .functional_test
        .or(device.functional_test)
        .ok_or_else(|| {
            EvidenceError::new(
                "functional test",
                "a hardware or disk health report records a diagnosis, and this device has no \
             functional test result yet: give it (passed or failed) with the files",
            )
        })?;
    let mut units = match hardware {
        Some((_, report)) => inventory_units(report),
        None => device.storage_units.clone(),
    };
    for (_, health) in healths {
        merge_health(&mut units, health);
    }
    let mut evidence: Vec<String> = hardware.iter().map(|(f, _)| f.sha256.clone()).collect();
    evidence.extend(healths.iter().map(|(f, _)| f.sha256.clone()));
    let report = hardware.map(|(_, r)| r);
    let names: Vec<&str> = hardware
        .iter()
        .map(|(f, _)| f.file_name.as_str())
        .chain(healths.iter().map(|(f, _)| f.file_name.as_str()))
        .collect();
    Ok(Diagnosis {
        functional_test,
        verdict: device.verdict.unwrap_or(Verdict::Refurbish),
        storage_units: units,
        cpu: report.map(|r| r.cpus.join(" + ")).unwrap_or_default(),
        memory_bytes: report.and_then(|r| r.memory_bytes),
        battery_wear_percent: report.and_then(|r| r.battery.as_ref()?.wear_percent),
        notes: format!("Importé de : {}", names.join(", ")),
        evidence_sha256: evidence,
    })
}

/// Storage units that a diagnosis records from `report`: its disks except
/// flash media, each named by serial, or else by its operating-system name
/// or its rank.
pub fn inventory_units(report: &HardwareReport) -> Vec<StorageUnit> {
    report
        .storage
        .iter()
        .filter(|disk| disk.kind != StorageKind::Flash)
        .enumerate()
        .map(|(index, disk)| unit_from_inventory(index, disk))
        .collect()
}

fn unit_from_inventory(index: usize, disk: &StorageDevice) -> StorageUnit {
    let name = disk
        .serial
        .clone()
        .or_else(|| disk.logical_name.clone())
        .unwrap_or_else(|| format!("disque {}", index + 1));
    StorageUnit {
        unit: name,
        kind: disk.kind,
        model: disk.model.clone(),
        size_bytes: disk.size_bytes,
        healthy: None,
    }
}

/// Records a health verdict on the unit with the same serial, or adds the
/// disk as a unit when the inventory did not list it.
fn merge_health(units: &mut Vec<StorageUnit>, health: &DiskHealth) {
    let wanted = health.serial.as_deref().and_then(key);
    let found = units
        .iter_mut()
        .find(|unit| wanted.is_some() && key(&unit.unit) == wanted);
    match found {
        Some(unit) => {
            unit.healthy = Some(!health.failing);
            if unit.size_bytes.is_none() {
                unit.size_bytes = health.capacity_bytes;
            }
            if unit.model.is_empty() {
                unit.model = health.model.clone();
            }
        }
        None => units.push(StorageUnit {
            unit: health
                .serial
                .clone()
                .unwrap_or_else(|| format!("{} (sans numéro de série)", health.model)),
            kind: health.kind,
            model: health.model.clone(),
            size_bytes: health.capacity_bytes,
            healthy: Some(!health.failing),
        }),
    }
}

fn erasure(
    units: &[StorageUnit],
    file: &EvidenceFile,
    log: &ErasureLog,
    disk: &DiskErasure,
    options: &PlanOptions,
) -> Erasure {
    let wanted = disk.serial.as_deref().and_then(key);
    let matched = units
        .iter()
        .find(|unit| wanted.is_some() && key(&unit.unit) == wanted)
        .map(|unit| unit.unit.clone());
    let unit = matched.unwrap_or_else(|| match &disk.serial {
        Some(serial) => serial.clone(),
        None => format!("{} (sans numéro de série)", disk.model.trim()),
    });
    let method_name = disk.method.to_ascii_lowercase();
    let (method, technique) =
        if method_name.contains("secure erase") || method_name.contains("sanitize") {
            (ErasureMethod::Purge, ErasureTechnique::BlockErase)
        } else if method_name.contains("crypto") {
            (ErasureMethod::Purge, ErasureTechnique::CryptographicErase)
        } else {
            (ErasureMethod::Clear, ErasureTechnique::Overwrite)
        };
    let verified = disk
        .verification
        .as_deref()
        .is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "none" | "off"));
    Erasure {
        unit,
        method,
        technique,
        tool: log.tool.clone(),
        tool_version: log.tool_version.clone().unwrap_or_default(),
        verified,
        result: disk.result,
        operator: options.operator.clone(),
        evidence_sha256: Some(file.sha256.clone()),
    }
}
