//! Reading the dashboard: sums of the pre-aggregated counters under the
//! filters, grouped by one dimension per query, so that each query reads
//! counter rows, never events.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use filiere_domain::types::Category;
use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, Arguments, Pool};

use super::state::{metric, ALL_DEPARTEMENTS};
use crate::audit::figures::{DayStats, Figures, Outcomes, Periods};
use crate::audit::impact::{compute_impact, Impact};
use crate::ProjectionError;

/// Territory the household-related figures are limited to, by the commune
/// of the household's prescription.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TerritoryScope {
    #[default]
    All,
    Departement(String),
    /// The communes of a commune or of an EPCI, as INSEE codes.
    Communes(Vec<String>),
}

/// Filters of the dashboard. Months are `YYYY-MM` and bound flow figures
/// inclusively; current states (stock, loans) ignore them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DashboardFilter {
    pub from_month: Option<String>,
    pub to_month: Option<String>,
    /// Organisation id of the workshop holding the devices.
    pub workshop: Option<String>,
    pub category: Option<Category>,
    pub territory: TerritoryScope,
}

/// Counts by value of one dimension, sorted by value.
pub type Breakdown = BTreeMap<String, u64>;

/// Handover counts (events) by each dimension.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HandoverBreakdowns {
    pub month: Breakdown,
    pub quarter: Breakdown,
    pub year: Breakdown,
    pub workshop: Breakdown,
    pub category: Breakdown,
    /// Eligibility category of the household's prescription; `""` without a
    /// prescription.
    pub eligibility: Breakdown,
    /// `qpv`, `zrr`, `qpv_zrr`, `neither`, or `""` without a prescription.
    pub area: Breakdown,
    /// Funder programme of the prescription's scheme; `""` without one.
    pub programme: Breakdown,
}

/// The dashboard's figures under one filter.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DashboardFigures {
    /// Handover events; a device lent, returned and handed over again
    /// counts twice.
    pub handovers: u64,
    pub devices_handed_over: u64,
    pub computers_handed_over: u64,
    /// Households counted once, in the dimensions of their first handover.
    pub households_equipped: u64,
    pub handovers_by: HandoverBreakdowns,
    /// Distinct devices handed over by month of their first handover.
    pub devices_handed_over_by_month: Breakdown,
    pub devices_handed_over_by_category: Breakdown,
    pub donation_batches: u64,
    pub donated_devices: u64,
    pub donated_devices_by_month: Breakdown,
    pub outcomes: Outcomes,
    pub lead_time: DayStats,
    pub loans_returned: u64,
    pub loans_active: u64,
    pub loans_overdue: u64,
    pub training_attended: u64,
    pub in_stock: u64,
    pub reserved: u64,
    pub stock_age: DayStats,
    /// Always set by [`load_dashboard`].
    pub impact: Option<Impact>,
}

impl DashboardFigures {
    /// Returns the figures in the audit's shape, to compare with a replay.
    pub fn to_audit_figures(&self) -> Figures {
        Figures {
            handovers: self.handovers,
            devices_handed_over: self.devices_handed_over,
            computers_handed_over: self.computers_handed_over,
            households_equipped: self.households_equipped,
            handovers_by_period: Periods {
                month: self.handovers_by.month.clone(),
                quarter: self.handovers_by.quarter.clone(),
                year: self.handovers_by.year.clone(),
            },
            handovers_by_category: self.handovers_by.category.clone(),
            handovers_by_workshop: self.handovers_by.workshop.clone(),
            donation_batches: self.donation_batches,
            donated_devices: self.donated_devices,
            outcomes: self.outcomes.clone(),
            lead_time: self.lead_time.clone(),
            loans_returned: self.loans_returned,
            loans_active: self.loans_active,
            loans_overdue: self.loans_overdue,
            in_stock: self.in_stock,
            reserved: self.reserved,
            stock_age: self.stock_age.clone(),
            impact: self.impact.clone(),
        }
    }
}

/// A WHERE clause with its arguments, numbered from `$1`.
struct Conditions {
    clauses: Vec<String>,
    values: Vec<String>,
}

impl Conditions {
    fn new() -> Conditions {
        Conditions {
            clauses: Vec::new(),
            values: Vec::new(),
        }
    }

    fn equal(&mut self, column: &str, value: &str) {
        self.values.push(value.to_string());
        self.clauses
            .push(format!("{column} = ${}", self.values.len()));
    }

    fn compare(&mut self, column: &str, operator: &str, value: &str) {
        self.values.push(value.to_string());
        self.clauses
            .push(format!("{column} {operator} ${}", self.values.len()));
    }

    fn one_of(&mut self, column: &str, values: &[&str]) {
        let mut marks = Vec::new();
        for value in values {
            self.values.push(value.to_string());
            marks.push(format!("${}", self.values.len()));
        }
        if marks.is_empty() {
            self.clauses.push("1 = 0".to_string());
        } else {
            self.clauses
                .push(format!("{column} IN ({})", marks.join(", ")));
        }
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "1 = 1".to_string()
        } else {
            self.clauses.join(" AND ")
        }
    }

    fn arguments(&self) -> Result<AnyArguments<'static>, ProjectionError> {
        let mut arguments = AnyArguments::default();
        for value in &self.values {
            arguments.add(value.clone()).map_err(sqlx::Error::Encode)?;
        }
        Ok(arguments)
    }
}

/// Builds the query summing `metrics` by (metric, `column`) under
/// `filter`. It reads the detailed counters when a workshop or communes are
/// chosen (through the index on the workshop or the commune), and the
/// rollup over workshops otherwise, whose rows do not multiply with the
/// number of workshops.
fn flow_query(
    filter: &DashboardFilter,
    metrics: &[&str],
    column: &str,
    with_territory: bool,
) -> (String, Conditions) {
    let mut conditions = Conditions::new();
    conditions.one_of("metric", metrics);
    if let Some(from) = &filter.from_month {
        conditions.compare("month", ">=", from);
    }
    if let Some(to) = &filter.to_month {
        conditions.compare("month", "<=", to);
    }
    if let Some(category) = filter.category {
        conditions.equal("category", category.as_str());
    }
    let territory = if with_territory {
        &filter.territory
    } else {
        &TerritoryScope::All
    };
    let communes = match territory {
        TerritoryScope::Communes(codes) => Some(codes),
        _ => None,
    };
    let (table, group) = if filter.workshop.is_some() || communes.is_some() {
        if let Some(workshop) = &filter.workshop {
            conditions.equal("workshop", workshop);
        }
        let group = if column == "days" {
            "CAST(days AS TEXT)".to_string()
        } else {
            column.to_string()
        };
        match communes {
            Some(codes) => {
                let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
                conditions.one_of("commune", &codes);
                ("dashboard_commune_counters", group)
            }
            None => ("dashboard_counters", group),
        }
    } else {
        let departement = match territory {
            TerritoryScope::Departement(code) => code.as_str(),
            _ => ALL_DEPARTEMENTS,
        };
        conditions.equal("departement", departement);
        if column == "month" || column == "category" {
            conditions.equal("dimension", "total");
            ("dashboard_rollup", column.to_string())
        } else {
            conditions.equal("dimension", column);
            ("dashboard_rollup", "item".to_string())
        }
    };
    if let (Some(_), TerritoryScope::Departement(code)) = (&filter.workshop, territory) {
        conditions.equal("departement", code);
    }
    let sql = format!(
        "SELECT metric, {group}, CAST(SUM(value) AS BIGINT) FROM {table} WHERE {} \
         GROUP BY metric, {group}",
        conditions.sql()
    );
    (sql, conditions)
}

/// Sums `metrics` by (metric, `column`) under `filter`.
async fn sum_by(
    connection: &mut AnyConnection,
    filter: &DashboardFilter,
    metrics: &[&str],
    column: &str,
    with_territory: bool,
) -> Result<BTreeMap<(String, String), u64>, ProjectionError> {
    let (sql, conditions) = flow_query(filter, metrics, column, with_territory);
    let rows: Vec<(String, String, i64)> = sqlx::query_as_with(&sql, conditions.arguments()?)
        .fetch_all(&mut *connection)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, value)| *value != 0)
        .map(|(metric, key, value)| ((metric, key), value.max(0) as u64))
        .collect())
}

/// Returns the values of `metric` from a [`sum_by`] result.
fn of_metric(sums: &BTreeMap<(String, String), u64>, wanted: &str) -> Breakdown {
    sums.iter()
        .filter(|((metric, _), _)| metric == wanted)
        .map(|((_, key), value)| (key.clone(), *value))
        .collect()
}

/// The dashboard's figures with the log position they were built up to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DashboardSnapshot {
    pub position: i64,
    pub figures: DashboardFigures,
}

/// Reads the checkpoint and the figures in one read transaction, so that
/// the figures are those of the stated position even while the projector
/// writes. `reference_date` is the day loans are overdue after and stock
/// ages are counted to.
pub async fn read_dashboard(
    pool: &Pool<Any>,
    filter: &DashboardFilter,
    reference_date: NaiveDate,
) -> Result<DashboardSnapshot, ProjectionError> {
    let mut transaction = pool.begin().await?;
    if transaction.backend_name() == "PostgreSQL" {
        // PostgreSQL's default isolation, read committed, would let each
        // query see a different commit of the projector.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *transaction)
            .await?;
    }
    let position =
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = 'dashboard'")
            .fetch_one(&mut *transaction)
            .await?;
    let figures = figures_in(&mut transaction, filter, reference_date).await?;
    transaction.commit().await?;
    Ok(DashboardSnapshot { position, figures })
}

/// Reads the dashboard's figures, without their position.
pub async fn load_dashboard(
    pool: &Pool<Any>,
    filter: &DashboardFilter,
    reference_date: NaiveDate,
) -> Result<DashboardFigures, ProjectionError> {
    Ok(read_dashboard(pool, filter, reference_date).await?.figures)
}

async fn figures_in(
    connection: &mut AnyConnection,
    filter: &DashboardFilter,
    reference_date: NaiveDate,
) -> Result<DashboardFigures, ProjectionError> {
    let mut figures = DashboardFigures::default();
    let household_metrics = metric::HOUSEHOLD_METRICS;
    let handover_only = [metric::HANDOVER];

    let by_month = sum_by(connection, filter, &household_metrics, "month", true).await?;
    let by_category = sum_by(connection, filter, &household_metrics, "category", true).await?;
    let total = |metric: &str| of_metric(&by_category, metric).values().sum::<u64>();
    figures.handovers = total(metric::HANDOVER);
    figures.devices_handed_over = total(metric::DEVICE_HANDED_OVER);
    figures.households_equipped = total(metric::HOUSEHOLD_EQUIPPED);
    figures.loans_returned = total(metric::LOAN_RETURNED);
    figures.training_attended = total(metric::TRAINING_ATTENDED);
    figures.devices_handed_over_by_category = of_metric(&by_category, metric::DEVICE_HANDED_OVER);
    figures.computers_handed_over = [Category::Laptop, Category::Desktop]
        .iter()
        .filter_map(|c| figures.devices_handed_over_by_category.get(c.as_str()))
        .sum();
    figures.devices_handed_over_by_month = of_metric(&by_month, metric::DEVICE_HANDED_OVER);

    let handovers = &mut figures.handovers_by;
    handovers.month = of_metric(&by_month, metric::HANDOVER);
    (handovers.quarter, handovers.year) = quarters_and_years(&handovers.month);
    handovers.category = of_metric(&by_category, metric::HANDOVER);
    for (column, target) in [
        ("workshop", &mut handovers.workshop),
        ("eligibility", &mut handovers.eligibility),
        ("area", &mut handovers.area),
        ("programme", &mut handovers.programme),
    ] {
        let sums = sum_by(connection, filter, &handover_only, column, true).await?;
        *target = of_metric(&sums, metric::HANDOVER);
    }

    let donations = [metric::DONATED_DEVICE, metric::DONATION_BATCH];
    let donated = sum_by(connection, filter, &donations, "month", false).await?;
    figures.donated_devices_by_month = of_metric(&donated, metric::DONATED_DEVICE);
    figures.donated_devices = figures.donated_devices_by_month.values().sum();
    figures.donation_batches = of_metric(&donated, metric::DONATION_BATCH).values().sum();

    figures.lead_time = lead_time(connection, filter).await?;
    read_status(connection, filter, reference_date, &mut figures).await?;
    figures.outcomes.reused = figures.devices_handed_over;

    let by_category: Vec<(Category, u64)> = figures
        .devices_handed_over_by_category
        .iter()
        .filter_map(|(name, count)| name.parse::<Category>().ok().map(|c| (c, *count)))
        .collect();
    figures.impact = Some(compute_impact(&by_category));
    Ok(figures)
}

/// Groups monthly counts (`2025-03`) by quarter (`2025-Q1`) and year.
fn quarters_and_years(months: &Breakdown) -> (Breakdown, Breakdown) {
    let mut quarters = Breakdown::new();
    let mut years = Breakdown::new();
    for (month, count) in months {
        let Ok(first_day) = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d") else {
            continue;
        };
        let quarter = (first_day.month() - 1) / 3 + 1;
        *quarters
            .entry(format!("{}-Q{quarter}", first_day.year()))
            .or_default() += count;
        *years.entry(first_day.year().to_string()).or_default() += count;
    }
    (quarters, years)
}

async fn lead_time(
    connection: &mut AnyConnection,
    filter: &DashboardFilter,
) -> Result<DayStats, ProjectionError> {
    let sums = sum_by(connection, filter, &[metric::LEAD_TIME], "days", true).await?;
    let mut histogram: Vec<(i64, i64)> = sums
        .into_iter()
        .filter_map(|((_, days), count)| Some((days.parse().ok()?, count as i64)))
        .collect();
    histogram.sort_unstable();
    Ok(histogram_stats(&histogram))
}

/// Summarises a histogram of (days, count) sorted by days, with the
/// rounding of [`crate::audit::figures::day_stats`].
pub(crate) fn histogram_stats(histogram: &[(i64, i64)]) -> DayStats {
    let histogram: Vec<(i64, i64)> = histogram
        .iter()
        .copied()
        .filter(|(_, count)| *count > 0)
        .collect();
    let count: i64 = histogram.iter().map(|(_, n)| n).sum();
    if count == 0 {
        return DayStats::default();
    }
    let nth = |index: i64| {
        let mut seen = 0;
        for (days, n) in &histogram {
            seen += n;
            if index < seen {
                return *days;
            }
        }
        histogram.last().map_or(0, |(days, _)| *days)
    };
    let median_tenths = if count % 2 == 1 {
        nth(count / 2) * 10
    } else {
        (nth(count / 2 - 1) + nth(count / 2)) * 5
    };
    let sum: i64 = histogram.iter().map(|(days, n)| days * n).sum();
    let mean_tenths = (sum * 20 + count) / (count * 2);
    DayStats {
        count: count as u64,
        median_days: Some(median_tenths as f64 / 10.0),
        mean_days: Some(mean_tenths as f64 / 10.0),
        max_days: histogram.last().map(|(days, _)| *days),
    }
}

/// Reads the current states: stock, reservations, loans and final outcomes.
/// The territory limits loans only, the one state tied to a household.
async fn read_status(
    connection: &mut AnyConnection,
    filter: &DashboardFilter,
    reference_date: NaiveDate,
    figures: &mut DashboardFigures,
) -> Result<(), ProjectionError> {
    let mut conditions = Conditions::new();
    if let Some(workshop) = &filter.workshop {
        conditions.equal("workshop", workshop);
    }
    if let Some(category) = filter.category {
        conditions.equal("category", category.as_str());
    }
    match &filter.territory {
        TerritoryScope::All => {}
        TerritoryScope::Departement(code) => {
            conditions.values.push(code.clone());
            let mark = conditions.values.len();
            conditions
                .clauses
                .push(format!("(status <> 'loan' OR departement = ${mark})"));
        }
        TerritoryScope::Communes(codes) => {
            let mut marks = Vec::new();
            for code in codes {
                conditions.values.push(code.clone());
                marks.push(format!("${}", conditions.values.len()));
            }
            let communes = if marks.is_empty() {
                "1 = 0".to_string()
            } else {
                format!("commune IN ({})", marks.join(", "))
            };
            conditions
                .clauses
                .push(format!("(status <> 'loan' OR {communes})"));
        }
    }
    // The totals table has no workshop, category or commune column and
    // far fewer rows, so it serves every other filter.
    let by_commune = matches!(filter.territory, TerritoryScope::Communes(_));
    let table = if filter.workshop.is_none() && filter.category.is_none() && !by_commune {
        "dashboard_status_totals"
    } else {
        "dashboard_status"
    };
    let sql = format!(
        "SELECT status, day, CAST(SUM(value) AS BIGINT), CAST(SUM(grams) AS BIGINT) \
         FROM {table} WHERE {} GROUP BY status, day",
        conditions.sql()
    );
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as_with(&sql, conditions.arguments()?)
        .fetch_all(&mut *connection)
        .await?;
    let mut stock_ages: BTreeMap<i64, i64> = BTreeMap::new();
    for (status, day, value, grams) in rows {
        let count = value.max(0) as u64;
        let day: Option<NaiveDate> = day.parse().ok();
        match status.as_str() {
            "in_stock" => {
                figures.in_stock += count;
                if let Some(stocked_on) = day {
                    let age = (reference_date - stocked_on).num_days().max(0);
                    *stock_ages.entry(age).or_default() += value;
                }
            }
            "reserved" => figures.reserved += count,
            "loan" => {
                figures.loans_active += count;
                if day.is_some_and(|due_on| due_on < reference_date) {
                    figures.loans_overdue += count;
                }
            }
            "recycled" => {
                figures.outcomes.recycled += count;
                figures.outcomes.recycled_weight_grams += grams.max(0) as u64;
            }
            "dismantled" => figures.outcomes.dismantled += count,
            "written_off" => figures.outcomes.written_off += count,
            _ => {}
        }
    }
    let histogram: Vec<(i64, i64)> = stock_ages.into_iter().collect();
    figures.stock_age = histogram_stats(&histogram);
    Ok(())
}

/// Returns the log position up to which the dashboard tables are built.
pub async fn checkpoint_position(pool: &Pool<Any>) -> Result<i64, ProjectionError> {
    Ok(
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = 'dashboard'")
            .fetch_one(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::figures::day_stats;

    #[test]
    fn histogram_matches_day_stats() {
        let days = vec![3, 3, 5, 10, 10, 10, 41];
        let histogram = vec![(3, 2), (5, 1), (10, 3), (41, 1)];
        assert_eq!(histogram_stats(&histogram), day_stats(days));
        let even = vec![(2, 1), (7, 1)];
        assert_eq!(histogram_stats(&even), day_stats(vec![2, 7]));
    }

    #[test]
    fn empty_histogram_has_no_stats() {
        assert_eq!(histogram_stats(&[]), DayStats::default());
        assert_eq!(histogram_stats(&[(4, 0)]), DayStats::default());
    }

    #[test]
    fn months_grouped_by_quarter_and_year() {
        let months: Breakdown = [("2025-01", 2), ("2025-03", 1), ("2025-04", 4)]
            .into_iter()
            .map(|(m, n)| (m.to_string(), n))
            .collect();
        let (quarters, years) = quarters_and_years(&months);
        assert_eq!(quarters.get("2025-Q1"), Some(&3));
        assert_eq!(quarters.get("2025-Q2"), Some(&4));
        assert_eq!(years.get("2025"), Some(&7));
    }
}
