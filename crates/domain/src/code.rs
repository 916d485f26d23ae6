//! Short device codes printed on QR labels and typed by handheld scanners.
//!
//! A code is six characters drawn from [`ALPHABET`] plus one check character
//! from the same alphabet. The alphabet leaves out A, M, Q, W and
//! Z, which a scanner set to US QWERTY types as other keys on a French AZERTY
//! computer, and I, L, O and U, which people confuse with digits or V. With 27
//! symbols, six characters give 387 million codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Symbols of a device code, in the order used by the check character.
pub const ALPHABET: &str = "0123456789BCDEFGHJKNPRSTVXY";

/// Characters before the check character.
pub const PAYLOAD_LEN: usize = 6;

/// What an AZERTY keyboard shows when a QWERTY scanner sends the digit row.
const AZERTY_DIGITS: [(char, char); 10] = [
    ('&', '1'),
    ('é', '2'),
    ('"', '3'),
    ('\'', '4'),
    ('(', '5'),
    ('-', '6'),
    ('è', '7'),
    ('_', '8'),
    ('ç', '9'),
    ('à', '0'),
];

/// A valid device code: right length, right alphabet, right check character.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceCode(String);

impl DeviceCode {
    /// Draws a new random code. `random` supplies one index per payload
    /// character; each index is reduced modulo the alphabet size.
    pub fn from_random(random: [u32; PAYLOAD_LEN]) -> Self {
        let symbols: Vec<char> = ALPHABET.chars().collect();
        let mut code: String = random
            .iter()
            .map(|r| symbols[(*r as usize) % symbols.len()])
            .collect();
        code.push(check_character(&code));
        Self(code)
    }

    /// Parses a code typed by a person or a keyboard-wedge scanner.
    ///
    /// Accepts lower case, surrounding spaces, the AZERTY form of the digit
    /// row, and a whole URL: only the part after the last `/` (or `!`, which
    /// is what AZERTY shows for `/`) is read.
    pub fn parse_scanned(input: &str) -> Result<Self, DomainError> {
        let tail = input.trim().rsplit(['/', '!']).next().unwrap_or_default();
        let normalised: String = tail
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| {
                AZERTY_DIGITS
                    .iter()
                    .find(|(typed, _)| *typed == c)
                    .map_or(c.to_ascii_uppercase(), |(_, digit)| *digit)
            })
            .collect();
        Self::parse_exact(&normalised).map_err(|reason| DomainError::InvalidCode {
            input: input.trim().to_string(),
            reason,
        })
    }

    fn parse_exact(code: &str) -> Result<Self, String> {
        let length = code.chars().count();
        if length != PAYLOAD_LEN + 1 {
            return Err(format!(
                "a device code has {} characters, this one has {length}",
                PAYLOAD_LEN + 1
            ));
        }
        if let Some(bad) = code.chars().find(|c| !ALPHABET.contains(*c)) {
            return Err(format!(
                "'{bad}' is not used in device codes (digits and the letters {})",
                &ALPHABET[10..]
            ));
        }
        let (payload, check) = code.split_at(PAYLOAD_LEN);
        let expected = check_character(payload);
        if !check.starts_with(expected) {
            return Err(
                "the check character (last one) does not match: a character was mistyped or two were swapped"
                    .to_string(),
            );
        }
        Ok(Self(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Computes the check character of `payload` over [`ALPHABET`]: the symbol
/// that makes the weighted sum zero modulo 27, with weights 2 and 1
/// alternating from the right. Both weights and their difference are prime
/// to 27, so every single wrong character and every swap of two neighbours
/// changes the sum.
fn check_character(payload: &str) -> char {
    let symbols: Vec<char> = ALPHABET.chars().collect();
    let n = symbols.len();
    let sum: usize = payload
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let value = symbols.iter().position(|s| *s == c).unwrap_or(0);
            if i % 2 == 0 {
                value * 2
            } else {
                value
            }
        })
        .sum();
    symbols[(n - sum % n) % n]
}

impl fmt::Display for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DeviceCode {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_scanned(s)
    }
}

impl TryFrom<String> for DeviceCode {
    type Error = DomainError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_scanned(&value)
    }
}

impl From<DeviceCode> for String {
    fn from(code: DeviceCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> DeviceCode {
        DeviceCode::from_random([7, 20, 3, 11, 2, 9])
    }

    #[test]
    fn generated_code_parses_back() {
        let code = sample();
        assert_eq!(code.as_str().len(), 7);
        assert_eq!(DeviceCode::parse_scanned(code.as_str()).unwrap(), code);
    }

    #[test]
    fn lower_case_and_spaces_accepted() {
        let code = sample();
        let typed = format!("  {} ", code.as_str().to_lowercase());
        assert_eq!(DeviceCode::parse_scanned(&typed).unwrap(), code);
    }

    #[test]
    fn azerty_digits_mapped_back() {
        let code = DeviceCode::from_random([7, 1, 3, 9, 2, 0]);
        let azerty: String = code
            .as_str()
            .chars()
            .map(|c| {
                AZERTY_DIGITS
                    .iter()
                    .find(|(_, digit)| *digit == c)
                    .map_or(c, |(typed, _)| *typed)
            })
            .collect();
        assert_ne!(azerty, code.as_str());
        assert_eq!(DeviceCode::parse_scanned(&azerty).unwrap(), code);
    }

    #[test]
    fn azerty_mistyped_url_finds_code() {
        // "https://x.fr/d/<code>" typed by a QWERTY scanner on AZERTY.
        let code = DeviceCode::from_random([7, 11, 3, 20, 9, 4]);
        let typed_code: String = code
            .as_str()
            .chars()
            .map(|c| match c {
                '7' => 'è',
                '3' => '"',
                '9' => 'ç',
                '4' => '\'',
                other => other,
            })
            .collect();
        let url = format!("httpsM!!x:fr!d!{typed_code}");
        assert_eq!(DeviceCode::parse_scanned(&url).unwrap(), code);
    }

    #[test]
    fn url_path_is_stripped() {
        let code = sample();
        let url = format!("HTTPS://ASSO.EXAMPLE.FR/D/{code}");
        assert_eq!(DeviceCode::parse_scanned(&url).unwrap(), code);
    }

    #[test]
    fn wrong_check_character_rejected() {
        let code = sample();
        let mut chars: Vec<char> = code.as_str().chars().collect();
        chars[6] = if chars[6] == 'B' { 'C' } else { 'B' };
        let typed: String = chars.into_iter().collect();
        let error = DeviceCode::parse_scanned(&typed).unwrap_err().to_string();
        assert!(error.contains(&typed), "{error}");
        assert!(error.contains("check character"), "{error}");
    }

    #[test]
    fn excluded_letters_rejected() {
        let error = DeviceCode::parse_scanned("7KXB3RA")
            .unwrap_err()
            .to_string();
        assert!(error.contains("'A'"), "{error}");
    }

    #[test]
    fn wrong_length_rejected() {
        let error = DeviceCode::parse_scanned("7KX").unwrap_err().to_string();
        assert!(error.contains("7 characters"), "{error}");
    }

    proptest! {
        #[test]
        fn any_single_substitution_detected(
            random in proptest::array::uniform6(0u32..27),
            position in 0usize..7,
            shift in 1usize..27,
        ) {
            let code = DeviceCode::from_random(random);
            let symbols: Vec<char> = ALPHABET.chars().collect();
            let mut chars: Vec<char> = code.as_str().chars().collect();
            let index = symbols.iter().position(|s| *s == chars[position]).unwrap();
            chars[position] = symbols[(index + shift) % symbols.len()];
            let typed: String = chars.into_iter().collect();
            prop_assert!(DeviceCode::parse_scanned(&typed).is_err());
        }

        #[test]
        fn any_neighbour_swap_detected(
            random in proptest::array::uniform6(0u32..27),
            position in 0usize..6,
        ) {
            let code = DeviceCode::from_random(random);
            let mut chars: Vec<char> = code.as_str().chars().collect();
            prop_assume!(chars[position] != chars[position + 1]);
            chars.swap(position, position + 1);
            let typed: String = chars.into_iter().collect();
            prop_assert!(DeviceCode::parse_scanned(&typed).is_err());
        }
    }
}
