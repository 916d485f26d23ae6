//! The stock page: filters by site, status, category and grade, counts per
//! value, and the matching devices with links to their pages.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use filiere_domain::types::{Category, Grade};
use filiere_domain::DeviceStatus;
use filiere_projections::{queries, StockFilter};

use super::{category_label, grade_label, render, status_label, Layout, RowView};
use crate::auth::{gate, Allowed};
use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::forms::SelectOption;
use crate::server::AppState;
use crate::stock_view::{load_stock, stock_filter, STOCK_LIMIT};

pub fn routes() -> Router<AppState> {
    Router::new().route("/stock", get(show))
}

/// One filter select.
struct FilterView {
    name: &'static str,
    label: &'static str,
    options: Vec<SelectOption>,
}

/// One row of a count table.
struct CountView {
    label: String,
    count: i64,
}

/// Counts along one dimension.
struct CountTable {
    label: &'static str,
    rows: Vec<CountView>,
}

#[derive(Template)]
#[template(path = "stock.html")]
struct StockPage {
    layout: Layout,
    filters: Vec<FilterView>,
    query: String,
    counts: Vec<CountTable>,
    total: i64,
    truncated: bool,
    results: Vec<RowView>,
}

/// Shows the stock of the caller's organisation, or of every organisation
/// for an administrator.
async fn show(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewStock>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let holder = caller.holder_filter();
    let filter = StockFilter {
        holder: holder.clone(),
        ..stock_filter(&query)?
    };
    let every_site = StockFilter {
        holder,
        ..StockFilter::default()
    };
    let sites = queries::stock_counts(state.store().pool(), &every_site, "site")
        .await?
        .into_iter()
        .map(|(site, _)| site)
        .collect();
    let filters = filter_views(&filter, sites);
    let stock = load_stock(&state, filter).await?;
    let page = StockPage {
        layout: caller.layout(),
        filters,
        query: stock.filter.search.clone().unwrap_or_default(),
        counts: stock
            .counts
            .into_iter()
            .filter(|(dimension, _)| *dimension != "site")
            .map(|(dimension, rows)| count_table(dimension, rows))
            .collect(),
        truncated: stock.total > STOCK_LIMIT,
        total: stock.total,
        results: stock.rows.into_iter().map(RowView::from).collect(),
    };
    render(StatusCode::OK, &page)
}

fn options(values: Vec<(String, String)>, selected: Option<&str>) -> Vec<SelectOption> {
    values
        .into_iter()
        .map(|(value, label)| SelectOption {
            selected: selected == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

fn filter_views(filter: &StockFilter, sites: Vec<String>) -> Vec<FilterView> {
    let named = |value: &str, label: &str| (value.to_string(), label.to_string());
    vec![
        FilterView {
            name: "site",
            label: "Site",
            options: options(
                sites.into_iter().map(|s| (s.clone(), s)).collect(),
                filter.site.as_deref(),
            ),
        },
        FilterView {
            name: "status",
            label: "État",
            options: options(
                DeviceStatus::ALL
                    .iter()
                    .map(|s| named(s.as_str(), s.label_fr()))
                    .collect(),
                filter.status.as_deref(),
            ),
        },
        FilterView {
            name: "category",
            label: "Catégorie",
            options: options(
                Category::ALL
                    .iter()
                    .map(|c| named(c.as_str(), c.label_fr()))
                    .collect(),
                filter.category.as_deref(),
            ),
        },
        FilterView {
            name: "grade",
            label: "Grade",
            options: options(
                Grade::ALL
                    .iter()
                    .map(|g| named(g.as_str(), g.label_fr()))
                    .collect(),
                filter.grade.as_deref(),
            ),
        },
    ]
}

fn count_table(dimension: &str, rows: Vec<(String, i64)>) -> CountTable {
    let (label, describe): (&'static str, fn(&str) -> String) = match dimension {
        "status" => ("état", status_label),
        "category" => ("catégorie", category_label),
        _ => ("grade", grade_label),
    };
    CountTable {
        label,
        rows: rows
            .into_iter()
            .map(|(value, count)| CountView {
                label: if value.is_empty() {
                    "non renseigné".to_string()
                } else {
                    describe(&value)
                },
                count,
            })
            .collect(),
    }
}
