//! The single-pass rebuild, run on SQLite and on PostgreSQL. It gives exactly
//! the rows that catching up event by event gives, for devices whose events
//! span many pages of the replay and for streams that are not valid device
//! histories.

use chrono::{DateTime, Duration, TimeZone, Utc};
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, Erasure, Grading, HandoverMode, Placement, StorageUnit};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, Evidence, HouseholdAttributes, HouseholdSize, Need,
    NewPrescription, PreferredMode, PrescriptionCommand, Purpose, Training, TrainingProvider,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict,
};
use filiere_domain::{DeviceCode, DeviceCommand, DeviceId, DonationId, PrescriptionId};
use filiere_projections::Projector;
use filiere_store::households::HouseholdIdentity;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{
    backend_tests, AppendBatch, EventStore, ExpectedVersion, Metadata, NewEvent, StreamAppend,
};
use sqlx::any::AnyRow;
use sqlx::{Column, Row};

const WORKSHOP: &str = "workshop-chartres";
const REFERRER: &str = "ccas-chartres";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0).unwrap()
}

fn context(organisation: &str, at: DateTime<Utc>) -> CommandContext {
    let mut context = CommandContext::new("test:camille", organisation);
    context.now = at;
    context
}

async fn donate(workshop: &Workshop, count: usize, at: DateTime<Utc>) -> Vec<DeviceCode> {
    let donation_id = DonationId::generate();
    let devices = (0..count)
        .map(|i| NewDevice {
            intake: Intake {
                device_id: DeviceId::generate(),
                donation_id,
                category: if i % 4 == 3 {
                    Category::Screen
                } else {
                    Category::Laptop
                },
                brand: "Lenovo".into(),
                model: format!("ThinkPad T4{i:02}"),
                serial: None,
                asset_tag: None,
                site: "Chartres".into(),
                donor_kind: DonorKind::PublicBody,
                free_transfer: true,
            },
        })
        .collect();
    let donation = NewDonation {
        donation_id,
        donor_name: "Mairie de Chartres".into(),
        donor_kind: DonorKind::PublicBody,
        free_transfer: true,
        received_on: at.date_naive(),
        site: "Chartres".into(),
        reference: "BL-1".into(),
    };
    workshop
        .receive_donation(donation, devices, &context(WORKSHOP, at))
        .await
        .unwrap()
        .devices
        .into_iter()
        .map(|(_, code)| code)
        .collect()
}

fn diagnosis(unit: &str) -> Diagnosis {
    Diagnosis {
        functional_test: Outcome::Passed,
        verdict: Verdict::Refurbish,
        storage_units: vec![StorageUnit {
            unit: unit.to_string(),
            kind: StorageKind::Ssd,
            model: "Samsung PM871".into(),
            size_bytes: Some(256_000_000_000),
            healthy: Some(true),
        }],
        cpu: "Intel Core i5".into(),
        memory_bytes: Some(8 << 30),
        battery_wear_percent: Some(20),
        notes: String::new(),
        evidence_sha256: Vec::new(),
    }
}

fn erasure(unit: &str) -> Erasure {
    Erasure {
        unit: unit.to_string(),
        method: ErasureMethod::Clear,
        technique: ErasureTechnique::Overwrite,
        tool: "nwipe".into(),
        tool_version: "0.37".into(),
        verified: true,
        result: Outcome::Passed,
        operator: "Camille".into(),
        evidence_sha256: None,
    }
}

/// The bench steps of a laptop, up to stock.
fn refurbish_steps(code: &DeviceCode) -> Vec<DeviceCommand> {
    let unit = format!("S4{code}D");
    vec![
        DeviceCommand::Diagnose(diagnosis(&unit)),
        DeviceCommand::RecordErasure(erasure(&unit)),
        DeviceCommand::Grade(Grading {
            grade: Grade::B,
            autonomy: Autonomy::Beginner,
            notes: String::new(),
        }),
        DeviceCommand::Stock(Placement {
            site: "Chartres".into(),
            location: "Étagère 2".into(),
        }),
    ]
}

/// Catches the projections up after every append, so each catch-up applies
/// the events of one command.
struct Log {
    workshop: Workshop,
    projector: Projector,
    at: DateTime<Utc>,
}

impl Log {
    fn tick(&mut self) -> DateTime<Utc> {
        self.at += Duration::hours(5);
        self.at
    }

    async fn record(&mut self, code: &DeviceCode, command: DeviceCommand) {
        let at = self.tick();
        self.workshop
            .record(code, command, &context(WORKSHOP, at))
            .await
            .unwrap();
        self.projector.catch_up().await.unwrap();
    }
}

/// Tables compared. The dashboard's counters are left out: its catch-up
/// keeps counter rows that fell back to zero, which a replay in one batch
/// never writes, so those tables differ by design of that projection.
const TABLES: [&str; 5] = [
    "device_timeline",
    "donation_batches",
    "prescription_views",
    "stock_devices",
    "stock_storage_units",
];

/// Reads every row of the compared projection tables, as sorted text.
async fn projection_rows(store: &EventStore) -> Vec<(String, Vec<Vec<String>>)> {
    let mut all = Vec::new();
    for table in TABLES {
        let rows: Vec<AnyRow> = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(store.pool())
            .await
            .unwrap();
        let mut texts: Vec<Vec<String>> = rows.iter().map(row_text).collect();
        texts.sort();
        all.push((table.to_string(), texts));
    }
    all
}

fn row_text(row: &AnyRow) -> Vec<String> {
    (0..row.columns().len())
        .map(|index| {
            let name = row.columns()[index].name().to_string();
            let value = if let Ok(text) = row.try_get::<Option<String>, _>(index) {
                format!("{text:?}")
            } else if let Ok(number) = row.try_get::<Option<i64>, _>(index) {
                format!("{number:?}")
            } else if let Ok(number) = row.try_get::<Option<f64>, _>(index) {
                format!("{number:?}")
            } else if let Ok(flag) = row.try_get::<Option<bool>, _>(index) {
                format!("{flag:?}")
            } else {
                panic!("column {name} has a type this test cannot read")
            };
            format!("{name}={value}")
        })
        .collect()
}

async fn rebuild_equals_catch_up(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    let mut log = Log {
        projector: Projector::new(store.clone()),
        workshop,
        at: start(),
    };

    // Devices whose steps interleave, so that one device's events are far
    // apart in the log.
    let codes = donate(&log.workshop, 12, log.at).await;
    log.projector.catch_up().await.unwrap();
    for step in 0..4 {
        for code in codes.iter().take(9) {
            let command = refurbish_steps(code).remove(step);
            log.record(code, command).await;
        }
    }
    log.record(
        &codes[0],
        DeviceCommand::HandOver {
            household_id: filiere_domain::HouseholdId::generate(),
            prescription_id: None,
            mode: HandoverMode::Donation,
        },
    )
    .await;
    log.record(
        &codes[1],
        DeviceCommand::Recycle(filiere_domain::event::Recycling {
            weight_grams: 2_100,
            eco_organism: "Ecologic".into(),
        }),
    )
    .await;

    // A prescription served by a device: household, issue, acceptance,
    // reservation, handover as a loan, training.
    let at = log.tick();
    let household_id = store
        .create_household(
            HouseholdIdentity {
                first_name: "Nadia".into(),
                last_name: "Benali".into(),
                phone: None,
                email: None,
                address: None,
            },
            at,
        )
        .await
        .unwrap();
    let scheme = store
        .create_scheme(
            "Minima sociaux",
            EligibilityRule::Benefit {
                accepted: vec!["RSA".into()],
            },
            at,
        )
        .await
        .unwrap();
    let prescription_id = PrescriptionId::generate();
    let new = NewPrescription {
        prescription_id,
        household_id,
        referrer_organisation: REFERRER.into(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::JobSearch,
        },
        evidence: Evidence::Benefit { name: "RSA".into() },
        preferred_mode: PreferredMode::Loan,
        skills: DigitalSkills::Pix { level: 1 },
        training: Some(Training {
            provider: TrainingProvider::Venue,
            name: "Médiathèque de Chartres".into(),
            scheduled_on: None,
        }),
        household: HouseholdAttributes {
            commune: InseeCode::parse("28085").unwrap(),
            qpv: true,
            zrr: false,
            size: HouseholdSize::ThreeToFour,
            age: AgeBand::Adult,
        },
    };
    log.workshop
        .issue_prescription(new, scheme.id, &context(REFERRER, at))
        .await
        .unwrap();
    log.projector.catch_up().await.unwrap();
    let steps = [
        PrescriptionCommand::Accept {
            workshop_organisation: WORKSHOP.into(),
        },
        PrescriptionCommand::AttendTraining {
            on: log.at.date_naive(),
        },
    ];
    for command in steps {
        let at = log.tick();
        log.workshop
            .record_prescription(prescription_id, command, &context(WORKSHOP, at))
            .await
            .unwrap();
        log.projector.catch_up().await.unwrap();
    }
    let at = log.tick();
    log.workshop
        .reserve_device(prescription_id, &codes[2], &context(WORKSHOP, at))
        .await
        .unwrap();
    log.projector.catch_up().await.unwrap();
    let at = log.tick();
    let due_on = at.date_naive() + Duration::days(200);
    log.workshop
        .hand_over(
            prescription_id,
            HandoverMode::Loan { due_on },
            &context(WORKSHOP, at),
        )
        .await
        .unwrap();
    log.projector.catch_up().await.unwrap();

    // A device stream that does not start with a reception: neither path
    // gives it a stock row, and its timeline row is the same.
    let stray = DeviceId::generate();
    store
        .append(AppendBatch {
            command_id: None,
            metadata: Metadata::new("test", WORKSHOP),
            occurred_at: log.tick(),
            streams: vec![StreamAppend {
                stream_id: stray.stream_id(),
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent::new(
                    "stocked",
                    1,
                    serde_json::json!({"site": "Dreux", "location": ""}),
                )],
                unique_keys: vec![],
            }],
        })
        .await
        .unwrap();
    log.projector.catch_up().await.unwrap();
    log.record(
        &codes[3],
        DeviceCommand::Repair(filiere_domain::event::Repair {
            parts_replaced: vec!["clavier".into()],
            minutes: 20,
            cost_cents: 1_500,
            notes: String::new(),
        }),
    )
    .await;

    let caught_up = projection_rows(&store).await;
    let stock = caught_up
        .iter()
        .find(|(table, _)| table == "stock_devices")
        .map(|(_, rows)| rows.len());
    assert_eq!(stock, Some(12), "one stock row per received device");

    let (head, _) = store.head().await.unwrap();
    let applied = Projector::new(store.clone())
        .with_rebuild_page_size(7)
        .rebuild()
        .await
        .unwrap();
    assert_eq!(
        applied % u64::try_from(head).unwrap(),
        0,
        "every projection replays the whole log"
    );
    let rebuilt = projection_rows(&store).await;
    assert!(head > 7 * 8, "the replay spans many pages: {head} events");
    assert_eq!(caught_up.len(), rebuilt.len());
    for ((table, before), (_, after)) in caught_up.iter().zip(&rebuilt) {
        assert_eq!(before, after, "rows of {table} differ after the rebuild");
    }
    for (name, position) in log.projector.checkpoints().await.unwrap() {
        assert_eq!(position, head, "checkpoint of {name} after the rebuild");
    }

    // A catch-up after the rebuild continues from the new checkpoints.
    log.record(
        &codes[4],
        DeviceCommand::Move(Placement {
            site: "Dreux".into(),
            location: "Réserve".into(),
        }),
    )
    .await;
    let site: String = sqlx::query_scalar("SELECT site FROM stock_devices WHERE code = $1")
        .bind(codes[4].as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(site, "Dreux");

    store.close().await;
    db.cleanup().await;
}

backend_tests!(rebuild_equals_catch_up);
