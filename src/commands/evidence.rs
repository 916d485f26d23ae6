//! `filiere evidence import`: tool reports recorded on a device, or a whole
//! folder matched to devices by system and disk serial numbers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::Outcome;
use filiere_domain::DeviceCode;
use filiere_evidence::detect::{parse_evidence, ParsedEvidence};
use filiere_projections::{queries, Projector};
use filiere_store::evidence_import::EvidenceUpload;
use filiere_store::workshop::{CommandContext, Workshop};

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub action: EvidenceAction,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceAction {
    /// Import report files on one device (--device), or every file of a folder (--folder),
    /// matched to devices by system or disk serial number.
    Import(ImportEvidenceArgs),
}

#[derive(Debug, Args)]
pub struct ImportEvidenceArgs {
    /// Report files: `lshw -json`, `smartctl --json`, nwipe or ShredOS logs, Workbench snapshots.
    pub files: Vec<PathBuf>,

    /// Device code the files belong to.
    #[arg(long, conflicts_with = "folder")]
    pub device: Option<String>,

    /// Folder whose files are matched to devices by serial number.
    #[arg(long)]
    pub folder: Option<PathBuf>,

    /// Functional test result to record with a hardware report (passed or failed), for
    /// devices that have none yet.
    #[arg(long)]
    pub test: Option<Outcome>,

    /// Who ran the tools (defaults to the system user).
    #[arg(long, env = "FILIERE_ACTOR")]
    pub actor: Option<String>,
}

pub async fn run(url: &str, args: EvidenceArgs) -> anyhow::Result<()> {
    let EvidenceAction::Import(args) = args.action;
    match (&args.device, &args.folder) {
        (Some(code), None) => import_on_device(url, code, &args).await,
        (None, Some(folder)) => import_folder(url, folder, &args).await,
        _ => anyhow::bail!("give --device CODE with the files, or --folder DIR"),
    }
}

fn read_files(paths: &[PathBuf]) -> anyhow::Result<Vec<EvidenceUpload>> {
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
            let file_name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            Ok(EvidenceUpload { file_name, bytes })
        })
        .collect()
}

async fn import_on_device(url: &str, typed: &str, args: &ImportEvidenceArgs) -> anyhow::Result<()> {
    if args.files.is_empty() {
        anyhow::bail!("no file given: list the report files after the options");
    }
    let code = DeviceCode::parse_scanned(typed)?;
    let uploads = read_files(&args.files)?;
    let store = super::open(url).await?;
    let workshop = Workshop::new(store.clone());
    let context = CommandContext::new(
        &super::cli_actor(args.actor.as_deref()),
        super::CLI_ORGANISATION,
    );
    let imported = workshop
        .import_evidence(&code, uploads, args.test, &context)
        .await?;
    Projector::new(store).catch_up().await?;
    for file in &imported.files {
        println!(
            "{}: {} report, SHA-256 {}",
            file.file_name, file.kind, file.sha256
        );
    }
    for file in &imported.already_recorded {
        println!(
            "{}: {} report already recorded on {code} (SHA-256 {}); nothing new recorded",
            file.file_name, file.kind, file.sha256
        );
    }
    for event in &imported.events {
        println!("{code}: {}", event.summary_fr());
    }
    let gaps = imported.device.readiness_gaps();
    if gaps.is_empty() {
        println!("{code}: ready for a household");
    } else {
        let reasons: Vec<String> = gaps.iter().map(ToString::to_string).collect();
        println!("{code}: not ready for a household: {}", reasons.join("; "));
    }
    Ok(())
}

/// Where a file of a folder goes, or why it goes nowhere.
enum Match {
    Device(String),
    Unmatched(String),
}

async fn import_folder(url: &str, folder: &Path, args: &ImportEvidenceArgs) -> anyhow::Result<()> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|error| anyhow::anyhow!("cannot read folder {}: {error}", folder.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    let store = super::open(url).await?;
    Projector::new(store.clone()).catch_up().await?;
    let workshop = Workshop::new(store.clone());

    // Hardware reports first: once recorded, their disks let the disk
    // health reports and erasure logs of the same folder find their device.
    let uploads = read_files(&paths)?;
    let (hardware, others): (Vec<_>, Vec<_>) = uploads.into_iter().partition(is_hardware_report);
    let context = CommandContext::new(
        &super::cli_actor(args.actor.as_deref()),
        super::CLI_ORGANISATION,
    );
    let mut unmatched = Vec::new();
    let mut failed = 0;
    for round in [hardware, others] {
        let mut by_device: BTreeMap<String, Vec<EvidenceUpload>> = BTreeMap::new();
        for upload in round {
            match match_file(&workshop, &upload).await? {
                Match::Device(code) => by_device.entry(code).or_default().push(upload),
                Match::Unmatched(reason) => unmatched.push((upload.file_name, reason)),
            }
        }
        failed += import_groups(&workshop, by_device, args, &context).await?;
        Projector::new(store.clone()).catch_up().await?;
    }
    for (file_name, reason) in &unmatched {
        println!("unmatched {file_name}: {reason}");
    }
    if failed > 0 {
        anyhow::bail!("{failed} device(s) could not record their reports; see the lines above");
    }
    Ok(())
}

fn is_hardware_report(upload: &EvidenceUpload) -> bool {
    matches!(
        filiere_evidence::detect::detect(&upload.bytes),
        Some(filiere_evidence::EvidenceKind::Lshw | filiere_evidence::EvidenceKind::Workbench)
    )
}

/// Imports each device's files; returns the number of devices that failed.
async fn import_groups(
    workshop: &Workshop,
    by_device: BTreeMap<String, Vec<EvidenceUpload>>,
    args: &ImportEvidenceArgs,
    context: &CommandContext,
) -> anyhow::Result<usize> {
    let mut failed = 0;
    for (code, uploads) in by_device {
        let names: Vec<String> = uploads.iter().map(|u| u.file_name.clone()).collect();
        let device_code = DeviceCode::parse_scanned(&code)?;
        match workshop
            .import_evidence(&device_code, uploads, args.test, context)
            .await
        {
            Ok(imported) => println!(
                "matched {} -> {code}: {} step(s) recorded, {} file(s) already recorded",
                names.join(", "),
                imported.events.len(),
                imported.already_recorded.len()
            ),
            Err(error) => {
                failed += 1;
                println!("failed {} -> {code}: {error}", names.join(", "));
            }
        }
    }
    Ok(failed)
}

/// Finds the device a file belongs to: by system serial for hardware reports,
/// by disk serial (from the latest diagnoses) otherwise.
async fn match_file(workshop: &Workshop, upload: &EvidenceUpload) -> anyhow::Result<Match> {
    let parsed = match parse_evidence(&upload.file_name, &upload.bytes) {
        Ok((_, parsed)) => parsed,
        Err(error) => return Ok(Match::Unmatched(error.to_string())),
    };
    let (system_serial, disk_serials): (Option<String>, Vec<String>) = match &parsed {
        ParsedEvidence::Hardware(report) => (
            report.system.serial.clone(),
            report
                .storage
                .iter()
                .filter_map(|d| d.serial.clone())
                .collect(),
        ),
        ParsedEvidence::Workbench(snapshot) => (
            snapshot.hardware.system.serial.clone(),
            snapshot
                .hardware
                .storage
                .iter()
                .filter_map(|d| d.serial.clone())
                .collect(),
        ),
        ParsedEvidence::Health(health) => (None, health.serial.iter().cloned().collect()),
        ParsedEvidence::Erasure(log) => (
            None,
            log.disks.iter().filter_map(|d| d.serial.clone()).collect(),
        ),
    };
    if let Some(serial) = system_serial
        .as_deref()
        .and_then(|s| SerialNumber::parse(s).ok().flatten())
    {
        if let Some(code) = workshop.device_with_serial(&serial).await? {
            return Ok(Match::Device(code));
        }
    }
    let mut devices = std::collections::BTreeSet::new();
    for serial in &disk_serials {
        if let Ok(Some(serial)) = SerialNumber::parse(serial) {
            devices.extend(
                queries::devices_with_disk(workshop.store().pool(), &serial.match_key()).await?,
            );
        }
    }
    match devices.len() {
        1 => {
            let device_id = devices.into_iter().next().unwrap_or_default();
            let row = queries::stock_device(workshop.store().pool(), &device_id).await?;
            Ok(row.map_or_else(
                || Match::Unmatched(format!("device {device_id} is not in the stock view yet")),
                |row| Match::Device(row.code),
            ))
        }
        0 => Ok(Match::Unmatched(match (&system_serial, disk_serials.is_empty()) {
            (Some(serial), _) => format!("no device has serial number {serial} or any of its disks"),
            (None, true) => "the report has no usable serial number (missing or a placeholder); import it with --device CODE".to_string(),
            (None, false) => format!("no diagnosed device has disk {}", disk_serials.join(", ")),
        })),
        n => Ok(Match::Unmatched(format!(
            "its disks belong to {n} different devices; import it with --device CODE"
        ))),
    }
}
