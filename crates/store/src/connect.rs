//! Opening the database: URL parsing, connection settings and migrations.

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::StoreError;

/// Database engine behind a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the engine from a URL's scheme.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::InvalidUrl {
                url: redact(url),
                reason: "use sqlite://FILE (the default is sqlite://filiere.db) or postgres://USER@HOST/DATABASE".into(),
            })
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Handle on the event log and the tables beside it.
#[derive(Clone, Debug)]
pub struct EventStore {
    pool: AnyPool,
    backend: Backend,
}

/// How long a writer waits for SQLite's write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// How long a PostgreSQL session may sit idle inside a transaction. Appends
/// hold the log's head row; a client that stalls mid-append must not block
/// every other writer for longer than this.
const POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";

static INSTALL_DRIVERS: Once = Once::new();

impl EventStore {
    /// Connects to `url`, creating the SQLite file when missing, and applies
    /// pending migrations.
    pub async fn connect(url: &str) -> Result<EventStore, StoreError> {
        INSTALL_DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_creating_file(url),
            Backend::Postgres => url.to_string(),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|error| StoreError::InvalidUrl {
                url: redact(&url),
                reason: error.to_string(),
            })?;
        let pool = pool_options(backend).connect_with(options).await?;
        let store = EventStore { pool, backend };
        store.migrate().await?;
        tracing::debug!(backend = backend.as_str(), "event store ready");
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("../../migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; pending work is finished first.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn pool_options(backend: Backend) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
    match backend {
        Backend::Sqlite => options.max_connections(8).after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    format!(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON;"
                    )
                    .as_str(),
                )
                .await?;
                Ok(())
            })
        }),
        Backend::Postgres => options.max_connections(10).after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    format!(
                        "SET idle_in_transaction_session_timeout = '{POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT}'"
                    )
                    .as_str(),
                )
                .await?;
                Ok(())
            })
        }),
    }
}

/// Adds `mode=rwc` so that SQLite creates the file on first run.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=rwc")
}

/// Hides the password of a URL before it reaches a message or a log.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_chosen_by_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://u@h/d").unwrap(),
            Backend::Postgres
        );
        let error = Backend::from_url("mysql://u@h/d").unwrap_err().to_string();
        assert!(error.contains("mysql://u@h/d"), "{error}");
    }

    #[test]
    fn redact_hides_password() {
        assert_eq!(redact("postgres://u:secret@h/d"), "postgres://u:***@h/d");
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
    }
}
