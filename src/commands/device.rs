//! `filiere device record` and `filiere device show`.

use filiere_domain::command::Step;
use filiere_domain::fields::{command_from_fields, Fields};
use filiere_domain::{DeviceCode, HouseholdId};
use filiere_projections::{queries, Projector};
use filiere_store::accounts::AccountError;
use filiere_store::workshop::{CommandContext, Workshop, WorkshopError};
use filiere_store::{EventStore, StoreError};

use crate::cli::{DeviceAction, DeviceArgs, RecordArgs};

pub async fn run(url: &str, args: DeviceArgs) -> anyhow::Result<()> {
    match args.action {
        DeviceAction::Record(record_args) => record(url, record_args).await,
        DeviceAction::Show { code, json } => show(url, &code, json).await,
    }
}

/// Turns `--name value` pairs into fields; a flag followed by another flag
/// (or nothing) is `true`. Dashes in names become underscores.
fn parse_fields(arguments: &[String]) -> anyhow::Result<Fields> {
    let mut fields = Fields::new();
    let mut iter = arguments.iter().peekable();
    while let Some(argument) = iter.next() {
        let Some(name) = argument.strip_prefix("--") else {
            anyhow::bail!("unexpected value '{argument}': step fields are given as --NAME VALUE");
        };
        let (name, value) = match name.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => {
                let value = match iter.peek() {
                    Some(next) if !next.starts_with("--") => {
                        iter.next().cloned().unwrap_or_default()
                    }
                    _ => "true".to_string(),
                };
                (name.to_string(), value)
            }
        };
        fields
            .entry(name.replace('-', "_"))
            .or_default()
            .push(value);
    }
    Ok(fields)
}

async fn record(url: &str, args: RecordArgs) -> anyhow::Result<()> {
    let code = DeviceCode::parse_scanned(&args.code)?;
    let step = Step::parse(&args.step).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid step '{}': expected one of {}",
            args.step,
            Step::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let mut fields = parse_fields(&args.fields)?;
    if fields.contains_key("help_fields") {
        let names = filiere_domain::fields::step_field_names(step);
        println!(
            "fields of step '{}': --{}",
            step.as_str(),
            names.join(", --").replace('_', "-")
        );
        return Ok(());
    }
    // Options written after CODE STEP arrive among the step fields; take
    // the command's own options out so they are not ignored.
    let command_id = match take_field(&mut fields, "command_id") {
        Some(text) => Some(
            text.parse::<uuid::Uuid>()
                .map_err(|_| anyhow::anyhow!("invalid --command-id '{text}': expected a UUID"))?,
        ),
        None => args.command_id,
    };
    let actor = take_field(&mut fields, "actor").or(args.actor.clone());
    if fields.contains_key("database_url") {
        anyhow::bail!("put --database-url before the device code: filiere --database-url URL device record CODE STEP ...");
    }
    let store = super::open_existing(url).await?;
    let workshop = Workshop::new(store.clone());
    let device = workshop.find_device(&code).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "no device with code {code}; check the label or search with `filiere stock`"
        )
    })?;
    if step == Step::Transfer {
        resolve_transfer_target(&store, &mut fields).await?;
    }
    let household = device.household_id.unwrap_or_else(HouseholdId::generate);
    let command = command_from_fields(step, &fields, household)?;
    let mut context =
        CommandContext::new(&super::cli_actor(actor.as_deref()), super::CLI_ORGANISATION);
    context.command_id = command_id;

    let (device, append) = match workshop.record(&code, command, &context).await {
        Ok(outcome) => outcome,
        Err(WorkshopError::Store(StoreError::Conflict { .. })) => anyhow::bail!(
            "device {code} was changed by someone else meanwhile; nothing was recorded. Check its state with `filiere device show {code}` and try again"
        ),
        Err(error) => return Err(error.into()),
    };
    Projector::new(store).catch_up().await?;
    if append.duplicate {
        println!(
            "Step already recorded by command {}; nothing new recorded",
            command_id.unwrap_or_default()
        );
    }
    println!(
        "{code}: {} recorded (position {}); status now {}",
        step.as_str(),
        append.last_position,
        device.status
    );
    if let Some(household) = device
        .household_id
        .filter(|_| matches!(step, Step::Reserve | Step::Handover))
    {
        println!("household id: {household}");
    }
    Ok(())
}

/// Replaces the `organisation` field of a transfer, an organisation id or
/// name, by the id of one existing organisation, so that the device goes to
/// an organisation whose members can act on it.
async fn resolve_transfer_target(store: &EventStore, fields: &mut Fields) -> anyhow::Result<()> {
    let Some(typed) = fields
        .get("organisation")
        .and_then(|values| values.last())
        .cloned()
    else {
        return Ok(());
    };
    let organisation = match store.resolve_organisation(&typed).await {
        Ok(organisation) => organisation,
        Err(AccountError::NotFound(_)) => anyhow::bail!(
            "unknown organisation '{typed}': give the id or exact name of an existing \
             organisation; `filiere org list` lists them"
        ),
        Err(AccountError::Invalid { reason, .. }) => anyhow::bail!(
            "ambiguous organisation '{typed}': {reason}; `filiere org list` lists them"
        ),
        Err(error) => return Err(error.into()),
    };
    fields.insert("organisation".to_string(), vec![organisation.id]);
    Ok(())
}

/// Removes a field and returns its last value.
fn take_field(fields: &mut Fields, name: &str) -> Option<String> {
    fields
        .remove(name)
        .and_then(|values| values.into_iter().last())
}

async fn show(url: &str, typed: &str, json: bool) -> anyhow::Result<()> {
    let code = DeviceCode::parse_scanned(typed)?;
    let store = super::open_existing(url).await?;
    let workshop = Workshop::new(store.clone());
    let device = workshop
        .find_device(&code)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no device with code {code}"))?;
    Projector::new(store.clone()).catch_up().await?;
    let timeline = queries::timeline(store.pool(), &device.id.to_string()).await?;
    let allowed: Vec<&str> = device.allowed_steps().iter().map(|s| s.as_str()).collect();
    let gaps: Vec<String> = device
        .readiness_gaps()
        .iter()
        .map(ToString::to_string)
        .collect();
    if json {
        let value = serde_json::json!({
            "code": code.as_str(),
            "device_id": device.id,
            "status": device.status,
            "holder": device.holder,
            "category": device.category,
            "brand": device.brand,
            "model": device.model,
            "serial": device.serial,
            "site": device.placement.site,
            "location": device.placement.location,
            "allowed_steps": allowed,
            "not_ready_because": gaps,
            "timeline": timeline,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "{code}  {} {} {}",
        device.category.label_fr(),
        device.brand,
        device.model
    );
    println!("status: {} ({})", device.status, device.status.label_fr());
    println!(
        "site: {} {}",
        device.placement.site, device.placement.location
    );
    println!("allowed steps: {}", allowed.join(", "));
    if !gaps.is_empty() {
        println!("not ready for a household: {}", gaps.join("; "));
    }
    println!("timeline:");
    for row in timeline {
        println!(
            "  {}  {}  ({})",
            &row.occurred_at[..16],
            row.summary,
            row.actor
        );
    }
    Ok(())
}
