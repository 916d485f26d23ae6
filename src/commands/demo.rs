//! `filiere demo`: a living workshop for newcomers: several donors, devices
//! at every stage of their life, a few households. Dates are spread over the
//! past months so that timelines and stock ages look real.

use chrono::{DateTime, Duration, Utc};
use filiere_domain::command::Step;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::fields::{command_from_fields, Fields};
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::{Category, DonorKind};
use filiere_domain::{DeviceCode, DeviceId, DonationId, HouseholdId};
use filiere_projections::Projector;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::cli::DemoArgs;

const DONORS: &[(&str, DonorKind, bool)] = &[
    (
        "Conseil départemental (démonstration)",
        DonorKind::PublicBody,
        true,
    ),
    (
        "Mairie de Lucé (démonstration)",
        DonorKind::PublicBody,
        true,
    ),
    (
        "Banque régionale du Centre (démonstration)",
        DonorKind::Company,
        false,
    ),
    (
        "Cabinet d'expertise comptable (démonstration)",
        DonorKind::Company,
        false,
    ),
    (
        "Collecte de quartier, particuliers",
        DonorKind::Person,
        false,
    ),
];

const SITES: &[&str] = &["Chartres", "Dreux"];

const MODELS: &[(Category, &str, &str)] = &[
    (Category::Laptop, "Dell", "Latitude E5530"),
    (Category::Laptop, "Dell", "Latitude E6440"),
    (Category::Laptop, "HP", "ProBook 430 G4"),
    (Category::Laptop, "Lenovo", "ThinkPad X1 Carbon 5th"),
    (Category::Laptop, "Lenovo", "ThinkPad T470"),
    (Category::Desktop, "HP", "Compaq 8100 Elite SFF"),
    (Category::Desktop, "Dell", "OptiPlex 7010"),
    (Category::Desktop, "Lenovo", "ThinkCentre M710q"),
    (Category::Tablet, "Samsung", "Galaxy Tab A 10.1"),
    (Category::Tablet, "Apple", "iPad 6e génération"),
    (Category::Smartphone, "Samsung", "Galaxy A52"),
    (Category::Smartphone, "Apple", "iPhone 8"),
    (Category::Screen, "Dell", "P2419H"),
    (Category::Printer, "Brother", "HL-L2350DW"),
];

/// How far each demonstration device goes, with its share in percent.
const STAGES: &[(Stage, u32)] = &[
    (Stage::Received, 10),
    (Stage::Diagnosed, 8),
    (Stage::Erased, 7),
    (Stage::InStock, 30),
    (Stage::Reserved, 5),
    (Stage::Loaned, 12),
    (Stage::Donated, 8),
    (Stage::Sold, 4),
    (Stage::Returned, 3),
    (Stage::Recycled, 10),
    (Stage::Dismantled, 3),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Received,
    Diagnosed,
    Erased,
    InStock,
    Reserved,
    Loaned,
    Donated,
    Sold,
    Returned,
    Recycled,
    Dismantled,
}

pub async fn run(url: &str, args: DemoArgs) -> anyhow::Result<()> {
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
    let workshop_id = demo_accounts(&store).await?;
    let workshop = Workshop::new(store.clone());
    let mut rng = StdRng::seed_from_u64(args.seed);
    let households: Vec<HouseholdId> = (0..12).map(|_| HouseholdId::generate()).collect();
    let now = Utc::now();

    let mut remaining = args.devices;
    let mut batch_number = 0;
    let mut recorded = 0;
    while remaining > 0 {
        let size = remaining.min(rng.gen_range(15..60));
        let days_ago = 300 - (batch_number * 23) % 290;
        let received_at = now - Duration::days(i64::from(days_ago));
        let codes = receive_batch(
            &workshop,
            &workshop_id,
            &mut rng,
            batch_number,
            size,
            received_at,
        )
        .await?;
        for code in codes {
            let stage = pick_stage(&mut rng);
            recorded += advance(
                &workshop,
                &workshop_id,
                &mut rng,
                &code,
                stage,
                received_at,
                now,
                &households,
            )
            .await?;
        }
        remaining -= size;
        batch_number += 1;
        eprint!("\r{} / {} devices", args.devices - remaining, args.devices);
    }
    eprintln!();
    Projector::new(store).catch_up().await?;
    println!(
        "Demonstration workshop ready: {} devices in {batch_number} donation batches, {recorded} bench steps, {} households",
        args.devices,
        households.len()
    );
    println!("Start the server with `filiere serve` and open http://127.0.0.1:8080");
    Ok(())
}

async fn receive_batch(
    workshop: &Workshop,
    workshop_id: &str,
    rng: &mut StdRng,
    batch_number: u32,
    size: u32,
    received_at: DateTime<Utc>,
) -> anyhow::Result<Vec<DeviceCode>> {
    let (donor, donor_kind, free_transfer) = DONORS[batch_number as usize % DONORS.len()];
    let site = SITES[rng.gen_range(0..SITES.len())];
    let donation_id = DonationId::generate();
    let devices = (0..size)
        .map(|i| {
            let (category, brand, model) = MODELS[rng.gen_range(0..MODELS.len())];
            let serial = format!("DEMO{batch_number:03}{i:03}{:04}", rng.gen_range(0..10_000));
            NewDevice {
                intake: Intake {
                    device_id: DeviceId::generate(),
                    donation_id,
                    category,
                    brand: brand.to_string(),
                    model: model.to_string(),
                    serial: SerialNumber::parse(&serial).ok().flatten(),
                    asset_tag: None,
                    site: site.to_string(),
                    donor_kind,
                    free_transfer,
                },
            }
        })
        .collect();
    let donation = NewDonation {
        donation_id,
        donor_name: donor.to_string(),
        donor_kind,
        free_transfer,
        received_on: received_at.date_naive(),
        site: site.to_string(),
        reference: format!("BL-{:05}", 1000 + batch_number),
    };
    let mut context = CommandContext::new("demo", workshop_id);
    context.now = received_at;
    let outcome = workshop
        .receive_donation(donation, devices, &context)
        .await?;
    Ok(outcome.devices.into_iter().map(|(_, code)| code).collect())
}

/// Organisations and one account per role of the demonstration, created once.
/// Returns the id of the demonstration workshop.
async fn demo_accounts(store: &filiere_store::EventStore) -> anyhow::Result<String> {
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
    Ok(ids[0].clone())
}

fn pick_stage(rng: &mut StdRng) -> Stage {
    let mut roll = rng.gen_range(0..100);
    for (stage, share) in STAGES {
        if roll < *share {
            return *stage;
        }
        roll -= share;
    }
    Stage::InStock
}

/// Records the steps that take one device to `stage`; returns their count.
#[allow(clippy::too_many_arguments)]
async fn advance(
    workshop: &Workshop,
    workshop_id: &str,
    rng: &mut StdRng,
    code: &DeviceCode,
    stage: Stage,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
    households: &[HouseholdId],
) -> anyhow::Result<u32> {
    let household = households[rng.gen_range(0..households.len())];
    let mut plan: Vec<(Step, Vec<(&str, String)>)> = Vec::new();
    let disk = format!("{}-DISK", code);
    if stage == Stage::Received {
        return Ok(0);
    }
    if matches!(stage, Stage::Recycled) {
        plan.push((
            Step::Diagnose,
            vec![("test", "failed".into()), ("verdict", "recycle".into())],
        ));
        plan.push((
            Step::Recycle,
            vec![
                ("weight", rng.gen_range(800..9000).to_string()),
                ("eco_organism", "Ecologic".into()),
            ],
        ));
    } else if matches!(stage, Stage::Dismantled) {
        plan.push((
            Step::Diagnose,
            vec![
                ("test", "failed".into()),
                ("verdict", "harvest_parts".into()),
            ],
        ));
        plan.push((
            Step::Dismantle,
            vec![("part", "barrette mémoire, chargeur".into())],
        ));
    } else {
        plan.push((
            Step::Diagnose,
            vec![
                ("test", "passed".into()),
                ("storage", format!("{disk}:ssd:256")),
            ],
        ));
        if stage >= Stage::Erased {
            plan.push((
                Step::Erase,
                vec![
                    ("unit", disk.clone()),
                    ("tool", "nwipe".into()),
                    ("tool_version", "0.37".into()),
                    ("verified", "yes".into()),
                    ("operator", "Camille".into()),
                ],
            ));
            plan.push((
                Step::Install,
                vec![("os", "Linux Mint".into()), ("os_version", "22".into())],
            ));
            plan.push((
                Step::Grade,
                vec![
                    ("grade", ["a", "b", "c"][rng.gen_range(0..3)].into()),
                    ("autonomy", "beginner".into()),
                ],
            ));
        }
        if stage >= Stage::InStock {
            plan.push((
                Step::Stock,
                vec![
                    ("site", "Chartres".into()),
                    ("location", format!("Étagère {}", rng.gen_range(1..12))),
                ],
            ));
        }
        match stage {
            Stage::Reserved => {
                plan.push((Step::Reserve, vec![("household", household.to_string())]))
            }
            Stage::Loaned | Stage::Returned => {
                let due = (now + Duration::days(rng.gen_range(30..300))).date_naive();
                plan.push((
                    Step::Handover,
                    vec![
                        ("household", household.to_string()),
                        ("mode", "loan".into()),
                        ("due", due.to_string()),
                    ],
                ));
                if stage == Stage::Returned {
                    plan.push((Step::Return, vec![("notes", "Fin de prêt".into())]));
                }
            }
            Stage::Donated => plan.push((
                Step::Handover,
                vec![
                    ("household", household.to_string()),
                    ("mode", "donation".into()),
                ],
            )),
            Stage::Sold => plan.push((
                Step::Handover,
                vec![
                    ("household", household.to_string()),
                    ("mode", "sale".into()),
                    ("price", "25".into()),
                ],
            )),
            _ => {}
        }
    }
    let span = (now - received_at).num_minutes().max(60);
    let mut at = received_at;
    let mut count = 0;
    for (step, pairs) in plan {
        at = (at + Duration::minutes(rng.gen_range(30..span / 8 + 31))).min(now);
        let mut fields = Fields::new();
        for (name, value) in pairs {
            fields.entry(name.to_string()).or_default().push(value);
        }
        let command = command_from_fields(step, &fields, household)?;
        let mut context = CommandContext::new("demo", workshop_id);
        context.now = at;
        match workshop.record(code, command, &context).await {
            Ok(_) => count += 1,
            // A free-transfer device whose category has no solidarity price
            // (or any other rule) stops where the rules say; that is realistic.
            Err(error) => {
                tracing::debug!(device.code = %code, %error, "demo step rejected");
                break;
            }
        }
    }
    Ok(count)
}
