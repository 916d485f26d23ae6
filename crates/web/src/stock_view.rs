//! The stock view shared by the page and the API: filters read from the
//! query string, the matching devices and their counts.

use filiere_domain::types::{Category, Grade};
use filiere_domain::DeviceStatus;
use filiere_projections::{queries, StockFilter, StockRow};

use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::server::AppState;

/// Devices listed at most; counts cover every matching device.
pub const STOCK_LIMIT: i64 = 500;

/// Dimensions counted, in display order.
pub const DIMENSIONS: [&str; 4] = ["status", "category", "grade", "site"];

/// Devices matching a filter, and their counts per dimension.
#[derive(Clone, Debug)]
pub struct StockResult {
    pub filter: StockFilter,
    pub rows: Vec<StockRow>,
    /// Number of devices matching the filter.
    pub total: i64,
    /// Counts per value, for each name of [`DIMENSIONS`].
    pub counts: Vec<(&'static str, Vec<(String, i64)>)>,
}

/// Reads `site`, `status`, `category`, `grade` and `q` from the query. Enum
/// values may be stable names or French labels and are stored by stable
/// name.
pub fn stock_filter(query: &QueryMap) -> Result<StockFilter, AppError> {
    let status = match query.get("status") {
        None => None,
        Some(typed) => Some(
            DeviceStatus::parse(typed)
                .ok_or_else(|| invalid_filter("status", typed, &status_names()))?
                .as_str()
                .to_string(),
        ),
    };
    Ok(StockFilter {
        site: query.get("site").map(str::to_string),
        status,
        category: parse_named::<Category>(query, "category")?,
        grade: parse_named::<Grade>(query, "grade")?,
        donation_id: None,
        holder: None,
        search: query.get("q").map(str::to_string),
    })
}

fn status_names() -> String {
    DeviceStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses an enum filter into its stable name.
fn parse_named<T>(query: &QueryMap, name: &'static str) -> Result<Option<String>, AppError>
where
    T: std::str::FromStr<Err = filiere_domain::types::UnknownValue> + std::fmt::Display,
{
    match query.get(name) {
        None => Ok(None),
        Some(typed) => typed
            .parse::<T>()
            .map(|value| Some(value.to_string()))
            .map_err(|error| invalid_filter(name, typed, &error.expected)),
    }
}

fn invalid_filter(name: &str, typed: &str, expected: &str) -> AppError {
    AppError::bad_request(
        "invalid_filter",
        format!(
            "Filtre « {} » invalide : « {typed} » ; valeurs acceptées : {expected}.",
            crate::messages_reasons::field_label_fr(name)
        ),
    )
}

/// Devices matching `filter` (at most [`STOCK_LIMIT`]) with their counts.
pub async fn load_stock(state: &AppState, filter: StockFilter) -> Result<StockResult, AppError> {
    let pool = state.store().pool();
    let rows = queries::stock_list(pool, &filter, STOCK_LIMIT).await?;
    let mut counts = Vec::with_capacity(DIMENSIONS.len());
    for dimension in DIMENSIONS {
        counts.push((
            dimension,
            queries::stock_counts(pool, &filter, dimension).await?,
        ));
    }
    let total = counts[0].1.iter().map(|(_, count)| count).sum();
    Ok(StockResult {
        filter,
        rows,
        total,
        counts,
    })
}
