//! Command-line interface: every subcommand and its options.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "filiere",
    version,
    about = "Traceability of refurbished devices, from donor to household"
)]
pub struct Cli {
    /// Database: sqlite://FILE (created on first run) or postgres://USER@HOST/DATABASE.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://filiere.db"
    )]
    pub database_url: String,

    /// Write logs as JSON lines instead of text.
    #[arg(long, global = true, env = "FILIERE_LOG_JSON")]
    pub log_json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (pages, JSON API, labels).
    Serve(ServeArgs),
    /// Import data from a file.
    Import(ImportArgs),
    /// Record a step on a device or show a device.
    Device(DeviceArgs),
    /// Show the stock.
    Stock(StockArgs),
    /// Empty the projections and replay the whole event log into them.
    Rebuild,
    /// Recompute the hash chain of the event log and report the first broken link.
    Verify,
    /// Fill the database with a realistic demonstration workshop.
    Demo(DemoArgs),
    /// Print QR labels as PDF (or ZPL for Zebra printers).
    Labels(LabelsArgs),
    /// Import tool reports (lshw, smartctl, nwipe, Workbench) as evidence.
    Evidence(crate::commands::evidence::EvidenceArgs),
    /// Manage organisations.
    Org(crate::commands::accounts::OrgArgs),
    /// Manage users and their roles.
    User(crate::commands::accounts::UserArgs),
    /// Manage API tokens for scripts and scanners.
    Token(crate::commands::accounts::TokenArgs),
    /// Measure event-log throughput or projection rebuild time on a fresh database.
    Bench(crate::commands::bench::BenchArgs),
    /// Write the erasure certificate (PDF) of a device or of a donation batch.
    Certificate(crate::commands::documents::CertificateArgs),
    /// Write a report for a donor: `report reuse` (PDF or CSV).
    Report(crate::commands::documents::ReportArgs),
    /// Record a household's identity outside the event log, erase it or export it.
    Household(crate::commands::households::HouseholdArgs),
    /// Issue a prescription of equipment and training, and follow it through the workshop.
    Prescription(crate::commands::prescriptions::PrescriptionArgs),
    /// Add or list the eligibility schemes prescriptions are issued under.
    Scheme(crate::commands::households::SchemeArgs),
    /// Erase identities of households whose prescriptions closed long ago.
    Retention(crate::commands::households::RetentionArgs),
    /// Funders' audit: territory target, dashboard report and traceability export.
    Audit(crate::commands::audit::AuditArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "FILIERE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL written in QR labels; defaults to http://LISTEN.
    #[arg(long, env = "FILIERE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How often, in milliseconds, projections look for events written by other processes.
    #[arg(long, env = "FILIERE_PROJECTION_INTERVAL_MS", default_value_t = 1000)]
    pub projection_interval_ms: u64,

    /// Fill an empty database with the demonstration workshop before serving.
    #[arg(long)]
    pub demo: bool,

    /// Erase, at start and every 24 hours, the identities of households whose
    /// prescriptions all closed more than this many days ago.
    #[arg(
        long,
        env = "FILIERE_RETENTION_DAYS",
        default_value_t = filiere_store::privacy::DEFAULT_RETENTION_DAYS
    )]
    pub retention_days: u32,

    /// Do not run the retention sweep in this server; run `filiere retention`
    /// from a scheduler instead. On a national log the sweep scans the event
    /// log once per household and takes hours, and several servers sharing
    /// one PostgreSQL database need it run once, not once per server.
    #[arg(long, env = "FILIERE_NO_RETENTION_SWEEP")]
    pub no_retention_sweep: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportKind,
}

#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// Import one donation batch from a CSV file (Filière format or Snipe-IT asset export).
    Donations(ImportDonationsArgs),
}

#[derive(Debug, Args)]
pub struct ImportDonationsArgs {
    /// CSV file to import.
    pub file: PathBuf,

    /// Name of the donor (company, public body or person).
    #[arg(long)]
    pub donor: String,

    /// Kind of donor: company, public_body, person or association.
    #[arg(long, default_value = "company")]
    pub donor_kind: String,

    /// Site where the batch was received.
    #[arg(long)]
    pub site: String,

    /// Day the batch was received, YYYY-MM-DD; defaults to today.
    #[arg(long)]
    pub received_on: Option<chrono::NaiveDate>,

    /// The public body gave the devices under the free-transfer rule (caps solidarity prices).
    #[arg(long)]
    pub free_transfer: bool,

    /// Donor's own reference for the batch, such as a delivery note number.
    #[arg(long, default_value = "")]
    pub reference: String,

    /// Check the file and report problems without recording anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeviceArgs {
    #[command(subcommand)]
    pub action: DeviceAction,
}

#[derive(Debug, Subcommand)]
pub enum DeviceAction {
    /// Record a step: diagnose, erase, repair, install, grade, stock, move, reserve,
    /// release, handover, return, convert, extend, recycle, dismantle, write-off or
    /// transfer (`--organisation ID_OR_NAME`: an existing organisation, see
    /// `filiere org list`).
    Record(RecordArgs),
    /// Show a device's state, allowed steps and timeline.
    Show {
        /// Device code (as printed on its label; a scanned URL works too).
        code: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Device code (as printed on its label; a scanned URL works too).
    pub code: String,

    /// Step to record.
    pub step: String,

    /// Step fields as --NAME VALUE pairs, for example `--test passed --storage S123:ssd`.
    /// `filiere device record CODE STEP --help-fields` lists them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub fields: Vec<String>,

    /// Who records the step (defaults to the system user).
    #[arg(long, env = "FILIERE_ACTOR")]
    pub actor: Option<String>,

    /// Idempotency key: the same id sent twice records the step once.
    #[arg(long)]
    pub command_id: Option<uuid::Uuid>,
}

#[derive(Debug, Args)]
pub struct StockArgs {
    /// Print JSON (one array of devices) for scripts.
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub site: Option<String>,
    /// Status: received, in_workshop, in_stock, reserved, handed_over, returned, recycled,
    /// dismantled or written_off.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long)]
    pub grade: Option<String>,
    /// Maximum number of devices listed.
    #[arg(long, default_value_t = 10_000)]
    pub limit: i64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of devices to create.
    #[arg(long, default_value_t = 300)]
    pub devices: u32,

    /// Seed of the random generator, for a reproducible demonstration.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct LabelsArgs {
    /// Label stock: a template name from labels/ (avery-l7160, avery-l7651, avery-5160,
    /// brother-dk-11209, zebra-2x1...).
    #[arg(long, default_value = "avery-l7160")]
    pub template: String,

    /// Output file: .pdf, or .zpl for Zebra printers.
    #[arg(long)]
    pub out: PathBuf,

    /// Print the labels of every device of this donation batch.
    #[arg(long)]
    pub donation: Option<String>,

    /// Print the label of this device (repeatable).
    #[arg(long = "code")]
    pub codes: Vec<String>,

    /// First label position to use on a partly used sheet (1 is the top-left label).
    #[arg(long, default_value_t = 1)]
    pub start: usize,

    /// Printer offset to the right, in millimetres (negative moves left).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub offset_x: f32,

    /// Printer offset downwards, in millimetres (negative moves up).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub offset_y: f32,

    /// Print a calibration page (a 100 mm square and the label outlines) instead.
    #[arg(long)]
    pub calibration: bool,

    /// Base URL written in the QR codes, such as https://atelier.example.org. The
    /// default only works on the machine running `filiere serve`: give the URL
    /// that phones and scanners reach.
    #[arg(
        long,
        env = "FILIERE_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    /// Workshop name printed on each label.
    #[arg(long, env = "FILIERE_WORKSHOP_NAME", default_value = "Atelier Filière")]
    pub workshop: String,

    /// Folder of label templates; the built-in templates are used when absent.
    #[arg(long, env = "FILIERE_LABELS_DIR", default_value = "labels")]
    pub templates_dir: PathBuf,
}
