//! End-to-end tests of `filiere prescription sheet`: the handover sheet of
//! a loan and of a donation written by the real binary and read back with
//! `pdftotext` (poppler-utils), the blank name after the household's
//! erasure, and the errors before the handover. Run on SQLite and on
//! PostgreSQL.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

mod support;

use support::{pdf_text, word_after, Cli};

const WORKBENCH_SNAPSHOT: &str =
    "crates/evidence/tests/fixtures/workbench/wb-legacy2018_hp-dc7900_erasure_snapshot.json";
/// Serial of the only disk in the Workbench snapshot.
const SNAPSHOT_DISK: &str = "6RX7AWEZ";
const SERIAL: &str = "CZC901381R";
const FIRST_NAME: &str = "Gaëlle";
const LAST_NAME: &str = "Poirier-Lemaître";
const REFERRER: &str = "ccas-luce";
const TRAINER: &str = "Médiathèque de Lucé";

impl Cli {
    /// Imports one desktop, erases it from the Workbench snapshot, grades
    /// and stocks it, and returns its code and the snapshot's SHA-256.
    fn ready_desktop(&self, serial: &str) -> (String, String) {
        let file = self.dir.join(format!("batch-{serial}.csv"));
        std::fs::write(
            &file,
            format!("category,brand,model,serial\ndesktop,HP,Compaq dc7900,{serial}\n"),
        )
        .unwrap();
        let output = self.ok(&[
            "import",
            "donations",
            file.to_str().unwrap(),
            "--donor",
            "Mairie de Lucé",
            "--site",
            "Lucé",
            "--json",
        ]);
        let value: Value = serde_json::from_str(&output).unwrap();
        let code = value["devices"][0]["code"].as_str().unwrap().to_string();
        let snapshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(WORKBENCH_SNAPSHOT);
        let imported = self.ok(&[
            "evidence",
            "import",
            "--device",
            &code,
            "--test",
            "passed",
            snapshot.to_str().unwrap(),
        ]);
        let sha256 = word_after(&imported, "SHA-256 ");
        self.ok(&[
            "device",
            "record",
            &code,
            "grade",
            "--grade",
            "b",
            "--autonomy",
            "beginner",
        ]);
        self.ok(&["device", "record", &code, "stock", "--site", "Lucé"]);
        (code, sha256)
    }

    /// Records a household and issues a prescription for a desktop, with
    /// training at the venue [`TRAINER`] when `training_on` is given, then
    /// accepts it for the command line's organisation. Returns the
    /// household and prescription ids.
    fn accepted_prescription(&self, training_on: Option<&str>) -> (String, String) {
        let household = self
            .ok(&[
                "household",
                "add",
                "--first-name",
                FIRST_NAME,
                "--last-name",
                LAST_NAME,
            ])
            .trim()
            .to_string();
        let mut issue = vec![
            "prescription",
            "issue",
            "--organisation",
            REFERRER,
            "--household",
            &household,
            "--scheme",
            "Minima sociaux",
            "--benefit",
            "RSA",
            "--category",
            "desktop",
            "--purpose",
            "job_search",
            "--autonomy",
            "beginner",
            "--commune",
            "28218",
            "--household-size",
            "2",
            "--age",
            "60+",
        ];
        if let Some(day) = training_on {
            issue.extend(["--training-venue", TRAINER, "--training-on", day]);
        }
        let prescription = self.ok(&issue).trim().to_string();
        self.ok(&["prescription", "accept", &prescription]);
        (household, prescription)
    }
}

fn french(date: chrono::NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

async fn loan_sheet_from_cli(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de Lucé");
    cli.ok(&[
        "scheme",
        "add",
        "--name",
        "Minima sociaux",
        "--benefit",
        "RSA",
    ]);
    let training_on = Utc::now().date_naive() + Duration::days(7);
    let (_, prescription) = cli.accepted_prescription(Some(&training_on.to_string()));
    let (code, sha256) = cli.ready_desktop(SERIAL);
    cli.ok(&["prescription", "reserve", &prescription, &code]);

    let early = cli.path("early.pdf");
    let error = cli.fails(&["prescription", "sheet", &prescription, "--out", &early]);
    assert!(error.contains(&prescription), "{error}");
    assert!(error.contains("reserved"), "{error}");
    assert!(error.contains("record the handover first"), "{error}");
    assert!(!Path::new(&early).exists(), "no file before the handover");

    let due_on = Utc::now().date_naive() + Duration::days(180);
    let due = due_on.to_string();
    cli.ok(&[
        "prescription",
        "handover",
        &prescription,
        "--mode",
        "loan",
        "--due",
        &due,
    ]);
    let out = cli.path("fiche.pdf");
    let written = cli.ok(&["prescription", "sheet", &prescription, "--out", &out]);
    assert!(written.contains(&out), "{written}");

    let text = pdf_text(&out);
    let expected = [
        "Fiche de remise — Convention de prêt".to_string(),
        "Atelier de Lucé".to_string(),
        format!("Code Filière {code}"),
        format!("N° de série {SERIAL}"),
        "Grade B : bon état".to_string(),
        "Effacement complet".to_string(),
        format!("Support {SNAPSHOT_DISK}"),
        format!("SHA-256 {sha256} (empreinte vérifiée)"),
        format!("Retour prévu le {}", french(due_on)),
        format!("{TRAINER} — première séance le {}", french(training_on)),
        format!("Prescription {prescription} émise par {REFERRER}"),
        format!("Nom du bénéficiaire : {FIRST_NAME} {LAST_NAME}"),
        "Signature du bénéficiaire".to_string(),
        "Signature et cachet de l'atelier".to_string(),
    ];
    for phrase in &expected {
        assert!(
            text.contains(phrase.as_str()),
            "{phrase:?} missing from:\n{text}"
        );
    }

    let not_pdf = cli.path("fiche.txt");
    let error = cli.fails(&["prescription", "sheet", &prescription, "--out", &not_pdf]);
    assert!(error.contains("fiche.txt"), "{error}");
    assert!(error.contains(".pdf"), "{error}");
    db.cleanup().await;
}

async fn donation_sheet_after_erasure(db: TestDatabase) {
    let cli = Cli::new(&db).with_env("FILIERE_WORKSHOP_NAME", "Atelier de Lucé");
    cli.ok(&[
        "scheme",
        "add",
        "--name",
        "Minima sociaux",
        "--benefit",
        "RSA",
    ]);
    let (household, prescription) = cli.accepted_prescription(None);
    let (code, _) = cli.ready_desktop(SERIAL);
    cli.ok(&["prescription", "reserve", &prescription, &code]);
    cli.ok(&[
        "prescription",
        "handover",
        &prescription,
        "--mode",
        "donation",
    ]);

    let out = cli.path("don.pdf");
    cli.ok(&["prescription", "sheet", &prescription, "--out", &out]);
    let text = pdf_text(&out);
    assert!(text.contains("Attestation de don"), "{text}");
    assert!(text.contains("Aucune formation prescrite."), "{text}");
    assert!(text.contains(SERIAL), "{text}");
    assert!(text.contains(LAST_NAME), "{text}");

    cli.ok(&["household", "erase", &household]);
    let erased_out = cli.path("don-efface.pdf");
    cli.ok(&["prescription", "sheet", &prescription, "--out", &erased_out]);
    let erased = pdf_text(&erased_out);
    assert!(erased.contains("Attestation de don"), "{erased}");
    assert!(erased.contains("Nom du bénéficiaire : ____"), "{erased}");
    assert!(!erased.contains(LAST_NAME), "{erased}");
    assert!(!erased.contains(FIRST_NAME), "{erased}");
    assert!(erased.contains(&code), "{erased}");
    db.cleanup().await;
}

backend_tests!(loan_sheet_from_cli, donation_sheet_after_erasure);
