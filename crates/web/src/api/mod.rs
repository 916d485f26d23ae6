//! JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`.
//!
//! Every request needs an API token, `Authorization: Bearer fil_...`, which
//! acts with one role for one organisation (see [`crate::auth`]); a GET may
//! use a signed-in browser session instead.
//!
//! Errors have the body `{"error": {"code": "...", "message": "..."}}`: a
//! stable snake_case code for programs and a French message for people.
//! Statuses: 400 for invalid input, 401 without a valid token, 403 when the
//! token's role may not use the route, 404 for an unknown device or batch or
//! one of another organisation, 409
//! for a conflict or a step not allowed in the device's status, 413 for a
//! body over 1 MiB (32 MiB for an evidence upload). A rule violation, such
//! as a device not ready or a price above the cap, is 422, and anything else
//! is 500 with a general message.

mod dashboard;
mod devices;
mod documents;
mod donations;
mod evidence;
mod handover_sheet;
mod openapi;
mod prescriptions;
mod stock;

use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use crate::server::AppState;

pub use openapi::ApiDoc;

/// Routes of the API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices/{code}", get(devices::get_device))
        .route(
            "/api/v1/devices/{code}/steps/{step}",
            post(devices::post_step),
        )
        .route("/api/v1/stock", get(stock::get_stock))
        .route("/api/v1/dashboard", get(dashboard::get_dashboard))
        .route(
            "/api/v1/donations",
            get(donations::list_donations).post(donations::create_donation),
        )
        .route("/api/v1/donations/{id}", get(donations::get_donation))
        .route(
            "/api/v1/donations/{id}/labels.pdf",
            get(donations::donation_labels),
        )
        .route(
            "/api/v1/prescriptions/{id}/handover-sheet.pdf",
            get(handover_sheet::get_handover_sheet),
        )
        .route(
            "/api/v1/devices/{code}/evidence",
            get(evidence::list_evidence)
                .post(evidence::post_evidence)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::evidence_upload::UPLOAD_LIMIT_BYTES,
                )),
        )
        .route("/api/v1/evidence/{sha256}", get(evidence::get_evidence))
        .route(
            "/api/v1/devices/{code}/certificate.pdf",
            get(documents::device_certificate),
        )
        .route(
            "/api/v1/donations/{id}/certificates.pdf",
            get(documents::donation_certificates),
        )
        .route(
            "/api/v1/donations/{id}/reuse-report.pdf",
            get(documents::donation_reuse_pdf),
        )
        .route(
            "/api/v1/donations/{id}/reuse-report.csv",
            get(documents::donation_reuse_csv),
        )
        .merge(prescription_routes())
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
}

/// Routes of `/api/v1/prescriptions...`.
fn prescription_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/prescriptions",
            get(prescriptions::list_prescriptions).post(prescriptions::issue_prescription),
        )
        .route(
            "/api/v1/prescriptions/incoming",
            get(prescriptions::incoming),
        )
        .route("/api/v1/prescriptions/overdue", get(prescriptions::overdue))
        .route(
            "/api/v1/prescriptions/{id}",
            get(prescriptions::get_prescription),
        )
        .route(
            "/api/v1/prescriptions/{id}/matches",
            get(prescriptions::get_matches),
        )
        .route(
            "/api/v1/prescriptions/{id}/accept",
            post(prescriptions::accept),
        )
        .route(
            "/api/v1/prescriptions/{id}/decline",
            post(prescriptions::decline),
        )
        .route(
            "/api/v1/prescriptions/{id}/reserve",
            post(prescriptions::reserve),
        )
        .route(
            "/api/v1/prescriptions/{id}/handover",
            post(prescriptions::hand_over),
        )
        .route(
            "/api/v1/prescriptions/{id}/extend",
            post(prescriptions::extend),
        )
        .route(
            "/api/v1/prescriptions/{id}/return",
            post(prescriptions::return_device),
        )
        .route(
            "/api/v1/prescriptions/{id}/convert",
            post(prescriptions::convert),
        )
        .route(
            "/api/v1/prescriptions/{id}/training",
            post(prescriptions::training),
        )
}

/// Body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, such as `step_not_allowed` or `price_above_cap`.
    pub code: String,
    /// French message for the person at the bench.
    pub message: String,
}

/// Number of devices with one value of a dimension.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Count {
    /// Stable value, such as `in_stock`; empty when not recorded.
    pub value: String,
    /// French label of the value.
    pub label: String,
    pub count: i64,
}

/// A device of the stock view.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StockDevice {
    pub device_id: String,
    pub code: String,
    pub donation_id: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: Option<String>,
    pub status: String,
    pub site: String,
    pub location: String,
    pub grade: Option<String>,
    /// `passed`, `failed`, or absent before diagnosis.
    pub functional_test: Option<String>,
    /// `none` (nothing to erase), `pending`, `failed` or `passed`.
    pub erasure: String,
    /// Whether the device may go to a household now.
    pub ready: bool,
    pub received_at: String,
    pub updated_at: String,
}

impl From<filiere_projections::StockRow> for StockDevice {
    fn from(row: filiere_projections::StockRow) -> StockDevice {
        StockDevice {
            device_id: row.device_id,
            code: row.code,
            donation_id: row.donation_id,
            category: row.category,
            brand: row.brand,
            model: row.model,
            serial: row.serial,
            status: row.status,
            site: row.site,
            location: row.location,
            grade: row.grade,
            functional_test: row.functional_test,
            erasure: row.erasure,
            ready: row.ready,
            received_at: row.received_at,
            updated_at: row.updated_at,
        }
    }
}

/// Counts of `(value, count)` pairs with French labels from `describe`.
pub(crate) fn counts(rows: Vec<(String, i64)>, describe: fn(&str) -> String) -> Vec<Count> {
    rows.into_iter()
        .map(|(value, count)| Count {
            label: describe(&value),
            value,
            count,
        })
        .collect()
}
