//! `filiere bench`: throughput of the event log and of a projection rebuild,
//! measured on a fresh database and printed as Markdown tables.
//!
//! `bench store` compares appends through [`EventStore::append`] and
//! [`Workshop`] with plain sqlx INSERTs of the same rows into a scratch table.
//! The gap between them is the cost of the log's guarantees: the serialised
//! `log_head` row, stream version checks, unique keys and the hash chain.
//! `bench rebuild` generates a log of realistic device histories and times
//! [`Projector::rebuild`] on it.
//!
//! Both write thousands of events, so both reject a database whose log is not
//! empty.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use filiere_domain::codec::encode_device_event;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, StorageUnit};
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::{Category, DonorKind, Outcome, StorageKind, Verdict};
use filiere_domain::{DeviceCode, DeviceCommand, DeviceEvent, DeviceId, DonationId};
use filiere_projections::{Projection, Projector};
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{
    AppendBatch, Backend, EventStore, ExpectedVersion, Metadata, NewEvent, StreamAppend,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;
use uuid::Uuid;

use super::generate::{GenerateOptions, Scope};

/// Options of `filiere bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub benchmark: BenchKind,
}

#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// Measure events per second of single appends, command handling, donation imports and
    /// plain sqlx INSERTs of the same rows. Needs a fresh database.
    Store(StoreBenchArgs),
    /// Generate a log of realistic device histories, then time the replay of every
    /// projection (`filiere rebuild`). Needs a fresh database.
    Rebuild(RebuildBenchArgs),
    /// Generate a national log (workshops in every département, prescriptions, loans) with
    /// bulk appends, then time a full rebuild of the projections. Needs a fresh database,
    /// which is left ready for `filiere serve`.
    Generate(super::generate::GenerateBenchArgs),
    /// Generate a folder of tool reports copied from the evidence fixtures with new serials,
    /// then time their parsing and their import (dry run and recorded). Needs a fresh database.
    Evidence(super::bench_evidence::EvidenceBenchArgs),
}

#[derive(Debug, Args)]
pub struct StoreBenchArgs {
    /// Events written by each single-event case.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub events: u32,
}

#[derive(Debug, Args)]
pub struct RebuildBenchArgs {
    /// Devices in the generated log.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub devices: u32,

    /// Skip `ANALYZE events` between generating the log and the rebuild. The rebuild then
    /// reads the log without planner statistics, as on a PostgreSQL server with autovacuum off.
    #[arg(long)]
    pub no_analyze: bool,
}

/// Devices per donation batch in the store benchmark: 1,001 events per append
/// (the batch header, then `received` and `label_assigned` per device).
const STORE_DONATION_SIZE: u32 = 500;

/// Rows per multi-row INSERT in the raw batch case: the chunk size that
/// `EventStore::append` uses, so both send the same statements.
const RAW_ROWS_PER_INSERT: usize = 200;

/// Seed of the input generator, so two runs write the same kinds of histories.
const SEED: u64 = 2026;

const ACTOR: &str = "bench";
const ORGANISATION: &str = "bench";

/// Scratch table of the raw INSERT cases, dropped at the end of the run.
const RAW_TABLE: &str = "bench_raw_events";

/// Columns of an `events` row, in the order of [`RawRow`].
const EVENT_COLUMNS: &str = "position, event_id, stream_id, stream_version, event_type, \
     schema_version, payload, actor, organisation, command_id, correlation_id, causation_id, \
     occurred_at, recorded_at, hash";

const CASE_APPEND: &str = "EventStore::append, 1 event per transaction";
const CASE_APPEND_COMMAND_ID: &str = "EventStore::append with command id, 1 event per transaction";
const CASE_RECORD: &str = "Workshop::record (load + decide + append)";
const CASE_RAW_SINGLE: &str = "raw INSERT, 1 row per autocommit statement";
const CASE_DONATION: &str = "Workshop::receive_donation, 500 devices per transaction";
const CASE_RAW_BATCH: &str = "raw multi-row INSERT, 1,001 rows per transaction";
const CASE_GENERATE: &str = "generate log (bulk appends of generated histories)";
const CASE_REBUILD: &str = "Projector::rebuild (every projection, one read of the log)";

/// One row of the `events` table, as read back to feed the raw INSERT cases.
type RawRow = (
    i64,
    String,
    String,
    i64,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    String,
);

pub async fn run(url: &str, args: BenchArgs) -> anyhow::Result<()> {
    let report = report(url, args).await?;
    print!("{report}");
    Ok(())
}

/// Runs the requested benchmark and returns its report as Markdown.
async fn report(url: &str, args: BenchArgs) -> anyhow::Result<String> {
    match args.benchmark {
        BenchKind::Store(args) => bench_store(url, args.events).await,
        BenchKind::Rebuild(args) => bench_rebuild(url, args.devices, !args.no_analyze).await,
        BenchKind::Generate(args) => super::generate::bench_report(url, args).await,
        BenchKind::Evidence(args) => super::bench_evidence::report(url, args).await,
    }
}

/// Timing of one benchmark case.
struct Measurement {
    case: &'static str,
    events: u64,
    transactions: u64,
    elapsed: Duration,
}

impl Measurement {
    fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Logs a finished case, so that a long run shows its progress on standard
/// error.
fn logged(measurement: Measurement) -> Measurement {
    tracing::info!(
        case = measurement.case,
        events = measurement.events,
        seconds = measurement.elapsed.as_secs_f64(),
        "benchmark case finished"
    );
    measurement
}

async fn bench_store(url: &str, events: u32) -> anyhow::Result<String> {
    let store = open_fresh(url).await?;
    let facts = machine_facts(&store).await?;
    let workshop = Workshop::new(store.clone());
    let mut generator = Generator::new();
    let count = u64::from(events);
    let mut results = Vec::new();

    let (append, appended) = append_single_events(&store, count, false).await?;
    results.push(logged(append));
    let (append_with_id, _) = append_single_events(&store, count, true).await?;
    results.push(logged(append_with_id));
    let recorded = record_steps(&workshop, &mut generator, events).await?;
    results.push(logged(recorded));

    create_raw_table(&store).await?;
    let rows = load_rows(&store, appended).await?;
    results.push(logged(insert_raw_single(&store, &rows).await?));

    let (donations, ranges) = receive_donations(&workshop, &mut generator, count).await?;
    results.push(logged(donations));
    results.push(logged(insert_raw_batches(&store, &ranges).await?));
    drop_raw_table(&store).await?;

    let (head, _) = store.head().await?;
    store.close().await;
    let mut report = String::from("## filiere bench store\n\n");
    write_facts(&mut report, &facts);
    write_measurements(&mut report, &results);
    writeln!(
        report,
        "\nThe database now contains {head} benchmark events. Delete the file or drop the database."
    )?;
    Ok(report)
}

/// Generates a log of `devices` devices, then times the rebuild of every
/// projection. With `analyze`, `ANALYZE events` runs in between (not timed),
/// so the planner has statistics on the log, as autovacuum provides on a
/// PostgreSQL database that lives longer than the benchmark.
async fn bench_rebuild(url: &str, devices: u32, analyze: bool) -> anyhow::Result<String> {
    let store = open_fresh(url).await?;
    let facts = machine_facts(&store).await?;

    tracing::info!(devices, "generating the benchmark log");
    let options = GenerateOptions::new(devices, SEED, Scope::National);
    let summary = super::generate::generate(&store, &options).await?;
    let generation_time = summary.elapsed;
    let transactions = summary.transactions;
    let (log_events, _) = store.head().await?;
    let log_events = u64::try_from(log_events)?;
    let peak_after_generation = peak_rss();
    tracing::info!(
        events = log_events,
        seconds = generation_time.as_secs_f64(),
        analyze,
        "benchmark log generated, rebuilding the projections"
    );
    // Only the log is analyzed. Statistics that record the still-empty
    // projection tables as empty make PostgreSQL 15 cache sequential-scan
    // plans for later per-device statements of a catch-up.
    if analyze {
        sqlx::query("ANALYZE events").execute(store.pool()).await?;
    }
    let statistics = if analyze {
        "ANALYZE events after generation"
    } else {
        "none collected by the benchmark (--no-analyze)"
    };

    let start = Instant::now();
    let replayed = Projector::new(store.clone())
        .rebuild()
        .await
        .context("the rebuild failed")?;
    let rebuild_time = start.elapsed();
    let peak_after_rebuild = peak_rss();

    let stock_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stock_devices")
        .fetch_one(store.pool())
        .await?;
    store.close().await;
    if stock_rows != i64::from(devices) {
        anyhow::bail!(
            "rebuild check failed: the rebuilt stock contains {stock_rows} devices, expected {devices}"
        );
    }

    let results = [
        Measurement {
            case: CASE_GENERATE,
            events: log_events,
            transactions,
            elapsed: generation_time,
        },
        Measurement {
            case: CASE_REBUILD,
            events: log_events,
            transactions: 1,
            elapsed: rebuild_time,
        },
    ];
    let mut report = String::from("## filiere bench rebuild\n\n");
    write_facts(&mut report, &facts);
    write_measurements(&mut report, &results);
    writeln!(report)?;
    writeln!(report, "| rebuild detail | value |")?;
    writeln!(report, "|---|---|")?;
    writeln!(report, "| devices | {devices} |")?;
    writeln!(report, "| events in the log | {log_events} |")?;
    writeln!(
        report,
        "| events applied, summed over the {} projections | {replayed} |",
        Projection::ALL.len()
    )?;
    writeln!(report, "| devices in the rebuilt stock | {stock_rows} |")?;
    writeln!(report, "| planner statistics | {statistics} |")?;
    writeln!(
        report,
        "| peak RSS after generation (VmHWM) | {peak_after_generation} |"
    )?;
    writeln!(
        report,
        "| peak RSS after rebuild (VmHWM) | {peak_after_rebuild} |"
    )?;
    writeln!(
        report,
        "\nThe database now contains {log_events} benchmark events. Delete the file or drop the database."
    )?;
    Ok(report)
}

/// Opens the database and rejects it unless its event log is empty, so that
/// a production log never receives test events.
async fn open_fresh(url: &str) -> anyhow::Result<EventStore> {
    let store = super::open(url).await?;
    let (position, _) = store.head().await?;
    if position != 0 {
        store.close().await;
        anyhow::bail!(
            "the database already contains {position} events. Benchmarks write thousands of \
             test events, so run them on a new database: a new SQLite file \
             (--database-url sqlite:///tmp/filiere-bench.db) or a newly created PostgreSQL database"
        );
    }
    Ok(store)
}

// ---------------------------------------------------------------------------
// Store cases

/// Appends `count` single-event batches, each to a new stream. Returns the
/// timing and the positions of the first and last events written.
async fn append_single_events(
    store: &EventStore,
    count: u64,
    with_command_id: bool,
) -> anyhow::Result<(Measurement, (i64, i64))> {
    let (event_type, schema_version, payload) = encode_device_event(&DeviceEvent::Diagnosed(
        passed_diagnosis("S4BENCH0001".into()),
    ));
    let metadata = Metadata::new(ACTOR, ORGANISATION);
    let mut first = None;
    let mut last = 0;
    let start = Instant::now();
    for _ in 0..count {
        let result = store
            .append(AppendBatch {
                command_id: with_command_id.then(Uuid::now_v7),
                metadata: metadata.clone(),
                occurred_at: Utc::now(),
                streams: vec![StreamAppend {
                    stream_id: format!("bench-{}", Uuid::now_v7()),
                    expected: ExpectedVersion::NoStream,
                    events: vec![NewEvent::new(event_type, schema_version, payload.clone())],
                    unique_keys: vec![],
                }],
            })
            .await?;
        first.get_or_insert(result.first_position);
        last = result.last_position;
    }
    let measurement = Measurement {
        case: if with_command_id {
            CASE_APPEND_COMMAND_ID
        } else {
            CASE_APPEND
        },
        events: count,
        transactions: count,
        elapsed: start.elapsed(),
    };
    Ok((measurement, (first.unwrap_or(0), last)))
}

/// Receives `count` devices (not timed), then times one diagnosis per device
/// through [`Workshop::record`], as a bench scan does.
async fn record_steps(
    workshop: &Workshop,
    generator: &mut Generator,
    count: u32,
) -> anyhow::Result<Measurement> {
    let mut codes = Vec::new();
    let donation_count = count.div_ceil(STORE_DONATION_SIZE);
    for number in 0..donation_count {
        let size = STORE_DONATION_SIZE.min(count - number * STORE_DONATION_SIZE);
        let (donation, devices) = generator.donation(size);
        let outcome = workshop
            .receive_donation(donation, devices, &context())
            .await?;
        codes.extend(outcome.devices.into_iter().map(|(_, code)| code));
    }

    let start = Instant::now();
    for code in &codes {
        let command = DeviceCommand::Diagnose(passed_diagnosis(disk_serial(code)));
        workshop.record(code, command, &context()).await?;
    }
    Ok(Measurement {
        case: CASE_RECORD,
        events: u64::from(count),
        transactions: u64::from(count),
        elapsed: start.elapsed(),
    })
}

/// Times donation batches of [`STORE_DONATION_SIZE`] devices until at least
/// `count` events are written. Returns the timing and the position range of
/// each batch.
async fn receive_donations(
    workshop: &Workshop,
    generator: &mut Generator,
    count: u64,
) -> anyhow::Result<(Measurement, Vec<(i64, i64)>)> {
    let events_per_batch = 2 * u64::from(STORE_DONATION_SIZE) + 1;
    let batch_count = count.div_ceil(events_per_batch);
    let inputs: Vec<_> = (0..batch_count)
        .map(|_| generator.donation(STORE_DONATION_SIZE))
        .collect();
    let mut ranges = Vec::new();
    let start = Instant::now();
    for (donation, devices) in inputs {
        let outcome = workshop
            .receive_donation(donation, devices, &context())
            .await?;
        ranges.push((outcome.append.first_position, outcome.append.last_position));
    }
    let measurement = Measurement {
        case: CASE_DONATION,
        events: ranges.iter().map(|(first, last)| span(*first, *last)).sum(),
        transactions: batch_count,
        elapsed: start.elapsed(),
    };
    Ok((measurement, ranges))
}

/// Creates the scratch table with the columns, keys and constraints of
/// `events`. Its triggers only reject UPDATE and DELETE, so they are left out.
async fn create_raw_table(store: &EventStore) -> anyhow::Result<()> {
    let position_type = match store.backend() {
        // INTEGER PRIMARY KEY makes the column SQLite's rowid, as in `events`.
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BIGINT",
    };
    sqlx::query(&format!("DROP TABLE IF EXISTS {RAW_TABLE}"))
        .execute(store.pool())
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {RAW_TABLE} (
            position {position_type} PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            stream_id TEXT NOT NULL,
            stream_version BIGINT NOT NULL,
            event_type TEXT NOT NULL,
            schema_version BIGINT NOT NULL,
            payload TEXT NOT NULL,
            actor TEXT NOT NULL,
            organisation TEXT NOT NULL,
            command_id TEXT,
            correlation_id TEXT NOT NULL,
            causation_id TEXT,
            occurred_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (stream_id, stream_version)
        )"
    ))
    .execute(store.pool())
    .await?;
    Ok(())
}

async fn drop_raw_table(store: &EventStore) -> anyhow::Result<()> {
    sqlx::query(&format!("DROP TABLE {RAW_TABLE}"))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Reads the events between two positions, inclusive, as raw rows.
async fn load_rows(store: &EventStore, (first, last): (i64, i64)) -> anyhow::Result<Vec<RawRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE position BETWEEN $1 AND $2 ORDER BY position"
    ))
    .bind(first)
    .bind(last)
    .fetch_all(store.pool())
    .await?)
}

/// Inserts each row with its own autocommit statement.
async fn insert_raw_single(store: &EventStore, rows: &[RawRow]) -> anyhow::Result<Measurement> {
    let sql = insert_sql(1);
    let start = Instant::now();
    for row in rows {
        bind_row(sqlx::query(&sql), row)
            .execute(store.pool())
            .await?;
    }
    Ok(Measurement {
        case: CASE_RAW_SINGLE,
        events: rows.len() as u64,
        transactions: rows.len() as u64,
        elapsed: start.elapsed(),
    })
}

/// Copies the rows of each donation batch into the scratch table, one
/// transaction per batch. Only the inserts and commits are timed.
async fn insert_raw_batches(
    store: &EventStore,
    ranges: &[(i64, i64)],
) -> anyhow::Result<Measurement> {
    let mut elapsed = Duration::ZERO;
    let mut events = 0;
    for range in ranges {
        let rows = load_rows(store, *range).await?;
        let start = Instant::now();
        let mut transaction = store.pool().begin().await?;
        for chunk in rows.chunks(RAW_ROWS_PER_INSERT) {
            let sql = insert_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = bind_row(query, row);
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        elapsed += start.elapsed();
        events += rows.len() as u64;
    }
    Ok(Measurement {
        case: CASE_RAW_BATCH,
        events,
        transactions: ranges.len() as u64,
        elapsed,
    })
}

/// INSERT statement into the scratch table for `rows` rows, with numbered
/// placeholders as both databases accept them through sqlx's `Any` driver.
fn insert_sql(rows: usize) -> String {
    let columns = EVENT_COLUMNS.split(',').count();
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=columns)
                .map(|column| format!("${}", row * columns + column))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {RAW_TABLE} ({EVENT_COLUMNS}) VALUES {}",
        values.join(", ")
    )
}

fn bind_row<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    row: &'q RawRow,
) -> Query<'q, Any, AnyArguments<'q>> {
    query
        .bind(row.0)
        .bind(&row.1)
        .bind(&row.2)
        .bind(row.3)
        .bind(&row.4)
        .bind(row.5)
        .bind(&row.6)
        .bind(&row.7)
        .bind(&row.8)
        .bind(&row.9)
        .bind(&row.10)
        .bind(&row.11)
        .bind(&row.12)
        .bind(&row.13)
        .bind(&row.14)
}

fn span(first: i64, last: i64) -> u64 {
    u64::try_from(last - first + 1).unwrap_or(0)
}

fn context() -> CommandContext {
    CommandContext::new(ACTOR, ORGANISATION)
}

// ---------------------------------------------------------------------------
// Input generation

const MODELS: &[(Category, &str, &str)] = &[
    (Category::Laptop, "Dell", "Latitude E5530"),
    (Category::Laptop, "HP", "ProBook 430 G4"),
    (Category::Laptop, "Lenovo", "ThinkPad T470"),
    (Category::Desktop, "Dell", "OptiPlex 7010"),
    (Category::Desktop, "Lenovo", "ThinkCentre M710q"),
    (Category::Tablet, "Samsung", "Galaxy Tab A 10.1"),
    (Category::Smartphone, "Samsung", "Galaxy A52"),
    (Category::Screen, "Dell", "P2419H"),
    (Category::Printer, "Brother", "HL-L2350DW"),
];

const DONORS: &[(&str, DonorKind, bool)] = &[
    ("Benchmark public body", DonorKind::PublicBody, true),
    ("Benchmark company", DonorKind::Company, false),
    (
        "Benchmark neighbourhood collection",
        DonorKind::Person,
        false,
    ),
];

const SITES: &[&str] = &["Chartres", "Dreux"];

/// Seeded source of donation batches and device histories.
struct Generator {
    rng: StdRng,
    donations: u32,
    today: NaiveDate,
}

impl Generator {
    fn new() -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(SEED),
            donations: 0,
            today: Utc::now().date_naive(),
        }
    }

    /// Builds the next donation batch of `size` devices, each with a serial
    /// number unique within the run.
    fn donation(&mut self, size: u32) -> (NewDonation, Vec<NewDevice>) {
        let number = self.donations;
        self.donations += 1;
        let (donor, donor_kind, free_transfer) = DONORS[number as usize % DONORS.len()];
        let site = SITES[self.rng.gen_range(0..SITES.len())];
        let donation_id = DonationId::generate();
        let devices = (0..size)
            .map(|index| {
                let (category, brand, model) = MODELS[self.rng.gen_range(0..MODELS.len())];
                let serial = format!("BENCH{number:06}X{index:05}");
                NewDevice {
                    intake: Intake {
                        device_id: DeviceId::generate(),
                        donation_id,
                        category,
                        brand: brand.to_string(),
                        model: model.to_string(),
                        serial: SerialNumber::parse(&serial).ok().flatten(),
                        asset_tag: None,
                        site: site.to_string(),
                        donor_kind,
                        free_transfer,
                    },
                }
            })
            .collect();
        let donation = NewDonation {
            donation_id,
            donor_name: donor.to_string(),
            donor_kind,
            free_transfer,
            received_on: self.today,
            site: site.to_string(),
            reference: format!("BENCH-{number:06}"),
        };
        (donation, devices)
    }
}

/// Serial number of the one storage unit of a generated device.
fn disk_serial(code: &DeviceCode) -> String {
    format!("S4{code}DISK")
}

fn passed_diagnosis(disk: String) -> Diagnosis {
    Diagnosis {
        functional_test: Outcome::Passed,
        verdict: Verdict::Refurbish,
        storage_units: vec![StorageUnit {
            unit: disk,
            kind: StorageKind::Ssd,
            model: "Samsung PM871".into(),
            size_bytes: Some(256_060_514_304),
            healthy: Some(true),
        }],
        cpu: "Intel Core i5-7300U".into(),
        memory_bytes: Some(8 * 1024 * 1024 * 1024),
        battery_wear_percent: Some(18),
        notes: String::new(),
        evidence_sha256: Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// Machine facts and report

/// Build profile, CPU, database engine and its durability settings.
async fn machine_facts(store: &EventStore) -> anyhow::Result<Vec<(&'static str, String)>> {
    let pool = store.pool();
    let (engine, durability) = match store.backend() {
        Backend::Sqlite => {
            let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(pool)
                .await?;
            let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(pool)
                .await?;
            let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(pool)
                .await?;
            let synchronous = match synchronous {
                0 => "OFF".to_string(),
                1 => "NORMAL".to_string(),
                2 => "FULL".to_string(),
                3 => "EXTRA".to_string(),
                other => other.to_string(),
            };
            (
                format!("SQLite {version}"),
                format!("journal_mode={journal_mode}, synchronous={synchronous}"),
            )
        }
        Backend::Postgres => {
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(pool)
                .await?;
            let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(pool).await?;
            let synchronous_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(pool)
                .await?;
            (
                format!("PostgreSQL {version}"),
                format!("fsync={fsync}, synchronous_commit={synchronous_commit}"),
            )
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
        ("logical CPUs (nproc)", cpus.to_string()),
        ("CPU model", cpu_model()),
        ("database", engine),
        ("durability", durability),
    ])
}

/// First `model name` of /proc/cpuinfo.
fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
        .unwrap_or_else(|| "unknown (no model name in /proc/cpuinfo)".to_string())
}

/// Peak resident set size of this process so far (VmHWM of
/// /proc/self/status), in MiB.
pub(crate) fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        });
    match kib {
        Some(kib) => format!("{:.1} MiB", kib as f64 / 1024.0),
        None => "unknown (no VmHWM in /proc/self/status)".to_string(),
    }
}

fn write_facts(report: &mut String, facts: &[(&'static str, String)]) {
    report.push_str("| machine | value |\n|---|---|\n");
    for (name, value) in facts {
        report.push_str(&format!("| {name} | {value} |\n"));
    }
    report.push('\n');
}

fn write_measurements(report: &mut String, results: &[Measurement]) {
    report.push_str("| case | events | seconds | events/s | transactions |\n");
    report.push_str("|---|---:|---:|---:|---:|\n");
    for result in results {
        report.push_str(&format!(
            "| {} | {} | {:.3} | {:.0} | {} |\n",
            result.case,
            result.events,
            result.elapsed.as_secs_f64(),
            result.events_per_second(),
            result.transactions
        ));
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    /// Parses a command line as `filiere` does and runs the benchmark.
    async fn run_bench(url: &str, args: &[&str]) -> anyhow::Result<String> {
        let mut line = vec!["filiere", "--database-url", url, "bench"];
        line.extend_from_slice(args);
        let cli = Cli::try_parse_from(line).expect("the command line parses");
        let Command::Bench(bench) = cli.command else {
            panic!("`filiere bench` parsed as another command");
        };
        report(&cli.database_url, bench).await
    }

    /// Returns the cells of the table row whose first cell is `case`.
    fn row<'a>(report: &'a str, case: &str) -> Vec<&'a str> {
        let prefix = format!("| {case} |");
        let line = report
            .lines()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no row `{case}` in:\n{report}"));
        line.trim_matches('|').split('|').map(str::trim).collect()
    }

    fn sqlite_url(dir: &tempfile::TempDir) -> String {
        format!("sqlite://{}", dir.path().join("bench.db").display())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn store_bench_reports_every_case() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir);
        let report = run_bench(&url, &["store", "--events", "50"]).await.unwrap();

        assert_eq!(
            row(&report, "database")[1].split(' ').next(),
            Some("SQLite")
        );
        assert!(row(&report, "CPU model")[1].len() > 1, "{report}");
        for case in [
            CASE_APPEND,
            CASE_APPEND_COMMAND_ID,
            CASE_RECORD,
            CASE_RAW_SINGLE,
        ] {
            assert_eq!(row(&report, case)[1], "50", "{case}");
        }
        assert_eq!(row(&report, CASE_DONATION)[1], "1001");
        assert_eq!(row(&report, CASE_RAW_BATCH)[1], "1001");
        assert_eq!(row(&report, CASE_RAW_BATCH)[4], "1");
        let store = EventStore::connect(&url).await.unwrap();
        let raw_tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'bench_raw_events'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(raw_tables, 0, "the scratch table is dropped");
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rebuild_bench_replays_generated_log() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir);
        let report = run_bench(&url, &["rebuild", "--devices", "50"])
            .await
            .unwrap();

        let events: u64 = row(&report, CASE_REBUILD)[1].parse().unwrap();
        assert!(events > 100, "50 devices give over 100 events: {report}");
        assert_eq!(row(&report, CASE_GENERATE)[1], events.to_string());
        assert_eq!(row(&report, "devices in the rebuilt stock")[1], "50");
        assert_eq!(
            row(&report, "planner statistics")[1],
            "ANALYZE events after generation"
        );
        let projections = Projection::ALL.len();
        assert_eq!(
            row(
                &report,
                &format!("events applied, summed over the {projections} projections")
            )[1],
            (projections as u64 * events).to_string()
        );
        assert!(row(&report, "peak RSS after rebuild (VmHWM)")[1].ends_with("MiB"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bench_rejects_non_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir);
        let report = run_bench(&url, &["rebuild", "--devices", "1", "--no-analyze"])
            .await
            .unwrap();
        assert_eq!(
            row(&report, "planner statistics")[1],
            "none collected by the benchmark (--no-analyze)"
        );

        for args in [
            &["store", "--events", "1"][..],
            &["rebuild", "--devices", "1"],
        ] {
            let error = run_bench(&url, args).await.unwrap_err().to_string();
            assert!(error.contains("already contains"), "{error}");
        }
    }
}
