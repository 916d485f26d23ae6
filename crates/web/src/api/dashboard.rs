//! `GET /api/v1/dashboard`: the funders' dashboard figures as JSON, with the
//! filters of the `/tableau-de-bord` page. Aggregates only: no household
//! appears.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use filiere_projections::audit::figures::DayStats;
use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::{gate, Allowed};
use crate::dashboard_view::{load_view, parse_query, DashboardView};
use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::server::AppState;

/// The log prefix the figures were built from.
#[derive(Serialize, ToSchema)]
pub struct DashboardLog {
    /// Log position the dashboard projection was built up to.
    pub position: i64,
    /// Hash of the event at `position`, which chains every event before it;
    /// check it with `filiere verify`.
    pub hash: String,
    /// Day (UTC) overdue loans and stock ages are computed for.
    pub reference_date: String,
}

/// The filters applied, after validation.
#[derive(Serialize, ToSchema)]
pub struct DashboardFilters {
    pub from_month: Option<String>,
    pub to_month: Option<String>,
    /// Organisation id of the workshop.
    pub workshop: Option<String>,
    pub category: Option<String>,
    /// Territory code, or `FR` for the whole country.
    pub territory: String,
    pub territory_name: String,
}

/// The share of the national target the progress is measured against.
#[derive(Serialize, ToSchema)]
pub struct DashboardTarget {
    pub national_target: u64,
    /// `devices`, `computers` or `households`.
    pub unit: String,
    /// `population`, `manual` or `national`.
    pub share_method: String,
    pub territory_code: String,
    pub territory_name: String,
    pub share: u64,
    /// Whether this is the target set with `filiere audit target set`.
    pub configured: bool,
}

/// Progress toward the share, in the target's unit.
#[derive(Serialize, ToSchema)]
pub struct DashboardProgress {
    pub figure: u64,
    pub share: u64,
    /// `figure / share` in percent, rounded to a hundredth.
    pub percent: f64,
}

/// Summary of durations in days; empty lists give `null`s.
#[derive(Serialize, ToSchema)]
pub struct DurationStats {
    pub count: u64,
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
    pub max_days: Option<i64>,
}

impl From<&DayStats> for DurationStats {
    fn from(stats: &DayStats) -> DurationStats {
        DurationStats {
            count: stats.count,
            median_days: stats.median_days,
            mean_days: stats.mean_days,
            max_days: stats.max_days,
        }
    }
}

/// Impact avoided with the ADEME factors, for one year of use per device.
#[derive(Serialize, ToSchema)]
pub struct DashboardImpact {
    pub laptops_counted: u64,
    pub smartphones_counted: u64,
    pub co2e_grams_avoided: u64,
    pub raw_materials_grams_avoided: u64,
    pub devices_not_counted: u64,
    pub source: String,
}

/// Handover events counted by one dimension; the empty key stands for
/// handovers without a prescription (or without a programme).
#[derive(Serialize, ToSchema)]
pub struct DashboardBreakdowns {
    pub month: BTreeMap<String, u64>,
    pub quarter: BTreeMap<String, u64>,
    pub year: BTreeMap<String, u64>,
    /// By organisation id.
    pub workshop: BTreeMap<String, u64>,
    pub category: BTreeMap<String, u64>,
    pub eligibility: BTreeMap<String, u64>,
    /// `qpv`, `zrr`, `qpv_zrr` or `neither`.
    pub area: BTreeMap<String, u64>,
    pub programme: BTreeMap<String, u64>,
}

/// Totals under the filters.
#[derive(Serialize, ToSchema)]
pub struct DashboardTotals {
    pub handovers: u64,
    pub devices_handed_over: u64,
    pub computers_handed_over: u64,
    pub households_equipped: u64,
    pub donation_batches: u64,
    pub donated_devices: u64,
    pub reused: u64,
    pub recycled: u64,
    pub recycled_weight_grams: u64,
    pub dismantled: u64,
    pub written_off: u64,
    pub loans_returned: u64,
    pub loans_active: u64,
    pub loans_overdue: u64,
    pub training_attended: u64,
    pub in_stock: u64,
    pub reserved: u64,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardResponse {
    pub log: DashboardLog,
    pub filters: DashboardFilters,
    pub target: Option<DashboardTarget>,
    pub progress: Option<DashboardProgress>,
    /// Reason the share could not be computed, in French.
    pub target_error: Option<String>,
    pub totals: DashboardTotals,
    pub handovers_by: DashboardBreakdowns,
    pub donated_devices_by_month: BTreeMap<String, u64>,
    pub lead_time: DurationStats,
    pub stock_age: DurationStats,
    pub impact: Option<DashboardImpact>,
}

#[utoipa::path(
    get,
    path = "/api/v1/dashboard",
    tag = "dashboard",
    params(
        ("du" = Option<String>, Query, description = "First month counted, AAAA-MM"),
        ("au" = Option<String>, Query, description = "Last month counted, AAAA-MM"),
        ("atelier" = Option<String>, Query, description = "Workshop organisation id or name"),
        ("categorie" = Option<String>, Query, description = "Device category, such as laptop"),
        ("territoire" = Option<String>, Query, description = "Household territory: département (28), EPCI SIREN or INSEE commune code (28085), or FR; defaults to the configured target's territory"),
    ),
    responses(
        (status = 200, description = "Aggregate figures under the filters", body = DashboardResponse),
        (status = 400, description = "Invalid month, unknown workshop, category or territory", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not see aggregates", body = ErrorBody),
    )
)]
pub async fn get_dashboard(
    State(state): State<AppState>,
    Allowed { .. }: Allowed<gate::ViewAggregates>,
    query: QueryMap,
) -> Result<Json<DashboardResponse>, AppError> {
    let parsed = parse_query(&state, &query).await?;
    let view = load_view(&state, parsed).await?;
    Ok(Json(response(&view)))
}

fn response(view: &DashboardView) -> DashboardResponse {
    let filter = &view.query.filter;
    let figures = &view.figures;
    let (territory, territory_name) = view.query.territory.as_ref().map_or_else(
        || ("FR".to_string(), "France entière".to_string()),
        |t| (t.code.clone(), t.name.clone()),
    );
    let by = &figures.handovers_by;
    DashboardResponse {
        log: DashboardLog {
            position: view.log_position,
            hash: view.log_hash.clone(),
            reference_date: view.reference_date.to_string(),
        },
        filters: DashboardFilters {
            from_month: filter.from_month.clone(),
            to_month: filter.to_month.clone(),
            workshop: filter.workshop.clone(),
            category: filter.category.map(|c| c.as_str().to_string()),
            territory,
            territory_name,
        },
        target: view.target.as_ref().map(|t| DashboardTarget {
            national_target: t.national_target,
            unit: t.unit.as_str().to_string(),
            share_method: t.share_method.to_string(),
            territory_code: t.territory_code.clone(),
            territory_name: t.territory_name.clone(),
            share: t.share,
            configured: t.configured,
        }),
        progress: view.progress.as_ref().map(|p| DashboardProgress {
            figure: p.figure,
            share: p.share,
            percent: p.basis_points as f64 / 100.0,
        }),
        target_error: view.target_error.clone(),
        totals: DashboardTotals {
            handovers: figures.handovers,
            devices_handed_over: figures.devices_handed_over,
            computers_handed_over: figures.computers_handed_over,
            households_equipped: figures.households_equipped,
            donation_batches: figures.donation_batches,
            donated_devices: figures.donated_devices,
            reused: figures.outcomes.reused,
            recycled: figures.outcomes.recycled,
            recycled_weight_grams: figures.outcomes.recycled_weight_grams,
            dismantled: figures.outcomes.dismantled,
            written_off: figures.outcomes.written_off,
            loans_returned: figures.loans_returned,
            loans_active: figures.loans_active,
            loans_overdue: figures.loans_overdue,
            training_attended: figures.training_attended,
            in_stock: figures.in_stock,
            reserved: figures.reserved,
        },
        handovers_by: DashboardBreakdowns {
            month: by.month.clone(),
            quarter: by.quarter.clone(),
            year: by.year.clone(),
            workshop: by.workshop.clone(),
            category: by.category.clone(),
            eligibility: by.eligibility.clone(),
            area: by.area.clone(),
            programme: by.programme.clone(),
        },
        donated_devices_by_month: figures.donated_devices_by_month.clone(),
        lead_time: DurationStats::from(&figures.lead_time),
        stock_age: DurationStats::from(&figures.stock_age),
        impact: figures.impact.as_ref().map(|i| DashboardImpact {
            laptops_counted: i.laptops_counted,
            smartphones_counted: i.smartphones_counted,
            co2e_grams_avoided: i.co2e_grams_avoided,
            raw_materials_grams_avoided: i.raw_materials_grams_avoided,
            devices_not_counted: i.devices_not_counted,
            source: i.source.to_string(),
        }),
    }
}
