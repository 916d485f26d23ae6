//! Referrers' prescription pages: "Mes prescriptions" (the list of the
//! organisation's prescriptions) and "Nouvelle prescription" (the issue
//! form). A refused form is shown again with what was typed and the French
//! reason next to it, and nothing is recorded.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use filiere_domain::access::Action;
use filiere_domain::prescription::{
    AgeBand, HouseholdSize, PreferredMode, PrescriptionStatus, Purpose, TrainingProvider,
};
use filiere_domain::types::{Autonomy, Category, UnknownValue};
use filiere_domain::{HouseholdId, PrescriptionId};
use filiere_projections::{prescriptions as views, PrescriptionRow};
use uuid::Uuid;

use super::{category_label, french_date, render, Layout};
use crate::auth::{gate, Allowed, Caller};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::forms::SelectOption;
use crate::prescription_actions::{issue, issued_by_command, IssueInput};
use crate::server::AppState;

/// Prescriptions listed at most, newest first.
const LIST_LIMIT: i64 = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/prescriptions", get(list))
        .route("/prescriptions/nouvelle", get(new_form).post(create))
}

/// One prescription of a list, with French labels.
#[derive(Clone, Debug)]
pub(crate) struct PrescriptionView {
    pub id: String,
    pub status: String,
    pub status_label: String,
    pub need: String,
    pub purpose: String,
    pub commune: String,
    /// Household's name when the caller may see it, its id otherwise.
    pub household: String,
    pub device_code: String,
    pub handover: String,
    pub issued_on: String,
    pub due_on: String,
    pub overdue: bool,
}

/// French label of a stored prescription status.
pub(crate) fn prescription_status_label(status: &str) -> String {
    status
        .parse::<PrescriptionStatus>()
        .map_or_else(|_| status.to_string(), |s| s.label_fr().to_string())
}

fn purpose_label(purpose: &str) -> String {
    purpose
        .parse::<Purpose>()
        .map_or_else(|_| purpose.to_string(), |p| p.label_fr().to_string())
}

pub(crate) fn handover_label(mode: Option<&str>) -> String {
    match mode {
        Some("loan") => "Prêt".to_string(),
        Some("donation") => "Don".to_string(),
        Some("solidarity_sale") => "Vente solidaire".to_string(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

impl PrescriptionView {
    /// Builds the view of `row`; `household` is the name to show, or
    /// `None` to show the opaque id.
    pub(crate) fn new(row: PrescriptionRow, household: Option<String>) -> PrescriptionView {
        let today = Utc::now().date_naive().to_string();
        let overdue = row.status == "handed_over"
            && row
                .due_on
                .as_deref()
                .is_some_and(|due| due < today.as_str());
        PrescriptionView {
            status_label: prescription_status_label(&row.status),
            need: category_label(&row.category),
            purpose: purpose_label(&row.purpose),
            household: household.unwrap_or_else(|| format!("foyer {}", short(&row.household_id))),
            device_code: row.device_code.unwrap_or_default(),
            handover: handover_label(row.handover_mode.as_deref()),
            issued_on: french_date(&row.issued_on),
            due_on: row.due_on.as_deref().map(french_date).unwrap_or_default(),
            overdue,
            commune: row.commune,
            status: row.status,
            id: row.prescription_id,
        }
    }
}

/// First eight characters of an id, enough to tell rows apart on a page.
pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Name of a household for a person allowed to see it; `None` once erased.
pub(crate) async fn household_name(state: &AppState, household_id: &str) -> Option<String> {
    let id: HouseholdId = household_id.parse().ok()?;
    match state.store().household(id).await {
        Ok(Some(record)) => record
            .identity
            .map(|identity| format!("{} {}", identity.first_name, identity.last_name)),
        Ok(None) => None,
        Err(error) => {
            tracing::error!(%error, household = %household_id, "cannot read a household");
            None
        }
    }
}

#[derive(Template)]
#[template(path = "prescriptions.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    rows: Vec<PrescriptionView>,
}

async fn list(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManagePrescriptions>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let organisation = &caller.principal.organisation_id;
    let rows =
        views::referrer_prescriptions(state.store().pool(), organisation, LIST_LIMIT).await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let action = Action::ViewHouseholdIdentity {
            referrer_organisation: &row.referrer_organisation,
            workshop_organisation: row.workshop_organisation.as_deref(),
        };
        let name = if caller.may(&action) {
            household_name(&state, &row.household_id).await
        } else {
            None
        };
        views.push(PrescriptionView::new(row, name));
    }
    let flash = query
        .get("emise")
        .map(|id| format!("Prescription {} émise : l'atelier la recevra.", short(id)));
    let page = ListPage {
        layout: caller.layout(),
        flash,
        rows: views,
    };
    render(StatusCode::OK, &page)
}

/// A household the referrer may choose again.
struct HouseholdChoice {
    id: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "prescription_new.html")]
struct NewPage {
    layout: Layout,
    problems: Vec<String>,
    today: String,
    households: Vec<HouseholdChoice>,
    schemes: Vec<SelectOption>,
    categories: Vec<SelectOption>,
    purposes: Vec<SelectOption>,
    sizes: Vec<SelectOption>,
    ages: Vec<SelectOption>,
    modes: Vec<SelectOption>,
    autonomies: Vec<SelectOption>,
    evidence_kinds: Vec<SelectOption>,
    providers: Vec<SelectOption>,
    form: IssueInput,
    /// Idempotency key of this form: a second submission with the same key
    /// records nothing and shows the prescription the first one issued.
    command_id: String,
}

/// Options of a select over a `named_enum`, with the typed value selected
/// and a "choose" entry first.
fn options<T: Copy + std::str::FromStr<Err = UnknownValue>>(
    values: &[T],
    typed: &str,
    describe: impl Fn(T) -> (&'static str, &'static str),
) -> Vec<SelectOption> {
    let chosen: Option<T> = typed.parse().ok();
    let mut options = vec![SelectOption {
        value: String::new(),
        label: "— choisir —".to_string(),
        selected: chosen.is_none(),
    }];
    for value in values {
        let (stable, french) = describe(*value);
        options.push(SelectOption {
            value: stable.to_string(),
            label: french.to_string(),
            selected: chosen.is_some_and(|c| describe(c).0 == stable),
        });
    }
    options
}

fn plain_options(pairs: &[(&str, &str)], typed: &str) -> Vec<SelectOption> {
    pairs
        .iter()
        .map(|(value, label)| SelectOption {
            value: value.to_string(),
            label: label.to_string(),
            selected: *value == typed,
        })
        .collect()
}

/// Households of the organisation's earlier prescriptions whose identity is
/// still stored.
async fn known_households(
    state: &AppState,
    caller: &Caller,
    typed: &str,
) -> Result<Vec<HouseholdChoice>, AppError> {
    let rows = views::referrer_prescriptions(
        state.store().pool(),
        &caller.principal.organisation_id,
        LIST_LIMIT,
    )
    .await?;
    let mut choices: Vec<HouseholdChoice> = Vec::new();
    for row in rows {
        if choices.iter().any(|c| c.id == row.household_id) {
            continue;
        }
        if let Some(name) = household_name(state, &row.household_id).await {
            choices.push(HouseholdChoice {
                selected: row.household_id == typed,
                label: format!("{name} ({})", row.commune),
                id: row.household_id,
            });
        }
    }
    Ok(choices)
}

async fn new_page(
    state: &AppState,
    caller: &Caller,
    form: IssueInput,
    command_id: Uuid,
    problems: Vec<String>,
) -> Result<NewPage, AppError> {
    let schemes = state
        .store()
        .schemes()
        .await
        .map_err(crate::prescription_actions::prescription_error)?;
    let schemes = std::iter::once(SelectOption {
        value: String::new(),
        label: "— choisir —".to_string(),
        selected: form.scheme.is_empty(),
    })
    .chain(schemes.into_iter().map(|scheme| SelectOption {
        selected: form.scheme == scheme.id.to_string() || form.scheme == scheme.name,
        label: format!("{} ({})", scheme.name, scheme.rule.category().label_fr()),
        value: scheme.id.to_string(),
    }))
    .collect();
    Ok(NewPage {
        layout: caller.layout(),
        problems,
        today: Utc::now().date_naive().to_string(),
        households: known_households(state, caller, &form.household_id).await?,
        schemes,
        categories: options(Category::ALL, &form.category, |c| {
            (c.as_str(), c.label_fr())
        }),
        purposes: options(Purpose::ALL, &form.purpose, |p| (p.as_str(), p.label_fr())),
        sizes: options(HouseholdSize::ALL, &form.household_size, |s| {
            (s.as_str(), s.label_fr())
        }),
        ages: options(AgeBand::ALL, &form.age, |a| (a.as_str(), a.label_fr())),
        modes: plain_options(
            &PreferredMode::ALL
                .iter()
                .map(|m| (m.as_str(), m.label_fr()))
                .collect::<Vec<_>>(),
            if form.preferred_mode.is_empty() {
                "loan"
            } else {
                &form.preferred_mode
            },
        ),
        autonomies: options(Autonomy::ALL, &form.autonomy, |a| {
            (a.as_str(), a.label_fr())
        }),
        evidence_kinds: plain_options(
            &[
                ("", "— choisir —"),
                ("benefit", "Allocation perçue (nom)"),
                ("family_quotient", "Quotient familial (€)"),
                ("residual_income", "Reste à vivre (€ par mois)"),
                ("student", "Étudiant·e"),
                ("job_seeker", "Demandeur·se d'emploi"),
            ],
            &form.evidence_kind,
        ),
        providers: std::iter::once(("none", "Pas de formation"))
            .chain(
                TrainingProvider::ALL
                    .iter()
                    .map(|p| (p.as_str(), p.label_fr())),
            )
            .map(|(value, label)| SelectOption {
                value: value.to_string(),
                label: label.to_string(),
                selected: value == form.training_provider
                    || (value == "none" && form.training_provider.is_empty()),
            })
            .collect(),
        form,
        command_id: command_id.to_string(),
    })
}

async fn new_form(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManagePrescriptions>,
) -> Result<Response, AppError> {
    let page = new_page(
        &state,
        &caller,
        IssueInput::default(),
        Uuid::new_v4(),
        Vec::new(),
    )
    .await?;
    render(StatusCode::OK, &page)
}

/// Reads the issue form's fields.
fn issue_input(form: &FormPairs) -> IssueInput {
    let text = |name: &str| form.get(name).unwrap_or_default().to_string();
    IssueInput {
        household_id: text("household_id"),
        first_name: text("first_name"),
        last_name: text("last_name"),
        phone: text("phone"),
        email: text("email"),
        address: text("address"),
        commune: text("commune"),
        qpv: form.get("qpv").is_some(),
        zrr: form.get("zrr").is_some(),
        household_size: text("household_size"),
        age: text("age"),
        category: text("category"),
        purpose: text("purpose"),
        scheme: text("scheme"),
        evidence_kind: text("evidence_kind"),
        evidence_value: text("evidence_value"),
        preferred_mode: text("preferred_mode"),
        autonomy: text("autonomy"),
        pix: text("pix"),
        training_provider: text("training_provider"),
        training_name: text("training_name"),
        training_on: text("training_on"),
    }
}

async fn create(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ManagePrescriptions>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let input = issue_input(&form);
    let command_id = match form.get("command_id") {
        None => Uuid::new_v4(),
        Some(raw) => Uuid::parse_str(raw.trim()).map_err(|_| {
            AppError::bad_request(
                "invalid_command_id",
                format!(
                    "Identifiant de formulaire « {raw} » invalide : rechargez la page « \
                     Nouvelle prescription »."
                ),
            )
            .back_to("/prescriptions/nouvelle")
        })?,
    };
    if let Some(id) = issued_by_command(&state, command_id).await? {
        return Ok(already_issued(id, command_id));
    }
    match issue(&state, &caller, &input, Some(command_id)).await {
        Ok(outcome) => {
            let target = format!("/prescriptions?emise={}", outcome.prescription.id());
            Ok(Redirect::to(&target).into_response())
        }
        Err(problems) if problems.status.is_client_error() => {
            tracing::info!(
                problems = problems.messages.len(),
                code = problems.code,
                "prescription rejected"
            );
            let page = new_page(&state, &caller, input, command_id, problems.messages).await?;
            render(problems.status, &page)
        }
        Err(problems) => match issued_by_command(&state, command_id).await? {
            // A concurrent submission of the same form issued it first.
            // NOTE: the household row this submission created stays, with no
            // prescription naming it.
            Some(id) => Ok(already_issued(id, command_id)),
            None => Err(problems.into_error()),
        },
    }
}

/// Shows the prescription that an earlier submission of the same form
/// issued.
fn already_issued(id: PrescriptionId, command_id: Uuid) -> Response {
    tracing::info!(prescription = %id, %command_id, "prescription form submitted again");
    Redirect::to(&format!("/prescriptions/{id}?deja=1")).into_response()
}
