//! `filiere serve` runs the retention sweep at start, with the period of
//! `FILIERE_RETENTION_DAYS`. A household whose prescription closed before
//! the period loses its identity, one with an open prescription keeps it,
//! and the log counts erasures without naming anyone. Run on SQLite and on
//! PostgreSQL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

const LAST_NAME: &str = "Delacroix-Ferrat";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn run(url: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_filiere"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .env_remove("FILIERE_ORGANISATION")
        .output()
        .expect("the filiere binary runs");
    assert!(
        output.status.success(),
        "filiere {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Records a household and issues a prescription for it. Returns the
/// household and prescription ids.
fn prescribed(url: &str, first_name: &str) -> (String, String) {
    let household = run(
        url,
        &[
            "household",
            "add",
            "--first-name",
            first_name,
            "--last-name",
            LAST_NAME,
        ],
    )
    .trim()
    .to_string();
    let prescription = run(
        url,
        &[
            "prescription",
            "issue",
            "--household",
            &household,
            "--scheme",
            "RSA",
            "--benefit",
            "RSA",
            "--category",
            "smartphone",
            "--purpose",
            "health",
            "--pix",
            "2",
            "--commune",
            "28085",
            "--household-size",
            "1",
            "--age",
            "26-59",
        ],
    )
    .trim()
    .to_string();
    (household, prescription)
}

fn identity(url: &str, household: &str) -> Value {
    let export: Value = serde_json::from_str(&run(url, &["household", "export", household]))
        .expect("the export is JSON");
    export["household"]["identity"].clone()
}

/// Removes the ANSI colour sequences (`ESC [ ... m`) of a log line.
fn without_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}

/// Starts `filiere serve` with a retention period of 0 days and `env`, and
/// returns the server with a channel of its log lines, colours removed.
fn start_server(url: &str, env: &[(&str, &str)]) -> (Server, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_filiere"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", url)
        .env("FILIERE_RETENTION_DAYS", "0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the filiere binary starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let server = Server(child);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(without_colours(&line)).is_err() {
                break;
            }
        }
    });
    (server, receiver)
}

/// Adds the RSA scheme and a household whose only prescription is
/// cancelled. Returns the household id.
fn closed_household(url: &str) -> String {
    run(url, &["scheme", "add", "--name", "RSA", "--benefit", "RSA"]);
    let (closed, closed_prescription) = prescribed(url, "Bérénice");
    run(
        url,
        &[
            "prescription",
            "cancel",
            &closed_prescription,
            "--reason",
            "équipée par ailleurs",
        ],
    );
    closed
}

async fn serve_sweeps_at_start(db: TestDatabase) {
    let closed = closed_household(&db.url);
    let (open, _) = prescribed(&db.url, "Ulysse");
    assert!(identity(&db.url, &closed).is_object());

    // With a period of 0 days, every prescription closed before the start
    // is past it.
    let (server, receiver) = start_server(&db.url, &[]);

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sweep_line = None;
    let mut log = Vec::new();
    while sweep_line.is_none() && Instant::now() < deadline {
        if let Ok(line) = receiver.recv_timeout(Duration::from_millis(200)) {
            if line.contains("scheduled retention sweep") {
                sweep_line = Some(line.clone());
            }
            log.push(line);
        }
    }
    let sweep_line = sweep_line.unwrap_or_else(|| {
        panic!("no sweep logged within 30 s:\n{}", log.join("\n"));
    });
    assert!(sweep_line.contains("erased=1"), "{sweep_line}");
    assert!(sweep_line.contains("retention_days=0"), "{sweep_line}");
    for line in &log {
        assert!(!line.contains(LAST_NAME), "identity in the log: {line}");
        assert!(
            !line.contains(&closed),
            "erased household id in the log: {line}"
        );
    }

    assert!(
        identity(&db.url, &closed).is_null(),
        "closed household erased"
    );
    assert!(identity(&db.url, &open).is_object(), "open household kept");
    drop(server);
    db.cleanup().await;
}

/// With `FILIERE_NO_RETENTION_SWEEP`, the server logs that the sweep is off and
/// a household past the period keeps its identity.
async fn sweep_disabled_keeps_identity(db: TestDatabase) {
    let closed = closed_household(&db.url);
    let (server, receiver) = start_server(&db.url, &[("FILIERE_NO_RETENTION_SWEEP", "true")]);

    // The sweep would start before the server listens, so two seconds of
    // log after the "listening" line would show it.
    let mut log = Vec::new();
    let mut listening_at = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if listening_at.is_some_and(|at: Instant| at.elapsed() > Duration::from_secs(2)) {
            break;
        }
        if let Ok(line) = receiver.recv_timeout(Duration::from_millis(200)) {
            if line.contains("server listening") {
                listening_at = Some(Instant::now());
            }
            log.push(line);
        }
    }
    let log = log.join("\n");
    assert!(listening_at.is_some(), "server did not listen:\n{log}");
    assert!(log.contains("retention sweep disabled"), "{log}");
    assert!(!log.contains("retention sweep erased"), "{log}");
    assert!(identity(&db.url, &closed).is_object(), "identity kept");
    drop(server);
    db.cleanup().await;
}

backend_tests!(serve_sweeps_at_start, sweep_disabled_keeps_identity);
