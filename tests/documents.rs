//! End-to-end tests of `filiere certificate` and `filiere report reuse`:
//! erasure certificates and reuse reports of a donation batch, read back
//! with `pdftotext` (poppler-utils), on SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};

use filiere_domain::DeviceCode;
use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

mod support;

use support::{pdf_text, word_after, Cli};

const WORKBENCH_SNAPSHOT: &str =
    "crates/evidence/tests/fixtures/workbench/wb-legacy2018_hp-dc7900_erasure_snapshot.json";

/// Serial of the only disk in the Workbench snapshot.
const SNAPSHOT_DISK: &str = "6RX7AWEZ";

const BATCH: &str = "category,brand,model,serial\n\
desktop,HP,Compaq dc7900,CZC901381R\n\
laptop,Dell,Latitude E5530,D8FTRY1\n\
laptop,Lenovo,ThinkPad T440,PB0XYZ12\n\
smartphone,Samsung,Galaxy A52,R58R30ABCDE\n";

impl Cli {
    /// Imports `BATCH` and returns the donation id and the device codes.
    fn donate(&self) -> (String, Vec<String>) {
        let file = self.dir.join("batch.csv");
        std::fs::write(&file, BATCH).unwrap();
        let output = self.ok(&[
            "import",
            "donations",
            file.to_str().unwrap(),
            "--donor",
            "Mairie de Lucé",
            "--donor-kind",
            "public_body",
            "--site",
            "Chartres",
            "--json",
        ]);
        let value: Value = serde_json::from_str(&output).unwrap();
        let codes = value["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect();
        (value["donation_id"].as_str().unwrap().to_string(), codes)
    }

    fn record(&self, code: &str, step: &str, fields: &[&str]) -> String {
        let mut args = vec!["device", "record", code, step];
        args.extend_from_slice(fields);
        self.ok(&args)
    }
}

/// The donation batch of the tests, taken through its steps: the desktop
/// erased from the Workbench snapshot, the Dell erased by hand and handed
/// over, the Lenovo diagnosed but never erased, the phone recycled.
struct Scenario {
    donation: String,
    codes: Vec<String>,
    snapshot_sha256: String,
    household: String,
    head_position: String,
}

fn run_scenario(cli: &Cli) -> Scenario {
    let (donation, codes) = cli.donate();
    let snapshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(WORKBENCH_SNAPSHOT);
    let imported = cli.ok(&[
        "evidence",
        "import",
        "--device",
        &codes[0],
        "--test",
        "passed",
        snapshot.to_str().unwrap(),
    ]);
    let snapshot_sha256 = word_after(&imported, "SHA-256 ");

    cli.record(
        &codes[1],
        "diagnose",
        &["--test", "passed", "--storage", "S1DELL:ssd:256"],
    );
    let erase = [
        "--unit",
        "S1DELL",
        "--method",
        "purge",
        "--technique",
        "block_erase",
        "--tool",
        "hdparm",
        "--tool-version",
        "9.65",
        "--verified",
        "--operator",
        "Ana",
    ];
    cli.record(&codes[1], "erase", &erase);
    cli.record(&codes[1], "stock", &["--site", "Chartres"]);
    let handover = cli.record(&codes[1], "handover", &["--mode", "donation"]);
    let household = word_after(&handover, "household id: ");

    cli.record(
        &codes[2],
        "diagnose",
        &["--test", "passed", "--storage", "SX9LENOVO:hdd"],
    );
    cli.record(
        &codes[3],
        "diagnose",
        &["--test", "failed", "--verdict", "recycle"],
    );
    let recycled = cli.record(
        &codes[3],
        "recycle",
        &["--weight", "180", "--eco-organism", "Ecologic"],
    );
    let head_position: String = word_after(&recycled, "(position ")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    Scenario {
        donation,
        codes,
        snapshot_sha256,
        household,
        head_position,
    }
}

fn assert_no_new_claim(text: &str) {
    let lower = text.to_lowercase();
    for phrase in ["état neuf", "comme neuf", "à neuf"] {
        assert!(!lower.contains(phrase), "{phrase:?} in {text}");
    }
}

async fn device_certificate_cites_evidence(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de test");
    let scenario = run_scenario(&cli);
    let out = cli.path("device.pdf");
    cli.ok(&["certificate", "--device", &scenario.codes[0], "--out", &out]);

    let text = pdf_text(&out);
    assert!(
        text.contains("Certificat d'effacement des données"),
        "{text}"
    );
    assert!(text.contains("Atelier de test"), "{text}");
    assert!(
        text.contains("NIST SP 800-88 (Clear, Purge, Destroy)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("position {}", scenario.head_position)),
        "{text}"
    );
    assert!(text.contains("CZC901381R"), "{text}");
    assert!(text.contains(SNAPSHOT_DISK), "{text}");
    assert!(text.contains("HDD"), "{text}");
    assert!(text.contains("Clear"), "{text}");
    assert!(text.contains("Workbench"), "{text}");
    assert!(text.contains(&scenario.snapshot_sha256), "{text}");
    assert!(text.contains("empreinte vérifiée"), "{text}");
    assert!(text.contains("Effacement complet"), "{text}");
    assert!(text.contains("Mairie de Lucé"), "{text}");
    assert!(text.contains("Page 1 / 1"), "{text}");
    assert!(!text.contains("D8FTRY1"), "another device's serial: {text}");

    db.cleanup().await;
}

async fn batch_certificate_lists_every_device(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de test");
    let scenario = run_scenario(&cli);
    let out = cli.path("batch.pdf");
    cli.ok(&[
        "certificate",
        "--donation",
        &scenario.donation,
        "--out",
        &out,
    ]);

    let text = pdf_text(&out);
    for serial in ["CZC901381R", "D8FTRY1", "PB0XYZ12", "R58R30ABCDE"] {
        assert!(text.contains(serial), "{serial} missing: {text}");
    }
    for code in &scenario.codes {
        assert!(
            text.contains(&format!("Appareil {code}")),
            "{code} missing: {text}"
        );
    }
    assert!(text.contains(&scenario.snapshot_sha256), "{text}");
    assert!(text.contains("S1DELL"), "{text}");
    assert!(text.contains("Purge"), "{text}");
    assert!(text.contains("hdparm 9.65"), "{text}");
    assert!(text.contains("saisie manuelle"), "{text}");
    assert!(text.contains("Remis à un foyer"), "{text}");
    assert!(text.contains("Recyclé"), "{text}");
    assert!(
        text.contains("Effacement incomplet : support SX9LENOVO non effacé"),
        "{text}"
    );
    assert!(text.contains(&scenario.donation), "{text}");
    assert!(
        !text.contains(&scenario.household),
        "household id in {text}"
    );
    assert_no_new_claim(&text);

    db.cleanup().await;
}

async fn reuse_csv_rows_and_outcomes(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de test");
    let scenario = run_scenario(&cli);
    let out = cli.path("reuse.csv");
    cli.ok(&[
        "report",
        "reuse",
        "--donation",
        &scenario.donation,
        "--out",
        &out,
    ]);
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "no UTF-8 byte order mark"
    );

    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(
        !text.contains(&scenario.household),
        "household id in {text}"
    );
    let rows: Vec<Vec<&str>> = text.lines().map(|line| line.split(';').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "Lot de don",
            "Code appareil",
            "Catégorie",
            "Marque",
            "Modèle",
            "Numéro de série",
            "Devenir",
            "Code devenir",
            "Date du devenir",
            "Mode de remise"
        ]
    );
    assert_eq!(rows.len(), 5, "{text}");

    let row_of = |code: &str| {
        rows.iter()
            .find(|row| row[1] == code)
            .unwrap_or_else(|| panic!("{code} not in {text}"))
    };
    let expected = [
        (0, "En reconditionnement", "in_refurbishment", ""),
        (1, "Remis à un foyer", "handed_over", "Don"),
        (2, "En reconditionnement", "in_refurbishment", ""),
        (3, "Recyclé", "recycled", ""),
    ];
    for (index, label, outcome, mode) in expected {
        let row = row_of(&scenario.codes[index]);
        assert_eq!(row[0], scenario.donation);
        assert_eq!(row[6], label, "{row:?}");
        assert_eq!(row[7], outcome, "{row:?}");
        assert_eq!(row[9], mode, "{row:?}");
        let date = chrono::NaiveDate::parse_from_str(row[8], "%Y-%m-%d");
        assert!(date.is_ok(), "date not ISO 8601: {row:?}");
    }
    assert_eq!(row_of(&scenario.codes[1])[5], "D8FTRY1");

    db.cleanup().await;
}

async fn reuse_pdf_states_rate_and_formula(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de test");
    let scenario = run_scenario(&cli);
    let out = cli.path("reuse.pdf");
    let written = cli.ok(&[
        "report",
        "reuse",
        "--donation",
        &scenario.donation,
        "--out",
        &out,
    ]);
    assert!(written.contains("1 handed over"), "{written}");

    let text = pdf_text(&out);
    assert!(text.contains("Rapport de réemploi"), "{text}");
    assert!(text.contains("Mairie de Lucé"), "{text}");
    assert!(text.contains("Taux de réemploi du lot : 25,0 %"), "{text}");
    assert!(text.contains("appareils remis à un foyer"), "{text}");
    assert!(text.contains("= 1 ÷ 4 × 100"), "{text}");
    assert!(text.contains("R58R30ABCDE"), "{text}");
    assert!(text.contains("décret n° 2023-266"), "{text}");
    assert!(
        !text.contains(&scenario.household),
        "household id in {text}"
    );
    assert_no_new_claim(&text);

    db.cleanup().await;
}

/// After a return, the certificate lists only the erasures since the
/// return, and the new diagnosis's unit is not erased yet.
async fn returned_device_needs_new_erasure(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de test");
    let (_, codes) = cli.donate();
    let laptop = codes[1].as_str();
    cli.record(
        laptop,
        "diagnose",
        &["--test", "passed", "--storage", "OLD1:ssd"],
    );
    cli.record(
        laptop,
        "erase",
        &["--unit", "OLD1", "--tool", "oldtool", "--operator", "Ana"],
    );
    cli.record(laptop, "stock", &["--site", "Chartres"]);
    let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(90)).to_string();
    cli.record(laptop, "handover", &["--mode", "loan", "--due", &due]);
    cli.record(laptop, "return", &["--notes", "fin de prêt"]);
    cli.record(
        laptop,
        "diagnose",
        &["--test", "passed", "--storage", "NEW2:nvme"],
    );

    let out = cli.path("returned.pdf");
    let written = cli.ok(&["certificate", "--device", laptop, "--out", &out]);
    assert!(written.contains("1 with incomplete erasure"), "{written}");

    let text = pdf_text(&out);
    assert!(
        !text.contains("oldtool"),
        "erasure before the return: {text}"
    );
    assert!(
        text.contains("Effacement incomplet : support NEW2 non effacé"),
        "{text}"
    );
    assert!(text.contains("Aucun effacement enregistré"), "{text}");

    db.cleanup().await;
}

async fn unknown_ids_named_in_errors(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de test");
    let (_, codes) = cli.donate();
    let unknown_code = (0..)
        .map(|n| DeviceCode::from_random([n, 1, 2, 3, 4, 5]).to_string())
        .find(|code| !codes.contains(code))
        .unwrap();
    let out = cli.path("none.pdf");
    let error = cli.fails(&["certificate", "--device", &unknown_code, "--out", &out]);
    assert!(
        error.contains(&format!("no device with code {unknown_code}")),
        "{error}"
    );

    let unknown_donation = uuid::Uuid::now_v7().to_string();
    let error = cli.fails(&[
        "certificate",
        "--donation",
        &unknown_donation,
        "--out",
        &out,
    ]);
    assert!(
        error.contains(&format!("no donation batch with id {unknown_donation}")),
        "{error}"
    );
    let error = cli.fails(&[
        "report",
        "reuse",
        "--donation",
        &unknown_donation,
        "--out",
        &out,
    ]);
    assert!(error.contains(&unknown_donation), "{error}");

    let error = cli.fails(&["report", "reuse", "--donation", "lot-42", "--out", &out]);
    assert!(error.contains("invalid donation id 'lot-42'"), "{error}");

    let text_file = cli.path("report.txt");
    let error = cli.fails(&[
        "report",
        "reuse",
        "--donation",
        &unknown_donation,
        "--out",
        &text_file,
    ]);
    assert!(error.contains("report.txt"), "{error}");
    assert!(error.contains(".pdf or .csv"), "{error}");
    assert!(!Path::new(&out).exists(), "a failed command wrote {out}");

    db.cleanup().await;
}

backend_tests!(
    device_certificate_cites_evidence,
    batch_certificate_lists_every_device,
    reuse_csv_rows_and_outcomes,
    reuse_pdf_states_rate_and_formula,
    returned_device_needs_new_erasure,
    unknown_ids_named_in_errors,
);
