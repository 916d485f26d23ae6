//! The `filiere` binary as the end-to-end tests drive it: each command runs
//! in its own process against the test database, from a fresh working
//! folder, with logs limited to warnings.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use filiere_store::testing::TestDatabase;

/// Runs `filiere` commands against one test database.
pub struct Cli {
    pub url: String,
    /// Working folder of every command, for the files tests write and read.
    pub dir: PathBuf,
    variables: Vec<(&'static str, String)>,
}

impl Cli {
    pub fn new(db: &TestDatabase) -> Cli {
        let dir =
            std::env::temp_dir().join(format!("filiere-cli-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Cli {
            url: db.url.clone(),
            dir,
            variables: Vec::new(),
        }
    }

    /// Sets an environment variable for every later command.
    pub fn with_env(mut self, name: &'static str, value: &str) -> Cli {
        self.variables.push((name, value.to_string()));
        self
    }

    /// Runs `filiere ARGS`. The organisation variable of the caller's shell
    /// is removed, so commands record the default organisation.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_filiere"));
        command
            .args(args)
            .env("DATABASE_URL", &self.url)
            .env("RUST_LOG", "warn")
            .env_remove("FILIERE_ORGANISATION")
            .current_dir(&self.dir);
        for (name, value) in &self.variables {
            command.env(name, value);
        }
        command.output().expect("the filiere binary runs")
    }

    /// Runs a command that must succeed and returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "filiere {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a command that must fail and returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "filiere {args:?} should fail");
        String::from_utf8(output.stderr).unwrap()
    }

    /// Path of `name` in the working folder.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// Writes `content` to `name` in the working folder.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Creates the database with its tables, as a first recording command
    /// would, so that reading commands find it even when a test records
    /// nothing.
    pub async fn create_database(&self) {
        filiere_store::EventStore::connect(&self.url)
            .await
            .expect("the test database opens")
            .close()
            .await;
    }
}

/// Text of a PDF as `pdftotext -layout` prints it, with every run of white
/// space made one space.
pub fn pdf_text(path: &str) -> String {
    assert!(Path::new(path).exists(), "{path} was not written");
    let output = Command::new("pdftotext")
        .args(["-layout", path, "-"])
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run pdftotext ({error}); these tests read the generated PDF with it: \
                 install poppler-utils"
            )
        });
    assert!(
        output.status.success(),
        "pdftotext rejected {path}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("pdftotext writes UTF-8");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Word after `label` in a command's output, without a trailing comma or
/// closing bracket.
pub fn word_after(output: &str, label: &str) -> String {
    let start = output
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} not in output:\n{output}"))
        + label.len();
    output[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches([',', ')'])
        .to_string()
}
