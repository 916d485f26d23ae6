//! `filiere`: one binary for the event log, the projections, the command line
//! and the web server.

mod cli;
mod commands;
mod import;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    exit_quietly_on_closed_stdout();
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url.clone();
    match cli.command {
        Command::Serve(args) => commands::serve::run(&url, args).await,
        Command::Import(args) => commands::import::run(&url, args).await,
        Command::Device(args) => commands::device::run(&url, args).await,
        Command::Stock(args) => commands::stock::run(&url, args).await,
        Command::Rebuild => commands::maintenance::rebuild(&url).await,
        Command::Verify => commands::maintenance::verify(&url).await,
        Command::Demo(args) => commands::demo::run(&url, args).await,
        Command::Labels(args) => commands::labels::run(&url, args).await,
        Command::Evidence(args) => commands::evidence::run(&url, args).await,
        Command::Org(args) => commands::accounts::org(&url, args).await,
        Command::User(args) => commands::accounts::user(&url, args).await,
        Command::Token(args) => commands::accounts::token(&url, args).await,
        Command::Bench(args) => commands::bench::run(&url, args).await,
        Command::Certificate(args) => commands::documents::certificate(&url, args).await,
        Command::Report(args) => commands::documents::report(&url, args).await,
        Command::Household(args) => commands::households::household(&url, args).await,
        Command::Prescription(args) => commands::prescriptions::run(&url, args).await,
        Command::Scheme(args) => commands::households::scheme(&url, args).await,
        Command::Retention(args) => commands::households::retention(&url, args).await,
        Command::Audit(args) => commands::audit::run(&url, args).await,
    }
}

/// Makes `filiere stock | head` end like other command-line tools when the
/// reader closes the pipe, instead of printing a panic. Rust ignores SIGPIPE,
/// so `println!` panics on a closed standard output; restoring the signal's
/// default would need `unsafe`, which this workspace forbids. The hook
/// recognises the standard library's panic message for that case and exits
/// with status 141, as a process killed by SIGPIPE reports in a shell. Every
/// other panic goes to the default hook.
fn exit_quietly_on_closed_stdout() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
}

/// Logs go to standard error, filtered by `RUST_LOG` (default: info for
/// Filière, warnings for libraries).
fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,filiere=info,filiere_web=info,filiere_store=info,filiere_projections=info",
        )
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
