//! `filiere prescription`: issue a prescription and follow it through the
//! workshop's steps. Output names households by id only.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use clap::{ArgGroup, Args, Subcommand};
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, Evidence, HouseholdAttributes, HouseholdSize, Need, NewPrescription,
    PreferredMode, PrescriptionCommand, Purpose, Training, TrainingProvider,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{Autonomy, Category};
use filiere_domain::{DeviceCode, HouseholdId, PrescriptionId};
use filiere_projections::{queries, Projector};
use filiere_store::prescriptions::PrescriptionOutcome;
use filiere_store::workshop::{CommandContext, Workshop};
use filiere_web::documents::{handover_sheet, handover_sheet_pdf};

use super::prescription_view::{overdue, print_matches, print_outcome, show, stats};

#[derive(Debug, Args)]
pub struct PrescriptionArgs {
    /// Organisation acting: the referrer's when issuing, the workshop's for
    /// the later steps.
    #[arg(long, global = true, env = "FILIERE_ORGANISATION", default_value = super::CLI_ORGANISATION)]
    pub organisation: String,

    /// Actor recorded with each event; defaults to cli:$USER.
    #[arg(long, global = true, env = "FILIERE_ACTOR")]
    pub actor: Option<String>,

    #[command(subcommand)]
    pub action: PrescriptionAction,
}

#[derive(Debug, Subcommand)]
pub enum PrescriptionAction {
    /// Issue a prescription for a recorded household and print its id.
    Issue(Box<IssueArgs>),
    /// Show a prescription's state, allowed steps and events.
    Show {
        id: PrescriptionId,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Accept the prescription for the acting workshop.
    Accept { id: PrescriptionId },
    /// Decline the prescription, with a reason.
    Decline {
        id: PrescriptionId,
        #[arg(long)]
        reason: String,
    },
    /// List the in-stock devices that fit an accepted prescription, best first.
    Match { id: PrescriptionId },
    /// Reserve a device for the prescription, on both the prescription and the device.
    Reserve {
        id: PrescriptionId,
        /// Device code (as printed on its label; a scanned URL works too).
        code: String,
    },
    /// Release the reserved device, with a reason.
    Release {
        id: PrescriptionId,
        #[arg(long)]
        reason: String,
    },
    /// Hand the reserved device over to the household.
    Handover(HandoverArgs),
    /// Record that the household attended its training.
    Attended {
        id: PrescriptionId,
        /// Day of the session, YYYY-MM-DD; defaults to today.
        #[arg(long)]
        on: Option<NaiveDate>,
    },
    /// Record that the household missed its training.
    Missed {
        id: PrescriptionId,
        /// Day of the session, YYYY-MM-DD; defaults to today.
        #[arg(long)]
        on: Option<NaiveDate>,
    },
    /// Extend a loan to a later due date.
    Extend {
        id: PrescriptionId,
        /// New due date, YYYY-MM-DD.
        #[arg(long)]
        due: NaiveDate,
    },
    /// Record the end of a loan: the device is back at the workshop.
    Return {
        id: PrescriptionId,
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Turn a loan into a donation.
    Convert { id: PrescriptionId },
    /// Cancel the prescription, with a reason.
    Cancel {
        id: PrescriptionId,
        #[arg(long)]
        reason: String,
    },
    /// Record that the prescription expired before a device was reserved.
    Expire { id: PrescriptionId },
    /// Write the handover sheet (loan agreement, donation certificate or sale
    /// receipt) of a handed-over prescription as PDF.
    Sheet {
        id: PrescriptionId,
        /// Output PDF file.
        #[arg(long)]
        out: PathBuf,
        /// Workshop name printed when the workshop's organisation is not
        /// recorded.
        #[arg(long, env = "FILIERE_WORKSHOP_NAME", default_value = "Atelier Filière")]
        workshop: String,
    },
    /// List loans past their due date, from the prescription read model.
    /// Without --organisation (or with the default `local`), every
    /// organisation's loans; with it, the loans it handed over or prescribed.
    Overdue {
        /// Day to compute for, YYYY-MM-DD; today (UTC) by default. A loan
        /// due before this day is overdue.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Count prescriptions by commune and eligibility category.
    Stats {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("evidence").required(true).args(["benefit", "family_quotient", "residual_income", "student", "job_seeker"])))]
#[command(group(ArgGroup::new("skills").required(true).args(["autonomy", "pix"])))]
#[command(group(ArgGroup::new("training").args(["training_adviser", "training_venue"])))]
pub struct IssueArgs {
    /// Household id, as printed by `household add`.
    #[arg(long)]
    pub household: HouseholdId,
    /// Eligibility scheme, by name or id (`filiere scheme list`).
    #[arg(long)]
    pub scheme: String,
    /// Benefit the household receives, such as RSA.
    #[arg(long)]
    pub benefit: Option<String>,
    /// Family quotient, in euros.
    #[arg(long)]
    pub family_quotient: Option<u32>,
    /// Residual income, in euros per month.
    #[arg(long)]
    pub residual_income: Option<u32>,
    /// The beneficiary is a student.
    #[arg(long)]
    pub student: bool,
    /// The beneficiary is a registered job seeker.
    #[arg(long)]
    pub job_seeker: bool,
    /// Equipment needed: laptop, desktop, tablet, smartphone...
    #[arg(long)]
    pub category: Category,
    /// job_search, schooling, administrative_procedures, health or other.
    #[arg(long)]
    pub purpose: Purpose,
    /// Preferred mode: loan, donation or solidarity_sale.
    #[arg(long, default_value = "loan")]
    pub mode: PreferredMode,
    /// Digital autonomy: beginner, intermediate or autonomous.
    #[arg(long)]
    pub autonomy: Option<Autonomy>,
    /// Pix level, 0 to 8.
    #[arg(long)]
    pub pix: Option<u8>,
    /// Name of the digital adviser giving the training.
    #[arg(long)]
    pub training_adviser: Option<String>,
    /// Name of the venue giving the training.
    #[arg(long)]
    pub training_venue: Option<String>,
    /// Day of the first training session, YYYY-MM-DD; leave out while it is to be scheduled.
    #[arg(long, requires = "training")]
    pub training_on: Option<NaiveDate>,
    /// INSEE code of the household's commune (not its postal code), such as 69123.
    #[arg(long)]
    pub commune: InseeCode,
    /// The household lives in a priority neighbourhood (QPV).
    #[arg(long)]
    pub qpv: bool,
    /// The household lives in a rural revitalisation zone (ZRR).
    #[arg(long)]
    pub zrr: bool,
    /// Household size: 1, 2, 3-4 or 5+.
    #[arg(long)]
    pub household_size: HouseholdSize,
    /// Age of the beneficiary: under 18, 18-25, 26-59 or 60+.
    #[arg(long)]
    pub age: AgeBand,
}

#[derive(Debug, Args)]
pub struct HandoverArgs {
    pub id: PrescriptionId,
    /// loan, donation or sale.
    #[arg(long)]
    pub mode: String,
    /// Due date of a loan, YYYY-MM-DD.
    #[arg(long)]
    pub due: Option<NaiveDate>,
    /// Price of a solidarity sale, in euros (for example 49.90).
    #[arg(long)]
    pub price: Option<f64>,
}

pub async fn run(url: &str, args: PrescriptionArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    let workshop = Workshop::new(store.clone());
    let context = CommandContext::new(&super::cli_actor(args.actor.as_deref()), &args.organisation);
    let today = Utc::now().date_naive();
    let organisation = args.organisation.clone();
    let (id, command) = match args.action {
        PrescriptionAction::Issue(issue) => {
            return issue_prescription(&workshop, *issue, &context).await
        }
        PrescriptionAction::Show { id, json } => return show(&workshop, id, json).await,
        PrescriptionAction::Stats { json } => return stats(&workshop, json).await,
        PrescriptionAction::Overdue { as_of, json } => {
            let as_of = as_of.unwrap_or(today);
            return overdue(&workshop, &organisation, as_of, json).await;
        }
        PrescriptionAction::Sheet {
            id,
            out,
            workshop: name,
        } => return write_sheet(&workshop, id, &out, &name).await,
        PrescriptionAction::Match { id } => return match_devices(&workshop, id).await,
        PrescriptionAction::Reserve { id, code } => {
            let code = DeviceCode::parse_scanned(&code)?;
            let outcome = workshop.reserve_device(id, &code, &context).await?;
            return finish(&workshop, "reserve", outcome).await;
        }
        PrescriptionAction::Handover(handover) => {
            let mode = handover_mode(&handover)?;
            let outcome = workshop.hand_over(handover.id, mode, &context).await?;
            return finish(&workshop, "handover", outcome).await;
        }
        PrescriptionAction::Accept { id } => (
            id,
            PrescriptionCommand::Accept {
                workshop_organisation: organisation,
            },
        ),
        PrescriptionAction::Decline { id, reason } => (
            id,
            PrescriptionCommand::Decline {
                workshop_organisation: organisation,
                reason,
            },
        ),
        PrescriptionAction::Release { id, reason } => (id, PrescriptionCommand::Release { reason }),
        PrescriptionAction::Attended { id, on } => (
            id,
            PrescriptionCommand::AttendTraining {
                on: on.unwrap_or(today),
            },
        ),
        PrescriptionAction::Missed { id, on } => (
            id,
            PrescriptionCommand::MissTraining {
                on: on.unwrap_or(today),
            },
        ),
        PrescriptionAction::Extend { id, due } => {
            (id, PrescriptionCommand::ExtendLoan { due_on: due })
        }
        PrescriptionAction::Return { id, notes } => (id, PrescriptionCommand::Return { notes }),
        PrescriptionAction::Convert { id } => (id, PrescriptionCommand::ConvertToDonation),
        PrescriptionAction::Cancel { id, reason } => (id, PrescriptionCommand::Cancel { reason }),
        PrescriptionAction::Expire { id } => (id, PrescriptionCommand::Expire),
    };
    let step = command.step();
    let outcome = workshop.record_prescription(id, command, &context).await?;
    finish(&workshop, step.as_str(), outcome).await
}

async fn issue_prescription(
    workshop: &Workshop,
    args: IssueArgs,
    context: &CommandContext,
) -> anyhow::Result<()> {
    let scheme = workshop.store().scheme(&args.scheme).await?;
    let new = new_prescription(args, &context.metadata.organisation)?;
    let outcome = workshop.issue_prescription(new, scheme.id, context).await?;
    println!("{}", outcome.prescription.id());
    Ok(())
}

fn new_prescription(args: IssueArgs, referrer: &str) -> anyhow::Result<NewPrescription> {
    let evidence = if let Some(name) = args.benefit {
        Evidence::Benefit { name }
    } else if let Some(euros) = args.family_quotient {
        Evidence::FamilyQuotient { euros }
    } else if let Some(euros_per_month) = args.residual_income {
        Evidence::ResidualIncome { euros_per_month }
    } else if args.student {
        Evidence::Student
    } else {
        Evidence::JobSeeker
    };
    let skills = match (args.autonomy, args.pix) {
        (Some(level), _) => DigitalSkills::Autonomy { level },
        (None, Some(level)) => DigitalSkills::Pix { level },
        (None, None) => anyhow::bail!("missing skills: give --autonomy or --pix"),
    };
    let training = match (args.training_adviser, args.training_venue) {
        (Some(name), _) => Some((TrainingProvider::Adviser, name)),
        (None, Some(name)) => Some((TrainingProvider::Venue, name)),
        (None, None) => None,
    };
    Ok(NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id: args.household,
        referrer_organisation: referrer.to_string(),
        need: Need {
            category: args.category,
            purpose: args.purpose,
        },
        evidence,
        preferred_mode: args.mode,
        skills,
        training: training.map(|(provider, name)| Training {
            provider,
            name,
            scheduled_on: args.training_on,
        }),
        household: HouseholdAttributes {
            commune: args.commune,
            qpv: args.qpv,
            zrr: args.zrr,
            size: args.household_size,
            age: args.age,
        },
    })
}

fn handover_mode(args: &HandoverArgs) -> anyhow::Result<HandoverMode> {
    let mode = match args.mode.trim().to_ascii_lowercase().as_str() {
        "loan" => HandoverMode::Loan {
            due_on: args.due.ok_or_else(|| {
                anyhow::anyhow!("missing --due: a loan needs a due date, YYYY-MM-DD")
            })?,
        },
        "donation" => HandoverMode::Donation,
        "sale" | "solidarity_sale" => {
            let euros = args
                .price
                .ok_or_else(|| anyhow::anyhow!("missing --price: a sale needs a price in euros"))?;
            HandoverMode::SolidaritySale {
                price_cents: (euros * 100.0).round() as i64,
            }
        }
        other => anyhow::bail!("invalid mode '{other}': expected loan, donation or sale"),
    };
    Ok(mode)
}

/// Writes the handover sheet of prescription `id` to `out`, a `.pdf` file.
async fn write_sheet(
    workshop: &Workshop,
    id: PrescriptionId,
    out: &Path,
    workshop_name: &str,
) -> anyhow::Result<()> {
    let is_pdf = out
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("pdf"));
    if !is_pdf {
        anyhow::bail!(
            "invalid output file '{}': the handover sheet is a PDF; give a file name ending in .pdf",
            out.display()
        );
    }
    let sheet = handover_sheet(workshop, id, workshop_name).await?;
    let pdf = handover_sheet_pdf(&sheet, Utc::now().date_naive());
    std::fs::write(out, pdf)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", out.display()))?;
    println!(
        "Prescription {id}: handover sheet written to {}",
        out.display()
    );
    Ok(())
}

async fn match_devices(workshop: &Workshop, id: PrescriptionId) -> anyhow::Result<()> {
    let prescription = workshop
        .load_prescription(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no prescription with id {id}"))?;
    Projector::new(workshop.store().clone()).catch_up().await?;
    let filter = queries::StockFilter {
        status: Some("in_stock".into()),
        category: Some(prescription.issued.need.category.as_str().into()),
        holder: prescription.workshop_organisation.clone(),
        ..Default::default()
    };
    let rows = queries::stock_list(workshop.store().pool(), &filter, 10_000).await?;
    let codes: Vec<DeviceCode> = rows
        .iter()
        .filter_map(|row| DeviceCode::parse_scanned(&row.code).ok())
        .collect();
    let matches = workshop.match_devices_for(id, &codes).await?;
    print_matches(&matches);
    Ok(())
}

/// Brings the projections up to date (the stock list shows reservations)
/// and prints the outcome.
async fn finish(
    workshop: &Workshop,
    step: &str,
    outcome: PrescriptionOutcome,
) -> anyhow::Result<()> {
    Projector::new(workshop.store().clone()).catch_up().await?;
    print_outcome(step, &outcome);
    Ok(())
}
