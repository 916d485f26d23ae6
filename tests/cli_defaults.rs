//! Defaults of the `filiere` binary that no option shows: the actor that
//! command-line steps record, and what `filiere demo` and
//! `filiere serve --demo` print. Run on SQLite and on PostgreSQL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use filiere_store::backend_tests;
use filiere_store::testing::TestDatabase;
use serde_json::Value;

mod support;

use support::Cli;

/// Records a diagnosis with `USER` and `LOGNAME` set as given (removed when
/// `None`) and returns the actor that the timeline shows for it.
fn diagnosis_actor(cli: &Cli, code: &str, user: Option<&str>, logname: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_filiere"));
    command
        .args(["device", "record", code, "diagnose", "--test", "passed"])
        .env("DATABASE_URL", &cli.url)
        .env("RUST_LOG", "warn")
        .env_remove("FILIERE_ACTOR")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .current_dir(&cli.dir);
    if let Some(user) = user {
        command.env("USER", user);
    }
    if let Some(logname) = logname {
        command.env("LOGNAME", logname);
    }
    let output = command.output().expect("the filiere binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown: Value = serde_json::from_str(&cli.ok(&["device", "show", code, "--json"])).unwrap();
    let timeline = shown["timeline"].as_array().unwrap();
    timeline.last().unwrap()["actor"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Imports `count` laptops and returns their codes.
fn import_laptops(cli: &Cli, count: usize) -> Vec<String> {
    let rows = "laptop,Dell,Latitude 5490\n".repeat(count);
    let file = cli.write("batch.csv", &format!("category,brand,model\n{rows}"));
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
    value["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|device| device["code"].as_str().unwrap().to_string())
        .collect()
}

async fn cli_actor_from_login(db: TestDatabase) {
    let cli = Cli::new(&db);
    let codes = import_laptops(&cli, 3);

    let from_user = diagnosis_actor(&cli, &codes[0], Some("camille"), Some("other"));
    assert_eq!(from_user, "cli:camille");
    let from_logname = diagnosis_actor(&cli, &codes[1], None, Some("ana"));
    assert_eq!(from_logname, "cli:ana");
    let neither = diagnosis_actor(&cli, &codes[2], None, None);
    assert_eq!(neither, "cli:unknown");

    std::fs::remove_dir_all(&cli.dir).ok();
    db.cleanup().await;
}

async fn demo_hint_only_from_demo(db: TestDatabase) {
    let cli = Cli::new(&db);
    let mut child = Command::new(env!("CARGO_BIN_EXE_filiere"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &cli.url)
        .env("RUST_LOG", "warn")
        .current_dir(&cli.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the filiere binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut printed = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let listening = line.contains("écoute sur http://");
        printed.push(line);
        if listening {
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    let printed = printed.join("\n");
    assert!(printed.contains("écoute sur http://"), "{printed}");
    assert!(
        printed.contains("Demonstration workshop ready"),
        "{printed}"
    );
    assert!(!printed.contains("Start the server"), "{printed}");

    let empty = TestDatabase::new(db.backend).await;
    let other = Cli::new(&empty);
    let demo = other.ok(&["demo", "--devices", "5"]);
    assert!(
        demo.contains("Start the server with `filiere serve`"),
        "{demo}"
    );

    std::fs::remove_dir_all(&cli.dir).ok();
    std::fs::remove_dir_all(&other.dir).ok();
    empty.cleanup().await;
    db.cleanup().await;
}

backend_tests!(cli_actor_from_login, demo_hint_only_from_demo);
