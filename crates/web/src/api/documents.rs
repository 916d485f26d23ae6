//! Donor documents through the API: a device's erasure certificate, and a
//! batch's certificates and reuse report.

use axum::extract::{Path, State};
use axum::response::Response;

use super::ErrorBody;
use crate::auth::{gate, Allowed};
use crate::donor_documents::{
    batch_certificates_pdf, batch_reuse_report, device_certificate_pdf, ReportFormat,
};
use crate::errors::AppError;
use crate::pages::parse_code;
use crate::server::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/devices/{code}/certificate.pdf",
    tag = "documents",
    params(("code" = String, Path, description = "Device code")),
    responses(
        (status = 200, description = "Erasure certificate of the device (French, A4)", content_type = "application/pdf"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not open devices", body = ErrorBody),
        (status = 404, description = "No device with this code held by the token's organisation", body = ErrorBody),
    )
)]
pub async fn device_certificate(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewDevices>,
    Path(typed): Path<String>,
) -> Result<Response, AppError> {
    let code = parse_code(&typed)?;
    device_certificate_pdf(&state, &caller, &code).await
}

#[utoipa::path(
    get,
    path = "/api/v1/donations/{id}/certificates.pdf",
    tag = "documents",
    params(("id" = String, Path, description = "Donation batch id")),
    responses(
        (status = 200, description = "Erasure certificates of every device of the batch", content_type = "application/pdf"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not print documents", body = ErrorBody),
        (status = 404, description = "No batch with this id recorded by the token's organisation", body = ErrorBody),
    )
)]
pub async fn donation_certificates(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    batch_certificates_pdf(&state, &caller, &id).await
}

#[utoipa::path(
    get,
    path = "/api/v1/donations/{id}/reuse-report.pdf",
    tag = "documents",
    params(("id" = String, Path, description = "Donation batch id")),
    responses(
        (status = 200, description = "Reuse report of the batch: each device's outcome and the reuse rate", content_type = "application/pdf"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not print documents", body = ErrorBody),
        (status = 404, description = "No batch with this id recorded by the token's organisation", body = ErrorBody),
    )
)]
pub async fn donation_reuse_pdf(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    batch_reuse_report(&state, &caller, &id, ReportFormat::Pdf).await
}

#[utoipa::path(
    get,
    path = "/api/v1/donations/{id}/reuse-report.csv",
    tag = "documents",
    params(("id" = String, Path, description = "Donation batch id")),
    responses(
        (status = 200, description = "Reuse report of the batch as CSV, one row per device", content_type = "text/csv"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not print documents", body = ErrorBody),
        (status = 404, description = "No batch with this id recorded by the token's organisation", body = ErrorBody),
    )
)]
pub async fn donation_reuse_csv(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::PrintDocuments>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    batch_reuse_report(&state, &caller, &id, ReportFormat::Csv).await
}
