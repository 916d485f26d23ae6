//! `GET /api/v1/devices/{code}` and `POST /api/v1/devices/{code}/steps/{step}`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use filiere_domain::access::Action;
use filiere_domain::fields::Fields;
use filiere_domain::{Device, DeviceCode};
use filiere_projections::queries;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ErrorBody;
use crate::auth::{gate, Allowed};
use crate::errors::AppError;
use crate::extract::{json_error, JsonBody};
use crate::pages::{parse_code, parse_step};
use crate::recording::{record_step, StepRequest};
use crate::server::AppState;

/// A step allowed now.
#[derive(Serialize, ToSchema)]
pub struct AllowedStep {
    /// Name used in the step URL, such as `diagnose` or `write-off`.
    pub step: String,
    pub label: String,
}

/// One event of the device's history.
#[derive(Serialize, ToSchema)]
pub struct TimelineEvent {
    pub position: i64,
    pub event_type: String,
    /// RFC 3339 time in UTC.
    pub occurred_at: String,
    pub actor: String,
    /// French one-line description.
    pub summary: String,
}

/// Current state of a device.
#[derive(Serialize, ToSchema)]
pub struct DeviceState {
    pub code: String,
    pub device_id: String,
    pub donation_id: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: Option<String>,
    /// Stable status name, such as `in_workshop`.
    pub status: String,
    /// French label of the status.
    pub status_label: String,
    pub site: String,
    pub location: String,
    pub grade: Option<String>,
    pub functional_test: Option<String>,
    pub verdict: Option<String>,
    /// Storage units found at the latest diagnosis.
    pub storage_units: Vec<String>,
    pub household_id: Option<String>,
    /// `loan`, `donation` or `solidarity_sale` once handed over.
    pub handover_mode: Option<String>,
    /// Number of events of the device; send it back as `expected_version`.
    pub version: u64,
    /// Whether the device may go to a household now.
    pub ready: bool,
    pub allowed_steps: Vec<AllowedStep>,
    /// French reasons why the device may not go to a household yet.
    pub readiness_gaps: Vec<String>,
    pub timeline: Vec<TimelineEvent>,
}

/// Value of a step field: text, a number, a yes/no flag, or a list for
/// repeatable fields such as `storage` or `part`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Number(f64),
    Flag(bool),
    List(Vec<String>),
}

/// A step to record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// Step fields by name, as for `filiere device record` (test, verdict,
    /// storage, unit, tool, operator, grade, site, location, mode, due,
    /// price, weight, eco_organism, reason, notes...).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, FieldValue>,
    /// Device version the client saw; the step is rejected with 409 when the
    /// device has changed since.
    pub expected_version: Option<u64>,
    /// Client-chosen id: sending the same id again records nothing and
    /// returns the first result.
    pub command_id: Option<Uuid>,
}

/// Outcome of a step.
#[derive(Serialize, ToSchema)]
pub struct StepResult {
    /// True when this request recorded the step; false for a repeated
    /// command id.
    pub recorded: bool,
    /// Log position of the step's last event.
    pub position: i64,
    pub device: DeviceState,
}

#[utoipa::path(
    get,
    path = "/api/v1/devices/{code}",
    tag = "devices",
    params(("code" = String, Path, description = "Device code, in any case or its AZERTY form")),
    responses(
        (status = 200, description = "Device state", body = DeviceState),
        (status = 400, description = "Invalid code", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not see devices", body = ErrorBody),
        (status = 404, description = "No device with this code held by the token's organisation", body = ErrorBody),
    )
)]
pub async fn get_device(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewDevices>,
    Path(typed): Path<String>,
) -> Result<Json<DeviceState>, AppError> {
    let code = parse_code(&typed)?;
    let hidden = || AppError::device_not_found(code.as_str());
    let device = state
        .workshop
        .find_device(&code)
        .await?
        .ok_or_else(hidden)?;
    let action = Action::ViewDevice {
        holder: &device.holder,
    };
    caller.require_or_hide(&action, hidden())?;
    Ok(Json(device_state(&state, &device, &code).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/{code}/steps/{step}",
    tag = "devices",
    params(
        ("code" = String, Path, description = "Device code"),
        ("step" = String, Path, description = "Step name, such as diagnose, erase, stock or handover"),
    ),
    request_body = StepBody,
    responses(
        (status = 200, description = "Step recorded, or recorded before under this command id", body = StepResult),
        (status = 400, description = "Invalid code, step or field", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not record steps", body = ErrorBody),
        (status = 404, description = "No device with this code held by the token's organisation", body = ErrorBody),
        (status = 409, description = "Step not allowed now, or device changed since expected_version", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Rule violated: not ready, price above cap...", body = ErrorBody),
    )
)]
pub async fn post_step(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::RecordSteps>,
    Path((typed, step_name)): Path<(String, String)>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Json<StepResult>, AppError> {
    let code = parse_code(&typed)?;
    let step = parse_step(&step_name).map_err(|error| error.for_device(code.as_str()))?;
    let body = step_body(body).map_err(|error| error.for_device(code.as_str()))?;
    let fields = to_fields(body.fields);
    let outcome = record_step(
        &state,
        StepRequest {
            caller: &caller,
            code: &code,
            step,
            fields: &fields,
            expected_version: body.expected_version,
            command_id: body.command_id,
        },
    )
    .await?;
    Ok(Json(StepResult {
        recorded: !outcome.append.duplicate,
        position: outcome.append.last_position,
        device: device_state(&state, &outcome.device, &code).await?,
    }))
}

/// Reads a step body. A top-level key that is not a `StepBody` member, such
/// as `{"grade": "b"}`, is a step field sent without its `fields` wrapper,
/// and the error shows where step fields go.
fn step_body(value: serde_json::Value) -> Result<StepBody, AppError> {
    const MEMBERS: [&str; 3] = ["fields", "expected_version", "command_id"];
    if let serde_json::Value::Object(map) = &value {
        if let Some(stray) = map.keys().find(|key| !MEMBERS.contains(&key.as_str())) {
            return Err(AppError::bad_request(
                "invalid_json",
                format!(
                    "Le champ JSON « {stray} » est hors de « fields » : les champs d'une étape \
                     vont dans {{\"fields\": {{...}}}}, par exemple \
                     {{\"fields\": {{\"{stray}\": ...}}}}. Seuls « expected_version » et \
                     « command_id » se placent à côté de « fields »."
                ),
            ));
        }
    }
    serde_path_to_error::deserialize(value).map_err(json_error)
}

fn to_fields(values: BTreeMap<String, FieldValue>) -> Fields {
    values
        .into_iter()
        .map(|(name, value)| {
            let values = match value {
                FieldValue::Text(text) => vec![text],
                FieldValue::Number(number) => vec![number.to_string()],
                FieldValue::Flag(flag) => vec![if flag { "yes" } else { "no" }.to_string()],
                FieldValue::List(list) => list,
            };
            (name, values)
        })
        .collect()
}

async fn device_state(
    state: &AppState,
    device: &Device,
    code: &DeviceCode,
) -> Result<DeviceState, AppError> {
    let timeline = queries::timeline(state.store().pool(), &device.id.to_string()).await?;
    let gaps = device.readiness_gaps();
    Ok(DeviceState {
        code: code.to_string(),
        device_id: device.id.to_string(),
        donation_id: device.donation_id.to_string(),
        category: device.category.as_str().to_string(),
        brand: device.brand.clone(),
        model: device.model.clone(),
        serial: device.serial.as_ref().map(ToString::to_string),
        status: device.status.as_str().to_string(),
        status_label: device.status.label_fr().to_string(),
        site: device.placement.site.clone(),
        location: device.placement.location.clone(),
        grade: device.grade.map(|g| g.as_str().to_string()),
        functional_test: device.functional_test.map(|t| t.as_str().to_string()),
        verdict: device.verdict.map(|v| v.as_str().to_string()),
        storage_units: device
            .storage_units
            .iter()
            .map(|u| u.unit.clone())
            .collect(),
        household_id: device.household_id.map(|id| id.to_string()),
        handover_mode: device
            .handover_mode
            .as_ref()
            .map(|m| m.as_str().to_string()),
        version: device.version,
        ready: gaps.is_empty(),
        allowed_steps: device
            .allowed_steps()
            .iter()
            .map(|step| AllowedStep {
                step: step.as_str().to_string(),
                label: step.label_fr().to_string(),
            })
            .collect(),
        readiness_gaps: gaps.iter().map(|gap| gap.label_fr()).collect(),
        timeline: timeline
            .into_iter()
            .map(|row| TimelineEvent {
                position: row.position,
                event_type: row.event_type,
                occurred_at: row.occurred_at,
                actor: row.actor,
                summary: row.summary,
            })
            .collect(),
    })
}
