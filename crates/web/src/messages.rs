//! French messages for the errors of the domain and of command handling.
//!
//! The domain writes its messages in English for logs and the command line.
//! Pages and the API show these French versions instead. Free-text reasons of
//! [`DomainError::InvalidField`] are translated by [`reason_fr`] from a table
//! of the reasons the domain writes. A reason missing from that table falls
//! back to a general sentence that still names the field and the value.

use filiere_domain::command::Step;
use filiere_domain::error::format_euros;
use filiere_domain::types::{Category, Verdict};
use filiere_domain::DomainError;
use filiere_store::workshop::WorkshopError;
use filiere_store::StoreError;

use crate::messages_reasons::{field_label_fr, reason_fr};

/// French message of a domain error, naming the value or device involved and,
/// where one exists, what to do instead.
pub fn message_fr(error: &DomainError) -> String {
    match error {
        DomainError::InvalidCode { input, reason } => {
            format!(
                "Code d'appareil « {input} » invalide : {}",
                code_reason_fr(reason)
            )
        }
        DomainError::InvalidField {
            field,
            value,
            reason,
        } => invalid_field_fr(field, value, reason),
        DomainError::StepNotAllowed {
            device,
            status,
            step,
            allowed,
        } => format!(
            "L'appareil {device} est « {} » : l'étape « {} » n'est pas possible maintenant. \
             Étapes possibles : {}.",
            status.label_fr(),
            step_label_fr(step),
            allowed_steps_fr(allowed)
        ),
        DomainError::NotReady {
            device,
            action,
            missing,
        } => format!(
            "L'appareil {device} ne peut pas encore être {} : {}.",
            action_fr(action),
            missing
                .iter()
                .map(|gap| gap_fr(gap))
                .collect::<Vec<_>>()
                .join(" ; ")
        ),
        DomainError::UnknownStorageUnit {
            device,
            unit,
            known,
        } => format!(
            "L'appareil {device} n'a pas de support « {unit} » dans son diagnostic. \
             Supports connus : {}.",
            if known.is_empty() {
                "aucun (faites d'abord le diagnostic)".to_string()
            } else {
                known.join(", ")
            }
        ),
        DomainError::PriceAboveCap {
            device,
            category,
            price_cents,
            cap_cents,
        } => format!(
            "L'appareil {device} a été cédé gratuitement par une collectivité ou une \
             administration : un appareil de catégorie « {} » se vend au plus {} €, pas {} €.",
            category_label_fr(category),
            format_euros(*cap_cents).replace('.', ","),
            format_euros(*price_cents).replace('.', ",")
        ),
        DomainError::NoPriceCap { device, category } => format!(
            "L'appareil {device} a été cédé gratuitement par une collectivité ou une \
             administration, et le décret ne fixe aucun prix solidaire pour la catégorie « {} » : \
             remettez-le en prêt ou en don.",
            category_label_fr(category)
        ),
    }
}

/// French message of an error of command handling. Store and codec errors get
/// a general message: their English text stays in the log.
pub fn workshop_message_fr(error: &WorkshopError) -> String {
    match error {
        WorkshopError::Domain(domain) => message_fr(domain),
        WorkshopError::DeviceNotFound(code) => format!("Aucun appareil avec le code {code}."),
        WorkshopError::DuplicateSerial { serial, owner } => format!(
            "Le numéro de série « {serial} » est déjà enregistré pour l'appareil {owner} : \
             rien n'a été enregistré."
        ),
        WorkshopError::Store(store) => store_message_fr(store),
        // The parsers' messages name the file, the line or field and the
        // reason; they stay in English, like the tools' own output.
        WorkshopError::Evidence(problems) => format!(
            "Rapport illisible, rien n'a été enregistré : {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ; ")
        ),
        WorkshopError::Codec(_) => {
            "L'historique de cet appareil contient un événement illisible ; rien n'a été \
             enregistré. Prévenez la personne qui administre Filière."
                .to_string()
        }
    }
}

/// French message of an event store error.
pub fn store_message_fr(error: &StoreError) -> String {
    match error {
        StoreError::Conflict { .. } => CONFLICT_FR.to_string(),
        StoreError::UniqueKeyTaken { .. } => {
            "Une valeur qui doit être unique (code ou numéro de série) est déjà prise : rien n'a \
             été enregistré. Réessayez."
                .to_string()
        }
        StoreError::InvalidUrl { .. }
        | StoreError::Corrupt { .. }
        | StoreError::Database(_)
        | StoreError::Migration(_) => INTERNAL_FR.to_string(),
    }
}

/// Message of a step rejected because the device changed after the page or
/// the client read it.
pub const CONFLICT_FR: &str = "Cet appareil a été modifié entre-temps par quelqu'un d'autre : \
     rien n'a été enregistré. Rechargez la page de l'appareil, vérifiez son état et recommencez.";

/// Message of every unexpected server error; the details go to the log only.
pub const INTERNAL_FR: &str = "Une erreur interne est survenue et rien n'a été enregistré. \
     Réessayez ; si l'erreur revient, prévenez la personne qui administre Filière.";

fn invalid_field_fr(field: &str, value: &str, reason: &str) -> String {
    let label = field_label_fr(field);
    let reason = reason_fr(field, reason);
    if value.is_empty() {
        format!("Champ « {label} » : {reason}.")
    } else {
        format!("Champ « {label} », valeur « {value} » : {reason}.")
    }
}

/// Translates the reasons written by `DeviceCode::parse_scanned`.
fn code_reason_fr(reason: &str) -> String {
    if reason.starts_with("the check character") {
        return "le caractère de contrôle ne correspond pas (le dernier) : un caractère a été \
                mal tapé ou deux caractères ont été inversés"
            .to_string();
    }
    if let Some(rest) = reason.strip_prefix("a device code has ") {
        let length = rest.rsplit(' ').next().unwrap_or_default();
        return format!("un code d'appareil a 7 caractères, celui-ci en a {length}");
    }
    if let Some(rest) = reason.strip_prefix('\'') {
        let bad = rest.split('\'').next().unwrap_or_default();
        return format!(
            "le caractère « {bad} » n'est pas utilisé dans les codes (chiffres et lettres \
             BCDEFGHJKNPRSTVXY)"
        );
    }
    "ce n'est pas un code d'appareil".to_string()
}

fn step_label_fr(step: &str) -> String {
    Step::parse(step).map_or_else(|| step.to_string(), |s| s.label_fr().to_string())
}

/// Translates the comma-separated step names of `StepNotAllowed::allowed`.
fn allowed_steps_fr(allowed: &str) -> String {
    if allowed.starts_with("none") {
        return "aucune, l'appareil a quitté la filière".to_string();
    }
    allowed
        .split(", ")
        .map(step_label_fr)
        .collect::<Vec<_>>()
        .join(", ")
}

fn action_fr(action: &str) -> &str {
    match action {
        "reserved" => "réservé",
        "handed over" => "remis à un foyer",
        other => other,
    }
}

/// Translates one readiness gap as `ReadinessGap`'s `Display` writes it.
fn gap_fr(gap: &str) -> String {
    if gap == "no diagnosis since intake or return" {
        return "aucun diagnostic depuis l'entrée ou le retour".to_string();
    }
    if gap == "the functional test failed" {
        return "le test fonctionnel a échoué".to_string();
    }
    if let Some(verdict) = gap.strip_prefix("the diagnosis verdict is ") {
        let label = verdict
            .parse::<Verdict>()
            .map_or_else(|_| verdict.to_string(), |v| v.label_fr().to_lowercase());
        return format!("le diagnostic conclut : {label}");
    }
    if let Some(unit) = gap
        .strip_prefix("storage unit ")
        .and_then(|rest| rest.strip_suffix(" is not erased"))
    {
        return format!("le support {unit} n'a pas été effacé");
    }
    if let Some(unit) = gap
        .strip_prefix("the erasure of storage unit ")
        .and_then(|rest| rest.strip_suffix(" failed"))
    {
        return format!("l'effacement du support {unit} a échoué");
    }
    gap.to_string()
}

fn category_label_fr(category: &str) -> String {
    category
        .parse::<Category>()
        .map_or_else(|_| category.to_string(), |c| c.label_fr().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use filiere_domain::DeviceStatus;

    #[test]
    fn check_character_reason_in_french() {
        let error = DomainError::InvalidCode {
            input: "7KXB3RC".into(),
            reason: "the check character (last one) does not match: a character was mistyped \
                     or two were swapped"
                .into(),
        };
        let message = message_fr(&error);
        assert!(message.contains("7KXB3RC"), "{message}");
        assert!(
            message.contains("le caractère de contrôle ne correspond pas"),
            "{message}"
        );
    }

    #[test]
    fn step_not_allowed_lists_french_steps() {
        let error = DomainError::StepNotAllowed {
            device: "7KXB3R2".into(),
            status: DeviceStatus::Received,
            step: "stock",
            allowed: "diagnose, move, write-off".into(),
        };
        let message = message_fr(&error);
        assert!(message.contains("Reçu, à diagnostiquer"), "{message}");
        assert!(message.contains("Mise en stock"), "{message}");
        assert!(message.contains("Diagnostic, Déplacement"), "{message}");
        assert!(message.contains("Sortie d'inventaire"), "{message}");
    }

    #[test]
    fn not_ready_gaps_in_french() {
        let error = DomainError::NotReady {
            device: "7KXB3R2".into(),
            action: "handed over",
            missing: vec![
                "no diagnosis since intake or return".into(),
                "storage unit S1 is not erased".into(),
                "the diagnosis verdict is recycle".into(),
            ],
        };
        let message = message_fr(&error);
        assert!(message.contains("remis à un foyer"), "{message}");
        assert!(message.contains("aucun diagnostic"), "{message}");
        assert!(
            message.contains("le support S1 n'a pas été effacé"),
            "{message}"
        );
        assert!(message.contains("à recycler"), "{message}");
    }

    #[test]
    fn price_above_cap_in_euros() {
        let error = DomainError::PriceAboveCap {
            device: "7KXB3R2".into(),
            category: "laptop",
            price_cents: 25_000,
            cap_cents: 18_000,
        };
        let message = message_fr(&error);
        assert!(message.contains("180,00 €"), "{message}");
        assert!(message.contains("250,00 €"), "{message}");
        assert!(message.contains("Ordinateur portable"), "{message}");
    }

    #[test]
    fn store_errors_hide_details() {
        let error = WorkshopError::Store(StoreError::Corrupt {
            position: 3,
            reason: "secret detail".into(),
        });
        let message = workshop_message_fr(&error);
        assert!(!message.contains("secret"), "{message}");
        assert_eq!(message, INTERNAL_FR);
    }
}
