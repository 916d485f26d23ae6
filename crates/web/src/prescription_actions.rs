//! Prescription operations shared by the pages and the API: reading the
//! issue form, loading a prescription the caller may see, recording the
//! workshop's steps, matching devices, and the French messages of
//! prescription errors. Inputs arrive as typed text, so every parse error
//! names the field and the value.

use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use filiere_domain::access::Action;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::matching::CandidateDevice;
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, EligibilityScheme, Evidence, HouseholdAttributes,
    HouseholdSize, Need, NewPrescription, PreferredMode, Prescription, PrescriptionCommand,
    PrescriptionError, PrescriptionStatus, PrescriptionStep, Purpose, Training, TrainingProvider,
};
use filiere_domain::territory::{InseeCode, TerritoryError};
use filiere_domain::types::{Autonomy, Category};
use filiere_domain::{DeviceCode, DomainError, HouseholdId, PrescriptionId};
use filiere_projections::{queries, StockFilter};
use filiere_store::households::HouseholdIdentity;
use filiere_store::prescriptions::{PrescriptionOutcome, PrescriptionStoreError};
use filiere_store::StoreError;
use uuid::Uuid;

use crate::auth::Caller;
use crate::errors::AppError;
use crate::messages::{message_fr, store_message_fr};
use crate::recording::{previous_result, web_context};
use crate::server::AppState;

/// Everything typed in the issue form or sent to the API, as text. Empty
/// strings mean "not given".
#[derive(Clone, Debug, Default)]
pub struct IssueInput {
    /// Id of a recorded household; when empty, a household is created from
    /// the identity fields.
    pub household_id: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub commune: String,
    pub qpv: bool,
    pub zrr: bool,
    pub household_size: String,
    pub age: String,
    pub category: String,
    pub purpose: String,
    /// Eligibility scheme, by id or name.
    pub scheme: String,
    /// benefit, family_quotient, residual_income, student or job_seeker.
    pub evidence_kind: String,
    /// Benefit name, or amount in euros.
    pub evidence_value: String,
    pub preferred_mode: String,
    /// Autonomy level (beginner, intermediate, autonomous); used when no
    /// Pix level is given.
    pub autonomy: String,
    /// Pix level from 0 to 8.
    pub pix: String,
    /// adviser or venue; empty when no training is prescribed.
    pub training_provider: String,
    pub training_name: String,
    pub training_on: String,
}

/// Problems found in an issue request: French sentences for the page, and
/// the status and stable code of the first one for the API.
#[derive(Clone, Debug)]
pub struct IssueProblems {
    pub status: StatusCode,
    pub code: &'static str,
    pub messages: Vec<String>,
}

impl IssueProblems {
    fn one(status: StatusCode, code: &'static str, message: String) -> IssueProblems {
        IssueProblems {
            status,
            code,
            messages: vec![message],
        }
    }

    /// Joins the messages into one API error.
    pub fn into_error(self) -> AppError {
        AppError::new(self.status, self.code, self.messages.join(" "))
    }
}

impl From<AppError> for IssueProblems {
    fn from(error: AppError) -> IssueProblems {
        IssueProblems::one(error.status, error.code, error.message)
    }
}

fn invalid(field: &str, value: &str, expected: &str) -> String {
    format!("Champ « {field} », valeur « {value} » : {expected}.")
}

fn missing(field: &str) -> String {
    format!("Champ « {field} » : ce champ est obligatoire.")
}

/// Parses a required value with `FromStr`, collecting a French problem.
fn parse_required<T: std::str::FromStr>(
    problems: &mut Vec<String>,
    value: &str,
    field: &str,
    expected: &str,
) -> Option<T> {
    let value = value.trim();
    if value.is_empty() {
        problems.push(missing(field));
        return None;
    }
    match value.parse() {
        Ok(parsed) => Some(parsed),
        Err(_) => {
            problems.push(invalid(field, value, expected));
            None
        }
    }
}

/// French message of a commune code error. A code of five digits that
/// `InseeCode::parse` rejects for its département part (such as 99999, as 99
/// is INSEE's prefix for foreign countries) is well formed, so it gets the
/// unknown-commune message.
pub fn territory_fr(error: &TerritoryError) -> String {
    match error {
        TerritoryError::InvalidCode { input, .. }
            if input.len() == 5 && input.bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            unknown_commune_fr(input)
        }
        TerritoryError::InvalidCode { input, .. } => invalid(
            "commune (code INSEE)",
            input,
            "un code INSEE a 5 caractères, chiffres ou 2A/2B pour la Corse ; ce n'est pas le \
             code postal",
        ),
        TerritoryError::UnknownCommune { code } => unknown_commune_fr(code.as_str()),
        other => format!("Commune refusée : {other}."),
    }
}

fn unknown_commune_fr(code: &str) -> String {
    format!(
        "Champ « commune (code INSEE) », valeur « {code} » : aucune commune actuelle n'a ce code \
         INSEE. Vérifiez le code (ce n'est pas le code postal) ; pour une commune fusionnée, \
         donnez le code de la commune nouvelle."
    )
}

/// Parses the form and checks it against the scheme and the domain's rules
/// without recording anything. Returns the prescription with a placeholder
/// household id, and the identity to record when no household was chosen.
async fn check_issue(
    state: &AppState,
    caller: &Caller,
    input: &IssueInput,
) -> Result<
    (
        NewPrescription,
        EligibilityScheme,
        Option<HouseholdIdentity>,
    ),
    IssueProblems,
> {
    let mut problems = Vec::new();
    // Stable code of the API error: that of the first problem.
    let mut code = "invalid_field";
    let household_id = if input.household_id.trim().is_empty() {
        None
    } else {
        parse_required::<HouseholdId>(
            &mut problems,
            &input.household_id,
            "foyer",
            "un identifiant de foyer (UUID) est attendu",
        )
    };
    let commune = if input.commune.trim().is_empty() {
        problems.push(missing("commune (code INSEE)"));
        None
    } else {
        match InseeCode::parse(&input.commune) {
            Ok(code) => Some(code),
            Err(error) => {
                if problems.is_empty() {
                    code = "unknown_commune";
                }
                problems.push(territory_fr(&error));
                None
            }
        }
    };
    let size = parse_required::<HouseholdSize>(
        &mut problems,
        &input.household_size,
        "taille du foyer",
        "1, 2, 3-4 ou 5+ est attendu",
    );
    let age = parse_required::<AgeBand>(
        &mut problems,
        &input.age,
        "âge",
        "moins de 18 ans, 18-25, 26-59 ou 60+ est attendu",
    );
    let category = parse_required::<Category>(
        &mut problems,
        &input.category,
        "équipement",
        "une catégorie d'appareil (ordinateur portable, tablette...) est attendue",
    );
    let purpose = parse_required::<Purpose>(
        &mut problems,
        &input.purpose,
        "usage",
        "recherche d'emploi, scolarité, démarches administratives, santé ou autre est attendu",
    );
    let preferred_mode = if input.preferred_mode.trim().is_empty() {
        Some(PreferredMode::Loan)
    } else {
        parse_required::<PreferredMode>(
            &mut problems,
            &input.preferred_mode,
            "mode souhaité",
            "prêt, don ou vente solidaire est attendu",
        )
    };
    let evidence = parse_evidence(&mut problems, input);
    let skills = parse_skills(&mut problems, input);
    let training = parse_training(&mut problems, input);
    let scheme = if input.scheme.trim().is_empty() {
        problems.push(missing("dispositif d'éligibilité"));
        None
    } else {
        match state.store().scheme(&input.scheme).await {
            Ok(scheme) => Some(scheme),
            Err(PrescriptionStoreError::SchemeNotFound(name)) => {
                problems.push(invalid(
                    "dispositif d'éligibilité",
                    &name,
                    "aucun dispositif ne porte ce nom ou cet identifiant ; choisissez-en un dans \
                     la liste",
                ));
                None
            }
            Err(error) => return Err(prescription_error(error).into()),
        }
    };
    let identity = match household_id {
        Some(id) => {
            check_household(state, id, &mut problems).await?;
            None
        }
        None => match identity_of(input).normalized() {
            Ok(identity) => Some(identity),
            Err(error) => {
                problems.push(prescription_error(error).message);
                None
            }
        },
    };
    let (
        Some(commune),
        Some(size),
        Some(age),
        Some(category),
        Some(purpose),
        Some(preferred_mode),
        Some(evidence),
        Some(skills),
        Some(training),
        Some(scheme),
    ) = (
        commune,
        size,
        age,
        category,
        purpose,
        preferred_mode,
        evidence,
        skills,
        training,
        scheme,
    )
    else {
        return Err(IssueProblems {
            status: StatusCode::BAD_REQUEST,
            code,
            messages: problems,
        });
    };
    if !problems.is_empty() {
        return Err(IssueProblems {
            status: StatusCode::BAD_REQUEST,
            code,
            messages: problems,
        });
    }
    let new = NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id: household_id.unwrap_or_else(HouseholdId::generate),
        referrer_organisation: caller.principal.organisation_id.clone(),
        need: Need { category, purpose },
        evidence,
        preferred_mode,
        skills,
        training,
        household: HouseholdAttributes {
            commune,
            qpv: input.qpv,
            zrr: input.zrr,
            size,
            age,
        },
    };
    let today = Utc::now().date_naive();
    if let Err(error) = Prescription::issue(new.clone(), &scheme, today) {
        let message = match &error {
            PrescriptionError::NotEligible { .. } => not_eligible_fr(&scheme, &new.evidence),
            _ => prescription_error(PrescriptionStoreError::Prescription(error.clone())).message,
        };
        let (status, code) = prescription_status(&error);
        return Err(IssueProblems::one(status, code, message));
    }
    Ok((new, scheme, identity))
}

async fn check_household(
    state: &AppState,
    id: HouseholdId,
    problems: &mut Vec<String>,
) -> Result<(), IssueProblems> {
    match state.store().household(id).await {
        Ok(Some(record)) if record.erased_at.is_none() => {}
        Ok(Some(_)) => problems.push(format!(
            "Le foyer {id} a été effacé : enregistrez-le de nouveau pour une nouvelle \
             prescription."
        )),
        Ok(None) => problems.push(invalid(
            "foyer",
            &id.to_string(),
            "aucun foyer n'a cet identifiant ; choisissez-en un dans la liste ou créez-le",
        )),
        Err(error) => return Err(prescription_error(error).into()),
    }
    Ok(())
}

fn identity_of(input: &IssueInput) -> HouseholdIdentity {
    let optional = |value: &str| Some(value.to_string()).filter(|v| !v.trim().is_empty());
    HouseholdIdentity {
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        phone: optional(&input.phone),
        email: optional(&input.email),
        address: optional(&input.address),
    }
}

fn parse_evidence(problems: &mut Vec<String>, input: &IssueInput) -> Option<Evidence> {
    let value = input.evidence_value.trim();
    let euros = |problems: &mut Vec<String>| -> Option<u32> {
        parse_required(
            problems,
            value,
            "justificatif (montant)",
            "un montant entier en euros est attendu",
        )
    };
    match input.evidence_kind.trim() {
        "benefit" => {
            if value.is_empty() {
                problems.push(missing("justificatif (nom de l'allocation)"));
                return None;
            }
            Some(Evidence::Benefit {
                name: value.to_string(),
            })
        }
        "family_quotient" => euros(problems).map(|euros| Evidence::FamilyQuotient { euros }),
        "residual_income" => {
            euros(problems).map(|euros_per_month| Evidence::ResidualIncome { euros_per_month })
        }
        "student" => Some(Evidence::Student),
        "job_seeker" => Some(Evidence::JobSeeker),
        "" => {
            problems.push(missing("type de justificatif"));
            None
        }
        other => {
            problems.push(invalid(
                "type de justificatif",
                other,
                "benefit, family_quotient, residual_income, student ou job_seeker est attendu",
            ));
            None
        }
    }
}

fn parse_skills(problems: &mut Vec<String>, input: &IssueInput) -> Option<DigitalSkills> {
    if !input.pix.trim().is_empty() {
        return parse_required::<u8>(
            problems,
            &input.pix,
            "niveau Pix",
            "un niveau de 0 à 8 est attendu",
        )
        .map(|level| DigitalSkills::Pix { level });
    }
    parse_required::<Autonomy>(
        problems,
        &input.autonomy,
        "autonomie numérique",
        "débutant, intermédiaire ou autonome est attendu",
    )
    .map(|level| DigitalSkills::Autonomy { level })
}

/// Returns `Some(None)` when no training is prescribed, `None` on a problem.
fn parse_training(problems: &mut Vec<String>, input: &IssueInput) -> Option<Option<Training>> {
    let provider = input.training_provider.trim();
    if provider.is_empty() || provider == "none" {
        return Some(None);
    }
    let provider = parse_required::<TrainingProvider>(
        problems,
        provider,
        "formation",
        "conseiller·ère numérique (adviser) ou lieu de médiation (venue) est attendu",
    )?;
    let scheduled_on = if input.training_on.trim().is_empty() {
        None
    } else {
        Some(parse_required::<NaiveDate>(
            problems,
            &input.training_on,
            "date de la première séance",
            "une date au format AAAA-MM-JJ est attendue",
        )?)
    };
    Some(Some(Training {
        provider,
        name: input.training_name.clone(),
        scheduled_on,
    }))
}

/// French message of a household the scheme does not accept, with the
/// scheme, the value given and the threshold or accepted values.
pub fn not_eligible_fr(scheme: &EligibilityScheme, evidence: &Evidence) -> String {
    let detail = match (&scheme.rule, evidence) {
        (EligibilityRule::Benefit { accepted }, Evidence::Benefit { name }) => format!(
            "l'allocation « {} » ne fait pas partie des allocations acceptées ({})",
            name.trim(),
            accepted.join(", ")
        ),
        (
            EligibilityRule::FamilyQuotientBelow { threshold_euros },
            Evidence::FamilyQuotient { euros },
        ) => format!(
            "un quotient familial de {euros} € n'est pas inférieur au seuil de {threshold_euros} €"
        ),
        (
            EligibilityRule::ResidualIncomeBelow {
                threshold_euros_per_month,
            },
            Evidence::ResidualIncome { euros_per_month },
        ) => format!(
            "un reste à vivre de {euros_per_month} € par mois n'est pas inférieur au seuil de \
             {threshold_euros_per_month} € par mois"
        ),
        (rule, _) => format!(
            "ce dispositif demande un justificatif de type « {} », un autre type a été donné",
            rule.category().label_fr()
        ),
    };
    format!(
        "Le foyer n'est pas éligible au dispositif « {} » : {detail}. Rien n'a été enregistré.",
        scheme.name
    )
}

/// Checks and issues a prescription, creating the household first when none
/// was chosen. Nothing is recorded when a check fails. A `command_id` that
/// was applied before records no second prescription, but its household row
/// is already written: callers check `issued_by_command` first.
pub async fn issue(
    state: &AppState,
    caller: &Caller,
    input: &IssueInput,
    command_id: Option<Uuid>,
) -> Result<PrescriptionOutcome, IssueProblems> {
    let (mut new, scheme, identity) = check_issue(state, caller, input).await?;
    let context = web_context(&caller.principal, command_id);
    if let Some(identity) = identity {
        // NOTE: the household row is written before the event. Every rule
        // was checked just above, so only a database failure in between
        // leaves a household without a prescription.
        new.household_id = state
            .store()
            .create_household(identity, context.now)
            .await
            .map_err(prescription_error)?;
    }
    let outcome = state
        .workshop
        .issue_prescription(new, scheme.id, &context)
        .await
        .map_err(prescription_error)?;
    catch_up(state).await;
    Ok(outcome)
}

/// Id of the prescription that `command_id` issued, or `None` when that
/// command id was never applied.
pub async fn issued_by_command(
    state: &AppState,
    command_id: Uuid,
) -> Result<Option<PrescriptionId>, AppError> {
    let Some(result) = previous_result(state.store(), command_id).await? else {
        return Ok(None);
    };
    let prefix = format!("{}-", PrescriptionId::STREAM_PREFIX);
    Ok(result
        .stream_versions
        .iter()
        .find_map(|(stream, _)| stream.strip_prefix(&prefix)?.parse().ok()))
}

/// Brings the projections up to date after a write, so that the next page
/// shows it; a failure is logged and the background projector retries.
pub async fn catch_up(state: &AppState) {
    if let Err(error) = state.projector.catch_up().await {
        tracing::error!(%error, "projection catch-up after a prescription step failed");
    }
    state.wake_projector();
}

/// Error of an unknown prescription, or one the caller may not see.
pub fn prescription_not_found(id: &str) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "prescription_not_found",
        format!("Aucune prescription avec l'identifiant « {id} »."),
    )
    .back_to("/prescriptions")
}

/// Loads a prescription that the caller may see; another organisation's
/// gets the same 404 as a missing one.
pub async fn visible_prescription(
    state: &AppState,
    caller: &Caller,
    typed: &str,
) -> Result<Prescription, AppError> {
    let hidden = || prescription_not_found(typed);
    let id: PrescriptionId = typed.trim().parse().map_err(|_| hidden())?;
    let prescription = state
        .workshop
        .load_prescription(id)
        .await
        .map_err(prescription_error)?
        .ok_or_else(hidden)?;
    let action = Action::ViewPrescription {
        referrer_organisation: &prescription.issued.referrer_organisation,
        workshop_organisation: prescription.workshop_organisation.as_deref(),
    };
    caller.require_or_hide(&action, hidden())?;
    Ok(prescription)
}

/// A workshop step requested on a prescription.
#[derive(Clone, Debug)]
pub enum WorkshopStep {
    Accept,
    Decline { reason: String },
    Reserve { code: String },
    Release { reason: String },
    HandOver { mode: HandoverMode },
    Extend { due_on: NaiveDate },
    Return { notes: String },
    Convert,
    TrainingAttended { on: NaiveDate },
    TrainingMissed { on: NaiveDate },
}

/// Parses a handover mode as typed: `loan` with `due`, `donation`, or
/// `sale`/`solidarity_sale` with `price` in euros.
pub fn handover_mode(mode: &str, due: &str, price: &str) -> Result<HandoverMode, AppError> {
    match mode.trim() {
        "loan" => Ok(HandoverMode::Loan {
            due_on: parse_date("due", "date de fin du prêt", due)?,
        }),
        "donation" => Ok(HandoverMode::Donation),
        "sale" | "solidarity_sale" => {
            let price = price.trim().replace(',', ".");
            if price.is_empty() {
                return Err(AppError::bad_request(
                    "invalid_field",
                    "Champ « prix (€) » : une vente solidaire a un prix en euros, par exemple \
                     49,90.",
                ));
            }
            let euros: f64 = price
                .parse()
                .ok()
                .filter(|e: &f64| e.is_finite() && *e >= 0.0)
                .ok_or_else(|| {
                    AppError::bad_request(
                        "invalid_field",
                        format!(
                            "Champ « prix (€) », valeur « {price} » : un montant positif ou nul \
                             en euros est attendu, par exemple 49,90."
                        ),
                    )
                })?;
            Ok(HandoverMode::SolidaritySale {
                price_cents: (euros * 100.0).round() as i64,
            })
        }
        "" => Err(AppError::bad_request(
            "invalid_field",
            "Champ « mode de remise » : choisissez prêt, don ou vente solidaire.",
        )),
        other => Err(AppError::bad_request(
            "invalid_field",
            format!(
                "Champ « mode de remise », valeur « {other} » : loan (prêt), donation (don) ou \
                 sale (vente solidaire) est attendu."
            ),
        )),
    }
}

/// Parses a `YYYY-MM-DD` date; `name` is the API field, `label` the French
/// one.
pub fn parse_date(name: &str, label: &str, value: &str) -> Result<NaiveDate, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_request(
            "invalid_field",
            format!("Champ « {label} » ({name}) : une date au format AAAA-MM-JJ est attendue."),
        ));
    }
    value.parse().map_err(|_| {
        AppError::bad_request(
            "invalid_field",
            format!(
                "Champ « {label} » ({name}), valeur « {value} » : une date au format AAAA-MM-JJ \
                 est attendue."
            ),
        )
    })
}

/// Records `step` on the prescription `id` for a workshop caller. The
/// caller must be allowed to handle it; another organisation's gets 404.
pub async fn record_step(
    state: &AppState,
    caller: &Caller,
    typed_id: &str,
    step: WorkshopStep,
) -> Result<PrescriptionOutcome, AppError> {
    let prescription = visible_prescription(state, caller, typed_id).await?;
    let action = Action::HandlePrescription {
        workshop_organisation: prescription.workshop_organisation.as_deref(),
    };
    caller.require(&action)?;

    let id = prescription.id();
    let context = web_context(&caller.principal, None);
    let organisation = caller.principal.organisation_id.clone();
    let workshop = &state.workshop;
    let outcome = match step {
        WorkshopStep::Reserve { code } => {
            let code = DeviceCode::parse_scanned(&code).map_err(|error| AppError::from(&error))?;
            workshop.reserve_device(id, &code, &context).await
        }
        WorkshopStep::HandOver { mode } => workshop.hand_over(id, mode, &context).await,
        other => {
            let command = match other {
                WorkshopStep::Accept => PrescriptionCommand::Accept {
                    workshop_organisation: organisation,
                },
                WorkshopStep::Decline { reason } => PrescriptionCommand::Decline {
                    workshop_organisation: organisation,
                    reason,
                },
                WorkshopStep::Release { reason } => PrescriptionCommand::Release { reason },
                WorkshopStep::Extend { due_on } => PrescriptionCommand::ExtendLoan { due_on },
                WorkshopStep::Return { notes } => PrescriptionCommand::Return { notes },
                WorkshopStep::Convert => PrescriptionCommand::ConvertToDonation,
                WorkshopStep::TrainingAttended { on } => PrescriptionCommand::AttendTraining { on },
                WorkshopStep::TrainingMissed { on } => PrescriptionCommand::MissTraining { on },
                WorkshopStep::Reserve { .. } | WorkshopStep::HandOver { .. } => {
                    unreachable!("handled above")
                }
            };
            workshop.record_prescription(id, command, &context).await
        }
    };

    let outcome = outcome.map_err(prescription_error)?;
    tracing::info!(prescription = %id, status = %outcome.prescription.status, "prescription step recorded");
    catch_up(state).await;
    Ok(outcome)
}

/// In-stock ready devices of the accepting workshop that fit the
/// prescription, best first.
pub async fn matches(
    state: &AppState,
    prescription: &Prescription,
) -> Result<Vec<CandidateDevice>, AppError> {
    if prescription.status != PrescriptionStatus::Accepted {
        return Ok(Vec::new());
    }
    catch_up(state).await;
    let filter = StockFilter {
        status: Some("in_stock".into()),
        category: Some(prescription.issued.need.category.as_str().into()),
        holder: prescription.workshop_organisation.clone(),
        ..Default::default()
    };
    let rows = queries::stock_list(state.store().pool(), &filter, 10_000).await?;
    let codes: Vec<DeviceCode> = rows
        .iter()
        .filter_map(|row| DeviceCode::parse_scanned(&row.code).ok())
        .collect();
    state
        .workshop
        .match_devices_for(prescription.id(), &codes)
        .await
        .map_err(prescription_error)
}

fn prescription_status(error: &PrescriptionError) -> (StatusCode, &'static str) {
    match error {
        PrescriptionError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_field"),
        PrescriptionError::Territory(_) => (StatusCode::BAD_REQUEST, "unknown_commune"),
        PrescriptionError::NotEligible { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "not_eligible"),
        PrescriptionError::StepNotAllowed { .. } => (StatusCode::CONFLICT, "step_not_allowed"),
        PrescriptionError::WrongCategory { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "wrong_category")
        }
        PrescriptionError::WrongHolder { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "wrong_holder"),
        PrescriptionError::NotReservedDevice { .. } => {
            (StatusCode::CONFLICT, "not_reserved_device")
        }
    }
}

/// French message of a prescription rule error.
fn prescription_rule_fr(error: &PrescriptionError) -> String {
    match error {
        PrescriptionError::Invalid(domain) => match domain {
            DomainError::InvalidField {
                field,
                value,
                reason,
            } => invalid_prescription_field_fr(field, value, reason)
                .unwrap_or_else(|| message_fr(domain)),
            other => message_fr(other),
        },
        PrescriptionError::Territory(error) => territory_fr(error),
        PrescriptionError::NotEligible { scheme, reason } => format!(
            "Le foyer n'est pas éligible au dispositif « {scheme} » : {reason}. Rien n'a été \
             enregistré."
        ),
        PrescriptionError::StepNotAllowed {
            status,
            step,
            allowed,
            ..
        } => format!(
            "La prescription est « {} » : l'étape « {} » n'est pas possible maintenant. Étapes \
             possibles : {}. Rien n'a été enregistré.",
            status.label_fr(),
            step.label_fr(),
            allowed_steps_fr(allowed)
        ),
        PrescriptionError::WrongCategory {
            device,
            actual,
            needed,
            ..
        } => format!(
            "L'appareil {device} est de catégorie « {} », mais la prescription demande « {} » : \
             choisissez un appareil de cette catégorie.",
            actual.label_fr(),
            needed.label_fr()
        ),
        PrescriptionError::WrongHolder { device, .. } => format!(
            "L'appareil {device} est détenu par une autre organisation que l'atelier qui a \
             accepté la prescription : réservez un appareil de votre atelier, ou transférez \
             celui-ci d'abord."
        ),
        PrescriptionError::NotReservedDevice { reserved, .. } => format!(
            "Cet appareil n'est pas celui réservé pour la prescription ({reserved}) : remettez \
             l'appareil réservé, ou annulez d'abord la réservation."
        ),
    }
}

/// Translates the reasons that prescription rules write and the device
/// messages do not know.
fn invalid_prescription_field_fr(field: &str, value: &str, reason: &str) -> Option<String> {
    if let Some(rest) = reason.strip_prefix("an extension ends after the current due date (") {
        let current = rest.split(')').next().unwrap_or_default();
        return Some(invalid(
            "nouvelle date de fin du prêt",
            value,
            &format!(
                "une prolongation finit après la date de fin actuelle ({current}) : choisissez \
                 une date plus tardive"
            ),
        ));
    }
    if field == "training date" {
        return Some(invalid(
            "date de formation",
            value,
            "une séance se note le jour où elle a eu lieu, au plus tard aujourd'hui ; une \
             première séance prévue ne peut pas être dans le passé",
        ));
    }
    if field == "Pix level" {
        return Some(invalid(
            "niveau Pix",
            value,
            "un niveau de 0 à 8 est attendu",
        ));
    }
    if reason == "this field is required" {
        let label = match field {
            "reason" => "motif",
            "training adviser or venue" => "conseiller·ère ou lieu de formation",
            other => other,
        };
        return Some(missing(label));
    }
    None
}

fn allowed_steps_fr(allowed: &str) -> String {
    if allowed.starts_with("none") {
        return "aucune, la prescription est close".to_string();
    }
    allowed
        .split(", ")
        .map(|name| {
            name.parse::<PrescriptionStep>()
                .map_or_else(|_| name.to_string(), |step| step.label_fr().to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Converts a prescription error into the handler error: status, stable
/// code and French message naming the value.
pub fn prescription_error(error: PrescriptionStoreError) -> AppError {
    match &error {
        PrescriptionStoreError::Prescription(rule) => {
            let (status, code) = prescription_status(rule);
            AppError::new(status, code, prescription_rule_fr(rule))
        }
        PrescriptionStoreError::Device(domain) => AppError::from(domain),
        PrescriptionStoreError::PrescriptionNotFound(id) => prescription_not_found(&id.to_string()),
        PrescriptionStoreError::DeviceNotFound(code) => AppError::device_not_found(code),
        PrescriptionStoreError::HouseholdNotFound(id) => AppError::new(
            StatusCode::BAD_REQUEST,
            "household_not_found",
            invalid(
                "foyer",
                &id.to_string(),
                "aucun foyer n'a cet identifiant ; enregistrez d'abord le foyer",
            ),
        ),
        PrescriptionStoreError::HouseholdErased(id) => AppError::new(
            StatusCode::CONFLICT,
            "household_erased",
            format!(
                "Le foyer {id} a été effacé : enregistrez-le de nouveau pour une nouvelle \
                 prescription."
            ),
        ),
        PrescriptionStoreError::SchemeNotFound(name) => AppError::bad_request(
            "scheme_not_found",
            invalid(
                "dispositif d'éligibilité",
                name,
                "aucun dispositif ne porte ce nom ou cet identifiant",
            ),
        ),
        PrescriptionStoreError::DuplicateScheme(name) => AppError::new(
            StatusCode::CONFLICT,
            "duplicate_scheme",
            format!("Un dispositif s'appelle déjà « {name} » : choisissez un autre nom."),
        ),
        PrescriptionStoreError::AlreadyReserved { device } => AppError::new(
            StatusCode::CONFLICT,
            "already_reserved",
            format!(
                "L'appareil {device} est déjà réservé pour un autre foyer : rien n'a été \
                 enregistré. Choisissez un autre appareil, ou annulez d'abord cette réservation."
            ),
        ),
        PrescriptionStoreError::LoanEndedOnDevice { device, status } => AppError::new(
            StatusCode::CONFLICT,
            "loan_ended_on_device",
            format!(
                "L'appareil {device} n'est plus prêté au foyer de cette prescription (état : \
                 « {} ») : rien n'a été enregistré. Enregistrez sur la prescription sa \
                 restitution ou sa conversion en don au lieu d'une prolongation.",
                status.label_fr()
            ),
        ),
        PrescriptionStoreError::InvalidIdentity { field, reason } => AppError::bad_request(
            "invalid_field",
            format!(
                "Champ « {} » : {}.",
                identity_field_fr(field),
                identity_reason_fr(reason)
            ),
        ),
        PrescriptionStoreError::Store(StoreError::Conflict { .. }) => AppError::new(
            StatusCode::CONFLICT,
            "version_conflict",
            "La prescription ou l'appareil a été modifié entre-temps par quelqu'un d'autre : \
             rien n'a été enregistré. Rechargez la page et recommencez.",
        ),
        PrescriptionStoreError::Store(store) => {
            AppError::internal(&error).with_detail(format!("{store}; {}", store_message_fr(store)))
        }
        PrescriptionStoreError::Codec(_) => AppError::internal(&error),
    }
}

fn identity_field_fr(field: &str) -> &str {
    match field {
        "first name" => "prénom",
        "last name" => "nom",
        "phone" => "téléphone",
        "email" => "adresse e-mail",
        "address" => "adresse postale",
        other => other,
    }
}

fn identity_reason_fr(reason: &str) -> String {
    if reason == "this field is required" {
        return "ce champ est obligatoire".to_string();
    }
    if let Some(limit) = reason
        .strip_prefix("at most ")
        .and_then(|rest| rest.strip_suffix(" characters are allowed"))
    {
        return format!("{limit} caractères au plus");
    }
    if reason.starts_with("use digits") {
        return "chiffres, espaces et + . - ( ) seulement".to_string();
    }
    if reason.starts_with("expected an address") {
        return "une adresse telle que nom@example.org est attendue".to_string();
    }
    reason.to_string()
}
