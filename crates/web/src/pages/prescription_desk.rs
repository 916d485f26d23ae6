//! Workshop prescription pages and the page of one prescription. The lists
//! show incoming prescriptions, those a workshop follows, and loans due and
//! overdue. The page of a prescription has the forms of the steps allowed
//! now: accept or decline, reserve one of the matching devices, hand over,
//! extend, return, convert, training. A rejected step shows the page again
//! with the French reason and the typed values, and records nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{NaiveDate, Utc};
use filiere_domain::access::Action;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::{DigitalSkills, Evidence, Prescription, PrescriptionStep};
use filiere_projections::{prescriptions as views, LoanScope};

use super::prescriptions::{household_name, short, PrescriptionView};
use super::{french_time, grade_label, render, Layout};
use crate::auth::gate::{self, Gate, SignedIn};
use crate::auth::{Allowed, Caller};
use crate::errors::AppError;
use crate::extract::{FormPairs, QueryMap};
use crate::prescription_actions::{
    handover_mode, matches, parse_date, prescription_error, record_step, visible_prescription,
    WorkshopStep,
};
use crate::server::AppState;

/// Rows of each workshop list at most.
const LIST_LIMIT: i64 = 500;
/// Days ahead the loans page looks for loans falling due, by default.
const DEFAULT_DUE_DAYS: u32 = 14;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/prescriptions/atelier", get(desk))
        .route("/prescriptions/prets", get(loans))
        .route("/prescriptions/{id}", get(show))
        .route("/prescriptions/{id}/etapes/{step}", post(step))
}

#[derive(Template)]
#[template(path = "prescriptions_desk.html")]
struct DeskPage {
    layout: Layout,
    incoming: Vec<PrescriptionView>,
    followed: Vec<PrescriptionView>,
}

async fn desk(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::HandlePrescriptions>,
) -> Result<Response, AppError> {
    let pool = state.store().pool();
    let incoming = views::incoming_prescriptions(pool, LIST_LIMIT).await?;
    let followed =
        views::workshop_prescriptions(pool, &caller.principal.organisation_id, LIST_LIMIT).await?;
    let page = DeskPage {
        layout: caller.layout(),
        incoming: incoming
            .into_iter()
            .map(|row| PrescriptionView::new(row, None))
            .collect(),
        followed: with_names(&state, &caller, followed).await,
    };
    render(StatusCode::OK, &page)
}

/// Views of `rows`, with the household's name where the caller may see it.
async fn with_names(
    state: &AppState,
    caller: &Caller,
    rows: Vec<filiere_projections::PrescriptionRow>,
) -> Vec<PrescriptionView> {
    let mut result = Vec::with_capacity(rows.len());
    for row in rows {
        let action = Action::ViewHouseholdIdentity {
            referrer_organisation: &row.referrer_organisation,
            workshop_organisation: row.workshop_organisation.as_deref(),
        };
        let name = if caller.may(&action) {
            household_name(state, &row.household_id).await
        } else {
            None
        };
        result.push(PrescriptionView::new(row, name));
    }
    result
}

#[derive(Template)]
#[template(path = "prescription_loans.html")]
struct LoansPage {
    layout: Layout,
    as_of: String,
    days: u32,
    overdue: Vec<PrescriptionView>,
    due: Vec<PrescriptionView>,
}

/// Loans of the caller's organisation: handed over by it for a workshop,
/// prescribed by it for a referrer, every loan for an administrator.
pub(crate) fn loan_scope(caller: &Caller) -> Result<LoanScope, AppError> {
    let organisation = caller.principal.organisation_id.clone();
    if caller.may(&Action::ViewEveryOrganisation) {
        return Ok(LoanScope::All);
    }
    if caller.may(&gate::HandlePrescriptions::action(&caller.principal)) {
        return Ok(LoanScope::Workshop(organisation));
    }
    let referrer = Action::ManagePrescriptions {
        organisation_id: &caller.principal.organisation_id,
    };
    caller.require(&referrer)?;
    Ok(LoanScope::Referrer(organisation))
}

async fn loans(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    query: QueryMap,
) -> Result<Response, AppError> {
    let scope = loan_scope(&caller)?;
    let today = Utc::now().date_naive();
    let as_of: NaiveDate = query.parsed("date", today, "une date au format AAAA-MM-JJ")?;
    let days: u32 = query.parsed("jours", DEFAULT_DUE_DAYS, "un nombre de jours")?;
    let pool = state.store().pool();
    let overdue = views::overdue_loans(pool, &scope, as_of).await?;
    let due = views::loans_due_within(pool, &scope, as_of, days).await?;
    let page = LoansPage {
        layout: caller.layout(),
        as_of: as_of.to_string(),
        days,
        overdue: with_names(&state, &caller, overdue).await,
        due: with_names(&state, &caller, due).await,
    };
    render(StatusCode::OK, &page)
}

/// A device that fits the prescription, for the reserve buttons.
struct MatchView {
    code: String,
    grade: String,
    autonomy: String,
    in_stock_since: String,
}

/// Values typed in the step forms, shown again after a refusal.
#[derive(Default)]
struct Typed {
    code: String,
    mode: String,
    due: String,
    price: String,
    reason: String,
    notes: String,
}

/// Facts of the prescription, as French label and value pairs.
struct Fact {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "prescription.html")]
struct PrescriptionPage {
    layout: Layout,
    flash: Option<String>,
    problem: Option<String>,
    id: String,
    status: String,
    status_label: String,
    title: String,
    facts: Vec<Fact>,
    /// Name and contact lines of the household, for those who may see them.
    identity: Vec<String>,
    may_handle: bool,
    allowed: Vec<&'static str>,
    matches: Vec<MatchView>,
    device_code: String,
    sheet: bool,
    today: String,
    due_on: String,
    typed: Typed,
    timeline: Vec<(String, String)>,
}

impl PrescriptionPage {
    fn allows(&self, step: &str) -> bool {
        self.allowed.contains(&step)
    }
}

async fn show(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let flash = match query.get("deja") {
        Some(_) => Some(
            "Ce formulaire avait déjà été envoyé : voici la prescription émise alors, rien de \
             nouveau n'a été enregistré."
                .to_string(),
        ),
        None => query.get("fait").map(step_done_fr),
    };
    let page = prescription_page(&state, &caller, &id, flash, None, Typed::default()).await?;
    render(StatusCode::OK, &page)
}

fn step_done_fr(step: &str) -> String {
    let label = step
        .parse::<PrescriptionStep>()
        .map_or("Étape", |step| step.label_fr());
    format!("{label} : enregistré.")
}

async fn prescription_page(
    state: &AppState,
    caller: &Caller,
    typed_id: &str,
    flash: Option<String>,
    problem: Option<String>,
    typed: Typed,
) -> Result<PrescriptionPage, AppError> {
    let prescription = visible_prescription(state, caller, typed_id).await?;
    let issued = &prescription.issued;
    let workshop = prescription.workshop_organisation.as_deref();
    let may_handle = caller.may(&Action::HandlePrescription {
        workshop_organisation: workshop,
    });
    let identity_action = Action::ViewHouseholdIdentity {
        referrer_organisation: &issued.referrer_organisation,
        workshop_organisation: workshop,
    };
    let identity = if caller.may(&identity_action) {
        identity_lines(state, &prescription).await
    } else {
        Vec::new()
    };
    let allowed: Vec<&'static str> = if may_handle {
        prescription
            .allowed_steps()
            .iter()
            .map(|step| step.as_str())
            .collect()
    } else {
        Vec::new()
    };
    let found = if may_handle {
        matches(state, &prescription).await?
    } else {
        Vec::new()
    };
    let events = state
        .workshop
        .prescription_events(prescription.id())
        .await
        .map_err(prescription_error)?;
    let due_on = match &prescription.handover_mode {
        Some(HandoverMode::Loan { due_on }) => due_on.to_string(),
        _ => String::new(),
    };
    Ok(PrescriptionPage {
        layout: caller.layout(),
        flash,
        problem,
        id: prescription.id().to_string(),
        status: prescription.status.as_str().to_string(),
        status_label: prescription.status.label_fr().to_string(),
        title: format!(
            "{} · {}",
            issued.need.category.label_fr(),
            issued.need.purpose.label_fr()
        ),
        facts: facts(&prescription),
        identity,
        may_handle,
        allowed,
        matches: found
            .into_iter()
            .map(|device| MatchView {
                code: device.code.to_string(),
                grade: device
                    .grade
                    .map(|g| grade_label(g.as_str()))
                    .unwrap_or_default(),
                autonomy: device
                    .autonomy
                    .map(|a| a.label_fr().to_string())
                    .unwrap_or_default(),
                in_stock_since: device.in_stock_since.format("%d/%m/%Y").to_string(),
            })
            .collect(),
        device_code: prescription
            .device
            .as_ref()
            .map(|d| d.code.to_string())
            .unwrap_or_default(),
        sheet: prescription.handover_mode.is_some(),
        today: Utc::now().date_naive().to_string(),
        due_on,
        typed,
        timeline: events
            .iter()
            .map(|(recorded, event)| {
                (
                    french_time(&recorded.occurred_at.to_rfc3339()),
                    event.summary_fr(),
                )
            })
            .collect(),
    })
}

async fn identity_lines(state: &AppState, prescription: &Prescription) -> Vec<String> {
    match state.store().household(prescription.household_id()).await {
        Ok(Some(record)) => match record.identity {
            Some(identity) => [
                Some(format!("{} {}", identity.first_name, identity.last_name)),
                identity.phone,
                identity.email,
                identity.address,
            ]
            .into_iter()
            .flatten()
            .collect(),
            None => vec!["Identité effacée".to_string()],
        },
        Ok(None) => Vec::new(),
        Err(error) => {
            tracing::error!(%error, prescription = %prescription.id(), "cannot read the household");
            Vec::new()
        }
    }
}

fn facts(prescription: &Prescription) -> Vec<Fact> {
    let issued = &prescription.issued;
    let yes_no = |flag: bool| if flag { "oui" } else { "non" }.to_string();
    let mut facts = vec![
        Fact {
            label: "Foyer",
            value: format!("foyer {}", short(&issued.household_id.to_string())),
        },
        Fact {
            label: "Commune (INSEE)",
            value: issued.household.commune.to_string(),
        },
        Fact {
            label: "QPV / ZRR",
            value: format!(
                "{} / {}",
                yes_no(issued.household.qpv),
                yes_no(issued.household.zrr)
            ),
        },
        Fact {
            label: "Taille du foyer",
            value: issued.household.size.label_fr().to_string(),
        },
        Fact {
            label: "Âge",
            value: issued.household.age.label_fr().to_string(),
        },
        Fact {
            label: "Dispositif",
            value: format!("{} ({})", issued.scheme.name, issued.eligibility.label_fr()),
        },
        Fact {
            label: "Justificatif",
            value: evidence_fr(&issued.evidence),
        },
        Fact {
            label: "Mode souhaité",
            value: issued.preferred_mode.label_fr().to_string(),
        },
        Fact {
            label: "Autonomie numérique",
            value: match issued.skills {
                DigitalSkills::Pix { level } => format!("Pix niveau {level}"),
                DigitalSkills::Autonomy { level } => level.label_fr().to_string(),
            },
        },
    ];
    if let Some(training) = &issued.training {
        let when = training.scheduled_on.map_or_else(
            || "date à fixer".to_string(),
            |d| d.format("%d/%m/%Y").to_string(),
        );
        let attended = if prescription.training_attended {
            ", suivie".to_string()
        } else if prescription.trainings_missed > 0 {
            format!(", {} absence(s)", prescription.trainings_missed)
        } else {
            String::new()
        };
        facts.push(Fact {
            label: "Formation",
            value: format!(
                "{} : {} ({when}){attended}",
                training.provider.label_fr(),
                training.name
            ),
        });
    }
    if let Some(mode) = &prescription.handover_mode {
        facts.push(Fact {
            label: "Remise",
            value: match mode {
                HandoverMode::Loan { due_on } => {
                    format!("Prêt jusqu'au {}", due_on.format("%d/%m/%Y"))
                }
                other => other.label_fr().to_string(),
            },
        });
    }
    facts
}

fn evidence_fr(evidence: &Evidence) -> String {
    match evidence {
        Evidence::Benefit { name } => format!("Allocation : {name}"),
        Evidence::FamilyQuotient { euros } => format!("Quotient familial : {euros} €"),
        Evidence::ResidualIncome { euros_per_month } => {
            format!("Reste à vivre : {euros_per_month} € par mois")
        }
        Evidence::Student => "Étudiant·e".to_string(),
        Evidence::JobSeeker => "Demandeur·se d'emploi".to_string(),
    }
}

/// Reads the form of `step` into a workshop step.
fn workshop_step(step: &str, form: &FormPairs) -> Result<WorkshopStep, AppError> {
    let text = |name: &str| form.get(name).unwrap_or_default().to_string();
    let today = Utc::now().date_naive().to_string();
    let day = |name: &str| form.get(name).map_or(today.clone(), str::to_string);
    Ok(match step {
        "accept" => WorkshopStep::Accept,
        "decline" => WorkshopStep::Decline {
            reason: text("reason"),
        },
        "reserve" => WorkshopStep::Reserve { code: text("code") },
        "release" => WorkshopStep::Release {
            reason: text("reason"),
        },
        "handover" => WorkshopStep::HandOver {
            mode: handover_mode(&text("mode"), &text("due"), &text("price"))?,
        },
        "extend_loan" => WorkshopStep::Extend {
            due_on: parse_date("due", "nouvelle date de fin du prêt", &text("due"))?,
        },
        "return" => WorkshopStep::Return {
            notes: text("notes"),
        },
        "convert" => WorkshopStep::Convert,
        "attend_training" => WorkshopStep::TrainingAttended {
            on: parse_date("on", "date de la séance", &day("on"))?,
        },
        "miss_training" => WorkshopStep::TrainingMissed {
            on: parse_date("on", "date de la séance", &day("on"))?,
        },
        other => {
            return Err(AppError::new(
                StatusCode::NOT_FOUND,
                "unknown_step",
                format!("Étape de prescription inconnue : « {other} »."),
            ))
        }
    })
}

async fn step(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path((id, step)): Path<(String, String)>,
    form: FormPairs,
) -> Result<Response, AppError> {
    let result = match workshop_step(&step, &form) {
        Ok(parsed) => record_step(&state, &caller, &id, parsed).await.map(|_| ()),
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => {
            let target = format!("/prescriptions/{id}?fait={step}");
            Ok(Redirect::to(&target).into_response())
        }
        Err(error) if error.status.is_client_error() && error.status != StatusCode::NOT_FOUND => {
            if error.status == StatusCode::FORBIDDEN {
                return Err(error);
            }
            let typed = Typed {
                code: form.get("code").unwrap_or_default().to_string(),
                mode: form.get("mode").unwrap_or_default().to_string(),
                due: form.get("due").unwrap_or_default().to_string(),
                price: form.get("price").unwrap_or_default().to_string(),
                reason: form.get("reason").unwrap_or_default().to_string(),
                notes: form.get("notes").unwrap_or_default().to_string(),
            };
            tracing::info!(prescription = %id, step, code = error.code, "prescription step rejected");
            let page =
                prescription_page(&state, &caller, &id, None, Some(error.message), typed).await?;
            render(error.status, &page)
        }
        Err(error) => Err(error),
    }
}
