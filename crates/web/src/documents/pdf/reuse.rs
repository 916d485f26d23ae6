//! The reuse report as PDF: the batch, one row per device, the totals per
//! outcome and the batch's reuse rate with its formula.

use super::fonts::Face;
use super::page::Layout;
use super::table::{Column, Table};
use super::{header_lines, key_values, signature_block, write_pdf, IssueInfo};
use crate::documents::french::{date_fr, percent_fr};
use crate::documents::reuse::{ReuseItem, ReuseReport};

const TITLE: &str = "Rapport de réemploi";
const PURPOSE: &str = "Justificatif du réemploi effectif des matériels cédés (décret n° 2023-266 \
     du 12 avril 2023 sur le réemploi des matériels informatiques réformés par les personnes \
     publiques)";

const ITEM_COLUMNS: &[Column] = &[
    Column {
        title: "Code",
        width: 16.0,
    },
    Column {
        title: "Catégorie",
        width: 25.0,
    },
    Column {
        title: "Marque",
        width: 18.0,
    },
    Column {
        title: "Modèle",
        width: 30.0,
    },
    Column {
        title: "N° de série",
        width: 26.0,
    },
    Column {
        title: "Devenir",
        width: 26.0,
    },
    Column {
        title: "Date",
        width: 17.0,
    },
    Column {
        title: "Mode de remise",
        width: 22.0,
    },
];

const TOTAL_COLUMNS: &[Column] = &[
    Column {
        title: "Devenir",
        width: 120.0,
    },
    Column {
        title: "Appareils",
        width: 30.0,
    },
    Column {
        title: "Part du lot",
        width: 30.0,
    },
];

/// Renders `report` as one PDF.
pub fn reuse_report_pdf(report: &ReuseReport, issue: &IssueInfo) -> Vec<u8> {
    let mut layout = Layout::new(header_lines(TITLE, issue, &report.log, &[PURPOSE]));
    key_values(&mut layout, &batch_identity(report));
    layout.gap(4.0);
    layout.paragraph("Appareils du lot", Face::Bold, 10.5, 0.0);
    layout.gap(1.0);
    let items = Table {
        columns: ITEM_COLUMNS,
        size: 7.5,
        continuation: Some("Appareils du lot (suite)".to_string()),
    };
    items.start(&mut layout);
    for item in &report.items {
        items.row(&mut layout, &item_cells(item), None);
    }
    layout.gap(5.0);
    layout.ensure(60.0);
    layout.paragraph("Totaux par devenir", Face::Bold, 10.5, 0.0);
    layout.gap(1.0);
    totals_table(&mut layout, report);
    layout.gap(4.0);
    reuse_rate(&mut layout, report);
    signature_block(&mut layout, issue);
    let footer = format!("{TITLE} — {}", issue.workshop_name);
    write_pdf(TITLE, layout.finish(&footer))
}

fn batch_identity(report: &ReuseReport) -> Vec<(&'static str, String)> {
    let donation = &report.donation;
    let mut pairs = vec![
        ("Lot de don", donation.donation_id.to_string()),
        ("Donateur", donation.donor_name.clone()),
        (
            "Type de donateur",
            donation.donor_kind.label_fr().to_string(),
        ),
        ("Reçu le", date_fr(donation.received_on)),
        ("Site", donation.site.clone()),
        ("Appareils", report.items.len().to_string()),
    ];
    if !donation.reference.is_empty() {
        pairs.push(("Référence", donation.reference.clone()));
    }
    pairs
}

fn item_cells(item: &ReuseItem) -> Vec<String> {
    vec![
        item.code.clone(),
        item.category.label_fr().to_string(),
        item.brand.clone(),
        item.model.clone(),
        item.serial.clone().unwrap_or_default(),
        item.outcome.label_fr().to_string(),
        date_fr(item.outcome_at.date_naive()),
        item.handover_mode
            .as_ref()
            .map_or_else(String::new, |mode| mode.label_fr().to_string()),
    ]
}

fn totals_table(layout: &mut Layout, report: &ReuseReport) {
    let table = Table {
        columns: TOTAL_COLUMNS,
        size: 8.5,
        continuation: None,
    };
    table.start(layout);
    let share = |count: usize| match report.items.len() {
        0 => "—".to_string(),
        total => percent_fr(count as f64 * 100.0 / total as f64),
    };
    for total in &report.totals {
        let cells = [
            total.outcome.label_fr().to_string(),
            total.count.to_string(),
            share(total.count),
        ];
        table.row(layout, &cells, None);
    }
    let cells = [
        "Total".to_string(),
        report.items.len().to_string(),
        share(report.items.len()),
    ];
    table.row(layout, &cells, None);
}

fn reuse_rate(layout: &mut Layout, report: &ReuseReport) {
    let total = report.items.len();
    let rate = report.reuse_rate_percent.map_or_else(
        || "non calculable (lot sans appareil)".to_string(),
        percent_fr,
    );
    layout.paragraph(
        &format!("Taux de réemploi du lot : {rate}"),
        Face::Bold,
        10.0,
        0.0,
    );
    let formula = format!(
        "Formule : taux de réemploi = appareils remis à un foyer (prêt, don ou vente \
         solidaire) ÷ appareils du lot × 100 = {} ÷ {total} × 100. Un appareil n'est compté \
         comme réemployé qu'une fois remis à un foyer : les appareils en stock ou en \
         reconditionnement ne le sont pas encore.",
        report.reused
    );
    layout.paragraph(&formula, Face::Regular, 8.5, 0.0);
    layout.gap(1.5);
    layout.paragraph(
        "Les objectifs annuels du décret n° 2023-266 (25 % en 2023, 35 % en 2024, 50 % à partir \
         de 2025) portent sur l'ensemble des matériels réformés par l'organisme dans l'année, \
         non sur un seul lot.",
        Face::Regular,
        8.5,
        0.0,
    );
    layout.paragraph(
        "Ce rapport ne contient aucune donnée sur les foyers bénéficiaires.",
        Face::Regular,
        8.5,
        0.0,
    );
}
