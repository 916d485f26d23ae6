//! Donor documents for the pages and the API: a device's erasure
//! certificate, and a batch's certificates and reuse report, each built from
//! the log as of its current head (see [`crate::documents`]).

use axum::http::StatusCode;
use axum::response::Response;
use filiere_domain::DeviceCode;

use crate::auth::Caller;
use crate::batches::{find_batch, BatchUse};
use crate::documents::{
    certificate_pdf, device_certificate, donation_certificates, parse_donation_id, reuse_report,
    reuse_report_csv, reuse_report_pdf, DocumentError, IssueInfo,
};
use crate::errors::AppError;
use crate::evidence_upload::{attachment, view_device, visible_device};
use crate::recording::catch_up;
use crate::server::AppState;

/// Format of the reuse report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Pdf,
    Csv,
}

fn issue_info(state: &AppState) -> IssueInfo {
    IssueInfo {
        workshop_name: state.workshop_name.clone(),
        issued_on: chrono::Utc::now().date_naive(),
    }
}

/// Erasure certificate PDF of the device with `code`, for a caller who may
/// view it.
pub async fn device_certificate_pdf(
    state: &AppState,
    caller: &Caller,
    code: &DeviceCode,
) -> Result<Response, AppError> {
    visible_device(state, caller, code, view_device).await?;
    let set = device_certificate(&state.workshop, code)
        .await
        .map_err(document_error)?;
    let issue = issue_info(state);
    let pdf = tokio::task::spawn_blocking(move || certificate_pdf(&set, &issue))
        .await
        .map_err(AppError::internal)?;
    Ok(attachment(
        pdf,
        "application/pdf",
        &format!("certificat-effacement-{code}.pdf"),
    ))
}

/// Erasure certificates of every device of the batch `typed_id`, for a
/// caller who may print the batch's documents.
pub async fn batch_certificates_pdf(
    state: &AppState,
    caller: &Caller,
    typed_id: &str,
) -> Result<Response, AppError> {
    let batch = find_batch(state.store().pool(), caller, typed_id, BatchUse::Print).await?;
    let donation_id = parse_donation_id(&batch.donation_id).map_err(document_error)?;
    catch_up(state).await;
    let set = donation_certificates(&state.workshop, donation_id)
        .await
        .map_err(document_error)?;
    let issue = issue_info(state);
    let pdf = tokio::task::spawn_blocking(move || certificate_pdf(&set, &issue))
        .await
        .map_err(AppError::internal)?;
    Ok(attachment(
        pdf,
        "application/pdf",
        &format!("certificats-effacement-lot-{}.pdf", batch.donation_id),
    ))
}

/// Reuse report of the batch `typed_id` as PDF or CSV, for a caller who may
/// print the batch's documents.
pub async fn batch_reuse_report(
    state: &AppState,
    caller: &Caller,
    typed_id: &str,
    format: ReportFormat,
) -> Result<Response, AppError> {
    let batch = find_batch(state.store().pool(), caller, typed_id, BatchUse::Print).await?;
    let donation_id = parse_donation_id(&batch.donation_id).map_err(document_error)?;
    catch_up(state).await;
    let report = reuse_report(&state.workshop, donation_id)
        .await
        .map_err(document_error)?;
    let name = format!("rapport-reemploi-lot-{}", batch.donation_id);
    match format {
        ReportFormat::Pdf => {
            let issue = issue_info(state);
            let pdf = tokio::task::spawn_blocking(move || reuse_report_pdf(&report, &issue))
                .await
                .map_err(AppError::internal)?;
            Ok(attachment(pdf, "application/pdf", &format!("{name}.pdf")))
        }
        ReportFormat::Csv => {
            let csv = reuse_report_csv(&report).map_err(document_error)?;
            Ok(attachment(
                csv,
                "text/csv; charset=utf-8",
                &format!("{name}.csv"),
            ))
        }
    }
}

/// Maps a document error to a response: a missing device or batch is 404,
/// projections still catching up are 503, anything else is 500.
fn document_error(error: DocumentError) -> AppError {
    match &error {
        DocumentError::DeviceNotFound(code) => AppError::device_not_found(code),
        DocumentError::InvalidDonationId(id) | DocumentError::DonationNotFound(id) => {
            AppError::new(
                StatusCode::NOT_FOUND,
                "donation_not_found",
                format!("Aucun lot de dons avec l'identifiant « {id} »."),
            )
        }
        DocumentError::ProjectionBehind { .. } => AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "projection_behind",
            "Les listes de l'atelier sont en cours de mise à jour : réessayez dans quelques \
             secondes.",
        )
        .with_detail(error.to_string()),
        _ => AppError::internal(format!("document not built: {error}")),
    }
}
