//! French names of form fields and French versions of the reasons that the
//! domain writes in [`filiere_domain::DomainError::InvalidField`].

/// Reasons without a variable part, by the start of their English text.
const FIXED_REASONS: &[(&str, &str)] = &[
    ("expected a number", "un nombre est attendu"),
    ("expected yes or no", "oui ou non est attendu"),
    (
        "size is a whole number of GB",
        "la taille est un nombre entier de Go",
    ),
    (
        "expected a date as YYYY-MM-DD",
        "une date au format AAAA-MM-JJ est attendue",
    ),
    (
        "expected loan, donation or sale",
        "le mode est prêt (loan), don (donation) ou vente solidaire (sale)",
    ),
    (
        "every device is received at a site",
        "chaque appareil est reçu sur un site : indiquez le nom du site",
    ),
    (
        "a cost cannot be negative",
        "un coût ne peut pas être négatif",
    ),
    (
        "name the operating system installed",
        "indiquez le système installé",
    ),
    (
        "give the weight in grams",
        "indiquez le poids en grammes, de 1 à 200000",
    ),
    (
        "name the erasure tool",
        "indiquez le logiciel d'effacement (par exemple nwipe)",
    ),
    (
        "name the person who ran the erasure",
        "indiquez la personne qui a fait l'effacement",
    ),
    (
        "a price cannot be negative",
        "un prix ne peut pas être négatif",
    ),
    ("give the site name", "indiquez le nom du site"),
    (
        "identify each storage unit",
        "identifiez chaque support par son numéro de série, ou par son emplacement quand le \
         numéro est illisible",
    ),
    ("this unit is listed twice", "ce support figure deux fois"),
    (
        "name another organisation than the one holding the device",
        "indiquez une autre organisation que celle qui détient l'appareil",
    ),
    (
        "name the donor",
        "indiquez le donateur (entreprise, collectivité ou particulier)",
    ),
    (
        "give the site where the batch was received",
        "indiquez le site où le lot a été reçu",
    ),
    (
        "only public bodies give under the free-transfer rule",
        "seules les collectivités et administrations cèdent des appareils gratuitement sous \
         cette règle",
    ),
    (
        "a donation batch has at least one device",
        "un lot de don contient au moins un appareil",
    ),
    (
        "refurbished devices may not be described as new",
        "un appareil reconditionné ne peut pas être décrit avec les mots réservés aux produits \
         qui n'ont jamais servi : décrivez son état réel",
    ),
    (
        "a spreadsheet rewrote this serial in scientific notation",
        "un tableur a écrit ce numéro en notation scientifique et ses chiffres sont perdus : \
         exportez la colonne en texte, ou laissez-la vide",
    ),
];

/// French name of a field, as the domain or the form names it.
pub fn field_label_fr(field: &str) -> &str {
    match field {
        "test" => "test fonctionnel",
        "verdict" => "conclusion du diagnostic",
        "storage" | "storage unit" => "support de stockage",
        "cpu" => "processeur",
        "memory_gb" => "mémoire (Go)",
        "battery_wear" => "usure de la batterie (%)",
        "unit" => "support",
        "method" => "méthode",
        "technique" => "technique",
        "tool" => "logiciel",
        "tool_version" => "version du logiciel",
        "verified" => "vérification",
        "result" => "résultat",
        "operator" => "opérateur ou opératrice",
        "part" => "pièces",
        "minutes" => "durée (minutes)",
        "cost" => "coût (€)",
        "os" => "système",
        "os_version" => "version du système",
        "licence" => "licence",
        "grade" => "grade",
        "autonomy" => "autonomie",
        "site" => "site",
        "location" => "emplacement",
        "household" => "foyer",
        "prescription" => "prescription",
        "mode" => "mode de remise",
        "due" | "due date" => "date de fin du prêt",
        "price" => "prix (€)",
        "weight" => "poids (g)",
        "eco_organism" => "éco-organisme",
        "reason" => "motif",
        "notes" => "notes",
        "donor" => "donateur",
        "donor_kind" | "donor kind" => "type de donateur",
        "received on" | "received_on" => "date de réception",
        "free transfer" | "free_transfer" => "cession gratuite",
        "devices" => "appareils",
        "category" => "catégorie",
        "status" => "état",
        "brand" => "marque",
        "model" => "modèle",
        "serial" => "numéro de série",
        "asset tag" => "numéro d'inventaire",
        "reference" => "référence",
        "organisation" => "organisation destinataire",
        other => other,
    }
}

/// French version of an English reason from the domain. `field` helps with
/// reasons written by other libraries, such as UUID parsing.
pub fn reason_fr(field: &str, reason: &str) -> String {
    if let Some(translated) = parametrised_reason_fr(reason) {
        return translated;
    }
    if let Some((_, french)) = FIXED_REASONS
        .iter()
        .find(|(english, _)| reason.starts_with(english))
    {
        return (*french).to_string();
    }
    if matches!(field, "household" | "prescription") {
        return "un identifiant (UUID) est attendu".to_string();
    }
    "valeur refusée".to_string()
}

/// Translates the reasons that carry a number, a date or a list.
fn parametrised_reason_fr(reason: &str) -> Option<String> {
    if let Some(rest) = reason.strip_prefix("step '") {
        let (_, name_and_hint) = rest.split_once("' needs ")?;
        let name = name_and_hint.split(':').next().unwrap_or_default();
        return Some(format!(
            "ce champ est obligatoire pour cette étape{}",
            required_hint_fr(name)
        ));
    }
    if let Some(max) = reason.strip_prefix("expected a number from 0 to ") {
        return Some(format!("un nombre de 0 à {max} est attendu"));
    }
    if let Some(limit) = reason
        .strip_prefix("at most ")
        .and_then(|rest| rest.strip_suffix(" characters are allowed"))
    {
        return Some(format!("{limit} caractères au plus"));
    }
    if let Some((_, expected)) = reason.split_once("': expected one of ") {
        return Some(format!("valeur inconnue ; valeurs acceptées : {expected}"));
    }
    if let Some(rest) = reason.strip_prefix("a loan must end after today (") {
        let today = rest.split(')').next().unwrap_or_default();
        return Some(format!(
            "un prêt doit finir après aujourd'hui ({today}) : choisissez une date plus tardive"
        ));
    }
    if let Some(rest) = reason.strip_prefix("a loan may last at most ") {
        let days = rest.split(' ').next().unwrap_or_default();
        return Some(format!(
            "un prêt dure au plus {days} jours : choisissez une date plus proche, ou remettez \
             l'appareil en don"
        ));
    }
    if let Some(rest) = reason.strip_prefix("an extension ends after the current due date (") {
        let current = rest.split(')').next().unwrap_or_default();
        return Some(format!(
            "une prolongation finit après la date de fin actuelle du prêt ({current}) : \
             choisissez une date plus tardive"
        ));
    }
    if let Some(rest) = reason.strip_prefix("the date is after today (") {
        let today = rest.split(')').next().unwrap_or_default();
        return Some(format!("la date est postérieure à aujourd'hui ({today})"));
    }
    if let Some(rest) = reason.strip_prefix("device ") {
        let device = rest.split(' ').next().unwrap_or_default();
        if rest.contains("is reserved for another household") {
            return Some(format!(
                "l'appareil {device} est réservé pour un autre foyer : annulez d'abord la \
                 réservation"
            ));
        }
    }
    None
}

/// Returns a French hint on what to type in a required field.
fn required_hint_fr(name: &str) -> &'static str {
    match name {
        "test" => " (réussi ou échoué)",
        "unit" => " (le support relevé au diagnostic)",
        "tool" => " (le logiciel d'effacement, par exemple nwipe)",
        "operator" => " (la personne qui a fait l'effacement)",
        "os" => " (le système installé, par exemple Debian)",
        "grade" => " (A, B ou C)",
        "site" => " (le nom du site)",
        "reason" => " (le motif)",
        "mode" => " (prêt, don ou vente solidaire)",
        "due" => " (la date de fin du prêt, AAAA-MM-JJ)",
        "eco_organism" => " (l'éco-organisme qui reprend le DEEE, par exemple Ecologic)",
        "organisation" => " (l'identifiant de l'organisation qui reçoit l'appareil)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_field_reason_translated() {
        let french = reason_fr("unit", "step 'erase' needs unit: the storage unit");
        assert!(french.contains("obligatoire"), "{french}");
        assert!(french.contains("support"), "{french}");
    }

    #[test]
    fn range_reason_keeps_maximum() {
        let french = reason_fr("cost", "expected a number from 0 to 10000");
        assert_eq!(french, "un nombre de 0 à 10000 est attendu");
    }

    #[test]
    fn enum_reason_lists_values() {
        let french = reason_fr("grade", "invalid grade 'z': expected one of a, b, c");
        assert!(french.contains("a, b, c"), "{french}");
    }

    #[test]
    fn extension_reason_keeps_current_due_date() {
        let french = reason_fr(
            "due date",
            "an extension ends after the current due date (2025-05-09); pick a later date",
        );
        assert_eq!(
            french,
            "une prolongation finit après la date de fin actuelle du prêt (2025-05-09) : \
             choisissez une date plus tardive"
        );
    }

    #[test]
    fn unknown_reason_falls_back() {
        assert_eq!(reason_fr("notes", "something new"), "valeur refusée");
    }
}
