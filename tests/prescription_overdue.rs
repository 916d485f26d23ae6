//! End-to-end test of `filiere prescription overdue` with the real binary: a
//! loan handed over from the command line is overdue from the day after its
//! due date, in text and JSON, filtered by organisation. Run on SQLite and
//! on PostgreSQL.

use chrono::{Duration, Utc};
use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

mod support;

use support::Cli;

impl Cli {
    /// Imports a laptop and takes it through the bench to stock.
    fn ready_laptop(&self) -> String {
        let file = self.dir.join("batch.csv");
        std::fs::write(&file, "category,brand,model\nlaptop,Dell,Latitude 5490\n").unwrap();
        let output = self.ok(&[
            "import",
            "donations",
            file.to_str().unwrap(),
            "--donor",
            "Entreprise test",
            "--site",
            "Chartres",
            "--json",
        ]);
        let value: Value = serde_json::from_str(&output).unwrap();
        let code = value["devices"][0]["code"].as_str().unwrap().to_string();
        let record = |step: &[&str]| {
            let mut args = vec!["device", "record", code.as_str()];
            args.extend_from_slice(step);
            self.ok(&args);
        };
        record(&[
            "diagnose",
            "--test",
            "passed",
            "--storage",
            "DISK-1:ssd:256",
        ]);
        record(&[
            "erase",
            "--unit",
            "DISK-1",
            "--tool",
            "nwipe",
            "--operator",
            "Ana",
        ]);
        record(&["grade", "--grade", "a"]);
        record(&["stock", "--site", "Chartres"]);
        code
    }
}

fn day(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

async fn overdue_from_the_command_line(db: TestDatabase) {
    let cli = Cli::new(&db);
    let code = cli.ready_laptop();
    cli.ok(&["scheme", "add", "--name", "Étudiants", "--student"]);
    let household = cli
        .ok(&[
            "household",
            "add",
            "--first-name",
            "Lina",
            "--last-name",
            "Morel",
        ])
        .trim()
        .to_string();
    let id = cli
        .ok(&[
            "prescription",
            "issue",
            "--household",
            &household,
            "--scheme",
            "Étudiants",
            "--student",
            "--category",
            "laptop",
            "--purpose",
            "schooling",
            "--autonomy",
            "beginner",
            "--commune",
            "28085",
            "--household-size",
            "2",
            "--age",
            "18-25",
        ])
        .trim()
        .to_string();
    cli.ok(&["prescription", "accept", &id]);
    cli.ok(&["prescription", "reserve", &id, &code]);
    let due = day(1);
    cli.ok(&[
        "prescription",
        "handover",
        &id,
        "--mode",
        "loan",
        "--due",
        &due,
    ]);

    let on_due_day = cli.ok(&["prescription", "overdue", "--as-of", &due]);
    assert!(on_due_day.contains("No loan is overdue"), "{on_due_day}");
    let later = day(3);
    let text = cli.ok(&["prescription", "overdue", "--as-of", &later]);
    assert!(text.contains(&code), "{text}");
    assert!(text.contains(&id), "{text}");
    assert!(text.contains("1 overdue loan(s)"), "{text}");
    assert!(!text.contains("Morel"), "no identity printed");
    let json = cli.ok(&["prescription", "overdue", "--as-of", &later, "--json"]);
    let rows: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["prescription_id"], id.as_str());
    assert_eq!(rows[0]["due_on"], due.as_str());
    assert_eq!(rows[0]["days_overdue"], 2);
    assert_eq!(rows[0]["device_code"], code.as_str());
    cli.ok(&["org", "add", "Atelier voisin", "--kind", "workshop"]);
    let other = cli.ok(&[
        "prescription",
        "overdue",
        "--as-of",
        &later,
        "--organisation",
        "Atelier voisin",
        "--json",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&other).unwrap(),
        Value::Array(vec![])
    );

    let unknown = cli.fails(&[
        "prescription",
        "overdue",
        "--as-of",
        &later,
        "--organisation",
        "nope",
    ]);
    assert!(unknown.contains("'nope'"), "{unknown}");
    assert!(unknown.contains("filiere org list"), "{unknown}");

    let error = cli.fails(&["prescription", "overdue", "--as-of", "2027-13-01"]);
    assert!(error.contains("2027-13-01"), "{error}");
    std::fs::remove_dir_all(&cli.dir).ok();
    db.cleanup().await;
}

backend_tests!(overdue_from_the_command_line);
