//! Checks on free text that ends up on labels, pages and handover documents.

use crate::error::DomainError;
use crate::types::fold;

/// Phrases French consumer law forbids for refurbished products (décret
/// n° 2022-190), compared after [`fold`].
const FORBIDDEN_PHRASES: &[&str] = &["etatneuf", "commeneuf", "aneuf"];

/// Rejects text that describes a refurbished device as new.
pub fn check_no_new_claim(field: &'static str, text: &str) -> Result<(), DomainError> {
    let folded = fold(text);
    match FORBIDDEN_PHRASES.iter().find(|p| folded.contains(*p)) {
        Some(_) => Err(DomainError::InvalidField {
            field,
            value: text.to_string(),
            reason: "refurbished devices may not be described as new (\"état neuf\", \"comme \
                     neuf\", \"à neuf\"); describe the actual condition instead"
                .to_string(),
        }),
        None => Ok(()),
    }
}

/// Trims `text` and rejects it when it is longer than `max_chars`.
pub fn bounded(field: &'static str, text: &str, max_chars: usize) -> Result<String, DomainError> {
    let trimmed = text.trim();
    if trimmed.chars().count() > max_chars {
        return Err(DomainError::InvalidField {
            field,
            value: trimmed.chars().take(40).collect::<String>() + "…",
            reason: format!("at most {max_chars} characters are allowed"),
        });
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_claims_rejected() {
        for text in ["Comme neuf !", "état neuf", "remis à neuf", "ETAT NEUF"] {
            assert!(check_no_new_claim("notes", text).is_err(), "{text}");
        }
    }

    #[test]
    fn honest_descriptions_accepted() {
        assert!(check_no_new_claim("notes", "Rayure légère sur le capot").is_ok());
        assert!(check_no_new_claim("notes", "neuf Go de mémoire libre").is_ok());
    }

    #[test]
    fn bounded_rejects_long_text() {
        let error = bounded("model", &"x".repeat(300), 200)
            .unwrap_err()
            .to_string();
        assert!(error.contains("200"), "{error}");
    }
}
