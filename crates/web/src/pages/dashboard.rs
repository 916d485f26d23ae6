//! The funders' dashboard, `/tableau-de-bord`, and its CSV download,
//! `/tableau-de-bord/chiffres.csv`. Both read the dashboard projection,
//! never the event log, and show aggregate figures only: no household
//! appears, only counts by commune, area and eligibility category.

use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike;
use filiere_domain::types::Category;
use filiere_projections::dashboard::Breakdown;

use super::{category_label, render, Layout};
use crate::auth::{gate, Allowed};
use crate::dashboard_csv::dashboard_csv;
use crate::dashboard_view::{
    area_label, days, eligibility_label, handovers_by_period, impact_factors_fr, impact_source,
    kilograms, load_view, parse_query, programme_label, unit_label, DashboardView, PeriodUnit,
};
use crate::errors::AppError;
use crate::extract::QueryMap;
use crate::server::AppState;
use crate::svg::{columns, format_count, gauge, horizontal_bars, Bar};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tableau-de-bord", get(dashboard))
        .route("/tableau-de-bord/chiffres.csv", get(figures_csv))
}

/// One option of a filter's list.
struct FilterOption {
    value: String,
    label: String,
    selected: bool,
}

/// One line of a figures table.
struct FigureRow {
    label: String,
    value: String,
}

/// A chart with the table of the same numbers.
struct ChartTable {
    id: &'static str,
    title: String,
    /// First column heading of the table.
    dimension: &'static str,
    svg: String,
    rows: Vec<FigureRow>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    from_month: String,
    to_month: String,
    territory: String,
    workshops: Vec<FilterOption>,
    categories: Vec<FilterOption>,
    periods: Vec<FilterOption>,
    scope: String,
    target_lines: Vec<FigureRow>,
    target_error: String,
    gauge: String,
    progress_text: String,
    log_position: i64,
    log_hash: String,
    reference_date: String,
    totals: Vec<FigureRow>,
    charts: Vec<ChartTable>,
    durations: Vec<FigureRow>,
    impact: Vec<FigureRow>,
    impact_factors: Vec<String>,
    impact_source: &'static str,
    csv_link: String,
    api_link: String,
    report_link: String,
}

async fn dashboard(
    State(state): State<AppState>,
    Allowed { caller, .. }: Allowed<gate::ViewAggregates>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let parsed = parse_query(&state, &query).await?;
    let view = load_view(&state, parsed).await?;
    let workshops = workshop_options(&state, &view).await?;
    let page = page(caller.layout(), &view, workshops);
    render(StatusCode::OK, &page)
}

async fn figures_csv(
    State(state): State<AppState>,
    Allowed { .. }: Allowed<gate::ViewAggregates>,
    query: QueryMap,
) -> Result<Response, AppError> {
    let parsed = parse_query(&state, &query).await?;
    let view = load_view(&state, parsed).await?;
    let body = dashboard_csv(&view).map_err(AppError::internal)?;
    let file_name = format!(
        "chiffres-tableau-de-bord-position-{}.csv",
        view.log_position
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Lists the workshops of the filter: every organisation of kind workshop.
async fn workshop_options(
    state: &AppState,
    view: &DashboardView,
) -> Result<Vec<FilterOption>, AppError> {
    let organisations = state
        .workshop
        .store()
        .organisations()
        .await
        .map_err(AppError::internal)?;
    let selected = view.query.filter.workshop.as_deref();
    Ok(organisations
        .into_iter()
        .filter(|o| o.kind == filiere_domain::access::OrganisationKind::Workshop)
        .map(|o| FilterOption {
            selected: selected == Some(o.id.as_str()),
            value: o.id,
            label: o.name,
        })
        .collect())
}

fn row(label: impl Into<String>, value: impl Into<String>) -> FigureRow {
    FigureRow {
        label: label.into(),
        value: value.into(),
    }
}

fn count_row(label: impl Into<String>, value: u64) -> FigureRow {
    row(label, format_count(value))
}

fn page(layout: Layout, view: &DashboardView, workshops: Vec<FilterOption>) -> DashboardPage {
    let filter = &view.query.filter;
    let categories = Category::ALL
        .iter()
        .map(|c| FilterOption {
            value: c.as_str().to_string(),
            label: c.label_fr().to_string(),
            selected: filter.category == Some(*c),
        })
        .collect();
    let periods = [PeriodUnit::Month, PeriodUnit::Quarter, PeriodUnit::Year]
        .iter()
        .map(|p| FilterOption {
            value: p.parameter().to_string(),
            label: format!("Par {}", p.label_fr()),
            selected: view.query.period == *p,
        })
        .collect();
    let territory = view
        .query
        .territory
        .as_ref()
        .map(|t| t.code.clone())
        .unwrap_or_default();
    let (target_lines, gauge_svg, progress_text) = progress(view);
    let query = &view.query.query_string;
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let today = view.reference_date;
    let quarter = (today.month() - 1) / 3 + 1;
    DashboardPage {
        layout,
        from_month: filter.from_month.clone().unwrap_or_default(),
        to_month: filter.to_month.clone().unwrap_or_default(),
        territory,
        workshops,
        categories,
        periods,
        scope: scope_text(view),
        target_lines,
        target_error: view.target_error.clone().unwrap_or_default(),
        gauge: gauge_svg,
        progress_text,
        log_position: view.log_position,
        log_hash: view.log_hash.clone(),
        reference_date: today.format("%d/%m/%Y").to_string(),
        totals: totals(view),
        charts: charts(view),
        durations: durations(view),
        impact: impact_rows(view),
        impact_factors: impact_factors_fr(),
        impact_source: impact_source(),
        csv_link: format!("/tableau-de-bord/chiffres.csv{suffix}"),
        api_link: format!("/api/v1/dashboard{suffix}"),
        report_link: format!(
            "/tableau-de-bord/rapport-trimestriel.pdf?trimestre={}-Q{quarter}",
            today.year()
        ),
    }
}

/// States what the territory filter applies to.
fn scope_text(view: &DashboardView) -> String {
    let territory = match &view.query.territory {
        Some(t) if view.query.territory_from_target => {
            format!("{} ({}), territoire de la cible configurée", t.name, t.code)
        }
        Some(t) => format!("{} ({})", t.name, t.code),
        None => "France entière".to_string(),
    };
    format!(
        "Territoire : {territory}. Le territoire est celui de la commune du foyer, connue par sa \
         prescription : il limite les remises, les foyers, les prêts et les formations. Les dons, \
         le stock et le recyclage ne sont rattachés à aucun foyer : ils sont filtrés par atelier, \
         catégorie et période seulement. Une remise sans prescription n'a pas de commune : elle \
         ne compte que sans filtre de territoire."
    )
}

/// Lines describing the target, the gauge and the progress sentence.
fn progress(view: &DashboardView) -> (Vec<FigureRow>, String, String) {
    let (Some(target), Some(progress)) = (&view.target, &view.progress) else {
        return (Vec::new(), String::new(), String::new());
    };
    let percent = format!(
        "{},{:02} %",
        progress.basis_points / 100,
        progress.basis_points % 100
    );
    let origin = if target.configured {
        "cible configurée (filiere audit target set)"
    } else {
        "cible par défaut ou déduite de la cible configurée"
    };
    let lines = vec![
        row(
            "Objectif national",
            format!(
                "{} {}",
                format_count(target.national_target),
                unit_label(target.unit)
            ),
        ),
        row(
            "Territoire",
            format!("{} ({})", target.territory_name, target.territory_code),
        ),
        row("Méthode de la part", target.share_method_fr.clone()),
        row("Part du territoire", format_count(target.share)),
        row("Unité comptée", unit_label(target.unit)),
        row("Origine", origin),
    ];
    let text = format!(
        "{} {} sur une part de {}, soit {percent}.",
        format_count(progress.figure),
        unit_label(target.unit),
        format_count(progress.share)
    );
    let svg = gauge(
        "jauge",
        "Progression vers la part du territoire",
        &text,
        progress.figure,
        progress.share,
    );
    (lines, svg, text)
}

fn totals(view: &DashboardView) -> Vec<FigureRow> {
    let f = &view.figures;
    vec![
        count_row("Remises (événements)", f.handovers),
        count_row("Appareils distincts remis", f.devices_handed_over),
        count_row(
            "Ordinateurs remis (portables et fixes)",
            f.computers_handed_over,
        ),
        count_row("Foyers équipés", f.households_equipped),
        count_row("Lots de dons reçus", f.donation_batches),
        count_row("Appareils donnés reçus", f.donated_devices),
        count_row(
            "Appareils réemployés (remis au moins une fois)",
            f.outcomes.reused,
        ),
        count_row("Appareils recyclés", f.outcomes.recycled),
        row(
            "Poids recyclé (kg)",
            kilograms(f.outcomes.recycled_weight_grams),
        ),
        count_row("Appareils démantelés", f.outcomes.dismantled),
        count_row(
            "Appareils sortis (perdus, volés, endommagés)",
            f.outcomes.written_off,
        ),
        count_row("Prêts rendus", f.loans_returned),
        count_row("Prêts en cours", f.loans_active),
        count_row("Prêts en retard", f.loans_overdue),
        count_row("Formations suivies", f.training_attended),
        count_row("Appareils en stock", f.in_stock),
        count_row("Appareils réservés", f.reserved),
    ]
}

fn durations(view: &DashboardView) -> Vec<FigureRow> {
    let f = &view.figures;
    vec![
        count_row("Délai don → remise : appareils mesurés", f.lead_time.count),
        row(
            "Délai don → remise : médiane (jours)",
            days(f.lead_time.median_days),
        ),
        row(
            "Délai don → remise : moyenne (jours)",
            days(f.lead_time.mean_days),
        ),
        row(
            "Délai don → remise : maximum (jours)",
            days(f.lead_time.max_days.map(|d| d as f64)),
        ),
        count_row("Âge du stock : appareils mesurés", f.stock_age.count),
        row(
            "Âge du stock : médiane (jours)",
            days(f.stock_age.median_days),
        ),
        row(
            "Âge du stock : moyenne (jours)",
            days(f.stock_age.mean_days),
        ),
        row(
            "Âge du stock : maximum (jours)",
            days(f.stock_age.max_days.map(|d| d as f64)),
        ),
    ]
}

fn impact_rows(view: &DashboardView) -> Vec<FigureRow> {
    let Some(impact) = &view.figures.impact else {
        return Vec::new();
    };
    vec![
        count_row("Ordinateurs portables comptés", impact.laptops_counted),
        count_row("Smartphones comptés", impact.smartphones_counted),
        row("CO2e évité (kg)", kilograms(impact.co2e_grams_avoided)),
        row(
            "Matières premières évitées (kg)",
            kilograms(impact.raw_materials_grams_avoided),
        ),
        count_row(
            "Appareils sans facteur ADEME (non comptés)",
            impact.devices_not_counted,
        ),
    ]
}

/// Builds a chart and its table from a breakdown, labelling each value.
fn chart(
    id: &'static str,
    title: &str,
    dimension: &'static str,
    breakdown: &Breakdown,
    label: impl Fn(&str) -> String,
    vertical: bool,
) -> ChartTable {
    let bars: Vec<Bar> = breakdown
        .iter()
        .map(|(key, value)| Bar::new(label(key), *value))
        .collect();
    let description = if bars.is_empty() {
        format!("{title} : aucune donnée pour ces filtres.")
    } else {
        let parts: Vec<String> = bars
            .iter()
            .map(|b| format!("{} : {}", b.label, format_count(b.value)))
            .collect();
        format!("{title}. {}.", parts.join(" ; "))
    };
    let svg = if vertical {
        columns(id, title, &description, &bars)
    } else {
        horizontal_bars(id, title, &description, &bars)
    };
    ChartTable {
        id,
        title: title.to_string(),
        dimension,
        svg,
        rows: bars
            .into_iter()
            .map(|b| count_row(b.label, b.value))
            .collect(),
    }
}

fn charts(view: &DashboardView) -> Vec<ChartTable> {
    let f = &view.figures;
    let by = &f.handovers_by;
    let period = view.query.period;
    let same = |key: &str| key.to_string();
    let mut reuse = Breakdown::new();
    reuse.insert("Réemployés".to_string(), f.outcomes.reused);
    reuse.insert("Recyclés".to_string(), f.outcomes.recycled);
    reuse.insert("Démantelés".to_string(), f.outcomes.dismantled);
    let mut loans = Breakdown::new();
    loans.insert("Rendus".to_string(), f.loans_returned);
    loans.insert("En cours".to_string(), f.loans_active);
    loans.insert("En retard".to_string(), f.loans_overdue);
    vec![
        chart(
            "remises-periode",
            &format!("Remises par {}", period.label_fr()),
            "Période",
            handovers_by_period(view),
            same,
            true,
        ),
        chart(
            "dons-mois",
            "Appareils donnés reçus par mois",
            "Mois",
            &f.donated_devices_by_month,
            same,
            true,
        ),
        chart(
            "remises-programme",
            "Remises par programme financeur",
            "Programme",
            &by.programme,
            programme_label,
            false,
        ),
        chart(
            "remises-atelier",
            "Remises par atelier",
            "Atelier",
            &by.workshop,
            |id| view.organisation_name(id),
            false,
        ),
        chart(
            "remises-categorie",
            "Remises par catégorie d'appareil",
            "Catégorie",
            &by.category,
            category_label,
            false,
        ),
        chart(
            "remises-eligibilite",
            "Remises par catégorie d'éligibilité du foyer",
            "Éligibilité",
            &by.eligibility,
            eligibility_label,
            false,
        ),
        chart(
            "remises-zone",
            "Remises par zone prioritaire (QPV, ZRR)",
            "Zone",
            &by.area,
            area_label,
            false,
        ),
        chart(
            "reemploi-recyclage",
            "Appareils réemployés et recyclés",
            "Devenir",
            &reuse,
            same,
            false,
        ),
        chart(
            "prets",
            "Prêts rendus, en cours et en retard",
            "Prêts",
            &loans,
            same,
            false,
        ),
    ]
}
