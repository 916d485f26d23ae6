//! `filiere bench evidence`: parsing and import speed of a folder of tool
//! reports.
//!
//! The folder is generated from the real reports in the evidence crate's
//! test fixtures. Each generated file is a copy of one fixture whose serial
//! numbers (system serial, or disk serials for disk and erasure reports) are
//! replaced by new ones. So every copy has its own SHA-256 and belongs to its
//! own device. Three passes over the folder are timed:
//!
//! - parse: read each file and detect and parse it;
//! - import, dry run: parse, load the device, check the file against it,
//!   plan and decide its steps, and write nothing;
//! - import, recorded: [`Workshop::import_evidence`], one file per device,
//!   which also stores the file and appends the events.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, StorageUnit};
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::{Category, DonorKind, Outcome, StorageKind, Verdict};
use filiere_domain::{DeviceCode, DeviceCommand, DeviceId, DonationId};
use filiere_evidence::detect::{parse_evidence, ParsedEvidence};
use filiere_evidence::plan::{plan_commands, EvidenceFile, PlanOptions};
use filiere_store::evidence::sha256_hex;
use filiere_store::evidence_import::EvidenceUpload;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{Backend, EventStore};

/// Options of `filiere bench evidence`.
#[derive(Debug, Args)]
pub struct EvidenceBenchArgs {
    /// Report files to generate and import.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub files: u32,

    /// Folder of real reports to copy (its lshw, smartctl, nwipe and workbench subfolders).
    #[arg(long, default_value = "crates/evidence/tests/fixtures")]
    pub fixtures: PathBuf,

    /// Folder to write the generated reports to; a new folder under the system's temporary
    /// folder by default, removed at the end.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

/// Devices per donation batch when creating the devices the reports go to.
const DONATION_SIZE: usize = 500;

/// Shortest serial that is replaced in a copy; shorter ones could match
/// other text of the file.
const MIN_SERIAL_CHARS: usize = 6;

/// A fixture that parses, with the serial numbers its copies replace.
struct Base {
    name: String,
    bytes: Vec<u8>,
    /// Serials found verbatim in the file, longest first.
    serials: Vec<String>,
    hardware: bool,
}

/// A generated report and the device it belongs to.
struct Generated {
    path: PathBuf,
    /// System serial of the device, for a hardware report.
    system_serial: Option<String>,
}

/// Timing of one pass over the folder.
struct Pass {
    case: &'static str,
    files: usize,
    failed: usize,
    elapsed: Duration,
}

/// Runs the benchmark and returns its report as Markdown.
pub async fn report(url: &str, args: EvidenceBenchArgs) -> anyhow::Result<String> {
    let bases = load_bases(&args.fixtures)?;
    let (folder, remove_folder) = match &args.out_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("filiere-bench-evidence-{}", uuid::Uuid::now_v7())),
            true,
        ),
    };
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create folder {}", folder.display()))?;
    let generated = generate(&bases, args.files as usize, &folder)?;
    let total_bytes: u64 = generated
        .iter()
        .filter_map(|g| std::fs::metadata(&g.path).ok())
        .map(|m| m.len())
        .sum();

    let store = super::open(url).await?;
    let (position, _) = store.head().await?;
    if position != 0 {
        store.close().await;
        anyhow::bail!(
            "the database already contains {position} events. This benchmark records {} \
             devices, so run it on a new database, such as \
             --database-url sqlite:///tmp/filiere-bench-evidence.db",
            args.files
        );
    }
    let facts = machine_facts(&store).await?;
    let workshop = Workshop::new(store.clone());
    let codes = create_devices(&workshop, &generated).await?;

    let parse = parse_pass(&generated)?;
    let dry_run = dry_run_pass(&workshop, &generated, &codes).await?;
    let recorded = recorded_pass(&workshop, &generated, &codes).await?;
    let (head, _) = store.head().await?;
    store.close().await;
    if remove_folder {
        std::fs::remove_dir_all(&folder).ok();
    }

    let mut report = String::from("## filiere bench evidence\n\n");
    report.push_str("| machine | value |\n|---|---|\n");
    for (name, value) in &facts {
        writeln!(report, "| {name} | {value} |")?;
    }
    writeln!(
        report,
        "\n{} files ({:.1} MiB) copied from {} fixtures of {}.\n",
        generated.len(),
        total_bytes as f64 / (1024.0 * 1024.0),
        bases.len(),
        args.fixtures.display()
    )?;
    report.push_str("| case | files | failed | seconds | files/s |\n|---|---:|---:|---:|---:|\n");
    for pass in [parse, dry_run, recorded] {
        writeln!(
            report,
            "| {} | {} | {} | {:.3} | {:.0} |",
            pass.case,
            pass.files,
            pass.failed,
            pass.elapsed.as_secs_f64(),
            pass.files as f64 / pass.elapsed.as_secs_f64().max(1e-9)
        )?;
    }
    writeln!(
        report,
        "\nThe database now contains {head} benchmark events. Delete the file or drop the database."
    )?;
    Ok(report)
}

/// Reads every fixture that parses and names a serial long enough to replace.
fn load_bases(fixtures: &Path) -> anyhow::Result<Vec<Base>> {
    let mut bases = Vec::new();
    for kind in ["lshw", "smartctl", "nwipe", "workbench"] {
        let dir = fixtures.join(kind);
        let entries = std::fs::read_dir(&dir).with_context(|| {
            format!(
                "cannot read fixture folder {}; run from the repository root or pass --fixtures",
                dir.display()
            )
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e != "md"))
            .collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path)?;
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let Ok((_, parsed)) = parse_evidence(&name, &bytes) else {
                continue;
            };
            let (hardware, mut serials) = serials_of(&parsed);
            serials.retain(|s| s.len() >= MIN_SERIAL_CHARS && contains(&bytes, s.as_bytes()));
            serials.sort_by_key(|s| std::cmp::Reverse(s.len()));
            serials.dedup();
            if serials.is_empty() {
                continue;
            }
            bases.push(Base {
                name,
                bytes,
                serials,
                hardware,
            });
        }
    }
    if bases.is_empty() {
        anyhow::bail!(
            "no usable report in {}: expected lshw, smartctl, nwipe and workbench subfolders \
             with reports that name serial numbers",
            fixtures.display()
        );
    }
    Ok(bases)
}

/// Returns whether the report is a hardware inventory, and the serials it
/// names: the system serial for an inventory, else the disk serials.
fn serials_of(parsed: &ParsedEvidence) -> (bool, Vec<String>) {
    match parsed {
        ParsedEvidence::Hardware(report) => (true, report.system.serial.iter().cloned().collect()),
        ParsedEvidence::Workbench(snapshot) => (
            true,
            snapshot.hardware.system.serial.iter().cloned().collect(),
        ),
        ParsedEvidence::Health(health) => (false, health.serial.iter().cloned().collect()),
        ParsedEvidence::Erasure(log) => (
            false,
            log.disks.iter().filter_map(|d| d.serial.clone()).collect(),
        ),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index..].starts_with(from) {
            out.extend_from_slice(to);
            index += from.len();
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    out
}

/// Writes `count` copies of the bases, in turn, each with new serials.
fn generate(bases: &[Base], count: usize, folder: &Path) -> anyhow::Result<Vec<Generated>> {
    let mut generated = Vec::with_capacity(count);
    for index in 0..count {
        let base = &bases[index % bases.len()];
        let mut bytes = base.bytes.clone();
        let mut system_serial = None;
        for (number, serial) in base.serials.iter().enumerate() {
            let replacement = format!("BENCH{index:05}S{number}");
            bytes = replace_all(&bytes, serial.as_bytes(), replacement.as_bytes());
            if base.hardware && number == 0 {
                system_serial = Some(replacement);
            }
        }
        let path = folder.join(format!("{index:05}-{}", base.name));
        std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        generated.push(Generated {
            path,
            system_serial,
        });
    }
    Ok(generated)
}

fn context() -> CommandContext {
    CommandContext::new("bench", "bench")
}

/// Records one device per generated file: with the file's system serial for
/// a hardware report, without a serial otherwise. This setup is not timed.
async fn create_devices(
    workshop: &Workshop,
    generated: &[Generated],
) -> anyhow::Result<Vec<DeviceCode>> {
    let mut codes = Vec::with_capacity(generated.len());
    for chunk in generated.chunks(DONATION_SIZE) {
        let donation = NewDonation {
            donation_id: DonationId::generate(),
            donor_name: "Banc d'essai".into(),
            donor_kind: DonorKind::Company,
            free_transfer: false,
            received_on: Utc::now().date_naive(),
            site: "Atelier".into(),
            reference: String::new(),
        };
        let devices = chunk
            .iter()
            .map(|file| {
                let serial = match &file.system_serial {
                    Some(serial) => SerialNumber::parse(serial)?,
                    None => None,
                };
                Ok(NewDevice {
                    intake: Intake {
                        device_id: DeviceId::generate(),
                        donation_id: donation.donation_id,
                        category: Category::Laptop,
                        brand: "Marque".into(),
                        model: "Modèle".into(),
                        serial,
                        asset_tag: None,
                        site: "Atelier".into(),
                        donor_kind: DonorKind::Company,
                        free_transfer: false,
                    },
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let outcome = workshop
            .receive_donation(donation, devices, &context())
            .await?;
        codes.extend(outcome.devices.into_iter().map(|(_, code)| code));
    }
    for (file, code) in generated.iter().zip(&codes) {
        diagnose_for_erasure(workshop, file, code).await?;
    }
    Ok(codes)
}

/// Records a diagnosis with the disks of an erasure log, as a workshop does
/// before wiping, so that the log's erasures are allowed. Other files need
/// nothing.
async fn diagnose_for_erasure(
    workshop: &Workshop,
    file: &Generated,
    code: &DeviceCode,
) -> anyhow::Result<()> {
    let upload = read_upload(&file.path)?;
    let Ok((_, ParsedEvidence::Erasure(log))) = parse_evidence(&upload.file_name, &upload.bytes)
    else {
        return Ok(());
    };
    let storage_units = log
        .disks
        .iter()
        .enumerate()
        .map(|(index, disk)| StorageUnit {
            unit: disk
                .serial
                .clone()
                .unwrap_or_else(|| format!("disque {}", index + 1)),
            kind: StorageKind::Hdd,
            model: disk.model.clone(),
            size_bytes: disk.size_bytes,
            healthy: Some(true),
        })
        .collect();
    let diagnosis = Diagnosis {
        functional_test: Outcome::Passed,
        verdict: Verdict::Refurbish,
        storage_units,
        cpu: String::new(),
        memory_bytes: None,
        battery_wear_percent: None,
        notes: String::new(),
        evidence_sha256: Vec::new(),
    };
    workshop
        .record(code, DeviceCommand::Diagnose(diagnosis), &context())
        .await?;
    Ok(())
}

fn read_upload(path: &Path) -> anyhow::Result<EvidenceUpload> {
    Ok(EvidenceUpload {
        file_name: path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        bytes: std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    })
}

fn parse_pass(generated: &[Generated]) -> anyhow::Result<Pass> {
    let start = Instant::now();
    let mut failed = 0;
    for file in generated {
        let upload = read_upload(&file.path)?;
        if parse_evidence(&upload.file_name, &upload.bytes).is_err() {
            failed += 1;
        }
    }
    Ok(Pass {
        case: "parse (read + detect + parse)",
        files: generated.len(),
        failed,
        elapsed: start.elapsed(),
    })
}

/// Everything an import does before writing: parse, load the device, plan
/// and decide its steps.
async fn dry_run_pass(
    workshop: &Workshop,
    generated: &[Generated],
    codes: &[DeviceCode],
) -> anyhow::Result<Pass> {
    let start = Instant::now();
    let mut failed = 0;
    let options = PlanOptions {
        functional_test: Some(Outcome::Passed),
        operator: "bench".into(),
    };
    let today = Utc::now().date_naive();
    for (file, code) in generated.iter().zip(codes) {
        let upload = read_upload(&file.path)?;
        let Ok((_, parsed)) = parse_evidence(&upload.file_name, &upload.bytes) else {
            failed += 1;
            continue;
        };
        let mut device = workshop
            .find_device(code)
            .await?
            .with_context(|| format!("device {code} not found"))?;
        workshop.device_evidence(&device).await?;
        let planned = [EvidenceFile {
            file_name: upload.file_name.clone(),
            sha256: sha256_hex(&upload.bytes),
            parsed,
        }];
        let Ok(commands) = plan_commands(&device, &planned, &options) else {
            failed += 1;
            continue;
        };
        for command in commands {
            match device.decide(command, today) {
                Ok(events) => events.iter().for_each(|event| device.apply(event)),
                Err(_) => {
                    failed += 1;
                    break;
                }
            }
        }
    }
    Ok(Pass {
        case: "import, dry run (parse + load + check + plan + decide)",
        files: generated.len(),
        failed,
        elapsed: start.elapsed(),
    })
}

async fn recorded_pass(
    workshop: &Workshop,
    generated: &[Generated],
    codes: &[DeviceCode],
) -> anyhow::Result<Pass> {
    let start = Instant::now();
    let mut failed = 0;
    for (file, code) in generated.iter().zip(codes) {
        let upload = read_upload(&file.path)?;
        let imported = workshop
            .import_evidence(code, vec![upload], Some(Outcome::Passed), &context())
            .await;
        if let Err(error) = imported {
            tracing::warn!(file = %file.path.display(), %error, "benchmark file not recorded");
            failed += 1;
        }
    }
    Ok(Pass {
        case: "import, recorded (Workshop::import_evidence, 1 file per transaction)",
        files: generated.len(),
        failed,
        elapsed: start.elapsed(),
    })
}

/// Build profile, CPU, memory and database engine.
async fn machine_facts(store: &EventStore) -> anyhow::Result<Vec<(&'static str, String)>> {
    let engine = match store.backend() {
        Backend::Sqlite => {
            let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(store.pool())
                .await?;
            format!("SQLite {version}")
        }
        Backend::Postgres => {
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(store.pool())
                .await?;
            format!("PostgreSQL {version}")
        }
    };
    let build = if cfg!(debug_assertions) {
        "debug (timings are not representative; use --release)"
    } else {
        "release"
    };
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    Ok(vec![
        ("build", build.to_string()),
        ("logical CPUs", cpus.to_string()),
        ("CPU model", proc_value("/proc/cpuinfo", "model name")),
        ("memory", proc_value("/proc/meminfo", "MemTotal")),
        ("database", engine),
    ])
}

/// Value of the first line of a /proc file that starts with `key`.
fn proc_value(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with(key))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_string())
        .unwrap_or_else(|| format!("unknown (no {key} in {file})"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};
    use crate::commands::bench::BenchKind;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn evidence_bench_reports_every_pass() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let fixtures = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/evidence/tests/fixtures"
        );
        let folder = dir.path().join("reports");
        let line = [
            "filiere",
            "--database-url",
            &url,
            "bench",
            "evidence",
            "--files",
            "40",
            "--fixtures",
            fixtures,
            "--out-dir",
            folder.to_str().unwrap(),
        ];
        let cli = Cli::try_parse_from(line).expect("the command line parses");
        let Command::Bench(bench) = cli.command else {
            panic!("`filiere bench` parsed as another command");
        };
        let BenchKind::Evidence(args) = bench.benchmark else {
            panic!("`bench evidence` parsed as another benchmark");
        };
        let report = super::report(&url, args).await.unwrap();
        for case in [
            "| parse (read + detect + parse) | 40 | 0 |",
            "| import, dry run (parse + load + check + plan + decide) | 40 | 0 |",
            "| import, recorded (Workshop::import_evidence, 1 file per transaction) | 40 | 0 |",
        ] {
            assert!(report.contains(case), "no row `{case}` in:\n{report}");
        }
        let written = std::fs::read_dir(&folder).unwrap().count();
        assert_eq!(written, 40);

        let again = Cli::try_parse_from(line).unwrap();
        let Command::Bench(bench) = again.command else {
            panic!("`filiere bench` parsed as another command");
        };
        let BenchKind::Evidence(args) = bench.benchmark else {
            panic!("`bench evidence` parsed as another benchmark");
        };
        let error = super::report(&url, args).await.unwrap_err().to_string();
        assert!(error.contains("already contains"), "{error}");
    }
}
