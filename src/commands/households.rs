//! `filiere household`, `filiere scheme` and `filiere retention`.
//!
//! A household's identity is printed by `household export` only; every
//! other command prints ids.

use std::path::PathBuf;

use chrono::Utc;
use clap::{ArgGroup, Args, Subcommand};
use filiere_domain::prescription::EligibilityRule;
use filiere_domain::HouseholdId;
use filiere_store::households::HouseholdIdentity;
use filiere_store::privacy::DEFAULT_RETENTION_DAYS;
use filiere_store::workshop::Workshop;

#[derive(Debug, Args)]
pub struct HouseholdArgs {
    #[command(subcommand)]
    pub action: HouseholdAction,
}

#[derive(Debug, Subcommand)]
pub enum HouseholdAction {
    /// Record a household's contact person and print the new household id.
    /// The values stay out of the event log and can be erased.
    Add(AddHouseholdArgs),
    /// Erase a household's identity and contact details; its events stay.
    Erase {
        /// Household id, as printed by `household add`.
        id: HouseholdId,
    },
    /// Print everything stored about a household as JSON (right of access).
    Export {
        /// Household id, as printed by `household add`.
        id: HouseholdId,
        /// Write the JSON to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct AddHouseholdArgs {
    #[arg(long)]
    pub first_name: String,
    #[arg(long)]
    pub last_name: String,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// Postal address.
    #[arg(long)]
    pub address: Option<String>,
}

#[derive(Debug, Args)]
pub struct SchemeArgs {
    #[command(subcommand)]
    pub action: SchemeAction,
}

#[derive(Debug, Subcommand)]
pub enum SchemeAction {
    /// Add an eligibility scheme with exactly one rule.
    Add(AddSchemeArgs),
    /// List the eligibility schemes.
    List {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("rule")
        .required(true)
        .args(["benefit", "family_quotient_below", "residual_income_below", "student", "job_seeker"])
))]
pub struct AddSchemeArgs {
    /// Name shown to referrers, unique.
    #[arg(long)]
    pub name: String,
    /// Accepted benefit, such as RSA, AAH or ASS (repeatable).
    #[arg(long)]
    pub benefit: Vec<String>,
    /// Eligible when the family quotient is below this amount, in euros.
    #[arg(long)]
    pub family_quotient_below: Option<u32>,
    /// Eligible when the residual income is below this amount, in euros per month.
    #[arg(long)]
    pub residual_income_below: Option<u32>,
    /// Eligible when the beneficiary is a student.
    #[arg(long)]
    pub student: bool,
    /// Eligible when the beneficiary is a registered job seeker.
    #[arg(long)]
    pub job_seeker: bool,
    /// Funder programme that pays for these households' equipment, counted
    /// on the funders' dashboard.
    #[arg(long)]
    pub programme: Option<String>,
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// Erase identities of households whose prescriptions all closed more than
    /// this many days ago.
    #[arg(long, env = "FILIERE_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
    pub days: u32,
}

pub async fn household(url: &str, args: HouseholdArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    match args.action {
        HouseholdAction::Add(add) => {
            let identity = HouseholdIdentity {
                first_name: add.first_name,
                last_name: add.last_name,
                phone: add.phone,
                email: add.email,
                address: add.address,
            };
            let id = store.create_household(identity, Utc::now()).await?;
            println!("{id}");
        }
        HouseholdAction::Erase { id } => {
            let erased_at = store.erase_household(id, Utc::now()).await?;
            println!("Household {id}: identity erased ({erased_at}); its events are kept");
        }
        HouseholdAction::Export { id, out } => {
            let export = Workshop::new(store).export_household(id).await?;
            let text = serde_json::to_string_pretty(&export)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text + "\n").map_err(|error| {
                        anyhow::anyhow!("cannot write {}: {error}", path.display())
                    })?;
                    println!("Household {id}: export written to {}", path.display());
                }
                None => println!("{text}"),
            }
        }
    }
    Ok(())
}

pub async fn scheme(url: &str, args: SchemeArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    match args.action {
        SchemeAction::Add(add) => {
            let name = add.name.clone();
            let programme = add.programme.clone();
            let scheme = store
                .create_scheme_in_programme(&name, rule(add), programme.as_deref(), Utc::now())
                .await?;
            println!("{}  {}: {}", scheme.id, scheme.name, scheme.rule.describe());
        }
        SchemeAction::List { json } => {
            let schemes = store.schemes().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&schemes)?);
                return Ok(());
            }
            if schemes.is_empty() {
                println!("No eligibility scheme yet; add one with `filiere scheme add`");
            }
            for scheme in schemes {
                println!("{}  {}: {}", scheme.id, scheme.name, scheme.rule.describe());
            }
        }
    }
    Ok(())
}

/// Builds the rule that clap's "rule" group guarantees is given once.
fn rule(args: AddSchemeArgs) -> EligibilityRule {
    if let Some(threshold_euros) = args.family_quotient_below {
        EligibilityRule::FamilyQuotientBelow { threshold_euros }
    } else if let Some(threshold_euros_per_month) = args.residual_income_below {
        EligibilityRule::ResidualIncomeBelow {
            threshold_euros_per_month,
        }
    } else if args.student {
        EligibilityRule::Student
    } else if args.job_seeker {
        EligibilityRule::JobSeeker
    } else {
        EligibilityRule::Benefit {
            accepted: args.benefit,
        }
    }
}

pub async fn retention(url: &str, args: RetentionArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    let erased = Workshop::new(store)
        .erase_closed_households(args.days, Utc::now())
        .await?;
    println!(
        "Erased the identity of {} household(s) settled more than {} days ago",
        erased.len(),
        args.days
    );
    for id in erased {
        println!("  {id}");
    }
    Ok(())
}
