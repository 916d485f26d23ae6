//! Generated event logs, from a demonstration workshop to a national network
//! of millions of devices, used by `filiere demo` and `filiere bench`.
//!
//! Donation batches arrive from public bodies, companies, individuals and
//! associations, spread evenly over the chosen number of years up to today.
//! Each device then follows a planned journey: diagnosis, erasure, repair,
//! software, grading and stock, then a prescription and a handover as a
//! loan, a donation or a sale, a return, recycling or a write-off. Some
//! households get a prescription that is declined, cancelled or expires.
//! Every step is
//! decided by the domain (`Device::decide`, `Prescription::decide`) on the
//! state folded so far, at the step's date, so the log contains only what
//! the command handlers would accept. Steps are executed in date order
//! across all journeys, so the events of one device are spread over the log
//! as in a real workshop.
//!
//! The events go through [`EventStore::append_bulk`]: one transaction per
//! `events_per_transaction` events, with every invariant of a normal append
//! (positions, versions, unique keys, metadata, hash chain).

mod journey;
#[cfg(test)]
mod tests;
mod world;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use filiere_domain::device::Intake;
use filiere_domain::donation::{DonationEvent, NewDonation};
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::DonorKind;
use filiere_domain::{Device, DeviceCode, DeviceId, DonationId};
use filiere_projections::Projector;
use filiere_store::workshop::{CODE_KEY, SERIAL_KEY};
use filiere_store::{
    AppendBatch, Backend, EventStore, ExpectedVersion, Metadata, NewEvent, StreamAppend, UniqueKey,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use journey::{Journey, NewHousehold};
pub use world::Scope;
use world::World;

/// Events per transaction when the caller does not choose.
pub const DEFAULT_EVENTS_PER_TRANSACTION: usize = 20_000;

/// Size, seed and scope of a generated log.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub devices: u32,
    /// Seed of the random generator: the same seed gives the same histories.
    pub seed: u64,
    /// Donations are spread over this many years, ending at `now`.
    pub years: u32,
    pub events_per_transaction: usize,
    pub scope: Scope,
    /// No step is dated after this time.
    pub now: DateTime<Utc>,
}

impl GenerateOptions {
    pub fn new(devices: u32, seed: u64, scope: Scope) -> GenerateOptions {
        GenerateOptions {
            devices,
            seed,
            years: 4,
            events_per_transaction: DEFAULT_EVENTS_PER_TRANSACTION,
            scope,
            now: Utc::now(),
        }
    }
}

/// Counts of a generated log.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub devices: u64,
    pub donations: u64,
    pub prescriptions: u64,
    pub households: u64,
    pub events: u64,
    pub transactions: u64,
    pub elapsed: Duration,
    /// Devices by final status, such as `in_stock`.
    pub device_statuses: BTreeMap<&'static str, u64>,
    /// Prescriptions by final status, such as `handed_over`.
    pub prescription_statuses: BTreeMap<&'static str, u64>,
}

/// Generates a log of `options.devices` devices into `store`, whose log
/// must be empty so that no generated device mixes with real ones.
pub async fn generate(store: &EventStore, options: &GenerateOptions) -> anyhow::Result<Summary> {
    if options.devices == 0 {
        anyhow::bail!("the number of devices must be at least 1");
    }
    let (position, _) = store.head().await?;
    if position != 0 {
        anyhow::bail!(
            "the database already contains {position} events; generated devices only go into \
             an empty database, so that they never mix with real ones. Use a new SQLite file or \
             a newly created PostgreSQL database"
        );
    }
    let started = Instant::now();
    let world = World::build(store, &options.scope, options.now).await?;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut simulation = Simulation {
        store,
        world: &world,
        events_per_transaction: options.events_per_transaction.max(1),
        queue: BinaryHeap::new(),
        slots: Vec::new(),
        free: Vec::new(),
        sequence: 0,
        batches: Vec::new(),
        pending_events: 0,
        households: Vec::new(),
        codes: HashSet::new(),
        summary: Summary::default(),
        started,
        next_progress: 1_000_000,
    };

    let start = options.now - chrono::Duration::days(365 * i64::from(options.years));
    let span = (options.now - start).num_seconds();
    let devices = u64::from(options.devices);
    let mut received = 0;
    while received < devices {
        let offset = (span as f64 * received as f64 / devices as f64) as i64;
        let at = start + chrono::Duration::seconds(offset);
        simulation.run_until(at).await?;
        let workshop = world.pick_workshop(&mut rng);
        let (donor, donor_kind, free_transfer, size) =
            world::donor(&world.workshops[workshop], &mut rng);
        let size = u64::from(size).min(devices - received);
        simulation
            .receive_donation(
                &mut rng,
                workshop,
                at,
                (donor, donor_kind, free_transfer),
                size as u32,
                options,
            )
            .await?;
        received += size;
    }
    simulation
        .run_until(options.now + chrono::Duration::seconds(1))
        .await?;
    simulation.flush().await?;
    let mut summary = simulation.summary;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Journeys waiting for their next step, executed in date order.
struct Simulation<'a> {
    store: &'a EventStore,
    world: &'a World,
    events_per_transaction: usize,
    /// Next step of each journey: (time in microseconds, sequence, slot).
    queue: BinaryHeap<Reverse<(i64, u64, usize)>>,
    slots: Vec<Option<Journey>>,
    free: Vec<usize>,
    sequence: u64,
    batches: Vec<AppendBatch>,
    pending_events: usize,
    households: Vec<NewHousehold>,
    /// Device codes drawn so far, so that no two devices share one.
    codes: HashSet<String>,
    summary: Summary,
    started: Instant,
    next_progress: u64,
}

impl Simulation<'_> {
    /// Queues the journey's next step, or counts its outcome when it has
    /// none left.
    fn schedule(&mut self, journey: Journey, slot: Option<usize>) {
        let Some((at, _)) = journey.script.front() else {
            self.finish(&journey);
            if let Some(slot) = slot {
                self.free.push(slot);
            }
            return;
        };
        let key = at.timestamp_micros();
        let slot = match slot {
            Some(slot) => slot,
            None => match self.free.pop() {
                Some(slot) => slot,
                None => {
                    self.slots.push(None);
                    self.slots.len() - 1
                }
            },
        };
        self.slots[slot] = Some(journey);
        self.sequence += 1;
        self.queue.push(Reverse((key, self.sequence, slot)));
    }

    fn finish(&mut self, journey: &Journey) {
        if let Some(device) = &journey.device {
            *self
                .summary
                .device_statuses
                .entry(device.status.as_str())
                .or_default() += 1;
        }
        if let Some(prescription) = &journey.prescription {
            *self
                .summary
                .prescription_statuses
                .entry(prescription.status.as_str())
                .or_default() += 1;
            self.summary.prescriptions += 1;
        }
    }

    /// Executes every queued step dated before `limit`.
    async fn run_until(&mut self, limit: DateTime<Utc>) -> anyhow::Result<()> {
        let limit = limit.timestamp_micros();
        while let Some(Reverse((at, _, slot))) = self.queue.peek().copied() {
            if at >= limit {
                break;
            }
            self.queue.pop();
            let mut journey = self.slots[slot]
                .take()
                .context("a queued journey is missing")?;
            let (at, action) = journey
                .script
                .pop_front()
                .context("a queued journey has no step")?;
            let batch = journey.execute(self.world, at, action)?;
            self.push(batch).await?;
            self.schedule(journey, Some(slot));
        }
        Ok(())
    }

    async fn push(&mut self, batch: AppendBatch) -> anyhow::Result<()> {
        self.pending_events += batch.streams.iter().map(|s| s.events.len()).sum::<usize>();
        self.batches.push(batch);
        if self.pending_events >= self.events_per_transaction {
            self.flush().await?;
        }
        Ok(())
    }

    /// Records the pending households, then the pending batches in one bulk
    /// append.
    async fn flush(&mut self) -> anyhow::Result<()> {
        if !self.households.is_empty() {
            let rows = std::mem::take(&mut self.households);
            self.summary.households += rows.len() as u64;
            self.store
                .insert_households(&rows)
                .await
                .context("cannot record the generated households")?;
        }
        if self.batches.is_empty() {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.batches);
        self.store
            .append_bulk(&batches)
            .await
            .context("the bulk append of generated events failed")?;
        self.summary.events += self.pending_events as u64;
        self.summary.transactions += 1;
        self.pending_events = 0;
        if self.summary.events >= self.next_progress {
            self.next_progress += 1_000_000;
            tracing::info!(
                events = self.summary.events,
                devices = self.summary.devices,
                journeys_in_progress = self.queue.len(),
                seconds = self.started.elapsed().as_secs_f64(),
                "generating"
            );
        }
        Ok(())
    }

    /// Receives one donation batch of `size` devices at `workshop` and plans
    /// each device's journey.
    async fn receive_donation(
        &mut self,
        rng: &mut StdRng,
        workshop: usize,
        at: DateTime<Utc>,
        (donor, donor_kind, free_transfer): (String, DonorKind, bool),
        size: u32,
        options: &GenerateOptions,
    ) -> anyhow::Result<()> {
        let place = &self.world.workshops[workshop];
        let site = place.sites[rng.gen_range(0..place.sites.len())].clone();
        let donation_id = DonationId::new_at(at, rng.gen());
        let number = self.summary.donations;
        let header = NewDonation {
            donation_id,
            donor_name: donor,
            donor_kind,
            free_transfer,
            received_on: at.date_naive(),
            site: site.clone(),
            reference: format!("BL-{number:07}"),
        }
        .decide(size, at.date_naive())
        .context("the generated donation batch was rejected")?;
        let mut streams = vec![StreamAppend {
            stream_id: donation_id.stream_id(),
            expected: ExpectedVersion::NoStream,
            events: vec![donation_event(&header)],
            unique_keys: vec![],
        }];
        let mut devices = Vec::with_capacity(size as usize);
        for _ in 0..size {
            let category = world::category(rng);
            let (brand, model) = world::model(category, rng);
            let serial_number = self.summary.devices + devices.len() as u64;
            let serial = rng
                .gen_bool(0.9)
                .then(|| format!("G{:x}N{serial_number:09}", options.seed % 0x1000));
            let asset_tag = (donor_kind == DonorKind::PublicBody && rng.gen_bool(0.5))
                .then(|| format!("INV-{serial_number:08}"));
            let code = loop {
                let code = DeviceCode::from_random(rng.gen());
                if self.codes.insert(code.as_str().to_string()) {
                    break code;
                }
            };
            let intake = Intake {
                device_id: DeviceId::new_at(at, rng.gen()),
                donation_id,
                category,
                brand: brand.to_string(),
                model: model.to_string(),
                serial: serial
                    .map(|serial| SerialNumber::parse(&serial))
                    .transpose()?
                    .flatten(),
                asset_tag,
                site: site.clone(),
                donor_kind,
                free_transfer,
            };
            let mut unique_keys = vec![UniqueKey::new(CODE_KEY, code.as_str())];
            if let Some(serial) = &intake.serial {
                unique_keys.push(UniqueKey::new(SERIAL_KEY, serial.match_key()));
            }
            let stream_id = intake.device_id.stream_id();
            let events = Device::receive_for(intake, code, &place.organisation)
                .context("the generated device was rejected at intake")?;
            let device = Device::from_events(&events).context("a received device has no state")?;
            streams.push(StreamAppend {
                stream_id,
                expected: ExpectedVersion::NoStream,
                events: events.iter().map(journey::device_event).collect(),
                unique_keys,
            });
            devices.push(device);
        }
        self.summary.donations += 1;
        self.summary.devices += devices.len() as u64;
        self.push(AppendBatch {
            command_id: None,
            metadata: Metadata::new(journey::ACTOR, place.organisation.clone()),
            occurred_at: at,
            streams,
        })
        .await?;
        for device in devices {
            let (journey, standalone, households) =
                journey::plan_device(rng, self.world, workshop, device, at, options.now);
            self.households.extend(households);
            self.schedule(journey, None);
            if let Some(standalone) = standalone {
                self.schedule(standalone, None);
            }
        }
        Ok(())
    }
}

/// Encodes the first event of a donation batch as the store's donation
/// handling does: the payload without its `type` tag.
fn donation_event(header: &DonationEvent) -> NewEvent {
    let mut payload = serde_json::to_value(header).expect("donation events serialise");
    if let serde_json::Value::Object(map) = &mut payload {
        map.remove("type");
    }
    NewEvent::new(header.event_type(), 1, payload)
}

/// Updates the planner statistics of every table, so that PostgreSQL plans
/// the stream and projection reads of a bulk-loaded database with indexes.
pub async fn analyze(store: &EventStore) -> anyhow::Result<()> {
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    Ok(())
}

/// Size of the database on disk, in bytes: pages of the SQLite file (WAL
/// not included) or `pg_database_size` on PostgreSQL.
pub async fn database_size(store: &EventStore) -> anyhow::Result<i64> {
    Ok(match store.backend() {
        Backend::Sqlite => {
            let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
                .fetch_one(store.pool())
                .await?;
            let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
                .fetch_one(store.pool())
                .await?;
            pages * page_size
        }
        Backend::Postgres => {
            sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(store.pool())
                .await?
        }
    })
}

/// Options of `filiere bench generate`.
#[derive(Debug, Args)]
pub struct GenerateBenchArgs {
    /// Devices in the generated log.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub devices: u32,

    /// Seed of the random generator; the same seed gives the same histories.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,

    /// Years over which the donations are spread, ending today.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub years: u32,

    /// Events written per transaction.
    #[arg(long, default_value_t = DEFAULT_EVENTS_PER_TRANSACTION as u64,
          value_parser = clap::value_parser!(u64).range(100..=200_000))]
    pub events_per_transaction: u64,

    /// Generate only, without the timed rebuild of the projections.
    #[arg(long)]
    pub no_rebuild: bool,
}

/// `filiere bench generate`: generates a national log into a fresh
/// database, analyzes it, times a full rebuild of the projections and
/// reports the figures as Markdown. The database is left ready for
/// `filiere serve`.
pub async fn bench_report(url: &str, args: GenerateBenchArgs) -> anyhow::Result<String> {
    let store = super::open(url).await?;
    let mut options = GenerateOptions::new(args.devices, args.seed, Scope::National);
    options.years = args.years;
    options.events_per_transaction = usize::try_from(args.events_per_transaction)?;
    tracing::info!(devices = args.devices, "generating a national log");
    let summary = generate(&store, &options).await?;
    let peak_after_generation = super::bench::peak_rss();

    let started = Instant::now();
    sqlx::query("ANALYZE events").execute(store.pool()).await?;
    let analyze_time = started.elapsed();

    let rebuild = if args.no_rebuild {
        None
    } else {
        tracing::info!(events = summary.events, "rebuilding the projections");
        let started = Instant::now();
        let applied = Projector::new(store.clone())
            .rebuild()
            .await
            .context("the rebuild failed")?;
        let elapsed = started.elapsed();
        analyze(&store).await?;
        Some((applied, elapsed))
    };
    let peak_after_rebuild = super::bench::peak_rss();
    let size = database_size(&store).await?;
    let stock_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stock_devices")
        .fetch_one(store.pool())
        .await?;
    let backend = store.backend().as_str();
    store.close().await;

    let mut report = String::from("## filiere bench generate\n\n");
    let build = if cfg!(debug_assertions) {
        "debug (timings are not representative; use --release)"
    } else {
        "release"
    };
    let rate = |events: u64, elapsed: Duration| events as f64 / elapsed.as_secs_f64().max(1e-9);
    writeln!(report, "| figure | value |\n|---|---:|")?;
    writeln!(report, "| build | {build} |")?;
    writeln!(report, "| database | {backend} |")?;
    writeln!(report, "| devices | {} |", summary.devices)?;
    writeln!(report, "| donation batches | {} |", summary.donations)?;
    writeln!(report, "| prescriptions | {} |", summary.prescriptions)?;
    writeln!(report, "| households recorded | {} |", summary.households)?;
    writeln!(report, "| events | {} |", summary.events)?;
    writeln!(report, "| transactions | {} |", summary.transactions)?;
    writeln!(
        report,
        "| generation seconds | {:.1} |",
        summary.elapsed.as_secs_f64()
    )?;
    writeln!(
        report,
        "| generation events/s | {:.0} |",
        rate(summary.events, summary.elapsed)
    )?;
    writeln!(
        report,
        "| ANALYZE events seconds | {:.1} |",
        analyze_time.as_secs_f64()
    )?;
    if let Some((applied, elapsed)) = rebuild {
        writeln!(report, "| rebuild seconds | {:.1} |", elapsed.as_secs_f64())?;
        writeln!(
            report,
            "| rebuild events/s | {:.0} |",
            rate(summary.events, elapsed)
        )?;
        writeln!(
            report,
            "| events applied, summed over projections | {applied} |"
        )?;
        writeln!(report, "| devices in the rebuilt stock | {stock_rows} |")?;
    }
    writeln!(
        report,
        "| database size (MiB) | {:.0} |",
        size as f64 / 1_048_576.0
    )?;
    writeln!(
        report,
        "| peak RSS after generation (VmHWM) | {peak_after_generation} |"
    )?;
    writeln!(
        report,
        "| peak RSS at the end (VmHWM) | {peak_after_rebuild} |"
    )?;
    writeln!(report, "\n| device status | devices |\n|---|---:|")?;
    for (status, count) in &summary.device_statuses {
        writeln!(report, "| {status} | {count} |")?;
    }
    writeln!(
        report,
        "\n| prescription status | prescriptions |\n|---|---:|"
    )?;
    for (status, count) in &summary.prescription_statuses {
        writeln!(report, "| {status} | {count} |")?;
    }
    Ok(report)
}
