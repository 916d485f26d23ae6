//! `filiere audit`: the funders' target, dashboard report and per-device
//! traceability export, all recomputed from the event log.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use filiere_domain::territory::Territories;
use filiere_projections::audit::target::DEFAULT_NATIONAL_TARGET;
use filiere_projections::audit::{
    build_quarterly_report, build_report, build_trace, load_target, load_target_at, replay,
    report_csv, report_json, resolve_target, save_target, trace_csv, trace_json, AuditTarget,
    Cutoff, Quarter, Replay, ResolvedTarget, ShareMethod, TargetUnit,
};
use filiere_store::{EventStore, Metadata};
use filiere_web::documents::quarterly_report_pdf;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: AuditAction,
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Set or show the territory's target.
    Target(TargetArgs),
    /// Write the dashboard figures and the progress toward the territory's share.
    Report(ExportArgs),
    /// Write the per-device traceability export (no household data).
    Trace(ExportArgs),
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    #[command(subcommand)]
    pub action: TargetAction,
}

#[derive(Debug, Subcommand)]
pub enum TargetAction {
    /// Record a new target revision in the event log; earlier revisions still apply to earlier dates.
    Set(TargetSetArgs),
    /// Show the current target and its share.
    Show,
}

#[derive(Debug, Args)]
pub struct TargetSetArgs {
    /// Territory: département code (28), 5-character INSEE commune code (28085) or EPCI SIREN.
    #[arg(long)]
    pub territory: String,

    /// Unit counted: devices, computers (laptops and desktops) or households.
    #[arg(long, default_value = "devices")]
    pub unit: String,

    /// Territory's share in units, set by hand; defaults to pro rata of population.
    #[arg(long)]
    pub share: Option<u64>,

    /// National target in units.
    #[arg(long, default_value_t = DEFAULT_NATIONAL_TARGET)]
    pub national_target: u64,

    /// Organisation id whose handovers without a prescription count for the territory
    /// (repeatable; default: all). Handovers with a prescription count by the household's commune.
    #[arg(long = "workshop")]
    pub workshops: Vec<String>,

    /// Actor recorded with the target (defaults to the system user).
    #[arg(long, env = "FILIERE_ACTOR")]
    pub actor: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
    /// French quarterly report with charts; needs --quarter (report only).
    Pdf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Include the events that occurred on or before this UTC day, YYYY-MM-DD.
    #[arg(long, conflicts_with = "position")]
    pub as_of: Option<NaiveDate>,

    /// Include the events up to this log position; default: the current head.
    #[arg(long)]
    pub position: Option<i64>,

    /// Calendar quarter, such as 2026-Q3: figures as of its last day (or of --as-of, which
    /// must fall in the quarter), plus the quarter's own flows in the PDF.
    #[arg(long, conflicts_with = "position")]
    pub quarter: Option<Quarter>,

    #[arg(long, value_enum)]
    pub format: ExportFormat,

    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn run(url: &str, args: AuditArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    match args.action {
        AuditAction::Target(TargetArgs {
            action: TargetAction::Set(set),
        }) => set_target(&store, set).await,
        AuditAction::Target(TargetArgs {
            action: TargetAction::Show,
        }) => show_target(&store).await,
        AuditAction::Report(export) => write_report(&store, export).await,
        AuditAction::Trace(export) => write_trace(&store, export).await,
    }
}

async fn set_target(store: &EventStore, args: TargetSetArgs) -> anyhow::Result<()> {
    let unit: TargetUnit = args.unit.parse()?;
    let target = AuditTarget {
        national_target: args.national_target,
        unit,
        territory_code: args.territory.trim().to_string(),
        share_method: args
            .share
            .map_or(ShareMethod::Population, ShareMethod::Manual),
        workshops: args.workshops,
    };
    // Resolving first rejects an unknown territory or a missing population
    // before anything is saved.
    let resolved = resolve_target(Territories::embedded(), target)?;
    let actor = super::cli_actor(args.actor.as_deref());
    let metadata = Metadata::new(actor, super::CLI_ORGANISATION);
    let revision = save_target(store, &resolved.target, metadata, Utc::now()).await?;
    println!("Saved audit target revision {revision}.");
    print_target(&resolved);
    Ok(())
}

async fn show_target(store: &EventStore) -> anyhow::Result<()> {
    let resolved = current_target(store).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "no audit target is set: run `filiere audit target set --territory CODE --unit devices`"
        )
    })?;
    print_target(&resolved);
    Ok(())
}

async fn current_target(store: &EventStore) -> anyhow::Result<Option<ResolvedTarget>> {
    let Some(target) = load_target(store).await? else {
        return Ok(None);
    };
    Ok(Some(resolve_target(Territories::embedded(), target)?))
}

/// Loads and resolves the target that applied at the replay's cutoff.
async fn target_at(
    store: &EventStore,
    replayed: &Replay,
) -> anyhow::Result<Option<ResolvedTarget>> {
    let Some(target) = load_target_at(store, replayed).await? else {
        return Ok(None);
    };
    Ok(Some(resolve_target(Territories::embedded(), target)?))
}

fn print_target(resolved: &ResolvedTarget) {
    let territory = &resolved.territory;
    let method = match resolved.target.share_method {
        ShareMethod::Population => format!(
            "pro rata of population: {} × {} / {}",
            resolved.target.national_target,
            territory.population.unwrap_or(0),
            resolved.national_population
        ),
        ShareMethod::Manual(_) => "set by hand".to_string(),
    };
    println!(
        "Territory: {} {} ({:?})",
        territory.code, territory.name, territory.kind
    );
    println!("Unit: {}", resolved.target.unit);
    println!("Share: {} ({method})", resolved.share);
    let workshops = if resolved.target.workshops.is_empty() {
        "all".to_string()
    } else {
        resolved.target.workshops.join(", ")
    };
    println!("Workshops counted: {workshops}");
}

fn cutoff(args: &ExportArgs) -> Cutoff {
    match (args.as_of, args.position) {
        (Some(date), _) => Cutoff::Date(date),
        (None, Some(position)) => Cutoff::Position(position),
        (None, None) => Cutoff::Head,
    }
}

async fn write_report(store: &EventStore, args: ExportArgs) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    if args.format == ExportFormat::Pdf && args.quarter.is_none() {
        anyhow::bail!(
            "the PDF report covers one quarter: add --quarter YEAR-QN, such as --quarter 2026-Q3"
        );
    }
    let cutoff = match args.quarter {
        Some(quarter) => Cutoff::Date(quarter.cutoff_day(args.as_of, today)?),
        None => cutoff(&args),
    };
    let replayed = replay(store, cutoff, today).await?;
    let target = target_at(store, &replayed).await?;
    if target.is_none() {
        tracing::warn!(
            "no audit target applied at this cutoff: the report has figures but no progress"
        );
    }
    let bytes = match (args.format, args.quarter) {
        (ExportFormat::Pdf, Some(quarter)) => {
            quarterly_report_pdf(&build_quarterly_report(&replayed, target, quarter))
        }
        (ExportFormat::Json, _) => report_json(&build_report(&replayed, target)).into_bytes(),
        (ExportFormat::Csv, _) | (ExportFormat::Pdf, None) => {
            report_csv(&build_report(&replayed, target)).into_bytes()
        }
    };
    write_file(&args.out, &bytes)?;
    println!(
        "Wrote {}: figures at log position {} (hash {})",
        args.out.display(),
        replayed.log_position,
        replayed.log_hash
    );
    Ok(())
}

async fn write_trace(store: &EventStore, args: ExportArgs) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let cutoff = match args.quarter {
        Some(quarter) => Cutoff::Date(quarter.cutoff_day(args.as_of, today)?),
        None => cutoff(&args),
    };
    let replayed = replay(store, cutoff, today).await?;
    let trace = build_trace(&replayed);
    let text = match args.format {
        ExportFormat::Json => trace_json(&trace),
        ExportFormat::Csv => trace_csv(&trace),
        ExportFormat::Pdf => anyhow::bail!(
            "the traceability export is JSON or CSV: use --format json or --format csv"
        ),
    };
    write_file(&args.out, text.as_bytes())?;
    println!(
        "Wrote {}: {} device(s) at log position {} (hash {})",
        args.out.display(),
        trace.devices.len(),
        replayed.log_position,
        replayed.log_hash
    );
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
