//! Serial numbers as identities. Firmware and spreadsheets produce values
//! that look like serials but identify nothing; those must never be used to
//! match or deduplicate devices.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::types::fold;

/// Values that BIOS vendors, imaging tools and people type where the real
/// serial is missing, compared after [`fold`].
const PLACEHOLDERS: &[&str] = &[
    "systemserialnumber",
    "tobefilledbyo.e.m.",
    "tobefilledbyoem",
    "defaultstring",
    "notspecified",
    "notapplicable",
    "chassisserialnumber",
    "baseboardserialnumber",
    "serialnumber",
    "none",
    "null",
    "n/a",
    "na",
    "unknown",
    "invalid",
    "oem",
    "123456789",
    "1234567890",
    "0123456789",
    "sn123456789abc",
    "xxxxxxxxxxxx",
];

/// A serial number that identifies one device or one storage unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SerialNumber(String);

impl SerialNumber {
    /// Reads a raw serial. Returns `Ok(None)` for an empty value or a known
    /// placeholder, and an error for a value a spreadsheet rewrote in
    /// scientific notation (its digits are lost).
    pub fn parse(raw: &str) -> Result<Option<Self>, DomainError> {
        let trimmed = raw.trim().trim_matches('"').trim();
        if is_placeholder(trimmed) {
            return Ok(None);
        }
        if is_scientific_notation(trimmed) {
            return Err(DomainError::InvalidField {
                field: "serial",
                value: raw.to_string(),
                reason: "a spreadsheet rewrote this serial in scientific notation and its digits \
                         are lost; export the column as text, or leave it empty"
                    .to_string(),
            });
        }
        Ok(Some(Self(trimmed.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Form used to detect duplicates: upper case, no spaces or dashes.
    pub fn match_key(&self) -> String {
        self.0
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect()
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `value` is empty, a vendor placeholder, or one symbol repeated
/// (such as "0", "00000000" or "FFFFFFFF").
pub fn is_placeholder(value: &str) -> bool {
    let folded = fold(value);
    if folded.is_empty() || PLACEHOLDERS.contains(&folded.as_str()) {
        return true;
    }
    let mut chars = folded.chars();
    let first = chars.next();
    chars.all(|c| Some(c) == first)
}

/// Whether `value` looks like Excel's rendering of a long number, such as
/// "6.37702E+15".
fn is_scientific_notation(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    let Some((mantissa, exponent)) = upper.split_once("E+") else {
        return false;
    };
    let mantissa_ok = !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().filter(|c| *c == '.').count() <= 1;
    let exponent_ok = !exponent.is_empty() && exponent.chars().all(|c| c.is_ascii_digit());
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_not_identities() {
        for raw in [
            "System Serial Number",
            "To Be Filled By O.E.M.",
            "To be filled by O.E.M.",
            "0",
            "123456789",
            "SN 123456789ABC",
            "  ",
            "00000000",
            "Default string",
        ] {
            assert_eq!(SerialNumber::parse(raw).unwrap(), None, "{raw}");
        }
    }

    #[test]
    fn real_serials_kept() {
        for raw in [
            "FJBQVZ1",
            "CZC0408YPV",
            "LXAZ70X0669112B8DB1601",
            "9RK1XXXX",
        ] {
            let serial = SerialNumber::parse(raw).unwrap().unwrap();
            assert_eq!(serial.as_str(), raw);
        }
    }

    #[test]
    fn excel_mangled_serial_rejected() {
        let error = SerialNumber::parse("6.37702E+15").unwrap_err().to_string();
        assert!(error.contains("6.37702E+15"), "{error}");
        assert!(error.contains("scientific notation"), "{error}");
    }

    #[test]
    fn match_key_ignores_case_and_dashes() {
        let a = SerialNumber::parse("czc-0408 ypv").unwrap().unwrap();
        let b = SerialNumber::parse("CZC0408YPV").unwrap().unwrap();
        assert_eq!(a.match_key(), b.match_key());
    }
}
