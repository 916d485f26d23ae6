//! The handover sheet PDF of a prescription, for API clients. Same document
//! and access rule as the page; errors are JSON.

use axum::extract::{Path, State};
use axum::response::Response;

use super::ErrorBody;
use crate::auth::gate::SignedIn;
use crate::errors::AppError;
use crate::pages::handover_sheet_response;
use crate::server::AppState;

/// Handover sheet of a prescription: loan agreement, donation certificate
/// or solidarity sale receipt, in French.
#[utoipa::path(
    get,
    path = "/api/v1/prescriptions/{id}/handover-sheet.pdf",
    tag = "prescriptions",
    params(("id" = String, Path, description = "Prescription id")),
    responses(
        (status = 200, description = "PDF of the handover sheet", content_type = "application/pdf"),
        (status = 400, description = "The id is not a prescription id", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role handles no prescription", body = ErrorBody),
        (status = 404, description = "No prescription with this id for the token's organisation", body = ErrorBody),
        (status = 409, description = "The device is not handed over yet", body = ErrorBody),
    )
)]
pub async fn get_handover_sheet(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    handover_sheet_response(&state, &caller, &id).await
}
