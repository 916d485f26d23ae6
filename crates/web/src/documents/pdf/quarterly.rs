//! The funders' quarterly report as PDF: the territory's target and
//! progress, the quarter's flows with simple bar charts, the environmental
//! impact with its source, and the log position and hash they come from.
//!
//! The same report gives the same bytes: the creation date is the report's
//! date and the trailer's document ids are taken from the log hash, where
//! printpdf would otherwise write random ids.

use std::collections::BTreeMap;

use filiere_domain::prescription::EligibilityCategory;
use filiere_domain::types::Category;
use filiere_projections::audit::figures::DayStats;
use filiere_projections::audit::{QuarterlyReport, ShareMethod};
use printpdf::{Mm, OffsetDateTime, PdfDocument, PdfPage, PdfSaveOptions};

use super::fonts::{text_width_mm, Face, MM_PER_PT};
use super::key_values;
use super::page::{HeaderLine, Layout, CONTENT_WIDTH, MARGIN, PAGE_HEIGHT, PAGE_WIDTH};
use crate::documents::french::{date_fr, percent_fr};

const TITLE: &str = "Rapport trimestriel du réemploi solidaire";

/// Width of the label column of a bar chart, in millimetres.
const BAR_LABEL_WIDTH: f32 = 55.0;
/// Room kept right of the longest bar for its value, in millimetres.
const BAR_VALUE_WIDTH: f32 = 18.0;
const BAR_HEIGHT: f32 = 4.0;
const BAR_ROW_HEIGHT: f32 = 5.5;

/// Renders the quarterly report as an A4 PDF in French.
pub fn quarterly_report_pdf(quarterly: &QuarterlyReport) -> Vec<u8> {
    let report = &quarterly.report;
    let mut layout = Layout::new(header(quarterly));
    target_section(&mut layout, quarterly);
    handovers_section(&mut layout, quarterly);
    donations_and_outcomes(&mut layout, quarterly);
    loans_and_training(&mut layout, quarterly);
    impact_section(&mut layout, quarterly);
    section(&mut layout, "Périmètre et vérification");
    layout.paragraph(report.scope, Face::Regular, 8.0, 0.0);
    layout.gap(1.0);
    let check = format!(
        "Chiffres recalculés en rejouant le journal d'événements jusqu'à la position {} \
         (empreinte SHA-256 {}). La commande « filiere verify » recalcule la chaîne \
         d'empreintes du journal.",
        report.log.position, report.log.hash
    );
    layout.paragraph(&check, Face::Regular, 8.0, 0.0);
    let footer = format!(
        "{TITLE} — {} — journal à la position {}",
        quarterly.quarter, report.log.position
    );
    let pages = layout.finish(&footer);
    let title = format!("{TITLE} {}", quarterly.quarter);
    save_reproducible(&title, pages, quarterly)
}

fn header(quarterly: &QuarterlyReport) -> Vec<HeaderLine> {
    let report = &quarterly.report;
    let territory = match &report.target {
        Some(target) => format!(
            "Territoire : {} ({})",
            target.territory.name, target.territory.code
        ),
        None => "Territoire : aucune cible définie, tous les ateliers".to_string(),
    };
    let date = reference_day(quarterly);
    let state = if quarterly.complete {
        format!("Situation au {}", date_fr(date))
    } else {
        format!(
            "Situation au {} (trimestre en cours ou date choisie avant sa fin)",
            date_fr(date)
        )
    };
    let line = |text: String, face: Face, size: f32| HeaderLine { text, face, size };
    vec![
        line(
            format!("{TITLE} — {}", quarterly.quarter.label_fr()),
            Face::Bold,
            15.0,
        ),
        line(territory, Face::Regular, 10.0),
        line(state, Face::Regular, 9.0),
        line(
            format!(
                "Établi à partir du journal d'événements arrêté à la position {}",
                report.log.position
            ),
            Face::Regular,
            7.5,
        ),
        line(
            format!(
                "Empreinte SHA-256 du journal à cette position : {}",
                report.log.hash
            ),
            Face::Regular,
            7.5,
        ),
    ]
}

fn reference_day(quarterly: &QuarterlyReport) -> chrono::NaiveDate {
    quarterly
        .report
        .log
        .reference_date
        .parse()
        .unwrap_or_else(|_| quarterly.quarter.last_day())
}

fn section(layout: &mut Layout, title: &str) {
    layout.gap(3.0);
    layout.ensure(14.0);
    layout.paragraph(title, Face::Bold, 11.0, 0.0);
    layout.gap(1.0);
}

fn target_section(layout: &mut Layout, quarterly: &QuarterlyReport) {
    section(layout, "Objectif et progression");
    let report = &quarterly.report;
    let (Some(target), Some(progress)) = (&report.target, &report.progress) else {
        layout.paragraph(
            "Aucune cible n'était définie à cette date : le rapport donne les chiffres sans \
             progression. Définissez-la avec « filiere audit target set ».",
            Face::Regular,
            9.0,
            0.0,
        );
        return;
    };
    let method = match target.target.share_method {
        ShareMethod::Population => format!(
            "au prorata de la population : {} × {} / {} habitants",
            number(target.target.national_target),
            number(target.territory.population.unwrap_or(0)),
            number(target.national_population)
        ),
        ShareMethod::Manual(_) => "fixée à la main".to_string(),
    };
    key_values(
        layout,
        &[
            ("Objectif national", number(target.target.national_target)),
            ("Unité", target.target.unit.label_fr().to_string()),
            ("Part du territoire", number(target.share)),
            ("Méthode", method),
            ("Atteint", number(progress.figure)),
            ("Progression", percent_fr(progress.percent)),
        ],
    );
    layout.gap(1.5);
    progress_bar(layout, progress.percent);
}

/// Draws the progress as a frame the width of the content, shaded up to
/// the percentage reached (full beyond 100 %).
fn progress_bar(layout: &mut Layout, percent: f64) {
    const HEIGHT: f32 = 5.0;
    layout.ensure(HEIGHT + 2.0);
    let top = layout.y();
    let filled = (percent.clamp(0.0, 100.0) / 100.0) as f32 * CONTENT_WIDTH;
    if filled > 0.0 {
        layout.shade(MARGIN, top, filled, HEIGHT);
    }
    layout.frame(MARGIN, top, CONTENT_WIDTH, HEIGHT);
    layout.gap(HEIGHT + 2.0);
}

fn handovers_section(layout: &mut Layout, quarterly: &QuarterlyReport) {
    let figures = &quarterly.figures;
    let households = &quarterly.households;
    section(layout, "Remises aux foyers pendant le trimestre");
    key_values(
        layout,
        &[
            ("Remises", number(figures.handovers)),
            ("Appareils remis", number(figures.devices_handed_over)),
            ("Ordinateurs", number(figures.computers_handed_over)),
            ("Foyers équipés", number(figures.households_equipped)),
            ("Foyers en QPV", number(households.in_qpv)),
            ("Foyers en ZRR", number(households.in_zrr)),
        ],
    );
    let rule = format!(
        "Remises comptées par la commune du foyer : {} ; remises sans prescription comptées \
         par la liste des ateliers : {}.",
        households.counted_by_household_commune, households.counted_by_workshop_list
    );
    layout.paragraph(&rule, Face::Regular, 8.0, 0.0);

    let months: Vec<(String, u64)> = quarterly
        .quarter
        .months()
        .iter()
        .map(|month| {
            let count = figures.handovers_by_period.month.get(month).copied();
            (month_fr(month), count.unwrap_or(0))
        })
        .collect();
    bar_chart(layout, "Remises par mois", &months);

    let categories = relabel(&figures.handovers_by_category, |key| {
        key.parse::<Category>()
            .map(|c| c.label_fr().to_string())
            .unwrap_or_else(|_| key.to_string())
    });
    bar_chart(layout, "Remises par catégorie d'appareil", &categories);
    let workshops = relabel(&figures.handovers_by_workshop, str::to_string);
    bar_chart(layout, "Remises par atelier", &workshops);

    let eligibility = relabel(&households.by_eligibility, |key| {
        if key == "none" {
            return "Sans prescription".to_string();
        }
        key.parse::<EligibilityCategory>()
            .map(|c| c.label_fr().to_string())
            .unwrap_or_else(|_| key.to_string())
    });
    bar_chart(layout, "Remises par catégorie d'éligibilité", &eligibility);
}

fn donations_and_outcomes(layout: &mut Layout, quarterly: &QuarterlyReport) {
    let figures = &quarterly.figures;
    section(
        layout,
        "Dons reçus et devenir des appareils pendant le trimestre",
    );
    key_values(
        layout,
        &[
            ("Lots de dons", number(figures.donation_batches)),
            ("Appareils reçus", number(figures.donated_devices)),
            (
                "Poids recyclé",
                format!("{} kg", kilograms(figures.outcomes.recycled_weight_grams)),
            ),
        ],
    );
    let outcomes = &figures.outcomes;
    let rows = [
        ("Réemployés (remis à un foyer)", outcomes.reused),
        ("Recyclés", outcomes.recycled),
        ("Démontés pour pièces", outcomes.dismantled),
        ("Sortis de l'inventaire", outcomes.written_off),
    ]
    .map(|(label, value)| (label.to_string(), value));
    bar_chart(layout, "Réemploi et recyclage", &rows);
    section(layout, "Délai entre le don et la remise");
    layout.paragraph(&day_stats(&figures.lead_time), Face::Regular, 9.0, 0.0);
}

fn loans_and_training(layout: &mut Layout, quarterly: &QuarterlyReport) {
    let figures = &quarterly.figures;
    let training = &quarterly.households.training;
    section(layout, "Prêts");
    key_values(
        layout,
        &[
            ("En cours", number(figures.loans_active)),
            ("En retard", number(figures.loans_overdue)),
            ("Rendus", number(figures.loans_returned)),
        ],
    );
    layout.paragraph(
        "En cours et en retard : à la date de situation. Rendus : depuis le début du journal.",
        Face::Regular,
        7.5,
        0.0,
    );
    section(layout, "Formation des foyers au numérique");
    key_values(
        layout,
        &[
            ("Prescrites", number(training.prescribed)),
            ("Suivies", number(training.attended)),
            ("Absences", number(training.sessions_missed)),
        ],
    );
    layout.paragraph(
        "Prescrites : formations prévues dans les prescriptions émises pendant le trimestre. \
         Suivies : foyers présents à une séance du trimestre. Absences : séances manquées.",
        Face::Regular,
        7.5,
        0.0,
    );
}

fn impact_section(layout: &mut Layout, quarterly: &QuarterlyReport) {
    section(
        layout,
        "Impact environnemental évité par les appareils remis (une année d'usage)",
    );
    let Some(impact) = &quarterly.figures.impact else {
        return;
    };
    key_values(
        layout,
        &[
            (
                "CO2e évité",
                format!("{} kg", kilograms(impact.co2e_grams_avoided)),
            ),
            (
                "Matières",
                format!("{} kg", kilograms(impact.raw_materials_grams_avoided)),
            ),
            ("Portables", number(impact.laptops_counted)),
            ("Smartphones", number(impact.smartphones_counted)),
            ("Non comptés", number(impact.devices_not_counted)),
        ],
    );
    layout.paragraph(
        &format!("Source : {}", impact.source),
        Face::Regular,
        7.5,
        0.0,
    );
}

/// Draws one horizontal bar per row, scaled to the largest value, with the
/// label on the left and the value after the bar.
fn bar_chart(layout: &mut Layout, title: &str, rows: &[(String, u64)]) {
    layout.gap(1.5);
    layout.ensure(2.0 * BAR_ROW_HEIGHT + 5.0);
    layout.paragraph(title, Face::Bold, 9.0, 0.0);
    if rows.is_empty() {
        layout.paragraph("Aucune remise.", Face::Regular, 8.5, 0.0);
        return;
    }
    let max = rows
        .iter()
        .map(|(_, value)| *value)
        .max()
        .unwrap_or(0)
        .max(1);
    let bar_space = CONTENT_WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH;
    let bar_left = MARGIN + BAR_LABEL_WIDTH;
    for (label, value) in rows {
        layout.ensure(BAR_ROW_HEIGHT);
        let top = layout.y();
        let baseline = top + BAR_HEIGHT / 2.0 + 8.0 * MM_PER_PT / 2.0;
        let label = fit(label, BAR_LABEL_WIDTH - 2.0);
        layout.text_at(&label, Face::Regular, 8.0, MARGIN, baseline);
        let width = bar_space * (*value as f32) / (max as f32);
        if width > 0.0 {
            layout.shade(bar_left, top, width, BAR_HEIGHT);
            layout.frame(bar_left, top, width, BAR_HEIGHT);
        }
        layout.line(bar_left, top, bar_left, top + BAR_HEIGHT, 0.5);
        let value_x = bar_left + width + 1.5;
        layout.text_at(&number(*value), Face::Bold, 8.0, value_x, baseline);
        layout.gap(BAR_ROW_HEIGHT);
    }
}

/// Shortens `text` with an ellipsis until it fits `width` millimetres.
fn fit(text: &str, width: f32) -> String {
    if text_width_mm(text, Face::Regular, 8.0) <= width {
        return text.to_string();
    }
    let mut shortened: String = text.to_string();
    while !shortened.is_empty() {
        shortened.pop();
        let candidate = format!("{shortened}…");
        if text_width_mm(&candidate, Face::Regular, 8.0) <= width {
            return candidate;
        }
    }
    String::new()
}

fn relabel(map: &BTreeMap<String, u64>, label: impl Fn(&str) -> String) -> Vec<(String, u64)> {
    map.iter()
        .map(|(key, value)| (label(key), *value))
        .collect()
}

fn month_fr(key: &str) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let Some((year, month)) = key.split_once('-') else {
        return key.to_string();
    };
    match month.parse::<usize>() {
        Ok(month @ 1..=12) => format!("{} {year}", MONTHS[month - 1]),
        _ => key.to_string(),
    }
}

fn day_stats(stats: &DayStats) -> String {
    let (Some(median), Some(mean), Some(max)) =
        (stats.median_days, stats.mean_days, stats.max_days)
    else {
        return "Aucun appareil remis pour la première fois pendant le trimestre.".to_string();
    };
    format!(
        "{} appareil(s) remis pour la première fois : médiane {} jours, moyenne {} jours, \
         maximum {} jours.",
        stats.count,
        tenths(median),
        tenths(mean),
        max
    )
}

fn tenths(value: f64) -> String {
    format!("{value:.1}").replace('.', ",")
}

/// Formats a count with a space between thousands, as French does.
fn number(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(digit);
    }
    grouped
}

/// Formats grams as kilograms with one decimal, rounded half up.
fn kilograms(grams: u64) -> String {
    let tenths = (grams + 50) / 100;
    format!("{},{}", number(tenths / 10), tenths % 10)
}

/// Saves the pages with a creation date and trailer ids that depend only
/// on the report, so two renderings of one report are byte-identical.
fn save_reproducible(
    title: &str,
    pages: Vec<Vec<printpdf::Op>>,
    quarterly: &QuarterlyReport,
) -> Vec<u8> {
    let mut document = PdfDocument::new(title);
    let day = reference_day(quarterly);
    let timestamp = day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |time| time.and_utc().timestamp());
    if let Ok(date) = OffsetDateTime::from_unix_timestamp(timestamp) {
        let info = &mut document.metadata.info;
        info.creation_date = date;
        info.modification_date = date;
        info.metadata_date = date;
    }
    document.pages = pages
        .into_iter()
        .map(|ops| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops))
        .collect();
    let mut warnings = Vec::new();
    let mut bytes = document.save(&PdfSaveOptions::default(), &mut warnings);
    for warning in &warnings {
        tracing::warn!(page = warning.page, message = %warning.msg, "printpdf warning while writing the quarterly report");
    }
    replace_trailer_ids(&mut bytes, &quarterly.report.log.hash);
    bytes
}

/// Overwrites the two 32-character strings of the trailer's `/ID` entry
/// with the first and last 32 hex digits of `log_hash`. The strings keep
/// their length, so the cross-reference offsets stay valid.
fn replace_trailer_ids(bytes: &mut [u8], log_hash: &str) {
    const KEY: &[u8] = b"/ID";
    let Some(key) = bytes.windows(KEY.len()).rposition(|w| w == KEY) else {
        tracing::warn!("the quarterly report PDF has no /ID entry to make reproducible");
        return;
    };
    let hash = log_hash.as_bytes();
    let halves = [
        &hash[..32.min(hash.len())],
        &hash[hash.len().saturating_sub(32)..],
    ];
    let mut cursor = key + KEY.len();
    for half in halves {
        let Some(open) = bytes[cursor..].iter().position(|&b| b == b'(') else {
            return;
        };
        let start = cursor + open + 1;
        let Some(close) = bytes[start..].iter().position(|&b| b == b')') else {
            return;
        };
        if close != 32 || half.len() != 32 {
            tracing::warn!(
                length = close,
                "unexpected /ID string length in the quarterly report PDF"
            );
            return;
        }
        bytes[start..start + 32].copy_from_slice(half);
        cursor = start + 32 + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_grouped_in_french() {
        assert_eq!(number(0), "0");
        assert_eq!(number(12_563), "12 563");
        assert_eq!(number(2_000_000), "2 000 000");
        assert_eq!(kilograms(51_600), "51,6");
        assert_eq!(month_fr("2026-07"), "juillet 2026");
    }

    #[test]
    fn trailer_ids_replaced() {
        let mut bytes =
            b"trailer<</ID[(abcdefghabcdefghabcdefghabcdefgh)(ABCDEFGHABCDEFGHABCDEFGHABCDEFGH)]>>"
                .to_vec();
        let hash = format!("{}{}", "0".repeat(32), "f".repeat(32));
        replace_trailer_ids(&mut bytes, &hash);
        let text = String::from_utf8(bytes).unwrap();
        let expected = format!("/ID[({})({})]", "0".repeat(32), "f".repeat(32));
        assert!(text.contains(&expected), "{text}");
    }
}
