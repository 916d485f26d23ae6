//! Recording a step on a device from a page, the bulk mode or the API: one
//! path, so that every entry point checks the caller's right on the device,
//! versions and command ids the same way. A device held by an organisation
//! the caller may not act for is answered as not found.

use filiere_domain::access::{Action, Principal};
use filiere_domain::codec::encode_device_event;
use filiere_domain::command::Step;
use filiere_domain::fields::{command_from_fields, Fields};
use filiere_domain::{Device, DeviceCode, DeviceEvent, DeviceId, HouseholdId};
use filiere_store::accounts::AccountError;
use filiere_store::workshop::CommandContext;
use filiere_store::{
    AppendBatch, AppendResult, EventStore, ExpectedVersion, NewEvent, StoreError, StreamAppend,
};
use uuid::Uuid;

use crate::auth::Caller;
use crate::errors::AppError;
use crate::server::AppState;

/// Builds the context of a command sent from the web: the caller's actor
/// (`user:<id>` or `token:<id>`) and organisation, never values from the
/// request body, and the time.
pub fn web_context(principal: &Principal, command_id: Option<Uuid>) -> CommandContext {
    let mut context = CommandContext::new(&principal.actor, &principal.organisation_id);
    context.command_id = command_id;
    context
}

/// A step to record on one device.
#[derive(Clone, Debug)]
pub struct StepRequest<'a> {
    pub caller: &'a Caller,
    pub code: &'a DeviceCode,
    pub step: Step,
    pub fields: &'a Fields,
    /// Version of the device that the client saw; a different current
    /// version rejects the step with a conflict.
    pub expected_version: Option<u64>,
    /// Makes a retried request record nothing new.
    pub command_id: Option<Uuid>,
}

/// Outcome of a recorded step.
#[derive(Clone, Debug)]
pub struct StepOutcome {
    /// State of the device after the step.
    pub device: Device,
    pub append: AppendResult,
}

/// Records a step and catches the projections up, so that the next page
/// shows it.
pub async fn record_step(
    state: &AppState,
    request: StepRequest<'_>,
) -> Result<StepOutcome, AppError> {
    let outcome = record_step_only(state, request).await?;
    catch_up(state).await;
    Ok(outcome)
}

/// Records a step and leaves the projections behind; the caller runs
/// [`catch_up`] once after a series of steps.
///
/// A command id seen before returns the first result and records nothing,
/// even when the device has changed since. The step is appended at the
/// version it was decided on (or at `expected_version`), so a concurrent
/// step makes this fail with a conflict and records nothing.
pub async fn record_step_only(
    state: &AppState,
    request: StepRequest<'_>,
) -> Result<StepOutcome, AppError> {
    let code = request.code;
    let device = state
        .workshop
        .find_device(code)
        .await?
        .ok_or_else(|| AppError::device_not_found(code.as_str()))?;
    let action = match request.step {
        Step::Transfer => Action::TransferDevice {
            holder: &device.holder,
        },
        _ => Action::RecordStep {
            holder: &device.holder,
        },
    };
    request
        .caller
        .require_or_hide(&action, AppError::device_not_found(code.as_str()))?;
    if let Some(command_id) = request.command_id {
        if let Some(append) = previous_result(state.store(), command_id).await? {
            return replay(state, device, append, code).await;
        }
    }
    if request
        .expected_version
        .is_some_and(|version| version != device.version)
    {
        return Err(AppError::version_conflict().for_device(code.as_str()));
    }
    let fields = match request.step {
        Step::Transfer => transfer_fields(state, request.fields)
            .await
            .map_err(|error| error.for_device(code.as_str()))?,
        _ => request.fields.clone(),
    };
    let household = device.household_id.unwrap_or_else(HouseholdId::generate);
    let command = command_from_fields(request.step, &fields, household)
        .map_err(|error| AppError::from(error).for_device(code.as_str()))?;
    let context = web_context(&request.caller.principal, request.command_id);
    let events = device
        .decide(command, context.now.date_naive())
        .map_err(|error| AppError::from(error).for_device(code.as_str()))?;
    append_events(state.store(), device, events, &context)
        .await
        .map_err(|error| error.for_device(code.as_str()))
}

/// Replaces the `organisation` field of a transfer, an organisation id or
/// exact name, by the id of a known organisation, so that a device is never
/// transferred to an organisation that no one can act for.
async fn transfer_fields(state: &AppState, fields: &Fields) -> Result<Fields, AppError> {
    let typed = fields
        .get("organisation")
        .and_then(|values| values.last())
        .map(|value| value.trim())
        .unwrap_or_default();
    if typed.is_empty() {
        return Ok(fields.clone());
    }
    let organisation =
        state
            .store()
            .resolve_organisation(typed)
            .await
            .map_err(|error| match error {
                AccountError::Invalid { .. } => AppError::bad_request(
                    "ambiguous_organisation",
                    format!(
                    "Plusieurs organisations s'appellent « {typed} » : donnez l'identifiant de \
                     l'organisation destinataire."
                ),
                ),
                AccountError::NotFound(_) => AppError::bad_request(
                    "unknown_organisation",
                    format!(
                    "Organisation destinataire « {typed} » inconnue : donnez son nom exact ou son \
                     identifiant."
                ),
                ),
                error => AppError::from(error),
            })?;
    let mut fields = fields.clone();
    fields.insert("organisation".to_string(), vec![organisation.id]);
    Ok(fields)
}

/// Appends `events` at the version `device` was loaded with.
///
/// NOTE: this repeats `Workshop::record` after its load and decide steps, because
/// that method decides on a freshly loaded device and cannot be held to the
/// version a client saw. A `record` variant taking an expected version in the
/// store crate would remove this copy.
async fn append_events(
    store: &EventStore,
    mut device: Device,
    events: Vec<DeviceEvent>,
    context: &CommandContext,
) -> Result<StepOutcome, AppError> {
    let batch = AppendBatch {
        command_id: context.command_id,
        metadata: context.metadata.clone(),
        occurred_at: context.now,
        streams: vec![StreamAppend {
            stream_id: device.id.stream_id(),
            expected: ExpectedVersion::Exact(device.version as i64),
            events: events.iter().map(new_event).collect(),
            unique_keys: vec![],
        }],
    };
    let append = match store.append(batch).await {
        Ok(append) => append,
        Err(StoreError::Conflict { .. }) => return Err(AppError::version_conflict()),
        Err(error) => return Err(error.into()),
    };
    if !append.duplicate {
        for event in &events {
            device.apply(event);
        }
    }
    Ok(StepOutcome { device, append })
}

fn new_event(event: &DeviceEvent) -> NewEvent {
    let (event_type, version, payload) = encode_device_event(event);
    NewEvent::new(event_type, version, payload)
}

/// Result of a command id already applied: the current device when the
/// command wrote to it, a conflict when it wrote to another stream.
async fn replay(
    state: &AppState,
    device: Device,
    mut append: AppendResult,
    code: &DeviceCode,
) -> Result<StepOutcome, AppError> {
    let same_device = append
        .stream_versions
        .iter()
        .any(|(stream, _)| *stream == device.id.stream_id());
    if !same_device {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "command_id_reused",
            "Cet identifiant de commande a déjà servi pour un autre appareil ou une autre \
             opération : utilisez un nouvel identifiant.",
        )
        .for_device(code.as_str()));
    }
    append.duplicate = true;
    let device = reload(state, device.id).await?.unwrap_or(device);
    Ok(StepOutcome { device, append })
}

async fn reload(state: &AppState, id: DeviceId) -> Result<Option<Device>, AppError> {
    Ok(state.workshop.load_device(id).await?)
}

/// Stored result of a command id, or `None` when it was never applied.
///
/// NOTE: reads the store's `commands` table directly; an
/// `EventStore::command_result` method in the store crate would own this.
pub(crate) async fn previous_result(
    store: &EventStore,
    command_id: Uuid,
) -> Result<Option<AppendResult>, AppError> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT result FROM commands WHERE command_id = $1")
            .bind(command_id.to_string())
            .fetch_optional(store.pool())
            .await
            .map_err(AppError::internal)?;
    stored
        .map(|text| serde_json::from_str(&text).map_err(AppError::internal))
        .transpose()
}

/// Brings the projections up to date after a write. A failure is logged and
/// left to the background projector: the write itself succeeded.
pub async fn catch_up(state: &AppState) {
    if let Err(error) = state.projector.catch_up().await {
        tracing::error!(%error, "projection catch-up after a write failed");
        state.wake_projector();
    }
}
