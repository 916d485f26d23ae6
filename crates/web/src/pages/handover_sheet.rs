//! The handover sheet PDF of a prescription, at
//! `/prescriptions/{id}/fiche-remise.pdf`. The API serves the same document
//! through [`handover_sheet_response`], with JSON errors.
//!
//! The sheet prints the household's name, so it is served to those who may
//! see the household's identity: the referrer's organisation and the
//! workshop that accepted the prescription. Anyone else gets the 404 of a
//! missing prescription, and a role that handles no prescription gets 403.

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use filiere_domain::access::Action;
use filiere_domain::PrescriptionId;

use crate::auth::gate::SignedIn;
use crate::auth::Caller;
use crate::documents::{handover_sheet, handover_sheet_pdf, DocumentError};
use crate::errors::AppError;
use crate::server::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/prescriptions/{id}/fiche-remise.pdf", get(sheet_page))
}

async fn sheet_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    handover_sheet_response(&state, &caller, &id).await
}

/// Builds the handover sheet of prescription `id` as a PDF response, after
/// checking that `caller` may see the household's identity.
pub(crate) async fn handover_sheet_response(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Response, AppError> {
    let own = caller.principal.organisation_id.as_str();
    let handles_prescriptions = caller.may(&Action::HandlePrescriptions {
        organisation_id: own,
    });
    if !handles_prescriptions {
        caller.require(&Action::ManagePrescriptions {
            organisation_id: own,
        })?;
    }
    let id = PrescriptionId::from_str(id.trim()).map_err(|_| invalid_id(id))?;
    let prescription = state
        .workshop
        .load_prescription(id)
        .await
        .map_err(AppError::internal)?
        .ok_or_else(|| prescription_not_found(id))?;
    let action = Action::ViewHouseholdIdentity {
        referrer_organisation: &prescription.issued.referrer_organisation,
        workshop_organisation: prescription.workshop_organisation.as_deref(),
    };
    caller.require_or_hide(&action, prescription_not_found(id))?;

    let sheet = handover_sheet(&state.workshop, id, &state.workshop_name)
        .await
        .map_err(sheet_error)?;
    let pdf = handover_sheet_pdf(&sheet, Utc::now().date_naive());
    let file_name = format!("fiche-remise-{id}.pdf");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ),
            // The sheet names the household: no shared cache may keep it.
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        pdf,
    )
        .into_response())
}

fn invalid_id(text: &str) -> AppError {
    AppError::bad_request(
        "invalid_prescription_id",
        format!(
            "Identifiant de prescription invalide : « {text} ». Copiez l'identifiant affiché sur \
             la page de la prescription."
        ),
    )
}

fn prescription_not_found(id: PrescriptionId) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "prescription_not_found",
        format!("Aucune prescription avec l'identifiant {id}."),
    )
}

fn sheet_error(error: DocumentError) -> AppError {
    match error {
        DocumentError::PrescriptionNotFound(_) => AppError::new(
            StatusCode::NOT_FOUND,
            "prescription_not_found",
            "Aucune prescription avec cet identifiant.",
        ),
        DocumentError::NotHandedOver {
            prescription,
            status,
        } => AppError::new(
            StatusCode::CONFLICT,
            "not_handed_over",
            format!(
                "La prescription {prescription} est au statut « {} » : la fiche de remise \
                 s'imprime une fois l'appareil remis. Enregistrez d'abord la remise.",
                status.label_fr()
            ),
        ),
        other => AppError::internal(other),
    }
}
