//! `filiere stock`: the stock view for people and scripts.

use filiere_domain::types::{Category, Grade};
use filiere_domain::DeviceStatus;
use filiere_projections::{queries, Projector, StockFilter};

use crate::cli::StockArgs;

pub async fn run(url: &str, args: StockArgs) -> anyhow::Result<()> {
    let store = super::open_existing(url).await?;
    Projector::new(store.clone()).catch_up().await?;
    let filter = StockFilter {
        site: args.site,
        status: args.status.as_deref().map(parse_status).transpose()?,
        category: args
            .category
            .as_deref()
            .map(|c| c.parse::<Category>().map(|c| c.as_str().to_string()))
            .transpose()?,
        grade: args
            .grade
            .as_deref()
            .map(|g| g.parse::<Grade>().map(|g| g.as_str().to_string()))
            .transpose()?,
        ..StockFilter::default()
    };
    let rows = queries::stock_list(store.pool(), &filter, args.limit).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<8} {:<13} {:<22} {:<30} {:<16} {:<12} {:<5} {:<8}",
        "CODE", "STATUS", "CATEGORY", "MODEL", "SITE", "LOCATION", "GRADE", "ERASURE"
    );
    for row in &rows {
        println!(
            "{:<8} {:<13} {:<22} {:<30} {:<16} {:<12} {:<5} {:<8}",
            row.code,
            row.status,
            row.category,
            truncate(&format!("{} {}", row.brand, row.model), 30),
            truncate(&row.site, 16),
            truncate(&row.location, 12),
            row.grade.as_deref().unwrap_or("-"),
            row.erasure
        );
    }
    let counts = queries::stock_counts(store.pool(), &filter, "status").await?;
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    println!("\n{} devices ({})", rows.len(), summary.join(", "));
    Ok(())
}

/// Reads a status name in any case, with dashes or underscores.
fn parse_status(text: &str) -> anyhow::Result<String> {
    match DeviceStatus::parse(text) {
        Some(status) => Ok(status.as_str().to_string()),
        None => anyhow::bail!(
            "invalid status '{text}': expected one of {}",
            DeviceStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        text.chars().take(width - 1).collect::<String>() + "…"
    }
}
