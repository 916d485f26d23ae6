//! `filiere labels`: QR labels of devices as PDF or ZPL.

use filiere_domain::types::Category;
use filiere_domain::DeviceCode;
use filiere_projections::{queries, Projector, StockFilter};
use filiere_web::labels::{
    calibration_pdf, labels_pdf, labels_zpl, LabelData, PrintOptions, TemplateCatalog,
};

use crate::cli::LabelsArgs;

pub async fn run(url: &str, args: LabelsArgs) -> anyhow::Result<()> {
    let directory = args
        .templates_dir
        .is_dir()
        .then_some(args.templates_dir.as_path());
    let catalog = TemplateCatalog::load(directory)?;
    let template = catalog.get(&args.template)?;
    let options = PrintOptions {
        start_position: args.start,
        offset_x_mm: args.offset_x,
        offset_y_mm: args.offset_y,
    };
    let is_zpl = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zpl"));

    let bytes = if args.calibration {
        calibration_pdf(template, &options)?
    } else {
        let labels = collect_labels(url, &args).await?;
        if is_zpl {
            labels_zpl(template, &labels)?.into_bytes()
        } else {
            labels_pdf(template, &labels, &options)?
        }
    };
    std::fs::write(&args.out, &bytes)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", args.out.display()))?;
    println!("Wrote {} ({} bytes)", args.out.display(), bytes.len());
    Ok(())
}

async fn collect_labels(url: &str, args: &LabelsArgs) -> anyhow::Result<Vec<LabelData>> {
    if args.donation.is_none() && args.codes.is_empty() {
        anyhow::bail!("name the devices: --donation ID, or --code CODE (repeatable)");
    }
    let store = super::open_existing(url).await?;
    Projector::new(store.clone()).catch_up().await?;
    let mut rows = Vec::new();
    if let Some(donation) = &args.donation {
        let filter = StockFilter {
            donation_id: Some(donation.trim().to_string()),
            ..StockFilter::default()
        };
        let mut batch = queries::stock_list(store.pool(), &filter, 100_000).await?;
        if batch.is_empty() {
            anyhow::bail!("no donation batch '{donation}' with devices; `filiere stock --json` lists donation ids");
        }
        batch.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.code.cmp(&b.code)));
        rows.extend(batch);
    }
    for typed in &args.codes {
        let code = DeviceCode::parse_scanned(typed)?;
        let filter = StockFilter {
            search: Some(code.to_string()),
            ..StockFilter::default()
        };
        let found = queries::stock_list(store.pool(), &filter, 1).await?;
        match found.into_iter().find(|row| row.code == code.as_str()) {
            Some(row) => rows.push(row),
            None => anyhow::bail!("no device with code {code}"),
        }
    }
    let base = args.public_url.trim_end_matches('/');
    if base.contains("://127.") || base.contains("://localhost") || base.contains("://[::1]") {
        eprintln!(
            "warning: the QR codes point to {base}, which a phone cannot reach; give the server's public address with --public-url (or FILIERE_PUBLIC_URL)"
        );
    }
    Ok(rows
        .into_iter()
        .map(|row| LabelData {
            url: format!("{base}/D/{}", row.code),
            category: row
                .category
                .parse::<Category>()
                .map(|c| c.label_fr().to_string())
                .unwrap_or(row.category),
            model: format!("{} {}", row.brand, row.model).trim().to_string(),
            workshop: args.workshop.clone(),
            code: row.code,
        })
        .collect())
}
