//! Fresh databases for tests, on either backend.
//!
//! SQLite tests get a new file under the system's temporary folder.
//! PostgreSQL tests get a new database on the server named by the
//! `FILIERE_TEST_POSTGRES_URL` environment variable (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`); they fail with a clear
//! message when it is not set. The [`backend_tests!`](crate::backend_tests)
//! macro runs one async test body on both.

use std::path::PathBuf;

use sqlx::{AnyConnection, Connection, Executor};
use uuid::Uuid;

use crate::connect::Backend;

pub mod tampering;

/// Environment variable naming the PostgreSQL server used by tests.
pub const POSTGRES_URL_VARIABLE: &str = "FILIERE_TEST_POSTGRES_URL";

/// A database that exists only for one test.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    sqlite_file: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => TestDatabase::postgres().await,
        }
    }

    pub fn sqlite() -> TestDatabase {
        let file =
            std::env::temp_dir().join(format!("filiere-test-{}.db", Uuid::now_v7().simple()));
        TestDatabase {
            url: format!("sqlite://{}", file.display()),
            backend: Backend::Sqlite,
            sqlite_file: Some(file),
            postgres: None,
        }
    }

    pub async fn postgres() -> TestDatabase {
        sqlx::any::install_default_drivers();
        let admin_url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VARIABLE} is not set: PostgreSQL tests need a server, for example \
                 {POSTGRES_URL_VARIABLE}=postgres://postgres@127.0.0.1:5432/postgres cargo test -- --ignored"
            )
        });
        TestDatabase::postgres_named(&admin_url, None).await
    }

    /// Creates a new database on the server of `admin_url`, as a copy of
    /// `template` when one is named.
    async fn postgres_named(admin_url: &str, template: Option<&str>) -> TestDatabase {
        let name = format!("filiere_test_{}", Uuid::now_v7().simple());
        let mut admin = AnyConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VARIABLE} server: {e}"));
        let create = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        // A template must have no session: end the ones the test's own
        // pools keep open on its database. The server ends a session
        // shortly after the request, so the copy may still have to wait.
        if let Some(template) = template {
            let terminate = format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{template}' AND pid <> pg_backend_pid()"
            );
            admin
                .execute(terminate.as_str())
                .await
                .unwrap_or_else(|e| panic!("cannot end the sessions on {template}: {e}"));
        }
        let mut attempts = 0;
        while let Err(error) = admin.execute(create.as_str()).await {
            attempts += 1;
            let busy = error.to_string().contains("being accessed by other users");
            if !busy || attempts == 50 {
                panic!("cannot create test database {name}: {error}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        admin.close().await.ok();
        TestDatabase {
            url: replace_database(admin_url, &name),
            backend: Backend::Postgres,
            sqlite_file: None,
            postgres: Some((admin_url.to_string(), name)),
        }
    }

    /// Removes the database. Call it at the end of a test; a failed test
    /// leaves its database behind for inspection.
    pub async fn cleanup(self) {
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = file.clone().into_os_string();
                path.push(suffix);
                std::fs::remove_file(path).ok();
            }
        }
        if let Some((admin_url, name)) = &self.postgres {
            if let Ok(mut admin) = AnyConnection::connect(admin_url).await {
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .ok();
                admin.close().await.ok();
            }
        }
    }
}

/// Swaps the database name at the end of a PostgreSQL URL.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// Declares each listed async function `fn(TestDatabase)` as two tests: one
/// on SQLite, and one on PostgreSQL that is ignored by default and run with
/// `cargo test -- --ignored` and `FILIERE_TEST_POSTGRES_URL` set.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestDatabase::sqlite()).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set FILIERE_TEST_POSTGRES_URL and pass --ignored"]
                async fn $name() {
                    super::$name($crate::testing::TestDatabase::postgres().await).await;
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
