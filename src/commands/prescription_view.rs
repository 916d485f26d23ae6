//! Terminal output of `filiere prescription`: a prescription's state and
//! events, matching devices, step outcomes and counts. Households appear by
//! id only.

use chrono::NaiveDate;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::matching::CandidateDevice;
use filiere_domain::prescription::Prescription;
use filiere_domain::PrescriptionId;
use filiere_projections::{prescriptions, LoanScope, Projector};
use filiere_store::accounts::AccountError;
use filiere_store::prescriptions::PrescriptionOutcome;
use filiere_store::workshop::Workshop;

pub async fn show(workshop: &Workshop, id: PrescriptionId, json: bool) -> anyhow::Result<()> {
    let events = workshop.prescription_events(id).await?;
    let decoded: Vec<_> = events.iter().map(|(_, event)| event.clone()).collect();
    let prescription = Prescription::from_events(&decoded)
        .ok_or_else(|| anyhow::anyhow!("no prescription with id {id}"))?;
    let allowed: Vec<&str> = prescription
        .allowed_steps()
        .iter()
        .map(|step| step.as_str())
        .collect();
    if json {
        let timeline: Vec<_> = events
            .iter()
            .map(|(recorded, event)| {
                serde_json::json!({
                    "position": recorded.position,
                    "occurred_at": recorded.occurred_at,
                    "actor": recorded.metadata.actor,
                    "event": event,
                })
            })
            .collect();
        let value = serde_json::json!({
            "prescription_id": id,
            "status": prescription.status,
            "issued": prescription.issued,
            "workshop_organisation": prescription.workshop_organisation,
            "device": prescription.device,
            "handover_mode": prescription.handover_mode,
            "training_attended": prescription.training_attended,
            "trainings_missed": prescription.trainings_missed,
            "closed": prescription.is_closed(),
            "allowed_steps": allowed,
            "events": timeline,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    print_summary(&prescription);
    println!("allowed steps: {}", none_if_empty(&allowed.join(", ")));
    println!("events:");
    for (recorded, event) in &events {
        println!(
            "  {}  {}  ({})",
            recorded.occurred_at.format("%Y-%m-%d %H:%M"),
            event.summary_fr(),
            recorded.metadata.actor
        );
    }
    Ok(())
}

fn print_summary(prescription: &Prescription) {
    let issued = &prescription.issued;
    println!(
        "prescription {}  {} for {}",
        prescription.id(),
        issued.need.category,
        issued.need.purpose
    );
    println!(
        "status: {} ({})",
        prescription.status,
        prescription.status.label_fr()
    );
    println!(
        "household: {}  commune {}  size {}  age {}  QPV {}  ZRR {}",
        issued.household_id,
        issued.household.commune,
        issued.household.size,
        issued.household.age,
        yes_no(issued.household.qpv),
        yes_no(issued.household.zrr)
    );
    println!(
        "scheme: {} ({})  referrer: {}",
        issued.scheme.name, issued.eligibility, issued.referrer_organisation
    );
    if let Some(workshop) = &prescription.workshop_organisation {
        println!("workshop: {workshop}");
    }
    if let Some(device) = &prescription.device {
        println!("device: {}", device.code);
    }
    if let Some(mode) = &prescription.handover_mode {
        println!("handover: {}", describe_mode(mode));
    }
}

fn describe_mode(mode: &HandoverMode) -> String {
    match mode {
        HandoverMode::Loan { due_on } => format!("loan until {due_on}"),
        HandoverMode::Donation => "donation".to_string(),
        HandoverMode::SolidaritySale { price_cents } => format!(
            "solidarity sale at {} EUR",
            filiere_domain::error::format_euros(*price_cents)
        ),
    }
}

pub fn print_matches(matches: &[CandidateDevice]) {
    if matches.is_empty() {
        println!("No ready device of this category is in stock at this workshop");
        return;
    }
    for device in matches {
        println!(
            "{}  grade {}  for {}  in stock since {}",
            device.code,
            device.grade.map_or("-", |grade| grade.as_str()),
            device.autonomy.map_or("-", |autonomy| autonomy.as_str()),
            device.in_stock_since.format("%Y-%m-%d")
        );
    }
}

pub fn print_outcome(step: &str, outcome: &PrescriptionOutcome) {
    let prescription = &outcome.prescription;
    if outcome.append.duplicate {
        println!("Step already recorded by this command id; nothing new recorded");
    }
    println!(
        "prescription {}: {step} recorded (position {}); status now {}",
        prescription.id(),
        outcome.append.last_position,
        prescription.status
    );
    if let Some(device) = &outcome.device {
        println!(
            "device {}: status now {}",
            device.display_name(),
            device.status
        );
    }
}

pub async fn stats(workshop: &Workshop, json: bool) -> anyhow::Result<()> {
    let counts = workshop.prescription_counts().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&counts)?);
        return Ok(());
    }
    println!("commune  eligibility  prescriptions");
    for count in counts {
        println!("{}  {}  {}", count.commune, count.eligibility, count.count);
    }
    Ok(())
}

/// Prints the loans due before `as_of`, most overdue first, after bringing
/// the read model up to date. `organisation` is the global option: its
/// default, `local`, lists every organisation's loans.
/// Resolves `--organisation` of `prescription overdue` to the value that
/// prescriptions record: the text itself when a prescription names it
/// (command-line steps record it as typed), otherwise the id of the
/// organisation with that id or name. Anything else is an error, so a
/// mistyped organisation is not reported as having no overdue loan.
async fn loan_organisation(workshop: &Workshop, typed: &str) -> anyhow::Result<String> {
    let pool = workshop.store().pool();
    if prescriptions::organisation_has_prescriptions(pool, typed).await? {
        return Ok(typed.to_string());
    }
    match workshop.store().resolve_organisation(typed).await {
        Ok(organisation) => Ok(organisation.id),
        Err(AccountError::NotFound(_)) => anyhow::bail!(
            "unknown organisation '{typed}': no organisation and no prescription has this id \
             or name; `filiere org list` lists the organisations, and without --organisation \
             every organisation's loans are listed"
        ),
        Err(AccountError::Invalid { reason, .. }) => anyhow::bail!(
            "ambiguous organisation '{typed}': {reason}; `filiere org list` lists them"
        ),
        Err(error) => Err(error.into()),
    }
}

pub async fn overdue(
    workshop: &Workshop,
    organisation: &str,
    as_of: NaiveDate,
    json: bool,
) -> anyhow::Result<()> {
    Projector::new(workshop.store().clone()).catch_up().await?;
    let scope = if organisation == super::CLI_ORGANISATION {
        LoanScope::All
    } else {
        LoanScope::Organisation(loan_organisation(workshop, organisation).await?)
    };
    let rows = prescriptions::overdue_loans(workshop.store().pool(), &scope, as_of).await?;
    let days_late = |due: &Option<String>| -> i64 {
        due.as_deref()
            .and_then(|due| due.parse::<NaiveDate>().ok())
            .map_or(0, |due| (as_of - due).num_days())
    };
    if json {
        let value: Vec<_> = rows
            .iter()
            .map(|row| {
                serde_json::json!({
                    "prescription_id": row.prescription_id,
                    "due_on": row.due_on,
                    "days_overdue": days_late(&row.due_on),
                    "device_code": row.device_code,
                    "workshop_organisation": row.workshop_organisation,
                    "referrer_organisation": row.referrer_organisation,
                    "household_id": row.household_id,
                    "category": row.category,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("No loan is overdue as of {as_of}");
        return Ok(());
    }
    println!("due on      days late  device   prescription                          workshop");
    for row in &rows {
        println!(
            "{}  {:>9}  {:<7}  {}  {}",
            row.due_on.as_deref().unwrap_or("-"),
            days_late(&row.due_on),
            row.device_code.as_deref().unwrap_or("-"),
            row.prescription_id,
            row.workshop_organisation.as_deref().unwrap_or("-")
        );
    }
    println!("{} overdue loan(s) as of {as_of}", rows.len());
    Ok(())
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

fn none_if_empty(text: &str) -> &str {
    if text.is_empty() {
        "none"
    } else {
        text
    }
}
