//! The erasure certificate as PDF: one section per device, each with its
//! identity, its erasure status and one table row per recorded erasure.

use super::fonts::Face;
use super::page::Layout;
use super::table::{Column, Table};
use super::{header_lines, key_values, signature_block, write_pdf, IssueInfo};
use crate::documents::certificate::{
    CertificateSet, ErasureCertificate, ErasureLine, EvidenceCheck,
};
use crate::documents::french::{
    date_fr, datetime_fr, media_label, nist_category, result_fr, yes_no,
};

const TITLE: &str = "Certificat d'effacement des données";
const STANDARD: &str =
    "Effacement conforme aux catégories de la norme NIST SP 800-88 (Clear, Purge, Destroy)";

const COLUMNS: &[Column] = &[
    Column {
        title: "Support (n° de série)",
        width: 31.0,
    },
    Column {
        title: "Type",
        width: 14.0,
    },
    Column {
        title: "Catégorie NIST",
        width: 16.0,
    },
    Column {
        title: "Technique",
        width: 25.0,
    },
    Column {
        title: "Outil et version",
        width: 27.0,
    },
    Column {
        title: "Vérifié",
        width: 13.0,
    },
    Column {
        title: "Résultat",
        width: 14.0,
    },
    Column {
        title: "Opérateur",
        width: 20.0,
    },
    Column {
        title: "Date",
        width: 20.0,
    },
];

/// Renders the certificates of `set` as one PDF.
pub fn certificate_pdf(set: &CertificateSet, issue: &IssueInfo) -> Vec<u8> {
    let mut layout = Layout::new(header_lines(TITLE, issue, &set.log, &[STANDARD]));
    if let Some(donation) = &set.donation {
        let complete = set
            .certificates
            .iter()
            .filter(|c| c.erasure_status.is_complete())
            .count();
        let summary = format!(
            "Lot de don {} remis par {} le {} à {} : {} appareil(s), dont {} sans donnée \
             restante à effacer.",
            donation.donation_id,
            donation.donor_name,
            date_fr(donation.received_on),
            donation.site,
            set.certificates.len(),
            complete
        );
        layout.paragraph(&summary, Face::Bold, 9.0, 0.0);
        layout.gap(2.0);
    }
    let statement = format!(
        "{} atteste que les effacements ci-dessous sont ceux enregistrés dans son journal \
         d'événements depuis l'entrée de chaque appareil ou son dernier retour. Chaque \
         effacement est classé selon les catégories de la norme NIST SP 800-88 : Clear \
         (effacement logique), Purge (effacement résistant aux techniques de laboratoire) \
         et Destroy (destruction physique du support).",
        issue.workshop_name
    );
    layout.paragraph(&statement, Face::Regular, 8.5, 0.0);
    for certificate in &set.certificates {
        layout.gap(5.0);
        device_section(&mut layout, certificate);
    }
    signature_block(&mut layout, issue);
    let footer = format!("{TITLE} — {}", issue.workshop_name);
    write_pdf(TITLE, layout.finish(&footer))
}

fn device_section(layout: &mut Layout, certificate: &ErasureCertificate) {
    // Keeps the title, the identity and the status line together.
    layout.ensure(45.0);
    let title = format!(
        "Appareil {} — {} {} {}",
        certificate.device_code,
        certificate.category.label_fr(),
        certificate.brand,
        certificate.model
    );
    layout.paragraph(&title, Face::Bold, 10.5, 0.0);
    layout.gap(1.0);
    key_values(layout, &identity(certificate));
    layout.gap(1.5);

    layout.paragraph(&certificate.erasure_status.line_fr(), Face::Bold, 9.0, 0.0);
    for unit in &certificate.unmatched_units {
        let warning = format!(
            "Attention : un effacement cite le support {unit}, absent du dernier diagnostic \
             de l'appareil."
        );
        layout.paragraph(&warning, Face::Regular, 8.5, 0.0);
    }
    layout.gap(2.0);

    if certificate.lines.is_empty() {
        layout.paragraph(
            "Aucun effacement enregistré depuis l'entrée ou le dernier retour de l'appareil.",
            Face::Regular,
            8.5,
            0.0,
        );
    } else {
        erasure_table(layout, certificate);
    }
}

fn erasure_table(layout: &mut Layout, certificate: &ErasureCertificate) {
    let table = Table {
        columns: COLUMNS,
        size: 7.0,
        continuation: Some(format!(
            "Appareil {} (suite des effacements)",
            certificate.device_code
        )),
    };
    table.start(layout);
    for line in &certificate.lines {
        table.row(layout, &cells(line), Some(&note(line)));
    }
}

fn identity(certificate: &ErasureCertificate) -> Vec<(&'static str, String)> {
    vec![
        ("Code appareil", certificate.device_code.clone()),
        ("Catégorie", certificate.category.label_fr().to_string()),
        ("Marque", certificate.brand.clone()),
        ("Modèle", certificate.model.clone()),
        (
            "N° de série",
            certificate
                .serial
                .clone()
                .unwrap_or_else(|| "non relevé".into()),
        ),
        ("Lot de don", certificate.donation_id.to_string()),
        ("Donateur", certificate.donor_name.clone()),
        ("Site", certificate.site.clone()),
        ("Devenir", certificate.status.label_fr().to_string()),
    ]
}

fn cells(line: &ErasureLine) -> Vec<String> {
    let tool = if line.tool_version.is_empty() {
        line.tool.clone()
    } else {
        format!("{} {}", line.tool, line.tool_version)
    };
    vec![
        line.unit.clone(),
        media_label(line.media).to_string(),
        nist_category(line.method).to_string(),
        line.technique.label_fr().to_string(),
        tool,
        yes_no(line.verified).to_string(),
        result_fr(line.result).to_string(),
        line.operator.clone(),
        datetime_fr(line.erased_at),
    ]
}

/// Builds the line under an erasure's row: its site and its evidence.
fn note(line: &ErasureLine) -> String {
    let evidence = match &line.evidence {
        None => "saisie manuelle (aucun rapport d'outil importé)".to_string(),
        Some(evidence) => format!(
            "SHA-256 {} ({})",
            evidence.sha256,
            check_fr(&evidence.check)
        ),
    };
    match line.standing.note_fr() {
        Some(standing) => format!("Site : {} — Preuve : {evidence} — {standing}", line.site),
        None => format!("Site : {} — Preuve : {evidence}", line.site),
    }
}

fn check_fr(check: &EvidenceCheck) -> String {
    match check {
        EvidenceCheck::NotChecked => "empreinte non vérifiée".to_string(),
        EvidenceCheck::Verified { kind, file_name } => {
            // No-break spaces keep the guillemets on the line of the file name.
            format!("rapport {kind} «\u{A0}{file_name}\u{A0}» conservé, empreinte vérifiée")
        }
        EvidenceCheck::Missing => "fichier de preuve absent de la base".to_string(),
        EvidenceCheck::Altered => {
            "ATTENTION : le fichier conservé ne correspond plus à cette empreinte".to_string()
        }
    }
}
