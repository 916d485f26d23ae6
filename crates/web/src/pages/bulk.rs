//! Bulk mode: one step with the same fields on many devices, scanned one per
//! line. Each device is recorded on its own, so one rejection does not stop
//! the others, and the page lists the outcome of every line.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use filiere_domain::command::Step;
use filiere_domain::fields::Fields;
use filiere_domain::DeviceCode;

use super::device::parse_step;
use super::{render, Layout};
use crate::auth::{gate, Allowed, Caller};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::{step_form, SelectOption, StepForm};
use crate::messages::message_fr;
use crate::recording::{catch_up, record_step_only, StepRequest};
use crate::server::AppState;

/// Codes accepted in one submission, to bound the time of one request.
pub const MAX_BULK_CODES: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/bulk", get(show).post(apply))
}

/// Outcome of one line of the list.
struct LineResult {
    /// Text as scanned, or the code once read.
    typed: String,
    /// Device page, empty when the line is not a known device.
    link: String,
    ok: bool,
    message: String,
}

#[derive(Template)]
#[template(path = "bulk.html")]
struct BulkPage {
    layout: Layout,
    steps: Vec<SelectOption>,
    form: StepForm,
    max_codes: usize,
    results: Vec<LineResult>,
    recorded: usize,
    rejected: usize,
}

impl BulkPage {
    fn new(caller: &Caller, step: Step, results: Vec<LineResult>) -> BulkPage {
        let recorded = results.iter().filter(|r| r.ok).count();
        BulkPage {
            layout: caller.layout(),
            steps: Step::ALL
                .iter()
                .map(|s| SelectOption {
                    value: s.as_str().to_string(),
                    label: s.label_fr().to_string(),
                    selected: *s == step,
                })
                .collect(),
            form: step_form(step, None),
            max_codes: MAX_BULK_CODES,
            rejected: results.len() - recorded,
            recorded,
            results,
        }
    }
}

async fn show(
    Allowed { caller, .. }: Allowed<gate::RecordSteps>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let step = match query.get("step") {
        Some(name) => parse_step(name)?,
        None => Step::Move,
    };
    render(StatusCode::OK, &BulkPage::new(&caller, step, Vec::new()))
}

async fn apply(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::RecordSteps>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let step = parse_step(form.get("step").unwrap_or_default())?;
    let lines: Vec<&str> = form
        .get("codes")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(AppError::bad_request(
            "no_codes",
            "Aucun code : scannez au moins une étiquette, une par ligne.",
        )
        .back_to(format!("/bulk?step={}", step.as_str())));
    }
    if lines.len() > MAX_BULK_CODES {
        return Err(AppError::bad_request(
            "too_many_codes",
            format!(
                "{} codes reçus : {MAX_BULK_CODES} au plus par envoi. Découpez la liste.",
                lines.len()
            ),
        )
        .back_to(format!("/bulk?step={}", step.as_str())));
    }
    let fields = form.to_fields(&["step", "codes", crate::auth::csrf::FIELD]);
    let mut seen = BTreeSet::new();
    let mut results = Vec::with_capacity(lines.len());
    for line in lines {
        results.push(apply_line(&state, &caller, step, &fields, line, &mut seen).await);
    }
    catch_up(&state).await;
    render(StatusCode::OK, &BulkPage::new(&caller, step, results))
}

/// Records `step` on the device of one line. A code met earlier in the list
/// is skipped. A device of another organisation is reported as unknown.
async fn apply_line(
    state: &AppState,
    caller: &Caller,
    step: Step,
    fields: &Fields,
    line: &str,
    seen: &mut BTreeSet<DeviceCode>,
) -> LineResult {
    let code = match DeviceCode::parse_scanned(line) {
        Ok(code) => code,
        Err(error) => return rejected(line, String::new(), message_fr(&error)),
    };
    let link = format!("/d/{code}");
    if !seen.insert(code.clone()) {
        return rejected(
            code.as_str(),
            link,
            "Déjà dans la liste : traité une seule fois.".to_string(),
        );
    }
    let request = StepRequest {
        caller,
        code: &code,
        step,
        fields,
        expected_version: None,
        command_id: None,
    };
    match record_step_only(state, request).await {
        Ok(outcome) => LineResult {
            typed: code.to_string(),
            link,
            ok: true,
            message: format!("Enregistré : {}", outcome.device.status.label_fr()),
        },
        Err(error) => {
            tracing::info!(
                device.code = %code,
                error.code = error.code,
                step = step.as_str(),
                "bulk step rejected"
            );
            let link = if error.code == "device_not_found" {
                String::new()
            } else {
                link
            };
            rejected(code.as_str(), link, error.message)
        }
    }
}

fn rejected(typed: &str, link: String, message: String) -> LineResult {
    LineResult {
        typed: typed.to_string(),
        link,
        ok: false,
        message,
    }
}
