//! The device page: identity, status, readiness, history and one form per
//! step allowed now. QR labels hold `HTTPS://HOST/D/CODE` in upper case, so
//! both `/d/` and `/D/` lead here, and the code may be in any case or in its
//! AZERTY form.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use filiere_domain::access::Action;
use filiere_domain::command::Step;
use filiere_domain::event::HandoverMode;
use filiere_domain::{Device, DeviceCode};
use filiere_projections::queries;
use uuid::Uuid;

use super::{french_time, grade_label, render, Layout};
use crate::auth::{gate, Allowed, Caller};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::{step_form, StepForm};
use crate::recording::{record_step, StepRequest};
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/d/{code}", get(show))
        .route("/D/{code}", get(show))
        .route("/d/{code}/steps/{step}", post(record))
        .route("/D/{code}/steps/{step}", post(record))
}

/// Device facts shown on the page, as French text.
struct DeviceView {
    code: String,
    category: String,
    brand: String,
    model: String,
    serial: String,
    status: String,
    status_label: String,
    site: String,
    location: String,
    grade: String,
    storage: String,
    handover: String,
    household: String,
    donation_id: String,
    version: u64,
}

/// One event of the history.
struct TimelineEntry {
    when: String,
    summary: String,
    actor: String,
}

/// A step form with the id that makes a double submission record once.
struct DeviceStepForm {
    step: &'static str,
    label: &'static str,
    fields: Vec<crate::forms::FieldSpec>,
    command_id: String,
}

impl From<StepForm> for DeviceStepForm {
    fn from(form: StepForm) -> DeviceStepForm {
        DeviceStepForm {
            step: form.step,
            label: form.label,
            fields: form.fields,
            command_id: Uuid::new_v4().to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    layout: Layout,
    device: DeviceView,
    flash: Option<String>,
    gaps: Vec<String>,
    forms: Vec<DeviceStepForm>,
    timeline: Vec<TimelineEntry>,
    /// Tool reports cited by the device's events.
    evidence: Vec<super::evidence::EvidenceRow>,
    /// Whether the caller may upload tool reports on this device.
    may_upload: bool,
    upload_limit_mib: usize,
}

/// Parses a code from a URL path, naming it in the error.
pub(crate) fn parse_code(typed: &str) -> Result<DeviceCode, AppError> {
    DeviceCode::parse_scanned(typed)
        .map_err(|error| AppError::from(error).for_device(typed).back_to("/"))
}

async fn show(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewDevices>,
    Path(typed): Path<String>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let code = parse_code(&typed)?;
    let hidden = || AppError::device_not_found(code.as_str()).back_to("/");
    let device = state
        .workshop
        .find_device(&code)
        .await?
        .ok_or_else(hidden)?;
    let action = Action::ViewDevice {
        holder: &device.holder,
    };
    caller.require_or_hide(&action, hidden())?;
    let timeline = queries::timeline(state.store().pool(), &device.id.to_string()).await?;
    let names = actor_names(&state).await?;
    let evidence = crate::evidence_upload::device_files(&state, &device)
        .await?
        .into_iter()
        .map(super::evidence::EvidenceRow::from)
        .collect();
    let may_upload = caller.may(&Action::RecordStep {
        holder: &device.holder,
    });
    let page = DevicePage {
        evidence,
        may_upload,
        upload_limit_mib: super::evidence::UPLOAD_LIMIT_MIB,
        layout: caller.layout(),
        flash: flash_message(&query),
        gaps: device
            .readiness_gaps()
            .iter()
            .map(|gap| gap.label_fr())
            .collect(),
        forms: allowed_forms(&caller, &device),
        timeline: timeline
            .into_iter()
            .map(|row| TimelineEntry {
                when: french_time(&row.occurred_at),
                summary: row.summary,
                actor: names.get(&row.actor).cloned().unwrap_or(row.actor),
            })
            .collect(),
        device: device_view(&device, &code),
    };
    render(StatusCode::OK, &page)
}

/// Forms of the steps allowed now that the caller may record.
fn allowed_forms(caller: &Caller, device: &Device) -> Vec<DeviceStepForm> {
    let holder = &device.holder;
    device
        .allowed_steps()
        .into_iter()
        .filter(|step| match step {
            Step::Transfer => caller.may(&Action::TransferDevice { holder }),
            _ => caller.may(&Action::RecordStep { holder }),
        })
        .map(|step| step_form(step, Some(device)).into())
        .collect()
}

/// Names shown for the actors of a timeline: a user's name, or an API
/// token's name; an unknown actor keeps its recorded id.
async fn actor_names(state: &AppState) -> Result<BTreeMap<String, String>, AppError> {
    let store = state.store();
    let mut names = BTreeMap::new();
    for user in store.users().await? {
        names.insert(format!("user:{}", user.id), user.display_name);
    }
    for token in store.tokens(None).await? {
        names.insert(
            format!("token:{}", token.id),
            format!("jeton « {} »", token.name),
        );
    }
    Ok(names)
}

fn device_view(device: &Device, code: &DeviceCode) -> DeviceView {
    DeviceView {
        code: code.to_string(),
        category: device.category.label_fr().to_string(),
        brand: device.brand.clone(),
        model: device.model.clone(),
        serial: device
            .serial
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        status: device.status.as_str().to_string(),
        status_label: device.status.label_fr().to_string(),
        site: device.placement.site.clone(),
        location: device.placement.location.clone(),
        grade: device
            .grade
            .map(|g| grade_label(g.as_str()))
            .unwrap_or_default(),
        storage: device
            .storage_units
            .iter()
            .map(|unit| format!("{} ({})", unit.unit, unit.kind.label_fr()))
            .collect::<Vec<_>>()
            .join(", "),
        handover: device
            .handover_mode
            .as_ref()
            .map_or_else(String::new, |mode| match mode {
                HandoverMode::Loan { due_on } => {
                    format!("Prêt jusqu'au {}", due_on.format("%d/%m/%Y"))
                }
                other => other.label_fr().to_string(),
            }),
        household: device
            .household_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        donation_id: device.donation_id.to_string(),
        version: device.version,
    }
}

/// Message shown after a redirect from a recorded step.
fn flash_message(query: &QueryMap) -> Option<String> {
    let step = Step::parse(query.get("recorded")?)?;
    Some(if query.get("duplicate").is_some() {
        format!(
            "L'étape « {} » avait déjà été enregistrée : rien de nouveau.",
            step.label_fr()
        )
    } else {
        format!("Étape « {} » enregistrée.", step.label_fr())
    })
}

/// Parses a step name from a URL path.
pub(crate) fn parse_step(name: &str) -> Result<Step, AppError> {
    Step::parse(name).ok_or_else(|| {
        AppError::bad_request(
            "unknown_step",
            format!(
                "Étape « {name} » inconnue. Étapes connues : {}.",
                Step::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

async fn record(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::RecordSteps>,
    Path((typed, step_name)): Path<(String, String)>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let code = parse_code(&typed)?;
    let step = parse_step(&step_name).map_err(|error| error.for_device(code.as_str()))?;
    let expected_version = match form.get("version") {
        None => None,
        Some(raw) => Some(raw.parse::<u64>().map_err(|_| {
            AppError::bad_request(
                "invalid_version",
                format!("Version « {raw} » invalide : rechargez la page de l'appareil."),
            )
            .for_device(code.as_str())
        })?),
    };
    let command_id = match form.get("command_id") {
        None => None,
        Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| {
            AppError::bad_request(
                "invalid_command_id",
                "Identifiant de commande invalide : rechargez la page de l'appareil.",
            )
            .for_device(code.as_str())
        })?),
    };
    let fields = form.to_fields(&["version", "command_id", crate::auth::csrf::FIELD]);
    let outcome = record_step(
        &state,
        StepRequest {
            caller: &caller,
            code: &code,
            step,
            fields: &fields,
            expected_version,
            command_id,
        },
    )
    .await?;
    let duplicate = if outcome.append.duplicate {
        "&duplicate=1"
    } else {
        ""
    };
    let target = format!("/d/{code}?recorded={}{duplicate}", step.as_str());
    Ok(Redirect::to(&target).into_response())
}
