//! `/api/v1/prescriptions...`: issue a prescription (referrer tokens), list
//! one's own, the incoming ones and the loans due or overdue, and record the
//! workshop's steps (accept, decline, reserve, hand over, extend, return,
//! convert, training). Household identity is accepted at issue but never
//! returned: responses carry the opaque household id only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::Prescription;
use filiere_projections::{prescriptions as views, PrescriptionRow};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema};
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa::{Modify, OpenApi, ToSchema};

use super::ErrorBody;
use crate::auth::gate::{self, Gate, SignedIn};
use crate::auth::{Allowed, Caller};
use crate::errors::AppError;
use crate::extract::{JsonBody, QueryMap};
use crate::prescription_actions::{
    catch_up, handover_mode, issue, matches, parse_date, record_step, visible_prescription,
    IssueInput, WorkshopStep,
};
use crate::server::AppState;

/// Prescriptions listed at most per request.
const LIST_LIMIT: i64 = 500;
/// Days ahead `overdue` also lists loans falling due, by default.
const DEFAULT_DUE_DAYS: u32 = 14;

/// A prescription as the read model stores it; the household is named by
/// its opaque id only.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PrescriptionSummary {
    pub prescription_id: String,
    /// issued, accepted, declined, reserved, handed_over, returned,
    /// cancelled or expired.
    pub status: String,
    pub referrer_organisation: String,
    pub workshop_organisation: Option<String>,
    pub category: String,
    pub purpose: String,
    pub preferred_mode: String,
    /// loan, donation or solidarity_sale once handed over.
    pub handover_mode: Option<String>,
    pub household_id: String,
    /// INSEE code of the household's commune.
    pub commune: String,
    pub device_code: Option<String>,
    /// YYYY-MM-DD.
    pub issued_on: String,
    pub accepted_on: Option<String>,
    pub handed_over_on: Option<String>,
    /// Due date of a loan, following its extensions.
    pub due_on: Option<String>,
    pub returned_on: Option<String>,
    pub closed: bool,
}

impl From<PrescriptionRow> for PrescriptionSummary {
    fn from(row: PrescriptionRow) -> PrescriptionSummary {
        PrescriptionSummary {
            prescription_id: row.prescription_id,
            status: row.status,
            referrer_organisation: row.referrer_organisation,
            workshop_organisation: row.workshop_organisation,
            category: row.category,
            purpose: row.purpose,
            preferred_mode: row.preferred_mode,
            handover_mode: row.handover_mode,
            household_id: row.household_id,
            commune: row.commune,
            device_code: row.device_code,
            issued_on: row.issued_on,
            accepted_on: row.accepted_on,
            handed_over_on: row.handed_over_on,
            due_on: row.due_on,
            returned_on: row.returned_on,
            closed: row.closed,
        }
    }
}

/// Current state of one prescription, from its events.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PrescriptionState {
    pub prescription_id: String,
    pub status: String,
    /// French label of the status.
    pub status_label: String,
    pub referrer_organisation: String,
    pub workshop_organisation: Option<String>,
    pub category: String,
    pub purpose: String,
    pub household_id: String,
    pub commune: String,
    pub device_code: Option<String>,
    pub handover_mode: Option<String>,
    /// Due date of a loan, YYYY-MM-DD.
    pub due_on: Option<String>,
    pub training_attended: bool,
    pub trainings_missed: u32,
    pub closed: bool,
    /// Steps allowed now, such as `accept` or `extend_loan`.
    pub allowed_steps: Vec<String>,
    /// Number of events of the prescription.
    pub version: u64,
}

impl From<&Prescription> for PrescriptionState {
    fn from(prescription: &Prescription) -> PrescriptionState {
        let issued = &prescription.issued;
        PrescriptionState {
            prescription_id: prescription.id().to_string(),
            status: prescription.status.as_str().to_string(),
            status_label: prescription.status.label_fr().to_string(),
            referrer_organisation: issued.referrer_organisation.clone(),
            workshop_organisation: prescription.workshop_organisation.clone(),
            category: issued.need.category.as_str().to_string(),
            purpose: issued.need.purpose.as_str().to_string(),
            household_id: issued.household_id.to_string(),
            commune: issued.household.commune.to_string(),
            device_code: prescription.device.as_ref().map(|d| d.code.to_string()),
            handover_mode: prescription
                .handover_mode
                .as_ref()
                .map(|mode| mode.as_str().to_string()),
            due_on: match &prescription.handover_mode {
                Some(HandoverMode::Loan { due_on }) => Some(due_on.to_string()),
                _ => None,
            },
            training_attended: prescription.training_attended,
            trainings_missed: prescription.trainings_missed,
            closed: prescription.is_closed(),
            allowed_steps: prescription
                .allowed_steps()
                .iter()
                .map(|step| step.as_str().to_string())
                .collect(),
            version: prescription.version,
        }
    }
}

/// Identity of a new household: stored outside the event log, erasable,
/// never returned by the API.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdBody {
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Postal address.
    pub address: Option<String>,
}

/// A new prescription. Give `household_id` for a recorded household, or
/// `household` to record a new one.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    pub household_id: Option<String>,
    pub household: Option<HouseholdBody>,
    /// INSEE code of the household's commune (not its postal code).
    pub commune: String,
    #[serde(default)]
    pub qpv: bool,
    #[serde(default)]
    pub zrr: bool,
    /// one, two, three_to_four or five_or_more (or 1, 2, 3-4, 5+).
    pub household_size: String,
    /// minor, young_adult, adult or senior (or under 18, 18-25, 26-59, 60+).
    pub age: String,
    /// Device category needed, such as laptop.
    pub category: String,
    /// job_search, schooling, administrative_procedures, health or other.
    pub purpose: String,
    /// Eligibility scheme, by id or name.
    pub scheme: String,
    /// benefit, family_quotient, residual_income, student or job_seeker.
    pub evidence_kind: String,
    /// Benefit name, or amount in whole euros (per month for a residual
    /// income).
    pub evidence_value: Option<serde_json::Value>,
    /// loan (default), donation or solidarity_sale.
    pub preferred_mode: Option<String>,
    /// beginner, intermediate or autonomous; required unless `pix` is
    /// given, and ignored when it is.
    pub autonomy: Option<String>,
    /// Pix level from 0 to 8; required unless `autonomy` is given.
    pub pix: Option<u8>,
    /// adviser or venue; absent when no training is prescribed.
    pub training_provider: Option<String>,
    /// Name of the adviser or venue.
    pub training_name: Option<String>,
    /// Day of the first session, YYYY-MM-DD.
    pub training_on: Option<String>,
}

fn issue_input(body: IssueBody) -> IssueInput {
    let household = body.household.unwrap_or_default();
    let text = |value: Option<String>| value.unwrap_or_default();
    let evidence_value = match body.evidence_value {
        Some(serde_json::Value::String(text)) => text,
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    IssueInput {
        household_id: text(body.household_id),
        first_name: household.first_name,
        last_name: household.last_name,
        phone: text(household.phone),
        email: text(household.email),
        address: text(household.address),
        commune: body.commune,
        qpv: body.qpv,
        zrr: body.zrr,
        household_size: body.household_size,
        age: body.age,
        category: body.category,
        purpose: body.purpose,
        scheme: body.scheme,
        evidence_kind: body.evidence_kind,
        evidence_value,
        preferred_mode: text(body.preferred_mode),
        autonomy: text(body.autonomy),
        pix: body.pix.map(|level| level.to_string()).unwrap_or_default(),
        training_provider: text(body.training_provider),
        training_name: text(body.training_name),
        training_on: text(body.training_on),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/prescriptions",
    tag = "prescriptions",
    request_body = IssueBody,
    responses(
        (status = 201, description = "Prescription issued", body = PrescriptionState),
        (status = 400, description = "Invalid field, unknown commune or scheme", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not issue prescriptions", body = ErrorBody),
        (status = 422, description = "Household not eligible under the scheme", body = ErrorBody),
    )
)]
pub async fn issue_prescription(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManagePrescriptions>,
    JsonBody(body): JsonBody<IssueBody>,
) -> Result<Response, AppError> {
    let outcome = issue(&state, &caller, &issue_input(body), None)
        .await
        .map_err(|problems| problems.into_error())?;
    let body = PrescriptionState::from(&outcome.prescription);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/prescriptions",
    tag = "prescriptions",
    responses(
        (status = 200, description = "A referrer's prescriptions, newest first; for a workshop, the open prescriptions it accepted", body = [PrescriptionSummary]),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role has no prescriptions", body = ErrorBody),
    )
)]
pub async fn list_prescriptions(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
) -> Result<Json<Vec<PrescriptionSummary>>, AppError> {
    catch_up(&state).await;
    let pool = state.store().pool();
    let organisation = &caller.principal.organisation_id;
    let rows = if caller.may(&gate::HandlePrescriptions::action(&caller.principal)) {
        views::workshop_prescriptions(pool, organisation, LIST_LIMIT).await?
    } else {
        caller.require(&gate::ManagePrescriptions::action(&caller.principal))?;
        views::referrer_prescriptions(pool, organisation, LIST_LIMIT).await?
    };
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(
    get,
    path = "/api/v1/prescriptions/incoming",
    tag = "prescriptions",
    responses(
        (status = 200, description = "Prescriptions no workshop has accepted or declined yet, oldest first", body = [PrescriptionSummary]),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role is not a workshop role", body = ErrorBody),
    )
)]
pub async fn incoming(
    State(state): State<AppState>,
    Allowed { .. }: Allowed<gate::HandlePrescriptions>,
) -> Result<Json<Vec<PrescriptionSummary>>, AppError> {
    catch_up(&state).await;
    let rows = views::incoming_prescriptions(state.store().pool(), LIST_LIMIT).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Loans late or falling due soon.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LoansResponse {
    /// Day the lists are computed for, YYYY-MM-DD.
    pub as_of: String,
    /// Loans whose due date is before `as_of`, most overdue first.
    pub overdue: Vec<PrescriptionSummary>,
    /// Loans due from `as_of` to `as_of + within_days`, soonest first.
    pub due_soon: Vec<PrescriptionSummary>,
    pub within_days: u32,
}

#[utoipa::path(
    get,
    path = "/api/v1/prescriptions/overdue",
    tag = "prescriptions",
    params(
        ("as_of" = Option<String>, Query, description = "Day to compute for, YYYY-MM-DD; today by default"),
        ("within_days" = Option<u32>, Query, description = "Days ahead for `due_soon`; 14 by default"),
    ),
    responses(
        (status = 200, description = "Loans of the token's organisation: handed over by a workshop, or prescribed by a referrer", body = LoansResponse),
        (status = 400, description = "Invalid date or number of days", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role has no loans to follow", body = ErrorBody),
    )
)]
pub async fn overdue(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    query: QueryMap,
) -> Result<Json<LoansResponse>, AppError> {
    let scope = crate::pages::loan_scope(&caller)?;
    let today = Utc::now().date_naive();
    let as_of: NaiveDate = query.parsed("as_of", today, "une date au format AAAA-MM-JJ")?;
    let within_days: u32 = query.parsed("within_days", DEFAULT_DUE_DAYS, "un nombre de jours")?;
    catch_up(&state).await;
    let pool = state.store().pool();
    let overdue = views::overdue_loans(pool, &scope, as_of).await?;
    let due_soon = views::loans_due_within(pool, &scope, as_of, within_days).await?;
    Ok(Json(LoansResponse {
        as_of: as_of.to_string(),
        overdue: overdue.into_iter().map(Into::into).collect(),
        due_soon: due_soon.into_iter().map(Into::into).collect(),
        within_days,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/prescriptions/{id}",
    tag = "prescriptions",
    params(("id" = String, Path, description = "Prescription id")),
    responses(
        (status = 200, description = "Prescription state", body = PrescriptionState),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 404, description = "No prescription with this id that the token's organisation may see", body = ErrorBody),
    )
)]
pub async fn get_prescription(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<PrescriptionState>, AppError> {
    let prescription = visible_prescription(&state, &caller, &id).await?;
    Ok(Json(PrescriptionState::from(&prescription)))
}

/// A device that fits a prescription.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MatchingDevice {
    pub code: String,
    pub category: String,
    pub grade: Option<String>,
    /// Autonomy level the device was prepared for.
    pub autonomy: Option<String>,
    /// RFC 3339 time the device was last put in stock.
    pub in_stock_since: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/prescriptions/{id}/matches",
    tag = "prescriptions",
    params(("id" = String, Path, description = "Prescription id")),
    responses(
        (status = 200, description = "In-stock ready devices of the accepting workshop that fit, best first; empty unless the prescription is accepted", body = [MatchingDevice]),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "The token's role may not handle prescriptions", body = ErrorBody),
        (status = 404, description = "No prescription with this id that the token's organisation may see", body = ErrorBody),
    )
)]
pub async fn get_matches(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::HandlePrescriptions>,
    Path(id): Path<String>,
) -> Result<Json<Vec<MatchingDevice>>, AppError> {
    let prescription = visible_prescription(&state, &caller, &id).await?;
    let found = matches(&state, &prescription).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|device| MatchingDevice {
                code: device.code.to_string(),
                category: device.category.as_str().to_string(),
                grade: device.grade.map(|g| g.as_str().to_string()),
                autonomy: device.autonomy.map(|a| a.as_str().to_string()),
                in_stock_since: device.in_stock_since.to_rfc3339(),
            })
            .collect(),
    ))
}

/// Fields of a workshop step; each step reads the ones it needs. A step
/// without fields (accept, convert) takes `{}`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepFields {
    /// Reason of a decline or a release.
    pub reason: Option<String>,
    /// Device code to reserve.
    pub code: Option<String>,
    /// Handover mode: loan, donation or sale.
    pub mode: Option<String>,
    /// Due date of a loan or of an extension, YYYY-MM-DD.
    pub due: Option<String>,
    /// Price of a solidarity sale, in euros, such as "49.90".
    pub price: Option<serde_json::Value>,
    /// Notes of a return.
    pub notes: Option<String>,
    /// Whether the household attended (`true`) or missed (`false`) its
    /// training session.
    pub attended: Option<bool>,
    /// Day of the training session, YYYY-MM-DD; today by default.
    pub on: Option<String>,
}

/// Outcome of a step.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PrescriptionStepResult {
    /// Log position of the step's last event.
    pub position: i64,
    pub prescription: PrescriptionState,
    /// Status of the device the step changed, such as `reserved`.
    pub device_status: Option<String>,
}

async fn run_step(
    state: &AppState,
    caller: &Caller,
    id: &str,
    step: WorkshopStep,
) -> Result<Json<PrescriptionStepResult>, AppError> {
    let outcome = record_step(state, caller, id, step).await?;
    Ok(Json(PrescriptionStepResult {
        position: outcome.append.last_position,
        prescription: PrescriptionState::from(&outcome.prescription),
        device_status: outcome
            .device
            .as_ref()
            .map(|device| device.status.as_str().to_string()),
    }))
}

fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}

fn price_text(value: Option<serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::String(text)) => text,
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Declares one step route: its handler, OpenAPI path and the workshop
/// step it builds from the body.
macro_rules! step_route {
    ($handler:ident, $path:literal, $summary:literal, |$fields:ident| $build:expr) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "prescriptions",
            description = $summary,
            params(("id" = String, Path, description = "Prescription id")),
            request_body = StepFields,
            responses(
                (status = 200, description = "Step recorded", body = PrescriptionStepResult),
                (status = 400, description = "Invalid field; the message names it and its value", body = ErrorBody),
                (status = 401, description = "No valid API token", body = ErrorBody),
                (status = 403, description = "The token's role may not handle prescriptions", body = ErrorBody),
                (status = 404, description = "No prescription or device with this id or code that the token's organisation may see", body = ErrorBody),
                (status = 409, description = "Step not allowed now, device already reserved, or a concurrent change", body = ErrorBody),
                (status = 422, description = "Rule violated: device not ready, wrong category, price above the cap...", body = ErrorBody),
            )
        )]
        pub async fn $handler(
            State(state): State<AppState>,
            Allowed { caller, .. }: Allowed<gate::HandlePrescriptions>,
            Path(id): Path<String>,
            JsonBody($fields): JsonBody<StepFields>,
        ) -> Result<Json<PrescriptionStepResult>, AppError> {
            let step: Result<WorkshopStep, AppError> = $build;
            run_step(&state, &caller, &id, step?).await
        }
    };
}

step_route!(
    accept,
    "/api/v1/prescriptions/{id}/accept",
    "Accept the prescription for the token's workshop.",
    |_fields| Ok(WorkshopStep::Accept)
);
step_route!(
    decline,
    "/api/v1/prescriptions/{id}/decline",
    "Decline the prescription; `reason` is required.",
    |fields| Ok(WorkshopStep::Decline {
        reason: text(fields.reason)
    })
);
step_route!(
    reserve,
    "/api/v1/prescriptions/{id}/reserve",
    "Reserve the device `code` on the prescription and on the device, in one transaction.",
    |fields| Ok(WorkshopStep::Reserve {
        code: text(fields.code)
    })
);
step_route!(
    hand_over,
    "/api/v1/prescriptions/{id}/handover",
    "Hand the reserved device over: `mode` loan (with `due`), donation, or sale (with `price`).",
    |fields| {
        handover_mode(
            &text(fields.mode),
            &text(fields.due),
            &price_text(fields.price),
        )
        .map(|mode| WorkshopStep::HandOver { mode })
    }
);
step_route!(
    extend,
    "/api/v1/prescriptions/{id}/extend",
    "Extend a loan to the later date `due`.",
    |fields| {
        parse_date("due", "nouvelle date de fin du prêt", &text(fields.due))
            .map(|due_on| WorkshopStep::Extend { due_on })
    }
);
step_route!(
    return_device,
    "/api/v1/prescriptions/{id}/return",
    "Record the end of a loan: the device is back at the workshop.",
    |fields| Ok(WorkshopStep::Return {
        notes: text(fields.notes)
    })
);
step_route!(
    convert,
    "/api/v1/prescriptions/{id}/convert",
    "Turn the loan into a donation.",
    |_fields| Ok(WorkshopStep::Convert)
);
step_route!(
    training,
    "/api/v1/prescriptions/{id}/training",
    "Record a training session: `attended` true or false, on the day `on`.",
    |fields| {
        let today = Utc::now().date_naive().to_string();
        let on = fields.on.unwrap_or(today);
        parse_date("on", "date de la séance", &on).and_then(|on| match fields.attended {
            Some(true) => Ok(WorkshopStep::TrainingAttended { on }),
            Some(false) => Ok(WorkshopStep::TrainingMissed { on }),
            None => Err(AppError::bad_request(
                "invalid_field",
                "Champ « attended » : true (formation suivie) ou false (absence) est attendu.",
            )),
        })
    }
);

/// The prescription routes' part of the OpenAPI document, merged into
/// [`super::ApiDoc`] by its [`Modify`] implementation.
#[derive(OpenApi)]
#[openapi(
    paths(
        issue_prescription,
        list_prescriptions,
        incoming,
        overdue,
        get_prescription,
        get_matches,
        accept,
        decline,
        reserve,
        hand_over,
        extend,
        return_device,
        convert,
        training,
    ),
    components(schemas(
        HouseholdBody,
        IssueBody,
        LoansResponse,
        MatchingDevice,
        PrescriptionState,
        PrescriptionStepResult,
        PrescriptionSummary,
        StepFields,
    ))
)]
pub struct PrescriptionApi;

impl Modify for PrescriptionApi {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        openapi.merge(PrescriptionApi::openapi());
        require_skills(openapi);
    }
}

/// Adds to the `IssueBody` schema the rule that the issue handler applies:
/// the digital skills are required, as `autonomy` or as a `pix` level (which
/// wins when both are given). Neither member can be marked required alone,
/// so the schema becomes `allOf` the generated object and `anyOf` two
/// `required` lists.
fn require_skills(openapi: &mut OpenApiDocument) {
    let Some(schemas) = openapi
        .components
        .as_mut()
        .map(|components| &mut components.schemas)
    else {
        return;
    };
    let Some(generated) = schemas.remove("IssueBody") else {
        return;
    };
    let skills = AnyOfBuilder::new()
        .item(ObjectBuilder::new().required("autonomy"))
        .item(ObjectBuilder::new().required("pix"))
        .description(Some(
            "The household's digital skills are required: `autonomy`, or a `pix` level.",
        ));
    let schema = AllOfBuilder::new().item(generated).item(skills).build();
    schemas.insert("IssueBody".to_string(), Schema::AllOf(schema).into());
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use utoipa::OpenApi;

    use crate::api::openapi::ApiDoc;

    #[test]
    fn issue_body_requires_skills() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schema = &document["components"]["schemas"]["IssueBody"];
        let generated = &schema["allOf"][0];
        assert!(
            generated["required"]
                .as_array()
                .is_some_and(|names| names.contains(&json!("commune"))),
            "{schema}"
        );
        let alternatives: Vec<&Value> = schema["allOf"][1]["anyOf"]
            .as_array()
            .map(|items| items.iter().map(|item| &item["required"]).collect())
            .unwrap_or_default();
        assert_eq!(
            alternatives,
            vec![&json!(["autonomy"]), &json!(["pix"])],
            "{schema}"
        );
    }
}
