//! `filiere certificate` and `filiere report reuse`: documents owed to
//! donors, written as PDF (or CSV for the reuse report).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use filiere_domain::DeviceCode;
use filiere_projections::Projector;
use filiere_store::workshop::Workshop;
use filiere_web::documents::{
    certificate_pdf, device_certificate, donation_certificates, parse_donation_id, reuse_report,
    reuse_report_csv, reuse_report_pdf, IssueInfo,
};

#[derive(Debug, Args)]
pub struct CertificateArgs {
    /// Device code (as printed on its label; a scanned URL works too).
    #[arg(
        long,
        required_unless_present = "donation",
        conflicts_with = "donation"
    )]
    pub device: Option<String>,

    /// Donation batch id: one certificate section per device of the batch.
    #[arg(long)]
    pub donation: Option<String>,

    /// Output PDF file.
    #[arg(long)]
    pub out: PathBuf,

    /// Workshop name printed in the header and by the signature space.
    #[arg(long, env = "FILIERE_WORKSHOP_NAME", default_value = "Atelier Filière")]
    pub workshop: String,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub kind: ReportKind,
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// Reuse report of a donation batch: each device's outcome and the batch's reuse rate.
    Reuse(ReuseArgs),
}

#[derive(Debug, Args)]
pub struct ReuseArgs {
    /// Donation batch id, as printed by `filiere import donations`.
    #[arg(long)]
    pub donation: String,

    /// Output file: .pdf for the signed report, .csv for spreadsheets.
    #[arg(long)]
    pub out: PathBuf,

    /// Workshop name printed in the header and by the signature space.
    #[arg(long, env = "FILIERE_WORKSHOP_NAME", default_value = "Atelier Filière")]
    pub workshop: String,
}

/// Output formats, chosen by the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Pdf,
    Csv,
}

/// Writes the erasure certificate of one device or of a donation batch.
pub async fn certificate(url: &str, args: CertificateArgs) -> anyhow::Result<()> {
    output_format(&args.out, &[Format::Pdf])?;
    let workshop = open_workshop(url).await?;
    let set = match (&args.device, &args.donation) {
        (Some(typed), _) => {
            let code = DeviceCode::parse_scanned(typed)?;
            device_certificate(&workshop, &code).await?
        }
        (None, Some(donation)) => {
            donation_certificates(&workshop, parse_donation_id(donation)?).await?
        }
        (None, None) => anyhow::bail!("name what to certify: --device CODE or --donation ID"),
    };
    let bytes = certificate_pdf(&set, &issue_info(&args.workshop));
    write_output(&args.out, &bytes)?;
    let incomplete = set
        .certificates
        .iter()
        .filter(|c| !c.erasure_status.is_complete())
        .count();
    println!(
        "Wrote {} ({} bytes): {} device(s), {incomplete} with incomplete erasure; log position {}",
        args.out.display(),
        bytes.len(),
        set.certificates.len(),
        set.log.position
    );
    Ok(())
}

/// Dispatches `filiere report`.
pub async fn report(url: &str, args: ReportArgs) -> anyhow::Result<()> {
    match args.kind {
        ReportKind::Reuse(reuse) => reuse_report_command(url, reuse).await,
    }
}

async fn reuse_report_command(url: &str, args: ReuseArgs) -> anyhow::Result<()> {
    let format = output_format(&args.out, &[Format::Pdf, Format::Csv])?;
    let donation_id = parse_donation_id(&args.donation)?;
    let workshop = open_workshop(url).await?;
    let report = reuse_report(&workshop, donation_id).await?;
    let bytes = match format {
        Format::Pdf => reuse_report_pdf(&report, &issue_info(&args.workshop)),
        Format::Csv => reuse_report_csv(&report)?,
    };
    write_output(&args.out, &bytes)?;
    println!(
        "Wrote {} ({} bytes): {} device(s), {} handed over to a household; log position {}",
        args.out.display(),
        bytes.len(),
        report.items.len(),
        report.reused,
        report.log.position
    );
    Ok(())
}

/// Opens the store and brings the projections up to date, because batch
/// documents list a batch's devices from the stock projection.
async fn open_workshop(url: &str) -> anyhow::Result<Workshop> {
    let store = super::open_existing(url).await?;
    Projector::new(store.clone()).catch_up().await?;
    Ok(Workshop::new(store))
}

fn issue_info(workshop: &str) -> IssueInfo {
    IssueInfo {
        workshop_name: workshop.trim().to_string(),
        issued_on: chrono::Local::now().date_naive(),
    }
}

/// Reads the format from `out`'s extension and checks it is one of `allowed`.
fn output_format(out: &Path, allowed: &[Format]) -> anyhow::Result<Format> {
    let extension = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match extension.as_deref() {
        Some("pdf") => Some(Format::Pdf),
        Some("csv") => Some(Format::Csv),
        _ => None,
    };
    match format {
        Some(format) if allowed.contains(&format) => Ok(format),
        _ => {
            let names: Vec<&str> = allowed
                .iter()
                .map(|f| match f {
                    Format::Pdf => ".pdf",
                    Format::Csv => ".csv",
                })
                .collect();
            anyhow::bail!(
                "invalid output file {}: the extension must be {}",
                out.display(),
                names.join(" or ")
            )
        }
    }
}

fn write_output(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(out, bytes)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", out.display()))
}
