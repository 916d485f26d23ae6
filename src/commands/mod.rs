//! One module per subcommand.

pub mod accounts;
pub mod audit;
pub mod bench;
pub mod demo;
pub mod device;
pub mod documents;
pub mod evidence;
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

/// Actor recorded for commands run from this terminal.
pub fn cli_actor(explicit: Option<&str>) -> String {
    match explicit {
        Some(actor) => actor.to_string(),
        None => format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".to_string())
        ),
    }
}

/// Organisation recorded for commands run from this terminal, until accounts
/// and organisations exist.
pub const CLI_ORGANISATION: &str = "local";
