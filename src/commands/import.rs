//! `filiere import donations`: one donation batch from a CSV file, recorded
//! in one transaction after the whole file has been checked.

use std::io::Write;

use chrono::Utc;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::types::DonorKind;
use filiere_domain::{DeviceId, DonationId};
use filiere_projections::Projector;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};

use crate::cli::{ImportArgs, ImportDonationsArgs, ImportKind};
use crate::import::{parse_donation_file, ImportProblem, SourceFormat};

pub async fn run(url: &str, args: ImportArgs) -> anyhow::Result<()> {
    match args.what {
        ImportKind::Donations(donations) => import_donations(url, donations).await,
    }
}

async fn import_donations(url: &str, args: ImportDonationsArgs) -> anyhow::Result<()> {
    let donor_kind: DonorKind = args.donor_kind.parse()?;
    let bytes = std::fs::read(&args.file)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", args.file.display()))?;
    let parsed = match parse_donation_file(&bytes) {
        Ok(parsed) => parsed,
        Err(problems) => return Err(report_problems(&args, &problems)),
    };
    let format = match parsed.format {
        SourceFormat::Filiere => "Filière CSV",
        SourceFormat::SnipeIt => "Snipe-IT asset export",
    };
    eprintln!(
        "{}: {format}, {} devices",
        args.file.display(),
        parsed.devices.len()
    );
    for warning in &parsed.warnings {
        eprintln!("warning: {warning}");
    }

    let total = parsed.devices.len();
    // The batch header is checked before anything else, so that a dry run
    // rejects what the import would reject.
    let donation_id = DonationId::generate();
    let site = args.site.trim().to_string();
    let donation = NewDonation {
        donation_id,
        donor_name: args.donor.clone(),
        donor_kind,
        free_transfer: args.free_transfer,
        received_on: args.received_on.unwrap_or_else(|| Utc::now().date_naive()),
        site: site.clone(),
        reference: args.reference.clone(),
    };
    donation
        .clone()
        .decide(total as u32, Utc::now().date_naive())
        .map_err(|error| {
            anyhow::anyhow!("{error}; nothing was recorded. Fix the option and import again")
        })?;
    if args.dry_run && super::sqlite_file(url).is_some_and(|path| !path.exists()) {
        // A dry run on a database that does not exist yet has no serial
        // numbers to collide with, and must not create the file.
        return report_dry_run(&args, format, total, &parsed.warnings);
    }
    let store = super::open(url).await?;
    let workshop = Workshop::new(store.clone());
    let mut problems = Vec::new();
    for (index, device) in parsed.devices.iter().enumerate() {
        if let Some(serial) = &device.serial {
            if let Some(owner) = workshop.device_with_serial(serial).await? {
                problems.push(ImportProblem {
                    line: device.line,
                    reason: format!(
                        "serial number '{serial}' is already recorded for device {owner}"
                    ),
                });
            }
        }
        show_progress("checked", index + 1, total);
    }
    if !problems.is_empty() {
        return Err(report_problems(&args, &problems));
    }
    if args.dry_run {
        return report_dry_run(&args, format, total, &parsed.warnings);
    }

    let devices = parsed
        .devices
        .into_iter()
        .map(|device| NewDevice {
            intake: Intake {
                device_id: DeviceId::generate(),
                donation_id,
                category: device.category,
                brand: device.brand,
                model: device.model,
                serial: device.serial,
                asset_tag: device.asset_tag,
                site: site.clone(),
                donor_kind,
                free_transfer: args.free_transfer,
            },
        })
        .collect();
    eprintln!("recording {total} devices in one transaction…");
    let context = CommandContext::new(&super::cli_actor(None), super::CLI_ORGANISATION);
    let outcome = workshop
        .receive_donation(donation, devices, &context)
        .await?;
    Projector::new(store).catch_up().await?;

    if args.json {
        let devices: Vec<_> = outcome
            .devices
            .iter()
            .map(|(id, code)| serde_json::json!({"device_id": id, "code": code}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "donation_id": outcome.donation_id,
                "devices": devices,
            }))?
        );
    } else {
        println!(
            "Donation batch {} recorded: {} devices (codes {}…{})",
            outcome.donation_id,
            outcome.devices.len(),
            outcome
                .devices
                .first()
                .map(|(_, c)| c.to_string())
                .unwrap_or_default(),
            outcome
                .devices
                .last()
                .map(|(_, c)| c.to_string())
                .unwrap_or_default(),
        );
        println!(
            "Print its labels: filiere labels --donation {} --out labels.pdf",
            outcome.donation_id
        );
    }
    Ok(())
}

/// Prints the outcome of a dry run, as JSON with `--json`.
fn report_dry_run(
    args: &ImportDonationsArgs,
    format: &str,
    total: usize,
    warnings: &[ImportProblem],
) -> anyhow::Result<()> {
    if args.json {
        let value = serde_json::json!({
            "dry_run": true,
            "file": args.file.display().to_string(),
            "format": format,
            "devices": total,
            "warnings": warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "recorded": false,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{total} devices ready to import; nothing recorded (--dry-run)");
    }
    Ok(())
}

fn report_problems(args: &ImportDonationsArgs, problems: &[ImportProblem]) -> anyhow::Error {
    for problem in problems {
        eprintln!("{}: {problem}", args.file.display());
    }
    anyhow::anyhow!(
        "{} problem(s) in {}; nothing was recorded. Fix the lines above and import the file again",
        problems.len(),
        args.file.display()
    )
}

/// Prints `verb N/TOTAL` on standard error every 500 devices and at the end.
fn show_progress(verb: &str, done: usize, total: usize) {
    if done.is_multiple_of(500) || done == total {
        eprint!("\r{verb} {done}/{total}");
        if done == total {
            eprintln!();
        }
        std::io::stderr().flush().ok();
    }
}
