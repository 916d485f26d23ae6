//! Two `filiere serve` processes share one database, as a deployment that
//! outgrew one machine does: while devices are recorded from the command
//! line, both keep the projections caught up, and no event is skipped or
//! applied twice.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use filiere_store::testing::TestDatabase;
use filiere_store::{backend_tests, EventStore};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Starts `filiere serve` on a free port and waits for its listening line.
fn start_server(url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_filiere"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--projection-interval-ms",
            "50",
        ])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the filiere binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("http://"));
    assert!(
        listening.is_some(),
        "the server printed no listening address"
    );
    std::thread::spawn(move || lines.for_each(drop));
    Server(child)
}

fn run(url: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_filiere"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the filiere binary runs");
    assert!(
        output.status.success(),
        "filiere {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn count(store: &EventStore, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn two_servers_project_once(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let _first = start_server(&db.url);
    let _second = start_server(&db.url);

    let dir = std::env::temp_dir().join(format!("filiere-two-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("batch.csv");
    let mut csv = String::from("category,brand,model,serial\n");
    for i in 0..6 {
        csv.push_str(&format!("laptop,Dell,Latitude,TWO{i:04}\n"));
    }
    std::fs::write(&file, csv).unwrap();
    for _ in 0..3 {
        let output = run(
            &db.url,
            &[
                "import",
                "donations",
                file.to_str().unwrap(),
                "--donor",
                "X",
                "--site",
                "Chartres",
                "--json",
            ],
        );
        let value: serde_json::Value = serde_json::from_str(&output).unwrap();
        for device in value["devices"].as_array().unwrap() {
            let code = device["code"].as_str().unwrap();
            run(
                &db.url,
                &["device", "record", code, "diagnose", "--test", "passed"],
            );
        }
        csv_serials_shift(&file);
    }

    let (head, _) = store.head().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let checkpoints = count(&store, "SELECT MIN(position) FROM projection_checkpoints").await;
        if checkpoints == head || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let device_events = count(
        &store,
        "SELECT COUNT(*) FROM events WHERE stream_id LIKE 'device-%'",
    )
    .await;
    let timeline = count(&store, "SELECT COUNT(*) FROM device_timeline").await;
    let distinct = count(
        &store,
        "SELECT COUNT(DISTINCT position) FROM device_timeline",
    )
    .await;
    let stock = count(&store, "SELECT COUNT(*) FROM stock_devices").await;
    let diagnosed = count(
        &store,
        "SELECT COUNT(*) FROM stock_devices WHERE status = 'in_workshop'",
    )
    .await;
    assert_eq!(
        count(&store, "SELECT MIN(position) FROM projection_checkpoints").await,
        head
    );
    assert_eq!(timeline, device_events);
    assert_eq!(distinct, timeline);
    assert_eq!(stock, 18);
    assert_eq!(diagnosed, 18);
    db.cleanup().await;
}

/// Gives the next batch new serial numbers, so that it is not refused as a
/// duplicate of the previous one.
fn csv_serials_shift(file: &std::path::Path) {
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, text.replace(",TWO", ",TWO1")).unwrap();
}

backend_tests!(two_servers_project_once);
