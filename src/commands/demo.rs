//! `filiere demo`: a living workshop for newcomers, made by the shared
//! generator (`commands::generate`): donations from public bodies, companies
//! and individuals over the past years, devices at every stage of their
//! life, prescriptions from the demonstration social service for households
//! of Eure-et-Loir, loans returned and overdue. `--devices` scales it from
//! a few hundred devices to millions.

use anyhow::Context;
use filiere_projections::Projector;

use super::generate::{self, GenerateOptions, Scope};
use crate::cli::DemoArgs;

/// Département of the demonstration workshop's households: Eure-et-Loir,
/// around Chartres and Dreux.
const DEMO_DEPARTEMENT: &str = "28";

/// Years of history of the demonstration workshop.
const DEMO_YEARS: u32 = 3;

/// Runs `filiere demo`: fills the database, then prints how to open it.
pub async fn run(url: &str, args: DemoArgs) -> anyhow::Result<()> {
    fill(url, args).await?;
    println!("Start the server with `filiere serve` and open http://127.0.0.1:8080");
    Ok(())
}

/// Fills an empty database with the demonstration workshop and prints what
/// it recorded; `filiere serve --demo` calls this before it starts.
pub async fn fill(url: &str, args: DemoArgs) -> anyhow::Result<()> {
    if args.devices == 0 {
        anyhow::bail!("--devices must be at least 1");
    }
    let store = super::open(url).await?;
    let (position, _) = store.head().await?;
    if position > 0 {
        anyhow::bail!(
            "the database already holds {position} events; the demonstration only fills an empty database, so that no made-up device mixes with real ones. Use a new file: filiere --database-url sqlite://demo.db demo"
        );
    }
    let (workshop, social_service) = demo_accounts(&store).await?;
    let mut options = GenerateOptions::new(
        args.devices,
        args.seed,
        Scope::Local {
            workshop,
            social_service,
            departement: DEMO_DEPARTEMENT.to_string(),
        },
    );
    options.years = DEMO_YEARS;
    let summary = generate::generate(&store, &options).await?;
    Projector::new(store.clone())
        .rebuild()
        .await
        .context("the demonstration log was recorded, but building the projections failed; run `filiere rebuild`")?;
    generate::analyze(&store).await?;
    println!(
        "Demonstration workshop ready: {} devices in {} donation batches, {} prescriptions, {} events",
        summary.devices, summary.donations, summary.prescriptions, summary.events
    );
    Ok(())
}

/// Organisations and one account per role of the demonstration, created once.
/// Returns the ids of the demonstration workshop and social service.
async fn demo_accounts(store: &filiere_store::EventStore) -> anyhow::Result<(String, String)> {
    use filiere_domain::access::{OrganisationKind, Role};

    let organisations = [
        ("Atelier démo", OrganisationKind::Workshop),
        ("CCAS démo", OrganisationKind::SocialService),
        ("Département démo", OrganisationKind::Funder),
    ];
    let mut ids = Vec::new();
    for (name, kind) in organisations {
        let organisation = match store.organisation(name).await {
            Ok(existing) => existing,
            Err(_) => store.create_organisation(name, kind).await?,
        };
        ids.push(organisation.id);
    }
    let accounts = [
        (
            "admin@demo.filiere.example",
            "Administration démo",
            0,
            Role::Administrator,
        ),
        (
            "coordination@demo.filiere.example",
            "Coordination démo",
            0,
            Role::WorkshopCoordinator,
        ),
        (
            "technicien@demo.filiere.example",
            "Technicien démo",
            0,
            Role::Technician,
        ),
        (
            "prescriptrice@demo.filiere.example",
            "Prescriptrice démo",
            1,
            Role::Referrer,
        ),
        (
            "financeur@demo.filiere.example",
            "Financeur démo",
            2,
            Role::FunderViewer,
        ),
    ];
    let existing = store.users().await?;
    let mut printed = false;
    for (email, name, organisation, role) in accounts {
        if existing.iter().any(|u| u.email == email) {
            continue;
        }
        let password = filiere_store::accounts::new_secret()[..16].to_string();
        let user = store.create_user(email, name, Some(&password)).await?;
        store
            .add_membership(&user.id, &ids[organisation], role)
            .await?;
        if !printed {
            println!("Demonstration accounts (shown once; change them before real use):");
            printed = true;
        }
        println!("  {role:<22} {email:<38} {password}");
    }
    Ok((ids[0].clone(), ids[1].clone()))
}
