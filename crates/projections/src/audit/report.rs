//! The dashboard report: figures, target and progress, with the log prefix
//! they were computed from, rendered as JSON or CSV. The same log prefix and
//! target always give the same bytes: maps are sorted, numbers are integers
//! or tenths, and no clock is read.

use serde::Serialize;

use super::csv::CsvWriter;
use super::figures::{compute_figures_in, DayStats, Figures, HouseholdFigures};
use super::impact::ADEME_SOURCE;
use super::replay::Replay;
use super::scope::{HouseholdTerritory, Scope};
use super::target::{progress_basis_points, ResolvedTarget, TargetUnit};

/// Scope of the figures, written in every export.
pub const SCOPE_NOTE: &str = "Périmètre : une remise liée à une prescription compte si la \
     commune du foyer est dans le territoire de la cible ; une remise sans prescription, les \
     dons, le stock et les sorties comptent si l'atelier est listé dans la cible (tous les \
     ateliers si la liste est vide).";

/// The log prefix a result was computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogReference {
    pub position: i64,
    pub hash: String,
    pub as_of: Option<String>,
    pub reference_date: String,
}

/// Progress toward the territory's share, in the target's unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Progress {
    pub unit: TargetUnit,
    pub figure: u64,
    pub share: u64,
    /// `figure / share` in percent, rounded to a hundredth.
    pub percent: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub log: LogReference,
    pub target: Option<ResolvedTarget>,
    pub progress: Option<Progress>,
    pub scope: &'static str,
    pub impact_source: &'static str,
    pub figures: Figures,
    pub households: HouseholdFigures,
}

/// Computes the report of a replayed prefix for an optional target.
pub fn build_report(replay: &Replay, target: Option<ResolvedTarget>) -> Report {
    let (figures, households) =
        compute_figures_in(&replay.fold, replay.reference_date, &scope_of(&target));
    let progress = target.as_ref().map(|t| progress_of(&figures, t));
    Report {
        log: log_reference(replay),
        target,
        progress,
        scope: SCOPE_NOTE,
        impact_source: ADEME_SOURCE,
        figures,
        households,
    }
}

/// Returns the scope of a target: its territory for households and its
/// workshop list for the rest; everything when no target is set.
pub fn scope_of(target: &Option<ResolvedTarget>) -> Scope {
    match target {
        Some(target) => Scope {
            workshops: target.target.workshops.iter().cloned().collect(),
            territory: Some(HouseholdTerritory::of(&target.territory)),
            period: None,
        },
        None => Scope::default(),
    }
}

pub fn log_reference(replay: &Replay) -> LogReference {
    LogReference {
        position: replay.log_position,
        hash: replay.log_hash.clone(),
        as_of: replay.as_of.map(|d| d.to_string()),
        reference_date: replay.reference_date.to_string(),
    }
}

fn progress_of(figures: &Figures, target: &ResolvedTarget) -> Progress {
    let unit = target.target.unit;
    let figure = match unit {
        TargetUnit::Devices => figures.devices_handed_over,
        TargetUnit::Computers => figures.computers_handed_over,
        TargetUnit::Households => figures.households_equipped,
    };
    let basis_points = progress_basis_points(figure, target.share);
    Progress {
        unit,
        figure,
        share: target.share,
        percent: basis_points as f64 / 100.0,
    }
}

/// Renders the report as pretty JSON ending with a newline.
pub fn report_json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("reports serialise to JSON");
    text.push('\n');
    text
}

/// Renders the report as CSV rows `section,key,value`.
pub fn report_csv(report: &Report) -> String {
    let mut csv = CsvWriter::new(&["section", "key", "value"]);
    let log = &report.log;
    csv.row(&["log", "position", &log.position.to_string()]);
    csv.row(&["log", "hash", &log.hash]);
    csv.row(&["log", "as_of", log.as_of.as_deref().unwrap_or("")]);
    csv.row(&["log", "reference_date", &log.reference_date]);
    csv.row(&["scope", "note", report.scope]);
    if let Some(target) = &report.target {
        write_target(&mut csv, target);
    }
    if let Some(progress) = &report.progress {
        csv.row(&["progress", "unit", progress.unit.as_str()]);
        csv.row(&["progress", "figure", &progress.figure.to_string()]);
        csv.row(&["progress", "share", &progress.share.to_string()]);
        csv.row(&["progress", "percent", &format!("{:.2}", progress.percent)]);
    }
    write_figures(&mut csv, &report.figures);
    write_households(&mut csv, &report.households);
    csv.row(&["impact", "source", report.impact_source]);
    csv.finish()
}

fn write_target(csv: &mut CsvWriter, target: &ResolvedTarget) {
    let method = match target.target.share_method {
        super::target::ShareMethod::Population => "population",
        super::target::ShareMethod::Manual(_) => "manual",
    };
    csv.row(&[
        "target",
        "national_target",
        &target.target.national_target.to_string(),
    ]);
    csv.row(&["target", "unit", target.target.unit.as_str()]);
    csv.row(&["target", "territory_code", &target.territory.code]);
    csv.row(&["target", "territory_name", &target.territory.name]);
    let population = target.territory.population.map(|p| p.to_string());
    csv.row(&[
        "target",
        "territory_population",
        population.as_deref().unwrap_or(""),
    ]);
    csv.row(&[
        "target",
        "national_population",
        &target.national_population.to_string(),
    ]);
    csv.row(&["target", "share_method", method]);
    csv.row(&["target", "share", &target.share.to_string()]);
    csv.row(&["target", "workshops", &target.target.workshops.join(" ")]);
}

fn write_figures(csv: &mut CsvWriter, figures: &Figures) {
    let count = |csv: &mut CsvWriter, section: &str, key: &str, value: u64| {
        csv.row(&[section, key, &value.to_string()]);
    };
    count(csv, "handovers", "total", figures.handovers);
    count(csv, "handovers", "devices", figures.devices_handed_over);
    count(csv, "handovers", "computers", figures.computers_handed_over);
    count(csv, "handovers", "households", figures.households_equipped);

    let periods = &figures.handovers_by_period;
    for (section, map) in [
        ("handovers_by_month", &periods.month),
        ("handovers_by_quarter", &periods.quarter),
        ("handovers_by_year", &periods.year),
        ("handovers_by_category", &figures.handovers_by_category),
        ("handovers_by_workshop", &figures.handovers_by_workshop),
    ] {
        for (key, value) in map {
            count(csv, section, key, *value);
        }
    }
    count(csv, "donations", "batches", figures.donation_batches);
    count(csv, "donations", "devices", figures.donated_devices);
    let outcomes = &figures.outcomes;
    count(csv, "outcomes", "reused", outcomes.reused);
    count(csv, "outcomes", "recycled", outcomes.recycled);
    count(
        csv,
        "outcomes",
        "recycled_weight_grams",
        outcomes.recycled_weight_grams,
    );
    count(csv, "outcomes", "dismantled", outcomes.dismantled);
    count(csv, "outcomes", "written_off", outcomes.written_off);
    write_days(csv, "lead_time", &figures.lead_time);
    count(csv, "loans", "returned", figures.loans_returned);
    count(csv, "loans", "active", figures.loans_active);
    count(csv, "loans", "overdue", figures.loans_overdue);
    count(csv, "stock", "in_stock", figures.in_stock);
    count(csv, "stock", "reserved", figures.reserved);
    write_days(csv, "stock_age", &figures.stock_age);
    if let Some(impact) = &figures.impact {
        count(csv, "impact", "laptops_counted", impact.laptops_counted);
        count(
            csv,
            "impact",
            "smartphones_counted",
            impact.smartphones_counted,
        );
        count(
            csv,
            "impact",
            "co2e_grams_avoided",
            impact.co2e_grams_avoided,
        );
        count(
            csv,
            "impact",
            "raw_materials_grams_avoided",
            impact.raw_materials_grams_avoided,
        );
        count(
            csv,
            "impact",
            "devices_not_counted",
            impact.devices_not_counted,
        );
    }
}

fn write_households(csv: &mut CsvWriter, households: &HouseholdFigures) {
    let mut count = |section: &str, key: &str, value: u64| {
        csv.row(&[section, key, &value.to_string()]);
    };
    count(
        "households",
        "counted_by_household_commune",
        households.counted_by_household_commune,
    );
    count(
        "households",
        "counted_by_workshop_list",
        households.counted_by_workshop_list,
    );
    count("households", "in_qpv", households.in_qpv);
    count("households", "in_zrr", households.in_zrr);
    for (key, value) in &households.by_eligibility {
        count("households_by_eligibility", key, *value);
    }
    let training = &households.training;
    count("training", "prescribed", training.prescribed);
    count("training", "attended", training.attended);
    count("training", "sessions_missed", training.sessions_missed);
}

fn write_days(csv: &mut CsvWriter, section: &str, stats: &DayStats) {
    let tenths = |value: Option<f64>| value.map(|v| format!("{v:.1}")).unwrap_or_default();
    csv.row(&[section, "count", &stats.count.to_string()]);
    csv.row(&[section, "median_days", &tenths(stats.median_days)]);
    csv.row(&[section, "mean_days", &tenths(stats.mean_days)]);
    let max = stats.max_days.map(|v| v.to_string()).unwrap_or_default();
    csv.row(&[section, "max_days", &max]);
}
