//! End-to-end tests of the `filiere` binary: import a donation batch, take
//! devices through every step from the command line, rebuild and verify, on
//! SQLite and on PostgreSQL.

use std::path::Path;
use std::process::Command;

use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

mod support;

use support::Cli;

impl Cli {
    fn stock(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["stock", "--json"])).unwrap()
    }

    fn status_of(&self, code: &str) -> String {
        let stock = self.stock();
        let row = stock
            .iter()
            .find(|row| row["code"] == code)
            .unwrap_or_else(|| panic!("{code} is in the stock view"));
        row["status"].as_str().unwrap().to_string()
    }
}

const BATCH: &str = "category,brand,model,serial,asset_tag\n\
laptop,Dell,Latitude E5530,D8FTRY1,ASSO-1\n\
laptop,HP,ProBook 430 G4,5CD7314HDY,ASSO-2\n\
desktop,HP,Compaq 8100 Elite SFF,CZC0408YPV,ASSO-3\n\
smartphone,Samsung,Galaxy A52,R58R30ABCDE,ASSO-4\n\
desktop,ASUS,All Series,System Serial Number,ASSO-5\n";

fn import(cli: &Cli, file: &Path) -> Vec<String> {
    let output = cli.ok(&[
        "import",
        "donations",
        file.to_str().unwrap(),
        "--donor",
        "Mairie de Lucé",
        "--donor-kind",
        "public_body",
        "--free-transfer",
        "--site",
        "Chartres",
        "--json",
    ]);
    let result: Value = serde_json::from_str(&output).unwrap();
    result["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

async fn every_step_then_rebuild(db: TestDatabase) {
    let cli = Cli::new(&db);
    let file = cli.write("batch.csv", BATCH);
    let codes = import(&cli, &file);
    assert_eq!(codes.len(), 5);
    let laptop = codes[0].as_str();
    assert_eq!(cli.status_of(laptop), "received");

    let record = |code: &str, step: &str, fields: &[&str]| {
        let mut args = vec!["device", "record", code, step];
        args.extend_from_slice(fields);
        cli.ok(&args)
    };
    record(
        laptop,
        "diagnose",
        &[
            "--test",
            "passed",
            "--storage",
            "S1:ssd:256",
            "--storage",
            "S2:hdd",
        ],
    );
    assert_eq!(cli.status_of(laptop), "in_workshop");
    let early = cli.fails(&["device", "record", laptop, "handover", "--mode", "donation"]);
    assert!(early.contains(laptop), "{early}");
    assert!(early.contains("is in_workshop"), "{early}");
    record(
        laptop,
        "erase",
        &[
            "--unit",
            "S1",
            "--method",
            "purge",
            "--technique",
            "block_erase",
            "--tool",
            "hdparm",
            "--verified",
            "--operator",
            "Ana",
        ],
    );
    record(
        laptop,
        "erase",
        &[
            "--unit",
            "S2",
            "--tool",
            "nwipe",
            "--tool-version",
            "0.37",
            "--result",
            "failed",
            "--operator",
            "Ana",
        ],
    );
    record(
        laptop,
        "erase",
        &[
            "--unit",
            "S2",
            "--method",
            "destroy",
            "--technique",
            "shredding",
            "--tool",
            "broyeur",
            "--operator",
            "Ana",
        ],
    );
    record(
        laptop,
        "repair",
        &["--part", "clavier", "--minutes", "45", "--cost", "12.50"],
    );
    record(
        laptop,
        "install",
        &["--os", "Linux Mint", "--os-version", "22"],
    );
    record(
        laptop,
        "grade",
        &[
            "--grade",
            "b",
            "--autonomy",
            "beginner",
            "--notes",
            "rayure sur le capot",
        ],
    );
    record(
        laptop,
        "stock",
        &["--site", "Chartres", "--location", "Étagère 3"],
    );
    record(laptop, "move", &["--site", "Dreux", "--location", "B1"]);
    record(laptop, "reserve", &[]);
    assert_eq!(cli.status_of(laptop), "reserved");
    record(laptop, "release", &["--reason", "foyer injoignable"]);
    record(laptop, "reserve", &[]);
    let capped = cli.fails(&[
        "device", "record", laptop, "handover", "--mode", "sale", "--price", "180.01",
    ]);
    assert!(capped.contains("180.00"), "{capped}");
    let too_late = cli.fails(&[
        "device",
        "record",
        laptop,
        "handover",
        "--mode",
        "loan",
        "--due",
        "2099-01-01",
    ]);
    assert!(too_late.contains("731 days"), "{too_late}");
    let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(90)).to_string();
    record(laptop, "handover", &["--mode", "loan", "--due", &due]);
    record(laptop, "return", &["--notes", "fin de prêt"]);
    assert_eq!(cli.status_of(laptop), "returned");
    let not_again = cli.fails(&["device", "record", laptop, "reserve"]);
    assert!(not_again.contains("returned"), "{not_again}");
    record(
        laptop,
        "diagnose",
        &["--test", "passed", "--storage", "S3:ssd"],
    );
    record(
        laptop,
        "erase",
        &["--unit", "S3", "--tool", "nwipe", "--operator", "Ana"],
    );
    record(laptop, "stock", &["--site", "Chartres"]);
    record(laptop, "handover", &["--mode", "sale", "--price", "180"]);
    assert_eq!(cli.status_of(laptop), "handed_over");
    let sold_returned = cli.fails(&["device", "record", laptop, "return"]);
    assert!(
        sold_returned.contains("only a loan is returned"),
        "{sold_returned}"
    );
    let sold_converted = cli.fails(&["device", "record", laptop, "convert"]);
    assert!(sold_converted.contains("'convert'"), "{sold_converted}");

    record(
        &codes[1],
        "diagnose",
        &["--test", "failed", "--verdict", "recycle"],
    );
    record(
        &codes[1],
        "recycle",
        &["--weight", "2100", "--eco-organism", "Ecologic"],
    );
    record(
        &codes[2],
        "diagnose",
        &["--test", "failed", "--verdict", "harvest_parts"],
    );
    record(&codes[2], "dismantle", &["--part", "alimentation"]);
    record(&codes[3], "write-off", &["--reason", "stolen"]);
    let after_recycling = cli.fails(&["device", "record", &codes[1], "move", "--site", "Dreux"]);
    assert!(after_recycling.contains("recycled"), "{after_recycling}");

    let before = cli.stock();
    let statuses: Vec<&str> = codes
        .iter()
        .map(|code| {
            before
                .iter()
                .find(|row| row["code"] == code.as_str())
                .unwrap()["status"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "handed_over",
            "recycled",
            "dismantled",
            "written_off",
            "received"
        ]
    );

    let rebuilt = cli.ok(&["rebuild"]);
    assert!(rebuilt.contains("Rebuilt"), "{rebuilt}");
    assert_eq!(cli.stock(), before);
    let verified = cli.ok(&["verify"]);
    assert!(verified.contains("intact"), "{verified}");

    let shown: Value =
        serde_json::from_str(&cli.ok(&["device", "show", laptop, "--json"])).unwrap();
    assert!(shown["timeline"].as_array().unwrap().len() >= 20);
    db.cleanup().await;
}

async fn bad_file_records_nothing(db: TestDatabase) {
    let cli = Cli::new(&db);
    cli.create_database().await;
    let bad = cli.write(
        "bad.csv",
        "category,brand,model,serial\nlaptop,Dell,E5530,6.37702E+15\nfridge,Brandt,X,ABC1\nlaptop,HP,430,SAME1\nlaptop,HP,430,SAME1\n",
    );
    let error = cli.fails(&[
        "import",
        "donations",
        bad.to_str().unwrap(),
        "--donor",
        "X",
        "--site",
        "Chartres",
    ]);
    assert!(error.contains("line 2"), "{error}");
    assert!(error.contains("6.37702E+15"), "{error}");
    assert!(error.contains("line 3"), "{error}");
    assert!(error.contains("fridge"), "{error}");
    assert!(error.contains("line 5"), "{error}");
    assert!(error.contains("nothing was recorded"), "{error}");
    assert!(cli.stock().is_empty());

    let good = cli.write("good.csv", BATCH);
    import(&cli, &good);
    let again = cli.fails(&[
        "import",
        "donations",
        good.to_str().unwrap(),
        "--donor",
        "X",
        "--site",
        "Chartres",
    ]);
    assert!(again.contains("D8FTRY1"), "{again}");
    assert!(again.contains("already recorded"), "{again}");
    assert_eq!(cli.stock().len(), 5);
    db.cleanup().await;
}

async fn repeated_command_id_records_once(db: TestDatabase) {
    let cli = Cli::new(&db);
    let file = cli.write("batch.csv", BATCH);
    let codes = import(&cli, &file);
    let command_id = uuid::Uuid::now_v7().to_string();
    let args = [
        "device",
        "record",
        &codes[0],
        "diagnose",
        "--command-id",
        &command_id,
        "--test",
        "passed",
    ];
    cli.ok(&args);
    let second = cli.ok(&args);
    assert!(second.contains("already recorded"), "{second}");
    let shown: Value =
        serde_json::from_str(&cli.ok(&["device", "show", &codes[0], "--json"])).unwrap();
    let diagnoses = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "diagnosed")
        .count();
    assert_eq!(diagnoses, 1);
    db.cleanup().await;
}

async fn bad_inputs_name_the_value(db: TestDatabase) {
    let cli = Cli::new(&db);
    let file = cli.write("batch.csv", BATCH);
    let codes = import(&cli, &file);
    let mut wrong_check: Vec<char> = codes[0].chars().collect();
    wrong_check[6] = if wrong_check[6] == 'B' { 'C' } else { 'B' };
    let wrong_check: String = wrong_check.into_iter().collect();
    let error = cli.fails(&[
        "device",
        "record",
        &wrong_check,
        "diagnose",
        "--test",
        "passed",
    ]);
    assert!(error.contains("check character"), "{error}");
    let error = cli.fails(&["device", "record", &codes[0], "polish"]);
    assert!(error.contains("'polish'"), "{error}");
    let error = cli.fails(&["device", "record", &codes[0], "diagnose", "--test", "maybe"]);
    assert!(error.contains("'maybe'"), "{error}");
    let error = cli.fails(&["stock", "--status", "lost"]);
    assert!(error.contains("'lost'"), "{error}");
    let error = cli.fails(&["--database-url", "mysql://x", "stock"]);
    assert!(error.contains("mysql://x"), "{error}");
    db.cleanup().await;
}

/// Killing the process in the middle of a large import leaves either the
/// whole batch or nothing.
async fn killed_import_leaves_no_partial_batch(db: TestDatabase) {
    let cli = Cli::new(&db);
    cli.create_database().await;
    let mut csv = String::from("category,brand,model,serial\n");
    for i in 0..20_000 {
        csv.push_str(&format!("laptop,Dell,Latitude,KILL{i:06}\n"));
    }
    let file = cli.write("large.csv", &csv);
    cli.ok(&["stock"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_filiere"))
        .args([
            "import",
            "donations",
            file.to_str().unwrap(),
            "--donor",
            "X",
            "--site",
            "Chartres",
        ])
        .env("DATABASE_URL", &cli.url)
        .current_dir(&cli.dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.kill().ok();
    child.wait().unwrap();
    let count = cli.stock().len();
    assert!(
        count == 0 || count == 20_000,
        "partial batch of {count} devices"
    );
    let verified = cli.ok(&["verify"]);
    assert!(verified.contains("intact"), "{verified}");
    db.cleanup().await;
}

backend_tests!(
    every_step_then_rebuild,
    bad_file_records_nothing,
    repeated_command_id_records_once,
    bad_inputs_name_the_value,
    killed_import_leaves_no_partial_batch,
);

/// A reading command on a SQLite file that does not exist fails, names the
/// file, and leaves no empty database behind. An import dry run reports as
/// JSON without creating the file either.
#[test]
fn missing_database_file_not_created() {
    let dir = std::env::temp_dir().join(format!("filiere-cli-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("absent.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_filiere"))
            .args(args)
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("RUST_LOG", "warn")
            .current_dir(&dir)
            .output()
            .unwrap()
    };

    let code = filiere_domain::DeviceCode::from_random([7, 20, 3, 11, 2, 9]).to_string();
    for args in [&["stock"][..], &["verify"], &["device", "show", &code]] {
        let output = run(args);
        assert!(!output.status.success(), "filiere {args:?} should fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("absent.db"), "{args:?}: {stderr}");
        assert!(stderr.contains("does not exist"), "{args:?}: {stderr}");
        assert!(!database.exists(), "filiere {args:?} created the file");
    }

    let batch = dir.join("batch.csv");
    std::fs::write(&batch, BATCH).unwrap();
    let output = run(&[
        "import",
        "donations",
        batch.to_str().unwrap(),
        "--donor",
        "Mairie de Lucé",
        "--site",
        "Chartres",
        "--dry-run",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["devices"], 5);
    assert_eq!(report["recorded"], false);
    assert!(!database.exists(), "the dry run created the file");

    // A dry run rejects the batch options that the import would reject.
    let file = batch.to_str().unwrap();
    for (donor, received_on, expected) in [
        (
            "Mairie de Lucé",
            "2031-01-01",
            "invalid received on '2031-01-01'",
        ),
        (" ", "2025-01-01", "invalid donor"),
    ] {
        let output = run(&[
            "import",
            "donations",
            file,
            "--donor",
            donor,
            "--received-on",
            received_on,
            "--site",
            "Chartres",
            "--dry-run",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "dry run accepted: {stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Closing the reader of `filiere stock`'s output ends the command without a
/// panic message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_pipe_ends_quietly() {
    let db = TestDatabase::sqlite();
    let cli = Cli::new(&db);
    let file = cli.write("batch.csv", BATCH);
    import(&cli, &file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_filiere"))
        .args(["stock"])
        .env("DATABASE_URL", &cli.url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Dropping the read end before the command prints closes the pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    db.cleanup().await;
}
