//! The dashboard's figures as CSV rows `section,key,value`, starting with
//! the log position and head hash they were built up to, so that a funder
//! can check them against `filiere verify`.

use filiere_projections::audit::figures::DayStats;
use filiere_projections::dashboard::{Breakdown, DashboardFigures};

use crate::dashboard_view::DashboardView;

/// CSV writer of rows `section,key,value`.
struct Rows {
    writer: csv::Writer<Vec<u8>>,
}

impl Rows {
    fn row(&mut self, section: &str, key: &str, value: impl ToString) -> Result<(), csv::Error> {
        self.writer
            .write_record([section, key, value.to_string().as_str()])
    }
}

/// Renders the view as CSV.
pub fn dashboard_csv(view: &DashboardView) -> Result<String, csv::Error> {
    let mut rows = Rows {
        writer: csv::Writer::from_writer(Vec::new()),
    };
    rows.row("section", "key", "value")?;
    write_log_and_filter(&mut rows, view)?;
    write_target(&mut rows, view)?;
    write_totals(&mut rows, &view.figures)?;
    write_stats(&mut rows, "lead_time_days", &view.figures.lead_time)?;
    write_stats(&mut rows, "stock_age_days", &view.figures.stock_age)?;
    write_breakdowns(&mut rows, &view.figures)?;
    write_impact(&mut rows, &view.figures)?;
    let bytes = rows
        .writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn write_log_and_filter(rows: &mut Rows, view: &DashboardView) -> Result<(), csv::Error> {
    rows.row("log", "position", view.log_position)?;
    rows.row("log", "hash", &view.log_hash)?;
    rows.row("log", "reference_date", view.reference_date)?;
    let filter = &view.query.filter;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    rows.row("filter", "from_month", text(&filter.from_month))?;
    rows.row("filter", "to_month", text(&filter.to_month))?;
    rows.row("filter", "workshop", text(&filter.workshop))?;
    let category = filter.category.map(|c| c.as_str()).unwrap_or_default();
    rows.row("filter", "category", category)?;
    let territory = view
        .query
        .territory
        .as_ref()
        .map_or_else(|| "FR".to_string(), |t| t.code.clone());
    rows.row("filter", "territory", territory)
}

fn write_target(rows: &mut Rows, view: &DashboardView) -> Result<(), csv::Error> {
    if let Some(target) = &view.target {
        rows.row("target", "national_target", target.national_target)?;
        rows.row("target", "unit", target.unit.as_str())?;
        rows.row("target", "territory_code", &target.territory_code)?;
        rows.row("target", "territory_name", &target.territory_name)?;
        rows.row("target", "share_method", target.share_method)?;
        rows.row("target", "share", target.share)?;
    }
    if let Some(progress) = &view.progress {
        rows.row("progress", "figure", progress.figure)?;
        rows.row("progress", "share", progress.share)?;
        let percent = format!(
            "{}.{:02}",
            progress.basis_points / 100,
            progress.basis_points % 100
        );
        rows.row("progress", "percent", percent)?;
    }
    Ok(())
}

fn write_totals(rows: &mut Rows, figures: &DashboardFigures) -> Result<(), csv::Error> {
    let outcomes = &figures.outcomes;
    for (key, value) in [
        ("handovers", figures.handovers),
        ("devices_handed_over", figures.devices_handed_over),
        ("computers_handed_over", figures.computers_handed_over),
        ("households_equipped", figures.households_equipped),
        ("donation_batches", figures.donation_batches),
        ("donated_devices", figures.donated_devices),
        ("reused", outcomes.reused),
        ("recycled", outcomes.recycled),
        ("recycled_weight_grams", outcomes.recycled_weight_grams),
        ("dismantled", outcomes.dismantled),
        ("written_off", outcomes.written_off),
        ("loans_returned", figures.loans_returned),
        ("loans_active", figures.loans_active),
        ("loans_overdue", figures.loans_overdue),
        ("training_attended", figures.training_attended),
        ("in_stock", figures.in_stock),
        ("reserved", figures.reserved),
    ] {
        rows.row("totals", key, value)?;
    }
    Ok(())
}

fn write_breakdowns(rows: &mut Rows, figures: &DashboardFigures) -> Result<(), csv::Error> {
    let by = &figures.handovers_by;
    let breakdowns: [(&str, &Breakdown); 9] = [
        ("handovers_by_month", &by.month),
        ("handovers_by_quarter", &by.quarter),
        ("handovers_by_year", &by.year),
        ("handovers_by_workshop", &by.workshop),
        ("handovers_by_category", &by.category),
        ("handovers_by_eligibility", &by.eligibility),
        ("handovers_by_area", &by.area),
        ("handovers_by_programme", &by.programme),
        (
            "donated_devices_by_month",
            &figures.donated_devices_by_month,
        ),
    ];
    for (section, breakdown) in breakdowns {
        for (key, value) in breakdown {
            rows.row(section, key, value)?;
        }
    }
    Ok(())
}

fn write_impact(rows: &mut Rows, figures: &DashboardFigures) -> Result<(), csv::Error> {
    let Some(impact) = &figures.impact else {
        return Ok(());
    };
    rows.row("impact", "laptops_counted", impact.laptops_counted)?;
    rows.row("impact", "smartphones_counted", impact.smartphones_counted)?;
    rows.row("impact", "co2e_grams_avoided", impact.co2e_grams_avoided)?;
    rows.row(
        "impact",
        "raw_materials_grams_avoided",
        impact.raw_materials_grams_avoided,
    )?;
    rows.row("impact", "devices_not_counted", impact.devices_not_counted)?;
    rows.row("impact", "source", impact.source)
}

fn write_stats(rows: &mut Rows, section: &str, stats: &DayStats) -> Result<(), csv::Error> {
    let tenths = |value: Option<f64>| value.map(|v| format!("{v:.1}")).unwrap_or_default();
    rows.row(section, "count", stats.count)?;
    rows.row(section, "median", tenths(stats.median_days))?;
    rows.row(section, "mean", tenths(stats.mean_days))?;
    let max = stats.max_days.map(|d| d.to_string()).unwrap_or_default();
    rows.row(section, "max", max)
}
