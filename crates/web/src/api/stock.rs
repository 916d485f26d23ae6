//! `GET /api/v1/stock`: devices and counts, with the page's filters, for the
//! caller's organisation (every organisation for an administrator).

use axum::extract::State;
use axum::Json;
use filiere_projections::StockFilter;
use serde::Serialize;
use utoipa::ToSchema;

use super::{counts, Count, ErrorBody, StockDevice};
use crate::auth::{gate, Allowed};
use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::pages::{category_label, grade_label, status_label};
use crate::server::AppState;
use crate::stock_view::{load_stock, stock_filter};

/// Counts of the matching devices per value.
#[derive(Serialize, ToSchema)]
pub struct StockCounts {
    pub status: Vec<Count>,
    pub category: Vec<Count>,
    pub grade: Vec<Count>,
    pub site: Vec<Count>,
}

/// Devices matching the filters, most recently changed first.
#[derive(Serialize, ToSchema)]
pub struct StockResponse {
    /// Number of matching devices; `devices` contains at most 500 of them.
    pub total: i64,
    pub devices: Vec<StockDevice>,
    pub counts: StockCounts,
}

#[utoipa::path(
    get,
    path = "/api/v1/stock",
    tag = "stock",
    params(
        ("site" = Option<String>, Query, description = "Site name"),
        ("status" = Option<String>, Query, description = "Status, such as in_stock"),
        ("category" = Option<String>, Query, description = "Category, such as laptop"),
        ("grade" = Option<String>, Query, description = "Grade: a, b or c"),
        ("q" = Option<String>, Query, description = "Start of a code, serial or model"),
    ),
    responses(
        (status = 200, description = "Matching devices and counts", body = StockResponse),
        (status = 400, description = "Unknown status, category or grade", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not see the stock", body = ErrorBody),
    )
)]
pub async fn get_stock(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
    query: QueryMap,
) -> Result<Json<StockResponse>, AppError> {
    let filter = StockFilter {
        holder: caller.holder_filter(),
        ..stock_filter(&query)?
    };
    let stock = load_stock(&state, filter).await?;
    let by_name = |name: &str, describe: fn(&str) -> String| {
        stock
            .counts
            .iter()
            .find(|(dimension, _)| *dimension == name)
            .map(|(_, rows)| counts(rows.clone(), describe))
            .unwrap_or_default()
    };
    let counts = StockCounts {
        status: by_name("status", status_label),
        category: by_name("category", category_label),
        grade: by_name("grade", grade_label),
        site: by_name("site", str::to_string),
    };
    Ok(Json(StockResponse {
        total: stock.total,
        devices: stock.rows.into_iter().map(StockDevice::from).collect(),
        counts,
    }))
}
