//! French territorial divisions: current communes, EPCI and départements,
//! with municipal populations for per-territory figures.
//!
//! The data comes from the npm package `@etalab/decoupage-administratif`
//! 6.0.0 through `scripts/territories/regenerate.sh`, which writes
//! `data/territories/`. `SOURCE.md` in that folder gives the licence, the
//! tarball's integrity hash and how the populations were computed.
//! [`Territories::embedded`] parses the copy compiled into this crate.
//!
//! A commune is identified by its INSEE code from the official geographic
//! code (COG), which is not its postal code: Chartres has INSEE code 28085
//! and postal code 28000.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// File name used in errors about the communes CSV.
pub const COMMUNES_FILE: &str = "communes.csv";
/// File name used in errors about the EPCI CSV.
pub const EPCI_FILE: &str = "epci.csv";
/// File name used in errors about the départements CSV.
pub const DEPARTEMENTS_FILE: &str = "departements.csv";

const COMMUNES_HEADER: [&str; 5] = ["code_insee", "nom", "departement", "epci", "population"];
const EPCI_HEADER: [&str; 3] = ["code", "nom", "population"];
const DEPARTEMENTS_HEADER: [&str; 4] = ["code", "nom", "region", "population"];

const EMBEDDED_COMMUNES: &str = include_str!("../../../data/territories/communes.csv");
const EMBEDDED_EPCI: &str = include_str!("../../../data/territories/epci.csv");
const EMBEDDED_DEPARTEMENTS: &str = include_str!("../../../data/territories/departements.csv");

/// An error from parsing territory data, from an invalid code or from a
/// lookup of a territory that is not in the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerritoryError {
    #[error("invalid INSEE commune code '{input}': {reason}")]
    InvalidCode { input: String, reason: String },

    #[error("{file} line {line}: invalid value '{value}': {reason}")]
    InvalidLine {
        file: &'static str,
        line: usize,
        value: String,
        reason: String,
    },

    #[error(
        "{code} is not the INSEE code of a current commune: {}",
        unknown_commune_advice(code)
    )]
    UnknownCommune { code: InseeCode },

    #[error(
        "unknown département '{code}': use the code of a current département or overseas \
         collectivity (01 to 95, 2A or 2B in metropolitan France, 971 to 989 overseas)"
    )]
    UnknownDepartement { code: String },

    #[error(
        "unknown EPCI '{code}': use the 9-digit SIREN of a current EPCI with its own tax \
         system (EPCI à fiscalité propre)"
    )]
    UnknownEpci { code: String },
}

/// Returns the advice for a valid code that names no current commune.
fn unknown_commune_advice(code: &InseeCode) -> String {
    let number: u32 = code.as_str().parse().unwrap_or(0);
    let city = match number {
        75101..=75120 => Some(("Paris", "75056")),
        69381..=69389 => Some(("Lyon", "69123")),
        13201..=13216 => Some(("Marseille", "13055")),
        _ => None,
    };
    match city {
        Some((name, commune)) => format!(
            "it is the code of a municipal arrondissement of {name}, and the whole city is \
             one commune: use {commune}"
        ),
        None => "find the commune by name in INSEE's official geographic code (COG) and use \
                 its 5-character INSEE code, not its postal code (Chartres has postal code \
                 28000 and INSEE code 28085). A former commune merged into a commune nouvelle \
                 has the code of the new commune."
            .to_string(),
    }
}

/// An INSEE commune code in its canonical form: five characters, the
/// département code (2 characters, or 3 for 971 to 989) then the commune's
/// number within it.
///
/// A valid code may still name no current commune. [`Territories::commune`]
/// checks that.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InseeCode(String);

impl InseeCode {
    /// Parses a code typed by a person: surrounding spaces are ignored and
    /// `2a`/`2b` are accepted for Corsica's `2A`/`2B`.
    pub fn parse(input: &str) -> Result<Self, TerritoryError> {
        let normalized = input.trim().to_ascii_uppercase();
        Self::parse_canonical(&normalized).map_err(|reason| TerritoryError::InvalidCode {
            input: input.trim().to_string(),
            reason,
        })
    }

    /// Parses a code exactly as written in the data files, rejecting spaces
    /// and lower case.
    fn parse_canonical(code: &str) -> Result<Self, String> {
        let length = code.chars().count();
        if length != 5 {
            return Err(format!(
                "an INSEE commune code has 5 characters, this one has {length}"
            ));
        }
        if let Some(bad) = code.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(format!(
                "'{bad}' is not allowed: use digits, and A or B only for Corsica (2A, 2B)"
            ));
        }
        let (departement, number) = code.split_at(departement_code_length(code));
        check_departement_code(departement)
            .map_err(|reason| format!("département part '{departement}': {reason}"))?;
        if !number.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!(
                "'{number}' after the département code {departement} must be digits"
            ));
        }
        Ok(Self(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the département or overseas collectivity code at the start of
    /// the commune code: "28" for 28085, "2A" for 2A004, "974" for 97411.
    pub fn departement(&self) -> &str {
        &self.0[..departement_code_length(&self.0)]
    }
}

/// Returns 3 for overseas codes (starting with 97 or 98) and 2 otherwise.
fn departement_code_length(code: &str) -> usize {
    if code.starts_with("97") || code.starts_with("98") {
        3
    } else {
        2
    }
}

/// Checks a département or overseas collectivity code against the codes in
/// `@etalab/decoupage-administratif` 6.0.0: 01 to 95 without 20, 2A, 2B,
/// 971 to 978, 984 and 986 to 989.
fn check_departement_code(code: &str) -> Result<(), String> {
    match code.as_bytes() {
        [b'2', b'A' | b'B'] => Ok(()),
        [b'2', b'0'] => Err(
            "Corsica has used 2A (Corse-du-Sud) and 2B (Haute-Corse) in place of 20 since 1976"
                .to_string(),
        ),
        [b'9', b'7', b'1'..=b'8'] | [b'9', b'8', b'4' | b'6'..=b'9'] => Ok(()),
        [b'9', b'9'] => {
            Err("codes starting with 99 are INSEE's codes for foreign countries".to_string())
        }
        [b'0', b'1'..=b'9'] | [b'1'..=b'8', b'0'..=b'9'] | [b'9', b'0'..=b'5'] => Ok(()),
        _ => Err(
            "no département or overseas collectivity has this code (01 to 95, 2A, 2B, \
             971 to 978, 984, 986 to 989)"
                .to_string(),
        ),
    }
}

impl fmt::Display for InseeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for InseeCode {
    type Err = TerritoryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for InseeCode {
    type Error = TerritoryError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InseeCode> for String {
    fn from(code: InseeCode) -> Self {
        code.0
    }
}

/// A current commune (type `commune-actuelle` in the source package).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commune {
    pub code: InseeCode,
    pub name: String,
    /// Département or overseas collectivity code, equal to `code.departement()`.
    pub departement: String,
    /// SIREN of the EPCI the commune is a member of. `None` for the few
    /// communes that are members of none, such as islands and most overseas
    /// collectivities.
    pub epci: Option<String>,
    /// Municipal population (population municipale). `None` where the source
    /// gives none, such as the uninhabited districts of the French Southern
    /// and Antarctic Lands.
    pub population: Option<u64>,
}

/// An EPCI with its own tax system (EPCI à fiscalité propre).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epci {
    /// SIREN, 9 digits.
    pub code: String,
    pub name: String,
    /// Sum of the municipal populations of its member communes.
    pub population: u64,
}

/// A département, or an overseas collectivity listed as one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departement {
    pub code: String,
    pub name: String,
    /// INSEE region code.
    pub region: String,
    /// Sum of the municipal populations of its communes.
    pub population: u64,
}

/// The current communes, EPCI and départements, checked against each other.
///
/// [`Territories::parse`] guarantees that every commune's département and
/// EPCI exist, and that each stated EPCI and département population equals
/// the sum over its communes, where a commune without a population counts
/// as 0.
#[derive(Clone, Debug)]
pub struct Territories {
    communes: BTreeMap<InseeCode, Commune>,
    epcis: BTreeMap<String, Epci>,
    departements: BTreeMap<String, Departement>,
    national_population: u64,
}

impl Territories {
    /// Returns the data of `data/territories/`, compiled into this crate and
    /// parsed on the first call.
    ///
    /// # Panics
    ///
    /// Panics if the embedded files are invalid. The unit tests of this
    /// module parse them, so that failure shows up in `cargo test`.
    pub fn embedded() -> &'static Territories {
        static EMBEDDED: OnceLock<Territories> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Territories::parse(EMBEDDED_COMMUNES, EMBEDDED_EPCI, EMBEDDED_DEPARTEMENTS)
                .unwrap_or_else(|error| {
                    panic!(
                        "the territory data embedded from data/territories/ is invalid: \
                         {error}; regenerate it with scripts/territories/regenerate.sh"
                    )
                })
        })
    }

    /// Parses and cross-checks the three CSV files written by
    /// `scripts/territories/regenerate.sh`.
    ///
    /// Each file is UTF-8 with a header line, comma separators and optional
    /// double quotes (a quote inside a quoted field is doubled). Fields cannot
    /// contain line breaks. LF and CRLF line endings are both accepted. Errors
    /// name the file, the 1-based line and the rejected value.
    pub fn parse(
        communes_csv: &str,
        epci_csv: &str,
        departements_csv: &str,
    ) -> Result<Territories, TerritoryError> {
        let departement_rows = parse_departements(departements_csv)?;
        let epci_rows = parse_epcis(epci_csv)?;
        let communes = parse_communes(communes_csv, &departement_rows, &epci_rows)?;

        let departement_totals =
            sum_populations(&communes, |commune| Some(commune.departement.as_str()))?;
        let epci_totals = sum_populations(&communes, |commune| commune.epci.as_deref())?;
        let departements = check_totals(DEPARTEMENTS_FILE, departement_rows, &departement_totals)?;
        let epcis = check_totals(EPCI_FILE, epci_rows, &epci_totals)?;

        let national_population = sum_national_population(&communes)?;
        let communes = communes
            .into_values()
            .map(|row| (row.value.code.clone(), row.value))
            .collect();
        Ok(Territories {
            communes,
            epcis,
            departements,
            national_population,
        })
    }

    /// Looks up a current commune. The error for a code that names none
    /// explains how to find the INSEE code.
    pub fn commune(&self, code: &InseeCode) -> Result<&Commune, TerritoryError> {
        self.communes
            .get(code)
            .ok_or_else(|| TerritoryError::UnknownCommune { code: code.clone() })
    }

    /// Looks up a département or overseas collectivity by code ("28", "2A",
    /// "974").
    pub fn departement(&self, code: &str) -> Result<&Departement, TerritoryError> {
        self.departements
            .get(code)
            .ok_or_else(|| TerritoryError::UnknownDepartement {
                code: code.to_string(),
            })
    }

    /// Looks up an EPCI by its 9-digit SIREN.
    pub fn epci(&self, code: &str) -> Result<&Epci, TerritoryError> {
        self.epcis
            .get(code)
            .ok_or_else(|| TerritoryError::UnknownEpci {
                code: code.to_string(),
            })
    }

    /// Returns the municipal population of a département: the sum over its
    /// communes.
    pub fn departement_population(&self, code: &str) -> Result<u64, TerritoryError> {
        self.departement(code)
            .map(|departement| departement.population)
    }

    /// Returns the municipal population of an EPCI: the sum over its member
    /// communes.
    pub fn epci_population(&self, code: &str) -> Result<u64, TerritoryError> {
        self.epci(code).map(|epci| epci.population)
    }

    /// Returns the sum of the municipal populations of all current communes,
    /// overseas collectivities included.
    pub fn national_population(&self) -> u64 {
        self.national_population
    }

    /// Returns the current communes in code order.
    pub fn communes(&self) -> impl Iterator<Item = &Commune> {
        self.communes.values()
    }

    /// Returns the EPCI in SIREN order.
    pub fn epcis(&self) -> impl Iterator<Item = &Epci> {
        self.epcis.values()
    }

    /// Returns the départements and overseas collectivities in code order.
    pub fn departements(&self) -> impl Iterator<Item = &Departement> {
        self.departements.values()
    }
}

/// A parsed value with the 1-based line it came from, kept for errors found
/// after the whole file is read.
struct Row<T> {
    line: usize,
    value: T,
}

/// A territory with a population column that must equal the sum over its
/// communes.
trait StatedPopulation {
    fn population(&self) -> u64;
}

impl StatedPopulation for Epci {
    fn population(&self) -> u64 {
        self.population
    }
}

impl StatedPopulation for Departement {
    fn population(&self) -> u64 {
        self.population
    }
}

fn line_error(
    file: &'static str,
    line: usize,
    value: &str,
    reason: impl Into<String>,
) -> TerritoryError {
    TerritoryError::InvalidLine {
        file,
        line,
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn parse_departements(text: &str) -> Result<BTreeMap<String, Row<Departement>>, TerritoryError> {
    let file = DEPARTEMENTS_FILE;
    let mut rows = BTreeMap::new();
    for (line, fields) in read_records(file, text, &DEPARTEMENTS_HEADER)? {
        let [code, name, region, population] = take_fields(fields);
        check_departement_code(&code).map_err(|reason| line_error(file, line, &code, reason))?;
        check_name(file, line, &name)?;
        if !(2..=3).contains(&region.len()) || !region.bytes().all(|b| b.is_ascii_digit()) {
            return Err(line_error(
                file,
                line,
                &region,
                "a region code has 2 or 3 digits",
            ));
        }
        let population = parse_population(file, line, &population)?;
        let departement = Departement {
            code,
            name,
            region,
            population,
        };
        insert_unique(file, &mut rows, departement.code.clone(), line, departement)?;
    }
    Ok(rows)
}

fn parse_epcis(text: &str) -> Result<BTreeMap<String, Row<Epci>>, TerritoryError> {
    let file = EPCI_FILE;
    let mut rows = BTreeMap::new();
    for (line, fields) in read_records(file, text, &EPCI_HEADER)? {
        let [code, name, population] = take_fields(fields);
        check_siren(file, line, &code)?;
        check_name(file, line, &name)?;
        let population = parse_population(file, line, &population)?;
        let epci = Epci {
            code,
            name,
            population,
        };
        insert_unique(file, &mut rows, epci.code.clone(), line, epci)?;
    }
    Ok(rows)
}

fn parse_communes(
    text: &str,
    departements: &BTreeMap<String, Row<Departement>>,
    epcis: &BTreeMap<String, Row<Epci>>,
) -> Result<BTreeMap<InseeCode, Row<Commune>>, TerritoryError> {
    let file = COMMUNES_FILE;
    let mut rows = BTreeMap::new();
    for (line, fields) in read_records(file, text, &COMMUNES_HEADER)? {
        let [code, name, departement, epci, population] = take_fields(fields);
        let code = InseeCode::parse_canonical(&code)
            .map_err(|reason| line_error(file, line, &code, reason))?;
        check_name(file, line, &name)?;
        if departement != code.departement() {
            return Err(line_error(
                file,
                line,
                &departement,
                format!(
                    "commune {code} starts with département code {}",
                    code.departement()
                ),
            ));
        }
        if !departements.contains_key(&departement) {
            return Err(line_error(
                file,
                line,
                &departement,
                format!("département {departement} is not in {DEPARTEMENTS_FILE}"),
            ));
        }
        let epci = if epci.is_empty() {
            None
        } else if epcis.contains_key(&epci) {
            Some(epci)
        } else {
            return Err(line_error(
                file,
                line,
                &epci,
                format!("EPCI {epci} is not in {EPCI_FILE}"),
            ));
        };
        let population = if population.is_empty() {
            None
        } else {
            Some(parse_population(file, line, &population)?)
        };
        let commune = Commune {
            code,
            name,
            departement,
            epci,
            population,
        };
        insert_unique(file, &mut rows, commune.code.clone(), line, commune)?;
    }
    Ok(rows)
}

/// Sums the commune populations per territory. The error for an overflow
/// names the line of the commune whose population overflowed the total.
fn sum_populations<'a>(
    communes: &'a BTreeMap<InseeCode, Row<Commune>>,
    territory_of: impl Fn(&'a Commune) -> Option<&'a str>,
) -> Result<BTreeMap<&'a str, u64>, TerritoryError> {
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for row in communes.values() {
        let Some(territory) = territory_of(&row.value) else {
            continue;
        };
        let population = row.value.population.unwrap_or(0);
        let total = totals.entry(territory).or_insert(0);
        *total = total.checked_add(population).ok_or_else(|| {
            line_error(
                COMMUNES_FILE,
                row.line,
                &population.to_string(),
                format!("the population total of {territory} overflows a 64-bit integer"),
            )
        })?;
    }
    Ok(totals)
}

/// Sums the populations of all communes. The error for an overflow names the
/// line of the commune whose population overflowed the total.
fn sum_national_population(
    communes: &BTreeMap<InseeCode, Row<Commune>>,
) -> Result<u64, TerritoryError> {
    let mut total: u64 = 0;
    for row in communes.values() {
        let population = row.value.population.unwrap_or(0);
        total = total.checked_add(population).ok_or_else(|| {
            line_error(
                COMMUNES_FILE,
                row.line,
                &population.to_string(),
                "the national population total overflows a 64-bit integer",
            )
        })?;
    }
    Ok(total)
}

/// Checks each stated population against the sum over the territory's
/// communes, and rejects a territory without any commune.
fn check_totals<T: StatedPopulation>(
    file: &'static str,
    rows: BTreeMap<String, Row<T>>,
    totals: &BTreeMap<&str, u64>,
) -> Result<BTreeMap<String, T>, TerritoryError> {
    let mut checked = BTreeMap::new();
    for (code, row) in rows {
        let stated = row.value.population();
        let Some(&total) = totals.get(code.as_str()) else {
            return Err(line_error(
                file,
                row.line,
                &code,
                format!("{code} has no commune in {COMMUNES_FILE}"),
            ));
        };
        if stated != total {
            return Err(line_error(
                file,
                row.line,
                &stated.to_string(),
                format!(
                    "the population of {code} must equal the sum over its communes in \
                     {COMMUNES_FILE}, which is {total}"
                ),
            ));
        }
        checked.insert(code, row.value);
    }
    Ok(checked)
}

fn insert_unique<K: Ord + fmt::Display, T>(
    file: &'static str,
    rows: &mut BTreeMap<K, Row<T>>,
    code: K,
    line: usize,
    value: T,
) -> Result<(), TerritoryError> {
    if let Some(first) = rows.get(&code) {
        return Err(line_error(
            file,
            line,
            &code.to_string(),
            format!("duplicate code, first listed on line {}", first.line),
        ));
    }
    rows.insert(code, Row { line, value });
    Ok(())
}

fn check_name(file: &'static str, line: usize, name: &str) -> Result<(), TerritoryError> {
    if name.trim().is_empty() {
        return Err(line_error(file, line, name, "the name is empty"));
    }
    Ok(())
}

fn check_siren(file: &'static str, line: usize, code: &str) -> Result<(), TerritoryError> {
    if code.len() != 9 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(line_error(
            file,
            line,
            code,
            "an EPCI code is a SIREN of 9 digits",
        ));
    }
    Ok(())
}

fn parse_population(file: &'static str, line: usize, value: &str) -> Result<u64, TerritoryError> {
    // The digit check comes first because u64::from_str also accepts a
    // leading '+'.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(line_error(
            file,
            line,
            value,
            "a population is a non-negative integer in digits only",
        ));
    }
    value.parse().map_err(|_| {
        line_error(
            file,
            line,
            value,
            "the population overflows a 64-bit integer",
        )
    })
}

/// Converts a record whose field count [`read_records`] has checked into an
/// array, so that each field gets a name by destructuring.
fn take_fields<const N: usize>(fields: Vec<String>) -> [String; N] {
    let count = fields.len();
    fields
        .try_into()
        .unwrap_or_else(|_| panic!("read_records returned {count} fields where {N} are expected"))
}

/// Reads the data lines of a CSV file after checking its header. Returns
/// each line's 1-based number and its fields, which always number
/// `header.len()`.
fn read_records(
    file: &'static str,
    text: &str,
    header: &[&str],
) -> Result<Vec<(usize, Vec<String>)>, TerritoryError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut lines = body
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .map(|(index, line)| (index + 1, line));

    let expected_header = header.join(",");
    let (_, first) = lines.next().unwrap_or((1, ""));
    // A UTF-8 byte order mark before the header is tolerated.
    let first = first.strip_prefix('\u{feff}').unwrap_or(first);
    if first != expected_header {
        return Err(line_error(
            file,
            1,
            first,
            format!("expected the header '{expected_header}'"),
        ));
    }

    let mut records = Vec::new();
    for (line, text) in lines {
        if text.is_empty() {
            return Err(line_error(file, line, text, "the line is empty"));
        }
        let fields = split_fields(text).map_err(|reason| line_error(file, line, text, reason))?;
        if fields.len() != header.len() {
            return Err(line_error(
                file,
                line,
                text,
                format!(
                    "expected {} fields ({expected_header}), found {}",
                    header.len(),
                    fields.len()
                ),
            ));
        }
        records.push((line, fields));
    }
    Ok(records)
}

/// Splits one CSV line into fields, unquoting quoted fields.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("a quoted field is not closed".to_string()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => {
                    return Err(format!(
                        "'{c}' follows the closing quote of a field: quote the whole field and \
                         double the quotes inside it"
                    ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(field);
                        break;
                    }
                    Some('"') => {
                        return Err("a quote appears inside an unquoted field: quote the \
                                    whole field and double the quotes inside it"
                            .to_string())
                    }
                    Some(c) => field.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPARTEMENTS: &str = "code,nom,region,population\n\
                                28,Eure-et-Loir,24,39000\n\
                                2A,Corse-du-Sud,94,76320\n";
    const EPCIS: &str = "code,nom,population\n\
                         200033181,Chartres Métropole,38324\n\
                         242010056,\"CA du Pays Ajaccien, \"\"CAPA\"\"\",76320\n";
    const COMMUNES: &str = "code_insee,nom,departement,epci,population\n\
                            28085,Chartres,28,200033181,38324\n\
                            28404,Yermenonville,28,,676\n\
                            2A004,Ajaccio,2A,242010056,76320\n";

    fn code(text: &str) -> InseeCode {
        InseeCode::parse(text).unwrap()
    }

    fn embedded_commune(text: &str) -> &'static Commune {
        Territories::embedded().commune(&code(text)).unwrap()
    }

    /// Returns the file, line and value of an `InvalidLine` error, and
    /// fails the test for any other result.
    fn invalid_line(
        result: Result<Territories, TerritoryError>,
    ) -> (&'static str, usize, String, String) {
        match result {
            Err(TerritoryError::InvalidLine {
                file,
                line,
                value,
                reason,
            }) => (file, line, value, reason),
            Err(other) => panic!("expected an invalid line error, got {other}"),
            Ok(_) => panic!("expected an invalid line error, got parsed territories"),
        }
    }

    #[test]
    fn embedded_lists_all_current_communes() {
        let territories = Territories::embedded();
        assert!(territories.communes().count() > 34_000);
        assert_eq!(territories.departements().count(), 109);
        assert!(territories.epcis().count() > 1_200);
    }

    #[test]
    fn embedded_chartres_in_eure_et_loir() {
        let chartres = embedded_commune("28085");
        assert_eq!(chartres.name, "Chartres");
        assert_eq!(chartres.departement, "28");
        assert!(chartres.population.unwrap() > 30_000);

        let epci_code = chartres.epci.as_deref().unwrap();
        let epci = Territories::embedded().epci(epci_code).unwrap();
        assert_eq!(epci.name, "CA Chartres Métropole");
        assert!(epci.population > chartres.population.unwrap());
    }

    #[test]
    fn embedded_eure_et_loir_population() {
        let territories = Territories::embedded();
        let eure_et_loir = territories.departement("28").unwrap();
        assert_eq!(eure_et_loir.name, "Eure-et-Loir");
        assert_eq!(eure_et_loir.region, "24");
        assert!((400_000..=500_000).contains(&eure_et_loir.population));
        assert_eq!(
            territories.departement_population("28").unwrap(),
            eure_et_loir.population
        );
    }

    #[test]
    fn embedded_corsica_ajaccio() {
        let ajaccio = embedded_commune("2A004");
        assert_eq!(ajaccio.name, "Ajaccio");
        assert_eq!(ajaccio.departement, "2A");
        assert_eq!(embedded_commune("2a004"), ajaccio);
        assert_eq!(
            Territories::embedded().departement("2A").unwrap().name,
            "Corse-du-Sud"
        );
    }

    #[test]
    fn embedded_overseas_saint_denis() {
        let saint_denis = embedded_commune("97411");
        assert_eq!(saint_denis.name, "Saint-Denis");
        assert_eq!(saint_denis.departement, "974");
        assert!(saint_denis.population.unwrap() > 100_000);
        assert_eq!(
            Territories::embedded().departement("974").unwrap().name,
            "La Réunion"
        );
    }

    #[test]
    fn embedded_commune_without_population() {
        let kerguelen = embedded_commune("98412");
        assert_eq!(kerguelen.population, None);
        assert_eq!(kerguelen.epci, None);
        assert_eq!(
            Territories::embedded()
                .departement_population("984")
                .unwrap(),
            0
        );
    }

    #[test]
    fn embedded_totals_agree() {
        let territories = Territories::embedded();
        let from_communes: u64 = territories
            .communes()
            .map(|commune| commune.population.unwrap_or(0))
            .sum();
        let from_departements: u64 = territories
            .departements()
            .map(|departement| departement.population)
            .sum();
        assert_eq!(territories.national_population(), from_communes);
        assert_eq!(territories.national_population(), from_departements);
        assert!((60_000_000..=75_000_000).contains(&territories.national_population()));

        let chartres_metropole: u64 = territories
            .communes()
            .filter(|commune| commune.epci.as_deref() == Some("200033181"))
            .map(|commune| commune.population.unwrap_or(0))
            .sum();
        assert_eq!(
            territories.epci_population("200033181").unwrap(),
            chartres_metropole
        );
    }

    #[test]
    fn postal_code_is_not_commune() {
        // 28000 is Chartres's postal code. It is a well-formed INSEE code, but
        // no record of the source package has it, whatever its type.
        let postal_code = code("28000");
        let territories = Territories::embedded();
        assert!(territories
            .communes()
            .all(|commune| commune.code != postal_code));

        let error = territories.commune(&postal_code).unwrap_err();
        assert_eq!(
            error,
            TerritoryError::UnknownCommune {
                code: postal_code.clone()
            }
        );
        let message = error.to_string();
        assert!(message.starts_with("28000 is not the INSEE code of a current commune"));
        assert!(message.contains("not its postal code"));
        assert!(message.contains("28085"));
    }

    #[test]
    fn arrondissement_code_points_to_city() {
        let territories = Territories::embedded();
        for (arrondissement, city) in [("75112", "75056"), ("69383", "69123"), ("13201", "13055")] {
            let message = territories
                .commune(&code(arrondissement))
                .unwrap_err()
                .to_string();
            assert!(message.contains("municipal arrondissement"), "{message}");
            assert!(message.contains(&format!("use {city}")), "{message}");
            assert!(territories.commune(&code(city)).is_ok());
        }
    }

    #[test]
    fn unknown_departement_and_epci() {
        let territories = Territories::embedded();
        assert_eq!(
            territories.departement("20").unwrap_err(),
            TerritoryError::UnknownDepartement {
                code: "20".to_string()
            }
        );
        assert_eq!(
            territories.epci("123456789").unwrap_err(),
            TerritoryError::UnknownEpci {
                code: "123456789".to_string()
            }
        );
        assert!(territories.epci_population("123456789").is_err());
    }

    #[test]
    fn insee_code_accepts_valid_forms() {
        for (input, canonical, departement) in [
            ("28085", "28085", "28"),
            ("01001", "01001", "01"),
            ("95690", "95690", "95"),
            ("2A004", "2A004", "2A"),
            (" 2b033 ", "2B033", "2B"),
            ("97411", "97411", "974"),
            ("97801", "97801", "978"),
            ("98412", "98412", "984"),
            ("98901", "98901", "989"),
        ] {
            let parsed = InseeCode::parse(input).unwrap();
            assert_eq!(parsed.as_str(), canonical);
            assert_eq!(parsed.departement(), departement);
        }
    }

    #[test]
    fn insee_code_rejects_invalid_forms() {
        for (input, reason_part) in [
            ("", "has 0"),
            ("2808", "has 4"),
            ("280850", "has 6"),
            ("28O85", "must be digits"),
            ("28-85", "'-' is not allowed"),
            ("2É004", "'É' is not allowed"),
            ("20004", "in place of 20"),
            ("2C004", "no département"),
            ("00001", "no département"),
            ("96001", "no département"),
            ("99135", "foreign countries"),
            ("97901", "no département"),
            ("98501", "no département"),
            ("2A0B4", "must be digits"),
        ] {
            let error = InseeCode::parse(input).unwrap_err();
            let TerritoryError::InvalidCode {
                input: rejected,
                reason,
            } = &error
            else {
                panic!("expected an invalid code error for '{input}', got {error}");
            };
            assert_eq!(rejected, input.trim());
            assert!(reason.contains(reason_part), "'{input}': {reason}");
        }
    }

    #[test]
    fn insee_code_serde_round_trip() {
        let ajaccio = code("2A004");
        let json = serde_json::to_string(&ajaccio).unwrap();
        assert_eq!(json, "\"2A004\"");
        assert_eq!(serde_json::from_str::<InseeCode>(&json).unwrap(), ajaccio);
        assert!(serde_json::from_str::<InseeCode>("\"20004\"").is_err());
    }

    #[test]
    fn parse_small_files() {
        let territories = Territories::parse(COMMUNES, EPCIS, DEPARTEMENTS).unwrap();
        assert_eq!(territories.communes().count(), 3);
        assert_eq!(territories.national_population(), 38_324 + 676 + 76_320);
        assert_eq!(
            territories.epci("242010056").unwrap().name,
            "CA du Pays Ajaccien, \"CAPA\""
        );
        assert_eq!(territories.commune(&code("28404")).unwrap().epci, None);
        assert_eq!(territories.departement_population("28").unwrap(), 39_000);
    }

    #[test]
    fn parse_accepts_crlf_and_missing_final_newline() {
        let communes = COMMUNES.replace('\n', "\r\n");
        let epcis = EPCIS.trim_end();
        let territories = Territories::parse(&communes, epcis, DEPARTEMENTS).unwrap();
        assert_eq!(territories.communes().count(), 3);
        assert_eq!(territories.epcis().count(), 2);
    }

    #[test]
    fn malformed_header_names_line_one() {
        let communes = COMMUNES.replacen("code_insee", "code", 1);
        let (file, line, value, reason) =
            invalid_line(Territories::parse(&communes, EPCIS, DEPARTEMENTS));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 1);
        assert_eq!(value, "code,nom,departement,epci,population");
        assert!(reason.contains("code_insee,nom,departement,epci,population"));

        let (file, line, value, _) = invalid_line(Territories::parse("", EPCIS, DEPARTEMENTS));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 1);
        assert_eq!(value, "");
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let cases: [(&str, &str, &str, &str, usize, &str, &str); 9] = [
            (
                "missing field",
                "28085,Chartres,28,200033181",
                COMMUNES_FILE,
                COMMUNES,
                3,
                "28085,Chartres,28,200033181",
                "expected 5 fields",
            ),
            (
                "unclosed quote",
                "28085,\"Chartres,28,200033181,38324",
                COMMUNES_FILE,
                COMMUNES,
                3,
                "28085,\"Chartres,28,200033181,38324",
                "not closed",
            ),
            (
                "stray quote",
                "28085,Char\"tres,28,200033181,38324",
                COMMUNES_FILE,
                COMMUNES,
                3,
                "28085,Char\"tres,28,200033181,38324",
                "inside an unquoted field",
            ),
            (
                "postal code of Corsica",
                "20000,Ajaccio,2A,242010056,76320",
                COMMUNES_FILE,
                COMMUNES,
                3,
                "20000",
                "in place of 20",
            ),
            (
                "population with letter",
                "28085,Chartres,28,200033181,38 324",
                COMMUNES_FILE,
                COMMUNES,
                3,
                "38 324",
                "non-negative integer",
            ),
            (
                "département unlike code",
                "28085,Chartres,27,200033181,38324",
                COMMUNES_FILE,
                COMMUNES,
                3,
                "27",
                "starts with département code 28",
            ),
            (
                "short SIREN",
                "20003318,Chartres Métropole,38324",
                EPCI_FILE,
                EPCIS,
                2,
                "20003318",
                "9 digits",
            ),
            (
                "empty name",
                "28,,24,39000",
                DEPARTEMENTS_FILE,
                DEPARTEMENTS,
                2,
                "",
                "name is empty",
            ),
            (
                "negative population",
                "28,Eure-et-Loir,24,-39000",
                DEPARTEMENTS_FILE,
                DEPARTEMENTS,
                2,
                "-39000",
                "non-negative integer",
            ),
        ];
        for (case, bad_line, bad_file, original, line_number, bad_value, reason_part) in cases {
            // Replace the given line of the original text with the bad line.
            let mut lines: Vec<&str> = original.lines().collect();
            lines[line_number - 1] = bad_line;
            let text = lines.join("\n") + "\n";
            let result = match bad_file {
                COMMUNES_FILE => Territories::parse(&text, EPCIS, DEPARTEMENTS),
                EPCI_FILE => Territories::parse(COMMUNES, &text, DEPARTEMENTS),
                _ => Territories::parse(COMMUNES, EPCIS, &text),
            };
            let (file, line, value, reason) = invalid_line(result);
            assert_eq!(file, bad_file, "{case}");
            assert_eq!(line, line_number, "{case}");
            assert_eq!(value, bad_value, "{case}");
            assert!(reason.contains(reason_part), "{case}: {reason}");
        }
    }

    #[test]
    fn empty_line_is_rejected() {
        let communes = COMMUNES.replacen("28404", "\n28404", 1);
        let (file, line, value, reason) =
            invalid_line(Territories::parse(&communes, EPCIS, DEPARTEMENTS));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 3);
        assert_eq!(value, "");
        assert!(reason.contains("empty"));
    }

    #[test]
    fn duplicate_code_names_first_line() {
        let communes = format!("{COMMUNES}28085,Chartres,28,200033181,38324\n");
        let (file, line, value, reason) =
            invalid_line(Territories::parse(&communes, EPCIS, DEPARTEMENTS));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 5);
        assert_eq!(value, "28085");
        assert!(reason.contains("first listed on line 2"), "{reason}");
    }

    #[test]
    fn unknown_references_are_rejected() {
        let communes = COMMUNES.replacen(
            "28404,Yermenonville,28,,676",
            "28404,Yermenonville,28,200000000,676",
            1,
        );
        let (file, line, value, reason) =
            invalid_line(Territories::parse(&communes, EPCIS, DEPARTEMENTS));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 3);
        assert_eq!(value, "200000000");
        assert!(reason.contains("not in epci.csv"), "{reason}");

        let departements = DEPARTEMENTS.replacen("2A,Corse-du-Sud,94,76320\n", "", 1);
        let (file, line, value, reason) =
            invalid_line(Territories::parse(COMMUNES, EPCIS, &departements));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 4);
        assert_eq!(value, "2A");
        assert!(reason.contains("not in departements.csv"), "{reason}");
    }

    #[test]
    fn stated_population_must_match_sum() {
        let departements = DEPARTEMENTS.replacen("39000", "39001", 1);
        let (file, line, value, reason) =
            invalid_line(Territories::parse(COMMUNES, EPCIS, &departements));
        assert_eq!(file, DEPARTEMENTS_FILE);
        assert_eq!(line, 2);
        assert_eq!(value, "39001");
        assert!(reason.contains("which is 39000"), "{reason}");

        let epcis = EPCIS.replacen("Métropole,38324", "Métropole,38000", 1);
        let (file, line, value, reason) =
            invalid_line(Territories::parse(COMMUNES, &epcis, DEPARTEMENTS));
        assert_eq!(file, EPCI_FILE);
        assert_eq!(line, 2);
        assert_eq!(value, "38000");
        assert!(reason.contains("which is 38324"), "{reason}");
    }

    #[test]
    fn territory_without_communes_is_rejected() {
        let epcis = format!("{EPCIS}200000172,CC Faucigny - Glières,0\n");
        let (file, line, value, reason) =
            invalid_line(Territories::parse(COMMUNES, &epcis, DEPARTEMENTS));
        assert_eq!(file, EPCI_FILE);
        assert_eq!(line, 4);
        assert_eq!(value, "200000172");
        assert!(reason.contains("has no commune"), "{reason}");
    }

    #[test]
    fn population_overflow_is_rejected() {
        let communes = COMMUNES
            .replacen(",38324", ",18446744073709551615", 1)
            .replacen(",676", ",1", 1);
        let (file, line, _, reason) =
            invalid_line(Territories::parse(&communes, EPCIS, DEPARTEMENTS));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 3);
        assert!(reason.contains("overflows"), "{reason}");

        let communes = COMMUNES.replacen(",38324", ",18446744073709551616", 1);
        let (_, line, value, reason) =
            invalid_line(Territories::parse(&communes, EPCIS, DEPARTEMENTS));
        assert_eq!(line, 2);
        assert_eq!(value, "18446744073709551616");
        assert!(reason.contains("overflows"), "{reason}");
    }

    #[test]
    fn national_population_overflow_is_rejected() {
        // Each département and EPCI total fits in a u64, but their sum does not.
        let max = u64::MAX;
        let communes = COMMUNES
            .replacen(",38324", &format!(",{max}"), 1)
            .replacen(",676", ",0", 1)
            .replacen(",76320", ",1", 1);
        let epcis = EPCIS
            .replacen(",38324", &format!(",{max}"), 1)
            .replacen(",76320", ",1", 1);
        let departements = DEPARTEMENTS
            .replacen(",39000", &format!(",{max}"), 1)
            .replacen(",76320", ",1", 1);
        let (file, line, value, reason) =
            invalid_line(Territories::parse(&communes, &epcis, &departements));
        assert_eq!(file, COMMUNES_FILE);
        assert_eq!(line, 4);
        assert_eq!(value, "1");
        assert!(
            reason.contains("national population total overflows"),
            "{reason}"
        );
    }
}
