//! End-to-end test of `filiere device record CODE transfer` with the real
//! binary: the target organisation is given by id or name and recorded as
//! its id; an unknown or ambiguous one is rejected and records nothing. Run
//! on SQLite and on PostgreSQL.

use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

mod support;

use support::Cli;

/// Imports one laptop and returns its code.
fn import_laptop(cli: &Cli) -> String {
    let file = cli.write(
        "batch.csv",
        "category,brand,model\nlaptop,Dell,Latitude 5490\n",
    );
    let output = cli.ok(&[
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
    value["devices"][0]["code"].as_str().unwrap().to_string()
}

/// Creates an organisation and returns its id.
fn add_organisation(cli: &Cli, name: &str) -> String {
    let line = cli.ok(&["org", "add", name, "--kind", "workshop"]);
    line.split('\t').next().unwrap().trim().to_string()
}

fn device(cli: &Cli, code: &str) -> Value {
    serde_json::from_str(&cli.ok(&["device", "show", code, "--json"])).unwrap()
}

async fn transfer_target_resolved(db: TestDatabase) {
    let cli = Cli::new(&db);
    let code = import_laptop(&cli);
    let demo = add_organisation(&cli, "Atelier démo");
    let other = add_organisation(&cli, "Atelier voisin");
    assert_eq!(device(&cli, &code)["holder"], "local");

    cli.ok(&[
        "device",
        "record",
        &code,
        "transfer",
        "--organisation",
        "Atelier démo",
    ]);
    assert_eq!(device(&cli, &code)["holder"], demo.as_str());

    cli.ok(&[
        "device",
        "record",
        &code,
        "transfer",
        "--organisation",
        &other,
    ]);
    assert_eq!(device(&cli, &code)["holder"], other.as_str());

    std::fs::remove_dir_all(&cli.dir).ok();
    db.cleanup().await;
}

async fn transfer_target_rejected(db: TestDatabase) {
    let cli = Cli::new(&db);
    let code = import_laptop(&cli);
    add_organisation(&cli, "Atelier A");
    add_organisation(&cli, "atelier a");
    let events_before = device(&cli, &code)["timeline"].as_array().unwrap().len();

    let unknown = cli.fails(&[
        "device",
        "record",
        &code,
        "transfer",
        "--organisation",
        "Atelier inexistant",
    ]);
    assert!(unknown.contains("'Atelier inexistant'"), "{unknown}");
    assert!(unknown.contains("filiere org list"), "{unknown}");

    let ambiguous = cli.fails(&[
        "device",
        "record",
        &code,
        "transfer",
        "--organisation",
        "ATELIER A",
    ]);
    assert!(ambiguous.contains("'ATELIER A'"), "{ambiguous}");
    assert!(ambiguous.contains("ambiguous"), "{ambiguous}");

    let after = device(&cli, &code);
    assert_eq!(after["holder"], "local");
    assert_eq!(after["timeline"].as_array().unwrap().len(), events_before);

    std::fs::remove_dir_all(&cli.dir).ok();
    db.cleanup().await;
}

backend_tests!(transfer_target_resolved, transfer_target_rejected);
