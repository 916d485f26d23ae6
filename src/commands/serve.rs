use std::time::Duration;

use filiere_web::ServeConfig;

use crate::cli::ServeArgs;

pub async fn run(url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let zone = filiere_web::local_time::configure_from_env().map_err(anyhow::Error::msg)?;
    tracing::info!(time_zone = %zone, "pages show times in this time zone");
    let store = super::open(url).await?;
    if args.demo {
        let (position, _) = store.head().await?;
        if position == 0 {
            super::demo::fill(
                url,
                crate::cli::DemoArgs {
                    devices: 300,
                    seed: 2026,
                },
            )
            .await?;
        } else {
            tracing::info!(position, "database not empty; --demo adds nothing");
        }
    }
    let public_url = args
        .public_url
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let config = ServeConfig {
        listen: args.listen,
        public_url,
        projection_interval: Duration::from_millis(args.projection_interval_ms.max(50)),
        retention_days: args.retention_days,
        retention_sweep: !args.no_retention_sweep,
    };
    filiere_web::serve(config, store)
        .await
        .map_err(|error| anyhow::anyhow!("cannot serve on {}: {error}", args.listen))
}
