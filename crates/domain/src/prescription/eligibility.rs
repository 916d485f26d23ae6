//! Eligibility schemes: the rules an administrator configures to say which
//! households a prescription may serve, and the evidence a referrer states.
//! Schemes are data (stored by the store), not constants of this crate.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::text::bounded;
use crate::types::{fold, named_enum, UnknownValue};

use super::error::PrescriptionError;

/// Identifier of an eligibility scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SchemeId(pub Uuid);

impl SchemeId {
    pub fn generate() -> SchemeId {
        SchemeId(Uuid::now_v7())
    }
}

impl fmt::Display for SchemeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for SchemeId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(SchemeId)
    }
}

/// The condition a household meets to be eligible under a scheme. Amounts
/// are whole euros, and a value must be strictly below its threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EligibilityRule {
    /// Receives one of the listed benefits, such as RSA, AAH or ASS.
    Benefit {
        accepted: Vec<String>,
    },
    /// Family quotient (quotient familial, CAF), in euros.
    FamilyQuotientBelow {
        threshold_euros: u32,
    },
    /// Income left after fixed costs, in euros per month.
    ResidualIncomeBelow {
        threshold_euros_per_month: u32,
    },
    Student,
    JobSeeker,
}

/// Facts the referrer states about the household, checked against the
/// scheme's rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    Benefit { name: String },
    FamilyQuotient { euros: u32 },
    ResidualIncome { euros_per_month: u32 },
    Student,
    JobSeeker,
}

named_enum! {
    /// Kind of eligibility, counted in funder statistics.
    EligibilityCategory, "eligibility category" {
        BenefitRecipient => "benefit_recipient", "Bénéficiaire d'un minimum social" | "benefit";
        LowFamilyQuotient => "low_family_quotient", "Quotient familial modeste" | "family quotient";
        LowResidualIncome => "low_residual_income", "Reste à vivre modeste" | "residual income";
        Student => "student", "Étudiant·e";
        JobSeeker => "job_seeker", "Demandeur·se d'emploi";
    }
}

impl EligibilityRule {
    pub fn category(&self) -> EligibilityCategory {
        match self {
            EligibilityRule::Benefit { .. } => EligibilityCategory::BenefitRecipient,
            EligibilityRule::FamilyQuotientBelow { .. } => EligibilityCategory::LowFamilyQuotient,
            EligibilityRule::ResidualIncomeBelow { .. } => EligibilityCategory::LowResidualIncome,
            EligibilityRule::Student => EligibilityCategory::Student,
            EligibilityRule::JobSeeker => EligibilityCategory::JobSeeker,
        }
    }

    /// English description for messages, such as "a family quotient below
    /// 700 EUR".
    pub fn describe(&self) -> String {
        match self {
            EligibilityRule::Benefit { accepted } => {
                format!("one of these benefits: {}", accepted.join(", "))
            }
            EligibilityRule::FamilyQuotientBelow { threshold_euros } => {
                format!("a family quotient below {threshold_euros} EUR")
            }
            EligibilityRule::ResidualIncomeBelow {
                threshold_euros_per_month,
            } => format!("a residual income below {threshold_euros_per_month} EUR per month"),
            EligibilityRule::Student => "student status".to_string(),
            EligibilityRule::JobSeeker => "job seeker status".to_string(),
        }
    }
}

impl Evidence {
    fn describe(&self) -> String {
        match self {
            Evidence::Benefit { name } => format!("the benefit '{name}'"),
            Evidence::FamilyQuotient { euros } => format!("a family quotient of {euros} EUR"),
            Evidence::ResidualIncome { euros_per_month } => {
                format!("a residual income of {euros_per_month} EUR per month")
            }
            Evidence::Student => "student status".to_string(),
            Evidence::JobSeeker => "job seeker status".to_string(),
        }
    }
}

/// A named eligibility rule configured by an administrator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityScheme {
    pub id: SchemeId,
    pub name: String,
    pub rule: EligibilityRule,
    /// Funder programme that pays for the equipment of the households this
    /// scheme admits, such as "France Services numérique 2026". Absent from
    /// schemes recorded before programmes existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<String>,
}

impl EligibilityScheme {
    /// Checks the name and rule of a new scheme: a name of 1 to 100
    /// characters, at least one accepted benefit, thresholds above zero.
    pub fn new(
        id: SchemeId,
        name: &str,
        rule: EligibilityRule,
    ) -> Result<EligibilityScheme, DomainError> {
        let name = bounded("scheme name", name, 100)?;
        if name.is_empty() {
            return Err(invalid("scheme name", "", "give the scheme a name"));
        }
        let rule = check_rule(rule)?;
        Ok(EligibilityScheme {
            id,
            name,
            rule,
            programme: None,
        })
    }

    /// Sets the funder programme: 1 to 100 characters, or `None` (a blank
    /// name is `None`).
    pub fn with_programme(
        mut self,
        programme: Option<&str>,
    ) -> Result<EligibilityScheme, DomainError> {
        self.programme = match programme {
            Some(name) => Some(bounded("funder programme", name, 100)?).filter(|n| !n.is_empty()),
            None => None,
        };
        Ok(self)
    }

    /// Checks `evidence` against the rule and returns the household's
    /// eligibility category. The error names the scheme, the value and the
    /// threshold or the accepted values.
    pub fn check(&self, evidence: &Evidence) -> Result<EligibilityCategory, PrescriptionError> {
        let not_eligible = |reason: String| PrescriptionError::NotEligible {
            scheme: self.name.clone(),
            reason,
        };
        match (&self.rule, evidence) {
            (EligibilityRule::Benefit { accepted }, Evidence::Benefit { name }) => {
                if !accepted.iter().any(|a| fold(a) == fold(name)) {
                    return Err(not_eligible(format!(
                        "the benefit '{}' is not among the accepted benefits ({})",
                        name.trim(),
                        accepted.join(", ")
                    )));
                }
            }
            (
                EligibilityRule::FamilyQuotientBelow { threshold_euros },
                Evidence::FamilyQuotient { euros },
            ) if euros >= threshold_euros => {
                return Err(not_eligible(format!(
                    "a family quotient of {euros} EUR is not below the threshold of {threshold_euros} EUR"
                )));
            }
            (
                EligibilityRule::ResidualIncomeBelow {
                    threshold_euros_per_month,
                },
                Evidence::ResidualIncome { euros_per_month },
            ) if euros_per_month >= threshold_euros_per_month => {
                return Err(not_eligible(format!(
                    "a residual income of {euros_per_month} EUR per month is not below the threshold of {threshold_euros_per_month} EUR per month"
                )));
            }
            (EligibilityRule::FamilyQuotientBelow { .. }, Evidence::FamilyQuotient { .. })
            | (EligibilityRule::ResidualIncomeBelow { .. }, Evidence::ResidualIncome { .. })
            | (EligibilityRule::Student, Evidence::Student)
            | (EligibilityRule::JobSeeker, Evidence::JobSeeker) => {}
            (rule, evidence) => {
                return Err(not_eligible(format!(
                    "the scheme requires {}, but the evidence given is {}",
                    rule.describe(),
                    evidence.describe()
                )));
            }
        }
        Ok(self.rule.category())
    }
}

fn check_rule(rule: EligibilityRule) -> Result<EligibilityRule, DomainError> {
    match rule {
        EligibilityRule::Benefit { accepted } => {
            let mut names = Vec::new();
            for name in accepted {
                let name = bounded("benefit", &name, 50)?;
                if !name.is_empty() && !names.iter().any(|n: &String| fold(n) == fold(&name)) {
                    names.push(name);
                }
            }
            if names.is_empty() {
                return Err(invalid(
                    "accepted benefits",
                    "",
                    "list at least one benefit, such as RSA, AAH or ASS",
                ));
            }
            Ok(EligibilityRule::Benefit { accepted: names })
        }
        EligibilityRule::FamilyQuotientBelow { threshold_euros: 0 } => Err(invalid(
            "family quotient threshold",
            0,
            "a threshold of 0 EUR lets no household in; give an amount in euros",
        )),
        EligibilityRule::ResidualIncomeBelow {
            threshold_euros_per_month: 0,
        } => Err(invalid(
            "residual income threshold",
            0,
            "a threshold of 0 EUR per month lets no household in; give an amount in euros",
        )),
        other => Ok(other),
    }
}

fn invalid(field: &'static str, value: impl fmt::Display, reason: &str) -> DomainError {
    DomainError::InvalidField {
        field,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(rule: EligibilityRule) -> EligibilityScheme {
        EligibilityScheme::new(SchemeId(Uuid::from_u128(1)), "CCAS de Lyon", rule).unwrap()
    }

    #[test]
    fn benefit_matched_ignoring_case() {
        let rule = EligibilityRule::Benefit {
            accepted: vec!["RSA".into(), "AAH".into()],
        };
        let evidence = Evidence::Benefit { name: "rsa".into() };
        assert_eq!(
            scheme(rule).check(&evidence).unwrap(),
            EligibilityCategory::BenefitRecipient
        );
    }

    #[test]
    fn unlisted_benefit_rejected() {
        let rule = EligibilityRule::Benefit {
            accepted: vec!["RSA".into(), "AAH".into()],
        };
        let evidence = Evidence::Benefit { name: "APL".into() };
        let error = scheme(rule).check(&evidence).unwrap_err().to_string();
        assert!(error.contains("CCAS de Lyon"), "{error}");
        assert!(error.contains("APL"), "{error}");
        assert!(error.contains("RSA, AAH"), "{error}");
    }

    #[test]
    fn quotient_at_threshold_rejected() {
        let rule = EligibilityRule::FamilyQuotientBelow {
            threshold_euros: 700,
        };
        let error = scheme(rule.clone())
            .check(&Evidence::FamilyQuotient { euros: 700 })
            .unwrap_err()
            .to_string();
        assert!(error.contains("CCAS de Lyon"), "{error}");
        assert!(
            error.contains("700 EUR is not below the threshold of 700 EUR"),
            "{error}"
        );
        assert!(scheme(rule)
            .check(&Evidence::FamilyQuotient { euros: 699 })
            .is_ok());
    }

    #[test]
    fn residual_income_above_threshold_rejected() {
        let rule = EligibilityRule::ResidualIncomeBelow {
            threshold_euros_per_month: 450,
        };
        let error = scheme(rule)
            .check(&Evidence::ResidualIncome {
                euros_per_month: 600,
            })
            .unwrap_err()
            .to_string();
        assert!(error.contains("600 EUR per month"), "{error}");
        assert!(error.contains("450 EUR per month"), "{error}");
    }

    #[test]
    fn evidence_of_other_kind_rejected() {
        let error = scheme(EligibilityRule::Student)
            .check(&Evidence::JobSeeker)
            .unwrap_err()
            .to_string();
        assert!(error.contains("requires student status"), "{error}");
        assert!(error.contains("job seeker status"), "{error}");
    }

    #[test]
    fn scheme_without_benefit_rejected() {
        let rule = EligibilityRule::Benefit {
            accepted: vec![" ".into()],
        };
        assert!(EligibilityScheme::new(SchemeId::generate(), "X", rule).is_err());
        let zero = EligibilityRule::FamilyQuotientBelow { threshold_euros: 0 };
        assert!(EligibilityScheme::new(SchemeId::generate(), "X", zero).is_err());
        let unnamed = EligibilityScheme::new(SchemeId::generate(), " ", EligibilityRule::Student);
        assert!(unnamed.is_err());
    }

    #[test]
    fn scheme_without_programme_still_reads() {
        let json =
            r#"{"id":"01a2427c-722d-7180-9830-1183f14a93d6","name":"X","rule":{"kind":"student"}}"#;
        let scheme: EligibilityScheme = serde_json::from_str(json).unwrap();
        assert_eq!(scheme.programme, None);
        assert!(!serde_json::to_string(&scheme)
            .unwrap()
            .contains("programme"));
    }

    #[test]
    fn programme_trimmed_and_bounded() {
        let named = scheme(EligibilityRule::Student)
            .with_programme(Some("  Plan numérique 28 "))
            .unwrap();
        assert_eq!(named.programme.as_deref(), Some("Plan numérique 28"));
        let blank = scheme(EligibilityRule::Student).with_programme(Some(" "));
        assert_eq!(blank.unwrap().programme, None);
        let long = "p".repeat(101);
        assert!(scheme(EligibilityRule::Student)
            .with_programme(Some(&long))
            .is_err());
    }

    #[test]
    fn rule_json_is_tagged_by_kind() {
        let rule = EligibilityRule::FamilyQuotientBelow {
            threshold_euros: 700,
        };
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"family_quotient_below","threshold_euros":700}"#
        );
    }
}
