//! French pages, rendered on the server from the templates in
//! `crates/web/templates/`. Each module owns the routes of one feature, and
//! each page struct has a [`Layout`] for the navigation bar and the CSRF
//! token of its forms.

mod admin;
mod bulk;
mod dashboard;
mod device;
mod donations;
mod evidence;
mod handover_sheet;
mod layout;
mod prescription_desk;
mod prescriptions;
mod quarterly;
mod scan;
mod stock;

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use filiere_domain::types::{Category, Grade};
use filiere_domain::DeviceStatus;
use filiere_projections::StockRow;

use crate::errors::AppError;
use crate::server::AppState;

pub(crate) use device::{parse_code, parse_step};
pub(crate) use handover_sheet::handover_sheet_response;
pub(crate) use layout::{home_for, Layout};
pub(crate) use prescription_desk::loan_scope;

/// Routes of every page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/style.css", get(stylesheet))
        .merge(scan::routes())
        .merge(device::routes())
        .merge(bulk::routes())
        .merge(donations::routes())
        .merge(evidence::routes())
        .merge(handover_sheet::routes())
        .merge(stock::routes())
        .merge(dashboard::routes())
        .merge(prescriptions::routes())
        .merge(prescription_desk::routes())
        .merge(quarterly::routes())
        .merge(admin::routes())
}

const STYLESHEET: &str = include_str!("../../static/style.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Renders `template` as an HTML page with `status`.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Result<Response, AppError> {
    let html = template.render()?;
    Ok((status, Html(html)).into_response())
}

/// One device of a list, with French labels.
#[derive(Clone, Debug)]
pub(crate) struct RowView {
    pub code: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    pub status: String,
    pub site: String,
    pub location: String,
    pub grade: String,
}

impl From<StockRow> for RowView {
    fn from(row: StockRow) -> RowView {
        RowView {
            category: category_label(&row.category),
            status: status_label(&row.status),
            grade: row.grade.as_deref().map(grade_label).unwrap_or_default(),
            serial: row.serial.unwrap_or_default(),
            code: row.code,
            brand: row.brand,
            model: row.model,
            site: row.site,
            location: row.location,
        }
    }
}

/// French label of a stored status name; the name itself when unknown.
pub(crate) fn status_label(status: &str) -> String {
    DeviceStatus::parse(status).map_or_else(|| status.to_string(), |s| s.label_fr().to_string())
}

pub(crate) fn category_label(category: &str) -> String {
    category
        .parse::<Category>()
        .map_or_else(|_| category.to_string(), |c| c.label_fr().to_string())
}

pub(crate) fn grade_label(grade: &str) -> String {
    grade
        .parse::<Grade>()
        .map_or_else(|_| grade.to_string(), |g| g.label_fr().to_string())
}

/// Formats a stored RFC 3339 time as a French date and time in the pages'
/// time zone (see [`crate::local_time`]).
pub(crate) fn french_time(stored: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(stored) {
        Ok(time) => crate::local_time::format_local(time.to_utc()),
        Err(_) => stored.to_string(),
    }
}

/// Formats a stored `YYYY-MM-DD` date as `DD/MM/YYYY`.
pub(crate) fn french_date(stored: &str) -> String {
    match chrono::NaiveDate::parse_from_str(stored, "%Y-%m-%d") {
        Ok(date) => date.format("%d/%m/%Y").to_string(),
        Err(_) => stored.to_string(),
    }
}
