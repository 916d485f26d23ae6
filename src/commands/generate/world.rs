//! The organisations, places, donors and households of a generated log.
//!
//! Workshops and social services are real rows of the `organisations` table,
//! created through the store as an administrator would. Households live in
//! communes of `data/territories/`, drawn with a probability proportional to
//! the commune's municipal population.

use anyhow::Context;
use chrono::{DateTime, Utc};
use filiere_domain::access::OrganisationKind;
use filiere_domain::prescription::{
    AgeBand, EligibilityRule, EligibilityScheme, Evidence, HouseholdAttributes, HouseholdSize,
};
use filiere_domain::territory::{Commune, Territories};
use filiere_domain::types::{Category, DonorKind};
use filiere_store::households::HouseholdIdentity;
use filiere_store::EventStore;
use rand::rngs::StdRng;
use rand::Rng;

/// Organisations and territory of a generated log.
#[derive(Clone, Debug)]
pub enum Scope {
    /// One workshop and one social service per département, created by the
    /// generator, each département weighted by its population.
    National,
    /// One existing workshop and social service (organisation ids), with
    /// households in one département.
    Local {
        workshop: String,
        social_service: String,
        departement: String,
    },
}

/// A workshop, the social service that sends it households, and the
/// communes those households live in.
pub struct Workshop {
    pub organisation: String,
    pub social_service: String,
    pub departement_name: String,
    /// Reception and stock sites: the largest communes of the département.
    pub sites: Vec<String>,
    pub communes: CommuneSampler,
}

/// Communes drawn with a probability proportional to their population.
pub struct CommuneSampler {
    communes: Vec<&'static Commune>,
    /// Running total of the populations, for a binary search.
    cumulative: Vec<u64>,
}

impl CommuneSampler {
    fn new(communes: Vec<&'static Commune>) -> Option<CommuneSampler> {
        let mut total = 0;
        let mut kept = Vec::new();
        let mut cumulative = Vec::new();
        for commune in communes {
            let population = commune.population.unwrap_or(0);
            if population == 0 {
                continue;
            }
            total += population;
            kept.push(commune);
            cumulative.push(total);
        }
        (total > 0).then_some(CommuneSampler {
            communes: kept,
            cumulative,
        })
    }

    fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    pub fn pick(&self, rng: &mut StdRng) -> &'static Commune {
        let target = rng.gen_range(0..self.total());
        let index = self.cumulative.partition_point(|&total| total <= target);
        self.communes[index]
    }

    /// Names of the `count` most populated communes.
    fn largest(&self, count: usize) -> Vec<String> {
        let mut communes = self.communes.clone();
        communes.sort_by_key(|commune| std::cmp::Reverse(commune.population));
        communes
            .into_iter()
            .take(count)
            .map(|commune| commune.name.clone())
            .collect()
    }
}

/// Everything the generator draws from.
pub struct World {
    pub workshops: Vec<Workshop>,
    /// Running total of the workshops' populations, for a weighted draw.
    cumulative: Vec<u64>,
    pub schemes: Vec<EligibilityScheme>,
}

/// Eligibility schemes of a generated log: name, rule, share of the
/// prescriptions in percent.
fn scheme_definitions() -> Vec<(&'static str, EligibilityRule, u32)> {
    vec![
        (
            "Minima sociaux (RSA, AAH, ASS, ASPA)",
            EligibilityRule::Benefit {
                accepted: vec!["RSA".into(), "AAH".into(), "ASS".into(), "ASPA".into()],
            },
            40,
        ),
        (
            "Quotient familial inférieur à 800 €",
            EligibilityRule::FamilyQuotientBelow {
                threshold_euros: 800,
            },
            20,
        ),
        (
            "Reste à vivre inférieur à 400 € par mois",
            EligibilityRule::ResidualIncomeBelow {
                threshold_euros_per_month: 400,
            },
            15,
        ),
        ("Étudiant·e boursier·e", EligibilityRule::Student, 10),
        ("Demandeur·se d'emploi", EligibilityRule::JobSeeker, 15),
    ]
}

impl World {
    /// Finds or creates the organisations and eligibility schemes of
    /// `scope`.
    pub async fn build(
        store: &EventStore,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> anyhow::Result<World> {
        let territories = Territories::embedded();
        let mut workshops = Vec::new();
        match scope {
            Scope::National => {
                for departement in territories.departements() {
                    let communes: Vec<&'static Commune> = territories
                        .communes()
                        .filter(|commune| commune.departement == departement.code)
                        .collect();
                    let Some(communes) = CommuneSampler::new(communes) else {
                        continue;
                    };
                    let label = format!("{} ({})", departement.name, departement.code);
                    let workshop = organisation(
                        store,
                        &format!("Atelier solidaire {label}"),
                        OrganisationKind::Workshop,
                    )
                    .await?;
                    let social_service = organisation(
                        store,
                        &format!("Service social {label}"),
                        OrganisationKind::SocialService,
                    )
                    .await?;
                    workshops.push(Workshop {
                        organisation: workshop,
                        social_service,
                        departement_name: departement.name.clone(),
                        sites: communes.largest(2),
                        communes,
                    });
                }
            }
            Scope::Local {
                workshop,
                social_service,
                departement,
            } => {
                let name = territories
                    .departement(departement)
                    .with_context(|| format!("département '{departement}'"))?
                    .name
                    .clone();
                let communes = territories
                    .communes()
                    .filter(|commune| &commune.departement == departement)
                    .collect();
                let communes = CommuneSampler::new(communes).with_context(|| {
                    format!("département '{departement}' has no inhabited commune")
                })?;
                workshops.push(Workshop {
                    organisation: workshop.clone(),
                    social_service: social_service.clone(),
                    departement_name: name,
                    sites: communes.largest(2),
                    communes,
                });
            }
        }
        let mut total = 0;
        let cumulative = workshops
            .iter()
            .map(|workshop| {
                total += workshop.communes.total();
                total
            })
            .collect();
        let mut schemes = Vec::new();
        for (name, rule, _) in scheme_definitions() {
            let scheme = match store.scheme(name).await {
                Ok(scheme) => scheme,
                Err(_) => store
                    .create_scheme(name, rule, now)
                    .await
                    .with_context(|| format!("cannot create the eligibility scheme '{name}'"))?,
            };
            schemes.push(scheme);
        }
        Ok(World {
            workshops,
            cumulative,
            schemes,
        })
    }

    /// Draws a workshop, weighted by the population it serves.
    pub fn pick_workshop(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let target = rng.gen_range(0..total);
        self.cumulative.partition_point(|&sum| sum <= target)
    }

    /// Draws a scheme and evidence that it accepts.
    pub fn pick_scheme(&self, rng: &mut StdRng) -> (usize, Evidence) {
        let mut roll = rng.gen_range(0..100);
        let mut index = 0;
        for (position, (_, _, share)) in scheme_definitions().iter().enumerate() {
            if roll < *share {
                index = position;
                break;
            }
            roll -= share;
        }
        let evidence = match &self.schemes[index].rule {
            EligibilityRule::Benefit { accepted } => Evidence::Benefit {
                name: accepted[rng.gen_range(0..accepted.len())].clone(),
            },
            EligibilityRule::FamilyQuotientBelow { threshold_euros } => Evidence::FamilyQuotient {
                euros: rng.gen_range(150..*threshold_euros),
            },
            EligibilityRule::ResidualIncomeBelow {
                threshold_euros_per_month,
            } => Evidence::ResidualIncome {
                euros_per_month: rng.gen_range(20..*threshold_euros_per_month),
            },
            EligibilityRule::Student => Evidence::Student,
            EligibilityRule::JobSeeker => Evidence::JobSeeker,
        };
        (index, evidence)
    }
}

/// Id of the organisation named `name`, created when missing.
async fn organisation(
    store: &EventStore,
    name: &str,
    kind: OrganisationKind,
) -> anyhow::Result<String> {
    if let Ok(existing) = store.organisation(name).await {
        return Ok(existing.id);
    }
    let created = store
        .create_organisation(name, kind)
        .await
        .with_context(|| format!("cannot create the organisation '{name}'"))?;
    Ok(created.id)
}

/// Statistical attributes of a household living in a commune drawn from
/// `communes`. Priority neighbourhoods (QPV) are urban and rural
/// revitalisation zones (ZRR) rural, so both depend on the commune's size.
pub fn household(communes: &CommuneSampler, rng: &mut StdRng) -> HouseholdAttributes {
    let commune = communes.pick(rng);
    let population = commune.population.unwrap_or(0);
    let qpv_percent = match population {
        20_000.. => 35,
        5_000..=19_999 => 12,
        _ => 0,
    };
    let zrr_percent = match population {
        0..=1_999 => 45,
        2_000..=4_999 => 15,
        _ => 0,
    };
    let size = match rng.gen_range(0..100) {
        0..=34 => HouseholdSize::One,
        35..=59 => HouseholdSize::Two,
        60..=87 => HouseholdSize::ThreeToFour,
        _ => HouseholdSize::FiveOrMore,
    };
    let age = match rng.gen_range(0..100) {
        0..=14 => AgeBand::Minor,
        15..=34 => AgeBand::YoungAdult,
        35..=79 => AgeBand::Adult,
        _ => AgeBand::Senior,
    };
    HouseholdAttributes {
        commune: commune.code.clone(),
        qpv: rng.gen_range(0..100) < qpv_percent,
        zrr: rng.gen_range(0..100) < zrr_percent,
        size,
        age,
    }
}

const FIRST_NAMES: &[&str] = &[
    "Camille", "Nadia", "Karim", "Léa", "Mamadou", "Sophie", "Yasmine", "Thomas", "Fatou",
    "Julien", "Inès", "Mehdi", "Chantal", "Kevin", "Aïcha", "Bernard", "Manon", "Rachid",
];

const LAST_NAMES: &[&str] = &[
    "Martin", "Bernard", "Diallo", "Petit", "Nguyen", "Moreau", "Benali", "Lefebvre", "Traoré",
    "Garcia", "Roux", "Mercier", "Haddad", "Fontaine", "Lambert", "Rousseau",
];

/// Made-up name and contact details of a generated household.
pub fn identity(rng: &mut StdRng) -> HouseholdIdentity {
    let number: u32 = rng.gen_range(0..100_000_000);
    let first_name = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last_name = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    HouseholdIdentity {
        first_name: first_name.to_string(),
        last_name: last_name.to_string(),
        phone: Some(format!(
            "06 {:02} {:02} {:02} {:02}",
            number / 1_000_000 % 100,
            number / 10_000 % 100,
            number / 100 % 100,
            number % 100
        )),
        email: None,
        address: None,
    }
}

/// Models per category: brand and model.
pub fn model(category: Category, rng: &mut StdRng) -> (&'static str, &'static str) {
    let models: &[(&str, &str)] = match category {
        Category::Laptop => &[
            ("Dell", "Latitude E5470"),
            ("Dell", "Latitude 7490"),
            ("HP", "EliteBook 840 G5"),
            ("HP", "ProBook 450 G6"),
            ("Lenovo", "ThinkPad T480"),
            ("Lenovo", "ThinkPad X270"),
        ],
        Category::Desktop => &[
            ("Dell", "OptiPlex 7050"),
            ("HP", "EliteDesk 800 G3"),
            ("Lenovo", "ThinkCentre M720q"),
        ],
        Category::Tablet => &[
            ("Samsung", "Galaxy Tab A7"),
            ("Apple", "iPad 7e génération"),
            ("Lenovo", "Tab M10"),
        ],
        Category::Smartphone => &[
            ("Samsung", "Galaxy A52"),
            ("Apple", "iPhone 8"),
            ("Xiaomi", "Redmi Note 10"),
        ],
        Category::Screen => &[
            ("Dell", "P2419H"),
            ("HP", "E24 G4"),
            ("Iiyama", "ProLite X2483"),
        ],
        Category::Printer | Category::MultifunctionPrinter => {
            &[("Brother", "HL-L2350DW"), ("HP", "LaserJet Pro M404")]
        }
        Category::Other => &[("Logitech", "Webcam C270")],
    };
    models[rng.gen_range(0..models.len())]
}

/// Draws a category: mostly laptops, then phones and desktops.
pub fn category(rng: &mut StdRng) -> Category {
    match rng.gen_range(0..100) {
        0..=44 => Category::Laptop,
        45..=62 => Category::Desktop,
        63..=72 => Category::Tablet,
        73..=87 => Category::Smartphone,
        88..=96 => Category::Screen,
        _ => Category::Printer,
    }
}

/// Draws a donor for a batch received by `workshop`: its name, kind,
/// whether the free-transfer rule applies and the batch size.
pub fn donor(workshop: &Workshop, rng: &mut StdRng) -> (String, DonorKind, bool, u32) {
    let town = &workshop.communes.pick(rng).name;
    match rng.gen_range(0..100) {
        0..=29 => {
            let name = if rng.gen_bool(0.5) {
                format!("Mairie de {town}")
            } else {
                format!("Conseil départemental {}", workshop.departement_name)
            };
            (
                name,
                DonorKind::PublicBody,
                rng.gen_bool(0.8),
                rng.gen_range(20..160),
            )
        }
        30..=74 => {
            const COMPANIES: &[&str] = &[
                "Banque coopérative",
                "Mutuelle d'assurance",
                "Cabinet d'expertise comptable",
                "Société de transport",
                "Groupe industriel",
                "Entreprise de services numériques",
            ];
            let company = COMPANIES[rng.gen_range(0..COMPANIES.len())];
            let size = if rng.gen_bool(0.1) {
                rng.gen_range(100..400)
            } else {
                rng.gen_range(5..60)
            };
            (
                format!("{company} de {town}"),
                DonorKind::Company,
                false,
                size,
            )
        }
        75..=89 => (
            format!("Collecte de particuliers, {town}"),
            DonorKind::Person,
            false,
            rng.gen_range(1..8),
        ),
        _ => (
            format!("Association de quartier de {town}"),
            DonorKind::Association,
            false,
            rng.gen_range(3..30),
        ),
    }
}
