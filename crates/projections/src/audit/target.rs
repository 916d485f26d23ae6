//! The territory's share of the national target of refurbished devices for
//! modest households, and the unit it is counted in.

use std::fmt;
use std::str::FromStr;

use filiere_domain::territory::{InseeCode, Territories, TerritoryError};
use serde::Serialize;

/// National target of refurbished devices for modest households.
pub const DEFAULT_NATIONAL_TARGET: u64 = 2_000_000;

/// Error of configuring a target or computing its share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Territory(#[from] TerritoryError),
    #[error(
        "invalid territory code '{0}': give a département code (28, 2A, 974), a 5-character \
         INSEE commune code (28085) or the 9-digit SIREN of an EPCI"
    )]
    InvalidTerritoryCode(String),
    #[error(
        "territory {code} ({name}) has no population data, so its share cannot be computed \
         pro rata of population: set the share by hand with --share N"
    )]
    MissingPopulation { code: String, name: String },
    #[error("the national population in the territory data is 0, so no pro rata share exists")]
    MissingNationalPopulation,
    #[error(
        "invalid {field} {value}: it must be greater than 0; give a whole number of 1 or more"
    )]
    NotPositive { field: &'static str, value: u64 },
    #[error("invalid {field} {value}: it must be at most {max}")]
    TooLarge {
        field: &'static str,
        value: u64,
        max: i64,
    },
    #[error(
        "invalid share {share}: it is larger than the national target ({national_target}); give \
         a share from 1 to {national_target}, or omit --share to compute it pro rata of population"
    )]
    ShareAboveNational { share: u64, national_target: u64 },
    #[error("invalid unit '{0}': expected devices, computers or households")]
    InvalidUnit(String),
    #[error(
        "no audit target is set: run `filiere audit target set --territory CODE --unit devices`"
    )]
    NotSet,
}

/// Unit the target is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetUnit {
    /// Distinct devices handed over to a household at least once.
    Devices,
    /// Distinct laptops and desktops handed over at least once.
    Computers,
    /// Distinct households that received at least one device.
    Households,
}

impl TargetUnit {
    pub fn as_str(&self) -> &'static str {
        match self {
            TargetUnit::Devices => "devices",
            TargetUnit::Computers => "computers",
            TargetUnit::Households => "households",
        }
    }

    pub fn label_fr(&self) -> &'static str {
        match self {
            TargetUnit::Devices => "Équipements remis",
            TargetUnit::Computers => "Ordinateurs remis (portables et fixes)",
            TargetUnit::Households => "Foyers équipés",
        }
    }
}

impl fmt::Display for TargetUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TargetUnit {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "devices" | "device" => Ok(TargetUnit::Devices),
            "computers" | "computer" => Ok(TargetUnit::Computers),
            "households" | "household" => Ok(TargetUnit::Households),
            _ => Err(TargetError::InvalidUnit(s.to_string())),
        }
    }
}

/// Kind of territory, inferred from the shape of its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TerritoryKind {
    Departement,
    Epci,
    Commune,
}

/// A territory found in the embedded data, with its municipal population.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Territory {
    pub kind: TerritoryKind,
    pub code: String,
    pub name: String,
    /// `None` where the data gives no population (uninhabited communes).
    pub population: Option<u64>,
}

/// Method that sets the territory's share of the national target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "method", content = "devices", rename_all = "snake_case")]
pub enum ShareMethod {
    /// National target × territory population / national population.
    Population,
    /// A number of units set by hand.
    Manual(u64),
}

/// A configured target: the territory, its unit and how its share is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditTarget {
    pub national_target: u64,
    pub unit: TargetUnit,
    pub territory_code: String,
    pub share_method: ShareMethod,
    /// Organisations (device holders) whose handovers count toward this
    /// territory. Empty means every organisation in the log.
    pub workshops: Vec<String>,
}

/// A target with its territory looked up and its share computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedTarget {
    #[serde(flatten)]
    pub target: AuditTarget,
    pub territory: Territory,
    pub national_population: u64,
    /// Units the territory must reach, rounded to the nearest whole unit.
    pub share: u64,
}

/// Finds a territory by code: 9 digits name an EPCI, 5 characters a commune,
/// 2 or 3 characters a département or overseas collectivity.
pub fn find_territory(territories: &Territories, code: &str) -> Result<Territory, TargetError> {
    let code = code.trim();
    match code.len() {
        9 if code.bytes().all(|b| b.is_ascii_digit()) => {
            let epci = territories.epci(code)?;
            Ok(Territory {
                kind: TerritoryKind::Epci,
                code: epci.code.clone(),
                name: epci.name.clone(),
                population: Some(epci.population),
            })
        }
        5 => {
            let commune = territories.commune(&InseeCode::parse(code)?)?;
            Ok(Territory {
                kind: TerritoryKind::Commune,
                code: commune.code.to_string(),
                name: commune.name.clone(),
                population: commune.population,
            })
        }
        2 | 3 => {
            let departement = territories.departement(&code.to_ascii_uppercase())?;
            Ok(Territory {
                kind: TerritoryKind::Departement,
                code: departement.code.clone(),
                name: departement.name.clone(),
                population: Some(departement.population),
            })
        }
        _ => Err(TargetError::InvalidTerritoryCode(code.to_string())),
    }
}

/// Looks up the target's territory and computes its share.
pub fn resolve_target(
    territories: &Territories,
    target: AuditTarget,
) -> Result<ResolvedTarget, TargetError> {
    if target.national_target == 0 {
        return Err(TargetError::NotPositive {
            field: "national target",
            value: 0,
        });
    }
    let territory = find_territory(territories, &target.territory_code)?;
    let national_population = territories.national_population();
    let share = match target.share_method {
        ShareMethod::Manual(0) => {
            return Err(TargetError::NotPositive {
                field: "share",
                value: 0,
            })
        }
        ShareMethod::Manual(share) if share > target.national_target => {
            return Err(TargetError::ShareAboveNational {
                share,
                national_target: target.national_target,
            })
        }
        ShareMethod::Manual(share) => share,
        ShareMethod::Population => {
            pro_rata_share(target.national_target, &territory, national_population)?
        }
    };
    Ok(ResolvedTarget {
        target,
        territory,
        national_population,
        share,
    })
}

/// Computes national target × territory population / national population,
/// rounded half up to a whole unit, in integers so the result is exact.
pub fn pro_rata_share(
    national_target: u64,
    territory: &Territory,
    national_population: u64,
) -> Result<u64, TargetError> {
    let population = match territory.population {
        Some(population) if population > 0 => population,
        _ => {
            return Err(TargetError::MissingPopulation {
                code: territory.code.clone(),
                name: territory.name.clone(),
            })
        }
    };
    if national_population == 0 {
        return Err(TargetError::MissingNationalPopulation);
    }
    let numerator = u128::from(national_target) * u128::from(population);
    let denominator = u128::from(national_population);
    let rounded = (numerator * 2 + denominator) / (denominator * 2);
    Ok(u64::try_from(rounded).unwrap_or(u64::MAX))
}

/// Returns `figure / share` as a percentage in hundredths of a percent,
/// rounded half up, so 1234 means 12.34 %.
pub fn progress_basis_points(figure: u64, share: u64) -> u64 {
    if share == 0 {
        return 0;
    }
    let numerator = u128::from(figure) * 10_000;
    let denominator = u128::from(share);
    let rounded = (numerator * 2 + denominator) / (denominator * 2);
    u64::try_from(rounded).unwrap_or(u64::MAX)
}
