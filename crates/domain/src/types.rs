//! Value types shared by events and commands. Each enum has a stable
//! snake_case name (used in the event log, the API and the CLI) and a French
//! label for the pages.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Error of parsing an enum value; names the value and the accepted ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} '{value}': expected one of {expected}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $($variant:ident => $snake:literal, $french:literal $(| $alias:literal)*;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Stable name used in the log, the API and the CLI.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $snake,)+
                }
            }

            /// Label shown on French pages and documents.
            pub fn label_fr(&self) -> &'static str {
                match self {
                    $($name::$variant => $french,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            /// Accepts the stable name, the French label or a known alias,
            /// ignoring case, spaces and hyphens.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = fold(s);
                $(
                    if wanted == fold($snake) || wanted == fold($french) $(|| wanted == fold($alias))* {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownValue {
                    kind: $kind,
                    value: s.to_string(),
                    expected: [$($snake),+].join(", "),
                })
            }
        }
    };
}

pub(crate) use named_enum;

/// Lower-cases and drops spaces, hyphens, underscores and French accents so
/// that "Téléphone", "telephone" and "TELEPHONE" compare equal.
pub fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '\''))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

named_enum! {
    /// Kind of equipment, as declared at intake.
    Category, "category" {
        Laptop => "laptop", "Ordinateur portable" | "portable" | "notebook" | "laptops";
        Desktop => "desktop", "Ordinateur fixe" | "fixe" | "tour" | "desktops" | "unité centrale";
        Tablet => "tablet", "Tablette" | "tablets";
        Smartphone => "smartphone", "Smartphone" | "téléphone" | "mobile phone" | "mobile phones" | "phone" | "smartphones";
        Screen => "screen", "Écran" | "monitor" | "monitors" | "display";
        Printer => "printer", "Imprimante" | "printers";
        MultifunctionPrinter => "multifunction_printer", "Imprimante multifonction" | "mfp";
        Other => "other", "Autre";
    }
}

named_enum! {
    /// Who gave the devices. Public bodies give under the free-transfer rule,
    /// which caps the price of a later solidarity sale.
    DonorKind, "donor kind" {
        Company => "company", "Entreprise";
        PublicBody => "public_body", "Collectivité ou administration" | "collectivite" | "public";
        Person => "person", "Particulier";
        Association => "association", "Association";
    }
}

named_enum! {
    /// Result of a step that either succeeded or not.
    Outcome, "outcome" {
        Passed => "passed", "Réussi" | "ok" | "pass" | "success";
        Failed => "failed", "Échoué" | "ko" | "fail" | "failure";
    }
}

named_enum! {
    /// What the diagnosis decides to do with the device.
    Verdict, "verdict" {
        Refurbish => "refurbish", "À reconditionner" | "reconditionner";
        HarvestParts => "harvest_parts", "Pièces détachées" | "parts";
        Recycle => "recycle", "À recycler" | "recycler";
    }
}

named_enum! {
    /// Kind of storage unit found at diagnosis.
    StorageKind, "storage kind" {
        Hdd => "hdd", "Disque dur";
        Ssd => "ssd", "SSD";
        Nvme => "nvme", "NVMe";
        Emmc => "emmc", "eMMC";
        Flash => "flash", "Mémoire flash" | "usb";
        Other => "other", "Autre";
    }
}

named_enum! {
    /// Sanitization category in the sense of NIST SP 800-88.
    ErasureMethod, "erasure method" {
        Clear => "clear", "Effacement logique (Clear)";
        Purge => "purge", "Purge";
        Destroy => "destroy", "Destruction" | "destruction";
    }
}

named_enum! {
    /// Technique used within an erasure method.
    ErasureTechnique, "erasure technique" {
        Overwrite => "overwrite", "Réécriture" | "zero" | "prng";
        BlockErase => "block_erase", "Effacement par blocs" | "secure erase" | "sanitize";
        CryptographicErase => "cryptographic_erase", "Effacement cryptographique" | "crypto";
        Shredding => "shredding", "Broyage" | "shred";
        Degaussing => "degaussing", "Démagnétisation";
        Drilling => "drilling", "Perçage";
        FactoryReset => "factory_reset", "Réinitialisation d'usine" | "reset";
    }
}

named_enum! {
    /// Cosmetic grade of the workshop's published grid. The functional test
    /// result is recorded apart from it.
    Grade, "grade" {
        A => "a", "A : très bon état" | "tres bon";
        B => "b", "B : bon état" | "bon";
        C => "c", "C : traces d'usage visibles" | "correct";
    }
}

named_enum! {
    /// Digital autonomy of the person a device suits.
    Autonomy, "autonomy" {
        Beginner => "beginner", "Débutant";
        Intermediate => "intermediate", "Intermédiaire";
        Autonomous => "autonomous", "Autonome";
    }
}

named_enum! {
    /// Why a device left the workshop without reaching a household.
    WriteOffReason, "write-off reason" {
        Lost => "lost", "Perdu";
        Stolen => "stolen", "Volé";
        Damaged => "damaged", "Endommagé";
        Other => "other", "Autre";
    }
}

impl Category {
    /// Maximum solidarity price in euro cents, all taxes included, for a device
    /// given by a public body under the free-transfer rule (décret of
    /// 7 November 2022). `None` where the decree sets no price, so no such sale
    /// is allowed.
    pub fn solidarity_price_cap_cents(&self) -> Option<i64> {
        match self {
            Category::Laptop => Some(18_000),
            Category::Desktop => Some(15_000),
            Category::Tablet => Some(10_000),
            Category::Smartphone => Some(10_000),
            Category::Screen => Some(3_000),
            Category::Printer => Some(3_000),
            Category::MultifunctionPrinter => Some(17_000),
            Category::Other => None,
        }
    }

    /// Whether a device of this kind holds user data and so needs erasure.
    pub fn holds_data(&self) -> bool {
        matches!(
            self,
            Category::Laptop | Category::Desktop | Category::Tablet | Category::Smartphone
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_accepts_french_and_aliases() {
        assert_eq!(
            "Téléphone".parse::<Category>().unwrap(),
            Category::Smartphone
        );
        assert_eq!(
            "ordinateur portable".parse::<Category>().unwrap(),
            Category::Laptop
        );
        assert_eq!("Laptops".parse::<Category>().unwrap(), Category::Laptop);
        assert_eq!(
            "multifunction-printer".parse::<Category>().unwrap(),
            Category::MultifunctionPrinter
        );
    }

    #[test]
    fn unknown_value_names_value_and_choices() {
        let error = "fridge".parse::<Category>().unwrap_err().to_string();
        assert!(error.contains("'fridge'"), "{error}");
        assert!(error.contains("laptop"), "{error}");
    }

    #[test]
    fn serde_uses_snake_case_names() {
        let json = serde_json::to_string(&ErasureTechnique::CryptographicErase).unwrap();
        assert_eq!(json, "\"cryptographic_erase\"");
    }
}
