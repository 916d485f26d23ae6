//! The funders' quarterly report as PDF, at
//! `/tableau-de-bord/rapport-trimestriel.pdf?trimestre=2026-Q3`, for the
//! roles that may see aggregate figures. It is computed from a replay of
//! the log as of the quarter's last day (today while the quarter runs), with
//! the audit target that applied on that day.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use filiere_domain::territory::Territories;
use filiere_projections::audit::{
    build_quarterly_report, load_target_at, replay, resolve_target, AuditError, Cutoff, Quarter,
    QuarterError,
};
use serde::Deserialize;

use crate::auth::{gate, Allowed};
use crate::documents::quarterly_report_pdf;
use crate::errors::AppError;
use crate::evidence_upload::attachment;
use crate::server::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/tableau-de-bord/rapport-trimestriel.pdf",
        get(quarterly_report),
    )
}

#[derive(Debug, Deserialize)]
struct QuarterQuery {
    trimestre: Option<String>,
}

async fn quarterly_report(
    State(state): State<AppState>,
    Allowed { .. }: Allowed<gate::ViewAggregates>,
    Query(query): Query<QuarterQuery>,
) -> Result<Response, AppError> {
    let typed = query.trimestre.unwrap_or_default();
    if typed.trim().is_empty() {
        return Err(AppError::bad_request(
            "missing_quarter",
            "Indiquez le trimestre dans l'adresse, par exemple ?trimestre=2026-Q3.",
        ));
    }

    let quarter: Quarter = typed.parse().map_err(quarter_error)?;
    let today = Utc::now().date_naive();
    let day = quarter.cutoff_day(None, today).map_err(quarter_error)?;
    let store = state.store();
    let replayed = replay(store, Cutoff::Date(day), today)
        .await
        .map_err(audit_error)?;
    let target = match load_target_at(store, &replayed)
        .await
        .map_err(audit_error)?
    {
        Some(target) => Some(
            resolve_target(Territories::embedded(), target)
                .map_err(|e| audit_error(AuditError::Target(e)))?,
        ),
        None => None,
    };

    let quarterly = build_quarterly_report(&replayed, target, quarter);
    let pdf = tokio::task::spawn_blocking(move || quarterly_report_pdf(&quarterly))
        .await
        .map_err(AppError::internal)?;
    Ok(attachment(
        pdf,
        "application/pdf",
        &format!("rapport-trimestriel-{quarter}.pdf"),
    ))
}

fn quarter_error(error: QuarterError) -> AppError {
    let message = match &error {
        QuarterError::Invalid(value) => format!(
            "Trimestre « {value} » invalide : écrivez l'année, un tiret, Q et un numéro de 1 à \
             4, par exemple 2026-Q3."
        ),
        QuarterError::NotStarted {
            quarter, current, ..
        } => format!(
            "Le trimestre {quarter} n'a pas encore commencé : choisissez un trimestre jusqu'à \
             {current}."
        ),
        QuarterError::OutsideQuarter { as_of, quarter, .. } => {
            format!("La date {as_of} n'est pas dans le trimestre {quarter}.")
        }
    };
    AppError::bad_request("invalid_quarter", message).with_detail(error.to_string())
}

/// Maps the audit's errors to French messages. A cutoff that the log
/// cannot serve (empty log, quarter before the first event) is the caller's
/// choice; anything else is a server failure.
fn audit_error(error: AuditError) -> AppError {
    match &error {
        AuditError::InvalidCutoff(_) => AppError::bad_request(
            "invalid_quarter",
            "Aucun chiffre n'existe pour ce trimestre : le journal est vide ou commence après \
             la fin du trimestre. Choisissez un trimestre plus récent.",
        )
        .with_detail(error.to_string()),
        _ => AppError::internal(error),
    }
}
