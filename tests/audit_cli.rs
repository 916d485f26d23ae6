//! End-to-end tests of `filiere verify` on tampered copies of a log and of
//! `filiere audit` (quarterly PDF, bad inputs) through the real binary, on
//! SQLite and on PostgreSQL.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, Erasure, Grading, HandoverMode, Placement, StorageUnit};
use filiere_domain::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict,
};
use filiere_domain::{DeviceCommand, DeviceId, DonationId, HouseholdId};
use filiere_projections::audit::{save_target, AuditTarget, ShareMethod, TargetUnit};
use filiere_store::testing::tampering::{fill_log, tamper, tamperable_copy, tampering_cases};
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{backend_tests, EventStore, Metadata};

mod support;

use support::{pdf_text, Cli};

const WORKSHOP: &str = "atelier-chartres";

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn noon(text: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(text).and_hms_opt(12, 0, 0).unwrap())
}

fn context(date: &str) -> CommandContext {
    let mut context = CommandContext::new("test", WORKSHOP);
    context.now = noon(date);
    context
}

/// Receives a laptop and a smartphone on 2025-07-02, makes them ready, and
/// gives the laptop away on 2025-07-10 and lends the smartphone on
/// 2025-08-15, both without a prescription.
async fn build_quarter_log(workshop: &Workshop) {
    let donation = NewDonation {
        donation_id: DonationId::generate(),
        donor_name: "Entreprise test".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: day("2025-07-02"),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let devices = [Category::Laptop, Category::Smartphone]
        .into_iter()
        .map(|category| NewDevice {
            intake: Intake {
                device_id: DeviceId::generate(),
                donation_id: donation.donation_id,
                category,
                brand: "Lenovo".into(),
                model: "T480".into(),
                serial: None,
                asset_tag: None,
                site: "Chartres".into(),
                donor_kind: DonorKind::Company,
                free_transfer: false,
            },
        })
        .collect();
    let outcome = workshop
        .receive_donation(donation, devices, &context("2025-07-02"))
        .await
        .unwrap();
    let handovers = [
        ("2025-07-10", HandoverMode::Donation),
        (
            "2025-08-15",
            HandoverMode::Loan {
                due_on: day("2026-02-15"),
            },
        ),
    ];
    for ((_, code), (date, mode)) in outcome.devices.iter().zip(handovers) {
        for step in bench_steps() {
            workshop
                .record(code, step, &context("2025-07-03"))
                .await
                .unwrap();
        }
        let handover = DeviceCommand::HandOver {
            household_id: HouseholdId::generate(),
            prescription_id: None,
            mode,
        };
        workshop
            .record(code, handover, &context(date))
            .await
            .unwrap();
    }
}

fn bench_steps() -> Vec<DeviceCommand> {
    vec![
        DeviceCommand::Diagnose(Diagnosis {
            functional_test: Outcome::Passed,
            verdict: Verdict::Refurbish,
            storage_units: vec![StorageUnit {
                unit: "SSD1".into(),
                kind: StorageKind::Ssd,
                model: "Samsung".into(),
                size_bytes: None,
                healthy: Some(true),
            }],
            cpu: String::new(),
            memory_bytes: None,
            battery_wear_percent: None,
            notes: String::new(),
            evidence_sha256: vec![],
        }),
        DeviceCommand::RecordErasure(Erasure {
            unit: "SSD1".into(),
            method: ErasureMethod::Purge,
            technique: ErasureTechnique::BlockErase,
            tool: "nwipe".into(),
            tool_version: "0.36".into(),
            verified: true,
            result: Outcome::Passed,
            operator: "Ana".into(),
            evidence_sha256: None,
        }),
        DeviceCommand::Grade(Grading {
            grade: Grade::B,
            autonomy: Autonomy::Beginner,
            notes: String::new(),
        }),
        DeviceCommand::Stock(Placement {
            site: "Chartres".into(),
            location: "A1".into(),
        }),
    ]
}

async fn verify_finds_each_tampering(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    fill_log(&store).await;
    let intact = Cli::new(&db).ok(&["verify"]);
    assert!(intact.contains("Event log intact: 8 events"), "{intact}");

    for (tampering, expected) in tampering_cases() {
        let copy = tamperable_copy(&db).await;
        tamper(&copy, tampering).await;
        let message = Cli::new(&copy).fails(&["verify"]);
        let broken = format!("event log broken at position {expected}:");
        assert!(message.contains(&broken), "{tampering:?}: {message}");
        copy.cleanup().await;
    }
    db.cleanup().await;
}

async fn quarterly_pdf_is_reproducible(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_quarter_log(&workshop).await;
    let target = AuditTarget {
        national_target: 2_000_000,
        unit: TargetUnit::Devices,
        territory_code: "28".into(),
        share_method: ShareMethod::Manual(40),
        workshops: vec![],
    };
    let metadata = Metadata::new("test:funder", "departement-28");
    save_target(&store, &target, metadata, noon("2025-06-15"))
        .await
        .unwrap();
    let (head, head_hash) = store.head().await.unwrap();

    let cli = Cli::new(&db);
    let first = cli.path("first.pdf");
    let second = cli.path("second.pdf");
    for out in [&first, &second] {
        let args = [
            "audit",
            "report",
            "--quarter",
            "2025-Q3",
            "--format",
            "pdf",
            "--out",
            out,
        ];
        let printed = cli.ok(&args);
        assert!(printed.contains(&head_hash), "{printed}");
    }
    let first_bytes = std::fs::read(&first).unwrap();
    assert!(first_bytes.starts_with(b"%PDF-"));
    assert_eq!(first_bytes, std::fs::read(&second).unwrap());

    let text = pdf_text(&first);
    for expected in [
        "3e trimestre 2025",
        "Eure-et-Loir (28)",
        "Situation au 30/09/2025",
        "Part du territoire",
        "juillet 2025",
        "août 2025",
        "septembre 2025",
        "Ordinateur portable",
        WORKSHOP,
        "Réemployés",
        "Prêts",
        "En cours",
        "Formation des foyers",
        "Suivies",
        "ADEME",
        "Évaluation de l'impact environnemental",
        "51,6 kg",
        &head_hash,
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let progress = format!("position {head}");
    assert!(text.contains(&progress), "missing {progress:?} in:\n{text}");
    // Two devices reached households out of a share of 40: 5 %.
    assert!(text.contains("5,0 %"), "{text}");

    // --as-of inside the quarter stops before the loan of August.
    let july = cli.path("july.pdf");
    let args = [
        "audit",
        "report",
        "--quarter",
        "2025-Q3",
        "--as-of",
        "2025-07-31",
        "--format",
        "pdf",
        "--out",
        &july,
    ];
    cli.ok(&args);
    let text = pdf_text(&july);
    assert!(text.contains("Situation au 31/07/2025"), "{text}");
    assert!(text.contains("2,5 %"), "{text}");
    db.cleanup().await;
}

async fn bad_audit_inputs_rejected(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    build_quarter_log(&workshop).await;
    let (head, _) = store.head().await.unwrap();
    let cli = Cli::new(&db);
    let out = cli.path("report.json");
    let report = |extra: &[&str]| {
        let mut args = vec!["audit", "report", "--format", "json", "--out", out.as_str()];
        args.extend_from_slice(extra);
        cli.fails(&args)
    };

    let future = (Utc::now().date_naive() + chrono::Duration::days(2)).to_string();
    let message = report(&["--as-of", &future]);
    assert!(message.contains(&future), "{message}");
    assert!(message.contains("in the future"), "{message}");
    let message = report(&["--as-of", "2025-01-01"]);
    assert!(message.contains("before the first event"), "{message}");
    assert!(message.contains("2025-07-02"), "{message}");
    let beyond = (head + 1).to_string();
    let message = report(&["--position", &beyond]);
    assert!(message.contains(&beyond), "{message}");
    assert!(message.contains("beyond the head"), "{message}");
    for position in ["--position=0", "--position=-1"] {
        let message = report(&[position]);
        assert!(message.contains("positions start at 1"), "{message}");
    }
    let message = report(&["--quarter", "2025-Q5"]);
    assert!(message.contains("2025-Q5"), "{message}");
    let message = report(&["--quarter", "2099-Q1"]);
    assert!(message.contains("has not started yet"), "{message}");
    let message = report(&["--quarter", "2025-Q3", "--as-of", "2025-10-01"]);
    assert!(message.contains("outside quarter 2025-Q3"), "{message}");
    let message = cli.fails(&["audit", "report", "--format", "pdf", "--out", &out]);
    assert!(message.contains("--quarter"), "{message}");
    assert!(!std::path::Path::new(&out).exists(), "no report written");

    let set = |extra: &[&str]| {
        let mut args = vec!["audit", "target", "set"];
        args.extend_from_slice(extra);
        cli.fails(&args)
    };
    for (code, hint) in [
        ("99", "unknown département '99'"),
        ("999999999", "unknown EPCI '999999999'"),
        ("28999", "28999 is not the INSEE code of a current commune"),
    ] {
        let message = set(&["--territory", code]);
        assert!(message.contains(hint), "{code}: {message}");
    }
    let message = set(&["--territory", "98411"]);
    assert!(message.contains("no population data"), "{message}");
    assert!(message.contains("--share"), "{message}");
    let message = set(&["--territory", "28", "--share", "0"]);
    assert!(message.contains("invalid share 0"), "{message}");
    let message = set(&["--territory", "28", "--share", "2000001"]);
    assert!(message.contains("invalid share 2000001"), "{message}");
    assert!(message.contains("national target (2000000)"), "{message}");
    let shown = cli.fails(&["audit", "target", "show"]);
    assert!(shown.contains("no audit target is set"), "{shown}");
    db.cleanup().await;
}

backend_tests!(
    verify_finds_each_tampering,
    quarterly_pdf_is_reproducible,
    bad_audit_inputs_rejected,
);
