//! One module per subcommand.

pub mod accounts;
pub mod audit;
pub mod bench;
pub mod bench_evidence;
pub mod demo;
pub mod device;
pub mod documents;
pub mod evidence;
pub mod generate;
pub mod households;
pub mod import;
pub mod labels;
pub mod maintenance;
pub mod prescription_view;
pub mod prescriptions;
pub mod serve;
pub mod stock;

use filiere_store::EventStore;

/// Opens the event store, naming the URL's engine in the error.
pub async fn open(url: &str) -> anyhow::Result<EventStore> {
    EventStore::connect(url)
        .await
        .map_err(|error| anyhow::anyhow!("cannot open the database: {error}"))
}

/// Opens the event store for a command that only reads. A SQLite file that
/// does not exist yet is an error naming the file, not a new empty database,
/// so a mistyped `DATABASE_URL` does not leave a stray file behind.
pub async fn open_existing(url: &str) -> anyhow::Result<EventStore> {
    if let Some(path) = sqlite_file(url) {
        if !path.exists() {
            anyhow::bail!(
                "the database file {} does not exist; check DATABASE_URL or --database-url, \
                 or create it with `filiere serve`, `filiere import donations` or `filiere demo`",
                path.display()
            );
        }
    }
    open(url).await
}

/// File of a `sqlite:` URL, or `None` for another engine or an in-memory
/// database.
pub(crate) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Actor recorded for commands run from this terminal: `explicit`, else
/// `cli:` and the login name from `$USER` or `$LOGNAME`, else `cli:unknown`.
pub fn cli_actor(explicit: Option<&str>) -> String {
    if let Some(actor) = explicit {
        return actor.to_string();
    }
    let login = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    format!("cli:{login}")
}

/// Organisation recorded for commands run from this terminal, until accounts
/// and organisations exist.
pub const CLI_ORGANISATION: &str = "local";

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::PathBuf;

    #[test]
    fn sqlite_file_from_urls() {
        assert_eq!(
            sqlite_file("sqlite://filiere.db"),
            Some(PathBuf::from("filiere.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/filiere.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/filiere.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:data.db"),
            Some(PathBuf::from("data.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://postgres@127.0.0.1/filiere"), None);
    }
}
