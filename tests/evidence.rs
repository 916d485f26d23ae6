//! End-to-end tests of `filiere evidence import` on real tool reports, on
//! SQLite and on PostgreSQL.

use std::path::PathBuf;

use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

mod support;

use support::Cli;

fn fixture(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/evidence/tests/fixtures")
        .join(path)
        .display()
        .to_string()
}

impl Cli {
    /// Imports one batch with the given serials and returns the codes.
    fn donate(&self, rows: &[(&str, &str, &str)]) -> Vec<String> {
        let mut csv = String::from("category,brand,model,serial\n");
        for (category, model, serial) in rows {
            csv.push_str(&format!("{category},Marque,{model},{serial}\n"));
        }
        let file = self.dir.join("batch.csv");
        std::fs::write(&file, csv).unwrap();
        let output = self.ok(&[
            "import",
            "donations",
            file.to_str().unwrap(),
            "--donor",
            "Mairie",
            "--site",
            "Chartres",
            "--json",
        ]);
        let value: Value = serde_json::from_str(&output).unwrap();
        value["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect()
    }

    fn show(&self, code: &str) -> Value {
        serde_json::from_str(&self.ok(&["device", "show", code, "--json"])).unwrap()
    }
}

/// A 2018 Workbench snapshot holds the inventory and a passed erasure of the
/// machine's only disk: after it, the device lacks nothing but a shelf.
async fn workbench_snapshot_erases_device(db: TestDatabase) {
    let cli = Cli::new(&db);
    let codes = cli.donate(&[("desktop", "Compaq dc7900", "CZC901381R")]);
    let snapshot = fixture("workbench/wb-legacy2018_hp-dc7900_erasure_snapshot.json");
    let output = cli.ok(&[
        "evidence", "import", "--device", &codes[0], "--test", "passed", &snapshot,
    ]);
    assert!(output.contains("workbench report"), "{output}");
    assert!(output.contains("ready for a household"), "{output}");
    cli.ok(&["device", "record", &codes[0], "stock", "--site", "Chartres"]);
    cli.ok(&[
        "device", "record", &codes[0], "handover", "--mode", "donation",
    ]);
    let shown = cli.show(&codes[0]);
    assert_eq!(shown["status"], "handed_over");
    db.cleanup().await;
}

/// A failing disk is recorded as failing and blocks the handover; it is not
/// an import error.
async fn failing_disk_recorded_and_blocks(db: TestDatabase) {
    let cli = Cli::new(&db);
    let codes = cli.donate(&[("laptop", "Latitude E6440", "FJBQVZ1")]);
    let lshw = fixture("lshw/dell-latitude-e6440.lshw.json");
    let failing = fixture("smartctl/scrutiny_smart-fail2.json");
    let output = cli.ok(&[
        "evidence", "import", "--device", &codes[0], "--test", "passed", &lshw, &failing,
    ]);
    assert!(output.contains("MSK423Y20S3HBC is failing"), "{output}");
    let gaps = cli.show(&codes[0])["not_ready_because"].to_string();
    assert!(gaps.contains("failing"), "{gaps}");
    db.cleanup().await;
}

/// A report that cannot be read names the file and the reason, and nothing
/// is recorded, not even from the readable files given with it.
async fn unreadable_report_records_nothing(db: TestDatabase) {
    let cli = Cli::new(&db);
    let codes = cli.donate(&[("laptop", "Latitude E6440", "FJBQVZ1")]);
    let lshw = fixture("lshw/dell-latitude-e6440.lshw.json");
    let open_failed = fixture("smartctl/scrutiny_smart-fail.json");
    let error = cli.fails(&[
        "evidence",
        "import",
        "--device",
        &codes[0],
        "--test",
        "passed",
        &lshw,
        &open_failed,
    ]);
    assert!(error.contains("scrutiny_smart-fail.json"), "{error}");
    assert!(error.contains("Open failed"), "{error}");
    let shown = cli.show(&codes[0]);
    assert_eq!(shown["status"], "received");
    let missing_test = cli.fails(&["evidence", "import", "--device", &codes[0], &lshw]);
    assert!(missing_test.contains("functional test"), "{missing_test}");
    db.cleanup().await;
}

/// A folder of reports is matched to devices by system serial, then by the
/// disks those reports found; what matches nothing is reported with a reason.
async fn folder_matched_by_serials(db: TestDatabase) {
    let cli = Cli::new(&db);
    let codes = cli.donate(&[
        ("laptop", "Latitude E6440", "FJBQVZ1"),
        ("desktop", "Compaq 8100", "CZC0408YPV"),
    ]);
    let folder = cli.dir.join("reports");
    std::fs::create_dir_all(&folder).unwrap();
    for path in [
        "lshw/dell-latitude-e6440.lshw.json",
        "lshw/hp-compaq-8100-elite-sff.lshw.json",
        "lshw/asus-all-series-placeholder-serial.lshw.json",
        "nwipe/nwipe-0.29_2020_issue283_3-rounds-verify.log",
    ] {
        let name = path.rsplit('/').next().unwrap();
        std::fs::copy(fixture(path), folder.join(name)).unwrap();
    }
    let output = cli.ok(&[
        "evidence",
        "import",
        "--folder",
        folder.to_str().unwrap(),
        "--test",
        "passed",
    ]);
    assert!(
        output.contains(&format!("dell-latitude-e6440.lshw.json -> {}", codes[0])),
        "{output}"
    );
    assert!(
        output.contains(&format!(
            "hp-compaq-8100-elite-sff.lshw.json -> {}",
            codes[1]
        )),
        "{output}"
    );
    assert!(
        output.contains("unmatched asus-all-series-placeholder-serial.lshw.json"),
        "{output}"
    );
    assert!(
        output.contains("unmatched nwipe-0.29_2020_issue283_3-rounds-verify.log"),
        "{output}"
    );
    assert_eq!(cli.show(&codes[0])["status"], "in_workshop");
    db.cleanup().await;
}

/// Another machine's report is rejected with both serials, and a file
/// imported again records nothing new.
async fn other_machine_and_repeat_rejected(db: TestDatabase) {
    let cli = Cli::new(&db);
    let codes = cli.donate(&[("laptop", "Latitude E6440", "FJBQVZ1")]);
    let dell = fixture("lshw/dell-latitude-e6440.lshw.json");
    let hp = fixture("lshw/hp-compaq-8100-elite-sff.lshw.json");
    let error = cli.fails(&[
        "evidence", "import", "--device", &codes[0], "--test", "passed", &hp,
    ]);
    assert!(error.contains("CZC0408YPV"), "{error}");
    assert!(error.contains("FJBQVZ1"), "{error}");
    assert_eq!(cli.show(&codes[0])["status"], "received");

    cli.ok(&[
        "evidence", "import", "--device", &codes[0], "--test", "passed", &dell,
    ]);
    let events = cli.show(&codes[0])["timeline"].as_array().unwrap().len();
    let again = cli.ok(&["evidence", "import", "--device", &codes[0], &dell]);
    assert!(again.contains("already recorded"), "{again}");
    let after = cli.show(&codes[0])["timeline"].as_array().unwrap().len();
    assert_eq!(after, events, "a repeated file recorded events");
    db.cleanup().await;
}

backend_tests!(
    other_machine_and_repeat_rejected,
    workbench_snapshot_erases_device,
    failing_disk_recorded_and_blocks,
    unreadable_report_records_nothing,
    folder_matched_by_serials,
);
