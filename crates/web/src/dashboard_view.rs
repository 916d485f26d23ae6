//! The funders' dashboard shared by its page, its CSV download and its JSON
//! API: the query-string filters, the figures read from the dashboard
//! projection, the target and its share, and the log position and hash the
//! figures were built up to.
//!
//! Filters: `du` and `au` are months (`AAAA-MM`), `atelier` an
//! organisation id or name, and `categorie` a device category. `territoire`
//! is the household's département, EPCI SIREN or INSEE commune code, or
//! `FR` for the whole country. `periode` (`mois`, `trimestre` or `annee`)
//! groups the handovers chart by period.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use filiere_domain::territory::Territories;
use filiere_domain::types::Category;
use filiere_projections::audit::impact::{ADEME_SOURCE, FACTORS};
use filiere_projections::audit::target::{
    find_territory, progress_basis_points, TargetError, Territory, TerritoryKind,
    DEFAULT_NATIONAL_TARGET,
};
use filiere_projections::audit::{
    load_target, resolve_target, AuditTarget, ShareMethod, TargetUnit,
};
use filiere_projections::dashboard::{
    read_dashboard, Breakdown, DashboardFigures, DashboardFilter, TerritoryScope,
};
use serde::Serialize;

use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::server::AppState;

/// Grouping of the handovers chart and table by period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Month,
    Quarter,
    Year,
}

impl PeriodUnit {
    pub fn parameter(&self) -> &'static str {
        match self {
            PeriodUnit::Month => "mois",
            PeriodUnit::Quarter => "trimestre",
            PeriodUnit::Year => "annee",
        }
    }

    pub fn label_fr(&self) -> &'static str {
        match self {
            PeriodUnit::Month => "mois",
            PeriodUnit::Quarter => "trimestre",
            PeriodUnit::Year => "année",
        }
    }
}

/// The validated filters of one request, with the values to show back in
/// the form.
#[derive(Clone, Debug)]
pub struct DashboardQuery {
    pub filter: DashboardFilter,
    pub period: PeriodUnit,
    /// Territory of the figures and of the share; `None` for the whole
    /// country.
    pub territory: Option<Territory>,
    /// Whether the territory comes from the configured target rather than
    /// from the query.
    pub territory_from_target: bool,
    /// Query string of the filters, to repeat in the CSV and API links.
    pub query_string: String,
}

/// Share the progress is measured against, and the method that set it.
#[derive(Clone, Debug, Serialize)]
pub struct TargetView {
    pub national_target: u64,
    pub unit: TargetUnit,
    /// `population`, `manual`, or `national` for the whole country.
    pub share_method: &'static str,
    /// French description of the share method.
    pub share_method_fr: String,
    pub territory_code: String,
    pub territory_name: String,
    pub share: u64,
    /// Whether this is the target set with `filiere audit target set` for
    /// this territory. Otherwise the share is derived from the configured
    /// national target and unit, or from the default (2,000,000 devices).
    pub configured: bool,
}

/// Progress toward the share in the target's unit.
#[derive(Clone, Debug, Serialize)]
pub struct ProgressView {
    pub figure: u64,
    pub share: u64,
    /// Hundredths of a percent: 1234 is 12.34 %.
    pub basis_points: u64,
}

/// Everything the dashboard shows for one query.
#[derive(Clone, Debug)]
pub struct DashboardView {
    pub query: DashboardQuery,
    pub figures: DashboardFigures,
    /// `None` when the share cannot be computed (territory without
    /// population), with the reason in `target_error`.
    pub target: Option<TargetView>,
    pub target_error: Option<String>,
    pub progress: Option<ProgressView>,
    /// Log position the projection was built up to, 0 for an empty log.
    pub log_position: i64,
    /// Hash of the event at `log_position`, empty for an empty log.
    pub log_hash: String,
    /// Day overdue loans and stock ages are computed for (today, UTC).
    pub reference_date: NaiveDate,
    /// Organisation names by id, for the workshop breakdown.
    pub organisation_names: BTreeMap<String, String>,
}

impl DashboardView {
    /// Returns the name of an organisation id, or the id itself when unknown.
    pub fn organisation_name(&self, id: &str) -> String {
        self.organisation_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
}

fn invalid(name: &str, message: String) -> AppError {
    AppError::bad_request("invalid_parameter", message)
        .with_detail(format!("invalid dashboard query parameter {name}"))
}

/// Parses `AAAA-MM`.
fn parse_month(name: &str, raw: &str) -> Result<String, AppError> {
    let valid =
        raw.len() == 7 && NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").is_ok();
    if !valid {
        return Err(invalid(
            name,
            format!(
                "Mois « {raw} » invalide pour « {name} » : donnez un mois au format AAAA-MM, \
                 par exemple 2025-03."
            ),
        ));
    }
    Ok(raw.to_string())
}

fn parse_period(raw: Option<&str>) -> Result<PeriodUnit, AppError> {
    match raw.map(|r| r.to_lowercase()) {
        None => Ok(PeriodUnit::Month),
        Some(value) => match value.as_str() {
            "mois" | "month" => Ok(PeriodUnit::Month),
            "trimestre" | "quarter" => Ok(PeriodUnit::Quarter),
            "annee" | "année" | "year" => Ok(PeriodUnit::Year),
            _ => Err(invalid(
                "periode",
                format!("Période « {value} » inconnue : choisissez mois, trimestre ou annee."),
            )),
        },
    }
}

fn parse_category(raw: &str) -> Result<Category, AppError> {
    raw.parse::<Category>().map_err(|_| {
        let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        invalid(
            "categorie",
            format!(
                "Catégorie « {raw} » inconnue : choisissez parmi {}.",
                known.join(", ")
            ),
        )
    })
}

/// Returns the French message for a territory code that is not found.
fn territory_error(raw: &str, error: &TargetError) -> AppError {
    let what = match error {
        TargetError::InvalidTerritoryCode(_) => "invalide",
        _ => "inconnu",
    };
    invalid(
        "territoire",
        format!(
            "Territoire « {raw} » {what} : donnez un code de département (28, 2A, 974), le code \
             INSEE d'une commune (28085), le SIREN à 9 chiffres d'une EPCI, ou FR pour toute la \
             France."
        ),
    )
}

/// Returns whether `raw` names the whole country.
fn is_national(raw: &str) -> bool {
    matches!(raw.to_lowercase().as_str(), "fr" | "france")
}

/// Returns the communes or département the figures are limited to.
pub fn territory_scope(territories: &Territories, territory: &Territory) -> TerritoryScope {
    match territory.kind {
        TerritoryKind::Departement => TerritoryScope::Departement(territory.code.clone()),
        TerritoryKind::Commune => TerritoryScope::Communes(vec![territory.code.clone()]),
        TerritoryKind::Epci => TerritoryScope::Communes(
            territories
                .communes()
                .filter(|c| c.epci.as_deref() == Some(territory.code.as_str()))
                .map(|c| c.code.as_str().to_string())
                .collect(),
        ),
    }
}

/// Checks the query string and builds the filter. Without `territoire`, the
/// territory of the configured target is used, if any.
pub async fn parse_query(state: &AppState, query: &QueryMap) -> Result<DashboardQuery, AppError> {
    let store = state.workshop.store();
    let mut filter = DashboardFilter::default();
    if let Some(raw) = query.get("du") {
        filter.from_month = Some(parse_month("du", raw)?);
    }
    if let Some(raw) = query.get("au") {
        filter.to_month = Some(parse_month("au", raw)?);
    }
    if let (Some(from), Some(to)) = (&filter.from_month, &filter.to_month) {
        if from > to {
            return Err(invalid(
                "du",
                format!(
                    "Période inversée : le mois de début « {from} » est après le mois de fin \
                     « {to} ». Échangez les deux mois."
                ),
            ));
        }
    }
    if let Some(raw) = query.get("atelier") {
        let organisation = store.organisation(raw).await.map_err(|_| {
            invalid(
                "atelier",
                format!("Atelier « {raw} » inconnu : choisissez un atelier de la liste."),
            )
        })?;
        filter.workshop = Some(organisation.id);
    }

    if let Some(raw) = query.get("categorie") {
        filter.category = Some(parse_category(raw)?);
    }
    let period = parse_period(query.get("periode"))?;

    let territories = Territories::embedded();
    let mut territory_from_target = false;
    let territory = match query.get("territoire") {
        Some(raw) if is_national(raw) => None,
        Some(raw) => Some(find_territory(territories, raw).map_err(|e| territory_error(raw, &e))?),
        None => {
            let target = load_target(store).await.map_err(AppError::internal)?;
            let found = target.and_then(|t| find_territory(territories, &t.territory_code).ok());
            territory_from_target = found.is_some();
            found
        }
    };
    if let Some(territory) = &territory {
        filter.territory = territory_scope(territories, territory);
    }

    let query_string = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            ["du", "au", "atelier", "categorie", "territoire", "periode"]
                .iter()
                .filter_map(|name| query.get(name).map(|value| (*name, value))),
        )
        .finish();
    Ok(DashboardQuery {
        filter,
        period,
        territory,
        territory_from_target,
        query_string,
    })
}

/// Reads the figures for `query` and computes the progress toward the
/// share of the chosen territory.
pub async fn load_view(state: &AppState, query: DashboardQuery) -> Result<DashboardView, AppError> {
    let store = state.workshop.store();
    let reference_date = Utc::now().date_naive();
    let snapshot = read_dashboard(store.pool(), &query.filter, reference_date).await?;
    let log_hash = if snapshot.position > 0 {
        let events = store.read_all(snapshot.position - 1, 1).await?;
        events.first().map(|e| e.hash.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    let configured = load_target(store).await.map_err(AppError::internal)?;
    let (target, target_error) = match target_for(configured, query.territory.as_ref()) {
        Ok(target) => (Some(target), None),
        Err(message) => (None, Some(message)),
    };
    let progress = target.as_ref().map(|t| {
        let figure = match t.unit {
            TargetUnit::Devices => snapshot.figures.devices_handed_over,
            TargetUnit::Computers => snapshot.figures.computers_handed_over,
            TargetUnit::Households => snapshot.figures.households_equipped,
        };
        ProgressView {
            figure,
            share: t.share,
            basis_points: progress_basis_points(figure, t.share),
        }
    });
    let organisation_names = store
        .organisations()
        .await
        .map_err(AppError::internal)?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(DashboardView {
        query,
        figures: snapshot.figures,
        target,
        target_error,
        progress,
        log_position: snapshot.position,
        log_hash,
        reference_date,
        organisation_names,
    })
}

/// Resolves the share of `territory` (the country when `None`): the
/// configured target's own share for its territory, otherwise the same
/// national target and unit pro rata of population.
fn target_for(
    configured: Option<AuditTarget>,
    territory: Option<&Territory>,
) -> Result<TargetView, String> {
    let is_configured = configured.is_some();
    let base = configured.unwrap_or(AuditTarget {
        national_target: DEFAULT_NATIONAL_TARGET,
        unit: TargetUnit::Devices,
        territory_code: String::new(),
        share_method: ShareMethod::Population,
        workshops: Vec::new(),
    });
    let Some(territory) = territory else {
        return Ok(TargetView {
            national_target: base.national_target,
            unit: base.unit,
            share_method: "national",
            share_method_fr: "objectif national entier".to_string(),
            territory_code: "FR".to_string(),
            territory_name: "France entière".to_string(),
            share: base.national_target,
            configured: is_configured,
        });
    };
    let same_territory = base.territory_code == territory.code;
    let target = AuditTarget {
        territory_code: territory.code.clone(),
        share_method: if same_territory {
            base.share_method
        } else {
            ShareMethod::Population
        },
        ..base
    };
    let resolved = resolve_target(Territories::embedded(), target).map_err(|error| {
        format!(
            "La part de {} ({}) ne peut pas être calculée : {error}",
            territory.name, territory.code
        )
    })?;
    let (method, method_fr) = match resolved.target.share_method {
        ShareMethod::Population => (
            "population",
            format!(
                "au prorata de la population municipale ({} habitants sur {})",
                resolved
                    .territory
                    .population
                    .map(crate::svg::format_count)
                    .unwrap_or_default(),
                crate::svg::format_count(resolved.national_population)
            ),
        ),
        ShareMethod::Manual(_) => ("manual", "part fixée à la main".to_string()),
    };
    Ok(TargetView {
        national_target: resolved.target.national_target,
        unit: resolved.target.unit,
        share_method: method,
        share_method_fr: method_fr,
        territory_code: resolved.territory.code.clone(),
        territory_name: resolved.territory.name.clone(),
        share: resolved.share,
        configured: is_configured && same_territory,
    })
}

/// French label of a target unit, for the page and the CSV.
pub fn unit_label(unit: TargetUnit) -> &'static str {
    match unit {
        TargetUnit::Devices => "équipements remis (appareils distincts remis au moins une fois)",
        TargetUnit::Computers => "ordinateurs remis (portables et fixes distincts)",
        TargetUnit::Households => "foyers équipés (foyers distincts ayant reçu un appareil)",
    }
}

/// Handover counts grouped by the chosen period.
pub fn handovers_by_period(view: &DashboardView) -> &Breakdown {
    let by = &view.figures.handovers_by;
    match view.query.period {
        PeriodUnit::Month => &by.month,
        PeriodUnit::Quarter => &by.quarter,
        PeriodUnit::Year => &by.year,
    }
}

/// French label of an eligibility category value; "Sans prescription" for
/// the empty value.
pub fn eligibility_label(value: &str) -> String {
    if value.is_empty() {
        return "Sans prescription".to_string();
    }
    value
        .parse::<filiere_domain::prescription::EligibilityCategory>()
        .map_or_else(|_| value.to_string(), |c| c.label_fr().to_string())
}

/// French label of a QPV/ZRR value.
pub fn area_label(value: &str) -> String {
    match value {
        "qpv" => "QPV (quartier prioritaire)",
        "zrr" => "ZRR (zone de revitalisation rurale)",
        "qpv_zrr" => "QPV et ZRR",
        "neither" => "Ni QPV ni ZRR",
        "" => "Sans prescription",
        other => other,
    }
    .to_string()
}

/// French label of a programme value.
pub fn programme_label(value: &str) -> String {
    if value.is_empty() {
        "Sans programme".to_string()
    } else {
        value.to_string()
    }
}

/// Formats grams as kilograms with one decimal, French style.
pub fn kilograms(grams: u64) -> String {
    let tenths = (grams + 50) / 100;
    format!("{},{}", crate::svg::format_count(tenths / 10), tenths % 10)
}

/// Formats a day count with one decimal, or a dash when absent.
pub fn days(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |d| format!("{d:.1}").replace('.', ","))
}

/// Returns the ADEME factors as French sentences, for the page.
pub fn impact_factors_fr() -> Vec<String> {
    FACTORS
        .iter()
        .map(|factor| {
            format!(
                "{} : {} kg CO2e et {} kg de matières premières évités par année d'utilisation",
                factor.category.label_fr(),
                kilograms(factor.co2e_grams),
                kilograms(factor.raw_materials_grams)
            )
        })
        .collect()
}

/// Source of the ADEME factors.
pub fn impact_source() -> &'static str {
    ADEME_SOURCE
}
