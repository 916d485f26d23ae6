//! The handover sheet as PDF: a loan agreement, a donation certificate or a
//! solidarity sale receipt, with the device, its erasure, the conditions,
//! the training and two signature frames.

use chrono::NaiveDate;
use filiere_domain::error::format_euros;
use filiere_domain::event::HandoverMode;

use super::fonts::{self, line_height_mm, Face, MM_PER_PT};
use super::page::{Layout, CONTENT_WIDTH, MARGIN};
use super::{header_lines, key_values, write_pdf, IssueInfo};
use crate::documents::certificate::{ErasureLine, EvidenceCheck};
use crate::documents::french::{date_fr, datetime_fr, nist_category, result_fr, yes_no};
use crate::documents::handover::HandoverSheet;

/// Line printed in place of the name once the household's identity is
/// erased, for the beneficiary to write it by hand.
const BLANK_NAME: &str = "Nom du bénéficiaire : ________________________________";

/// Renders `sheet` as a PDF issued on `issued_on`.
pub fn handover_sheet_pdf(sheet: &HandoverSheet, issued_on: NaiveDate) -> Vec<u8> {
    let issue = IssueInfo {
        workshop_name: sheet.workshop_name.clone(),
        issued_on,
    };
    let title = format!("Fiche de remise — {}", kind_title(&sheet.mode));
    let prescription = format!(
        "Prescription {} émise par {}",
        sheet.prescription_id, sheet.referrer_name
    );
    let mut layout = Layout::new(header_lines(&title, &issue, &sheet.log, &[&prescription]));

    section(&mut layout, "Bénéficiaire");
    match &sheet.beneficiary_name {
        Some(name) => {
            let line = format!("Nom du bénéficiaire : {name}");
            layout.paragraph(&line, Face::Regular, 9.5, 0.0);
        }
        None => layout.paragraph(BLANK_NAME, Face::Regular, 9.5, 0.0),
    }

    section(&mut layout, "Appareil remis");
    key_values(&mut layout, &device_pairs(sheet));

    section(&mut layout, "Effacement des données");
    erasure(&mut layout, sheet);

    section(
        &mut layout,
        &format!("Conditions : {}", mode_name(&sheet.mode)),
    );
    conditions(&mut layout, sheet);

    section(&mut layout, "Formation au numérique");
    layout.paragraph(&training_line(sheet), Face::Regular, 9.0, 0.0);

    signatures(&mut layout, sheet);
    let footer = format!(
        "{title} — prescription {} — {}",
        sheet.prescription_id, sheet.workshop_name
    );
    write_pdf(&title, layout.finish(&footer))
}

fn kind_title(mode: &HandoverMode) -> &'static str {
    match mode {
        HandoverMode::Loan { .. } => "Convention de prêt",
        HandoverMode::Donation => "Attestation de don",
        HandoverMode::SolidaritySale { .. } => "Reçu de vente solidaire",
    }
}

fn mode_name(mode: &HandoverMode) -> &'static str {
    match mode {
        HandoverMode::Loan { .. } => "prêt",
        HandoverMode::Donation => "don",
        HandoverMode::SolidaritySale { .. } => "vente solidaire",
    }
}

fn section(layout: &mut Layout, title: &str) {
    layout.gap(4.0);
    // Keeps a section title with the first lines below it.
    layout.ensure(20.0);
    layout.paragraph(title, Face::Bold, 10.5, 0.0);
    layout.gap(1.0);
}

fn device_pairs(sheet: &HandoverSheet) -> Vec<(&'static str, String)> {
    let device = &sheet.device;
    vec![
        ("Code Filière", device.device_code.clone()),
        ("Catégorie", device.category.label_fr().to_string()),
        ("Marque", device.brand.clone()),
        ("Modèle", device.model.clone()),
        (
            "N° de série",
            device.serial.clone().unwrap_or_else(|| "non relevé".into()),
        ),
        (
            "Grade",
            sheet
                .grade
                .map_or_else(|| "non évalué".into(), |g| g.label_fr().to_string()),
        ),
    ]
}

fn erasure(layout: &mut Layout, sheet: &HandoverSheet) {
    let device = &sheet.device;
    layout.paragraph(&device.erasure_status.line_fr(), Face::Bold, 9.0, 0.0);
    for line in &device.lines {
        layout.gap(1.0);
        layout.paragraph(&erasure_line(line), Face::Regular, 8.5, 4.0);
        if let Some(note) = line.standing.note_fr() {
            layout.paragraph(&format!("({note})"), Face::Regular, 8.0, 4.0);
        }
        layout.paragraph(&evidence_line(line), Face::Regular, 8.0, 4.0);
    }
}

fn erasure_line(line: &ErasureLine) -> String {
    let tool = if line.tool_version.is_empty() {
        line.tool.clone()
    } else {
        format!("{} {}", line.tool, line.tool_version)
    };
    format!(
        "Support {} : méthode {} ({}), outil {tool}, vérifié : {}, résultat : {}, le {}",
        line.unit,
        nist_category(line.method),
        line.technique.label_fr(),
        yes_no(line.verified),
        result_fr(line.result),
        datetime_fr(line.erased_at)
    )
}

fn evidence_line(line: &ErasureLine) -> String {
    match &line.evidence {
        None => "Preuve : saisie manuelle, sans rapport d'outil".to_string(),
        Some(evidence) => {
            let check = match &evidence.check {
                EvidenceCheck::Verified { .. } => "empreinte vérifiée",
                EvidenceCheck::NotChecked => "empreinte non vérifiée",
                EvidenceCheck::Missing => "fichier de preuve absent de la base",
                EvidenceCheck::Altered => "ATTENTION : le fichier ne correspond plus",
            };
            format!("Preuve : rapport SHA-256 {} ({check})", evidence.sha256)
        }
    }
}

fn conditions(layout: &mut Layout, sheet: &HandoverSheet) {
    let start = date_fr(sheet.handover_date());
    match &sheet.mode {
        HandoverMode::Loan { due_on } => {
            key_values(
                layout,
                &[
                    ("Début du prêt", start),
                    ("Retour prévu le", date_fr(*due_on)),
                ],
            );
            layout.gap(1.0);
            let text = format!(
                "L'appareil reste la propriété de l'atelier. Le bénéficiaire s'engage à le \
                 rapporter à l'atelier au plus tard le {}, avec ses accessoires, dans l'état où il l'a reçu \
                 compte tenu d'un usage normal. Il ne le prête pas, ne le vend pas et ne le fait \
                 pas réparer ailleurs : en cas de panne, de perte ou de vol, il prévient \
                 l'atelier. Le prêt peut être prolongé ou converti en don par l'atelier.",
                date_fr(*due_on)
            );
            layout.paragraph(&text, Face::Regular, 8.5, 0.0);
        }
        HandoverMode::Donation => {
            key_values(layout, &[("Date du don", start)]);
            layout.gap(1.0);
            let text = format!(
                "{} donne cet appareil à titre gratuit au bénéficiaire, qui en devient \
                 propriétaire à la date ci-dessus.",
                sheet.workshop_name
            );
            layout.paragraph(&text, Face::Regular, 8.5, 0.0);
        }
        HandoverMode::SolidaritySale { price_cents } => {
            let price = format!("{} € TTC", format_euros(*price_cents).replace('.', ","));
            key_values(layout, &[("Date de la vente", start), ("Prix payé", price)]);
            layout.gap(1.0);
            let text = format!(
                "{} vend cet appareil reconditionné au bénéficiaire au prix solidaire ci-dessus, \
                 payé ce jour ; le bénéficiaire en devient propriétaire.",
                sheet.workshop_name
            );
            layout.paragraph(&text, Face::Regular, 8.5, 0.0);
        }
    }
}

fn training_line(sheet: &HandoverSheet) -> String {
    let Some(training) = &sheet.training else {
        return "Aucune formation prescrite.".to_string();
    };
    let date = training.scheduled_on.map_or_else(
        || "date de la première séance à fixer".to_string(),
        |day| format!("première séance le {}", date_fr(day)),
    );
    format!(
        "Formation réservée : {} {} — {date}",
        training.provider.label_fr(),
        training.name
    )
}

/// Writes the place and date, then the beneficiary's frame on the left and
/// the workshop's on the right, each under its caption.
fn signatures(layout: &mut Layout, sheet: &HandoverSheet) {
    const GAP: f32 = 10.0;
    const FRAME_HEIGHT: f32 = 30.0;
    const CAPTION_SIZE: f32 = 8.5;
    const DETAIL_SIZE: f32 = 7.5;
    let width = (CONTENT_WIDTH - GAP) / 2.0;
    let captions = [
        (
            "Signature du bénéficiaire",
            "précédée de « lu et approuvé »".to_string(),
        ),
        (
            "Signature et cachet de l'atelier",
            sheet.workshop_name.clone(),
        ),
    ];
    let details: Vec<Vec<String>> = captions
        .iter()
        .map(|(_, detail)| fonts::wrap(detail, Face::Regular, DETAIL_SIZE, width))
        .collect();
    let detail_lines = details.iter().map(Vec::len).max().unwrap_or(1);
    let captions_height =
        line_height_mm(CAPTION_SIZE) + detail_lines as f32 * line_height_mm(DETAIL_SIZE) + 1.0;

    layout.gap(6.0);
    // The place line, the captions and the frames stay on one page.
    layout.ensure(line_height_mm(9.0) + 2.0 + captions_height + FRAME_HEIGHT);
    let place = format!(
        "Fait à {}, le {}, en deux exemplaires.",
        sheet.place,
        date_fr(sheet.handover_date())
    );
    layout.paragraph(&place, Face::Regular, 9.0, 0.0);
    layout.gap(2.0);
    let top = layout.y();
    for (index, ((caption, _), detail)) in captions.iter().zip(&details).enumerate() {
        let x = MARGIN + index as f32 * (width + GAP);
        let mut baseline = top + CAPTION_SIZE * MM_PER_PT;
        layout.text_at(caption, Face::Bold, CAPTION_SIZE, x, baseline);
        for line in detail {
            baseline += line_height_mm(DETAIL_SIZE);
            layout.text_at(line, Face::Regular, DETAIL_SIZE, x, baseline);
        }
        layout.frame(x, top + captions_height, width, FRAME_HEIGHT);
    }
    layout.gap(captions_height + FRAME_HEIGHT);
}
