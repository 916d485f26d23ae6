//! French wording shared by the PDF and CSV documents, and the reduction of
//! text to the characters that the PDF's built-in fonts can show.

use chrono::{DateTime, NaiveDate, Utc};
use filiere_domain::types::{ErasureMethod, Outcome, StorageKind};

/// Characters of Windows-1252 (the PDF WinAnsiEncoding of built-in fonts)
/// in its range 0x80..=0x9F. The ranges 0x20..=0x7E and 0xA0..=0xFF are
/// the same as in Unicode.
const WIN_ANSI_EXTRA: &[char] = &[
    '€', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 'Ž', '‘', '’', '“', '”', '•', '–',
    '—', '˜', '™', 'š', '›', 'œ', 'ž', 'Ÿ',
];

/// French date, such as 07/02/2025.
pub(super) fn date_fr(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// French date and time in UTC, such as 07/02/2025 14:05 UTC.
pub(super) fn datetime_fr(time: DateTime<Utc>) -> String {
    time.format("%d/%m/%Y %H:%M UTC").to_string()
}

/// Percentage with one decimal and a decimal comma, such as 33,3 %.
pub(super) fn percent_fr(value: f64) -> String {
    format!("{value:.1} %").replace('.', ",")
}

/// NIST SP 800-88 name of the sanitization category.
pub(super) fn nist_category(method: ErasureMethod) -> &'static str {
    match method {
        ErasureMethod::Clear => "Clear",
        ErasureMethod::Purge => "Purge",
        ErasureMethod::Destroy => "Destroy",
    }
}

/// Short media type of a storage unit, or a dash when no diagnosis lists it.
pub(super) fn media_label(kind: Option<StorageKind>) -> &'static str {
    match kind {
        Some(StorageKind::Hdd) => "HDD",
        Some(StorageKind::Ssd) => "SSD",
        Some(StorageKind::Nvme) => "NVMe",
        Some(StorageKind::Emmc) => "eMMC",
        Some(StorageKind::Flash) => "Flash",
        Some(StorageKind::Other) => "Autre",
        None => "non relevé",
    }
}

pub(super) fn yes_no(value: bool) -> &'static str {
    if value {
        "oui"
    } else {
        "non"
    }
}

pub(super) fn result_fr(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "réussi",
        Outcome::Failed => "échoué",
    }
}

/// Returns `text` with every character the built-in PDF fonts can show:
/// white space becomes a plain space, common Unicode punctuation outside
/// Windows-1252 becomes its nearest equivalent, and anything else becomes
/// '?', which printpdf would write anyway.
pub(super) fn win_ansi_safe(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' | '\u{A0}'..='\u{FF}' => safe.push(c),
            c if WIN_ANSI_EXTRA.contains(&c) => safe.push(c),
            // Keeps the no-break property of narrow and figure spaces.
            '\u{202F}' | '\u{2007}' => safe.push('\u{A0}'),
            c if c.is_whitespace() => safe.push(' '),
            '\u{2010}'..='\u{2012}' | '\u{2212}' => safe.push('-'),
            '\u{2032}' | '\u{02BC}' => safe.push('\''),
            '\u{2033}' => safe.push('"'),
            '\u{2264}' => safe.push_str("<="),
            '\u{2265}' => safe.push_str(">="),
            _ => safe.push('?'),
        }
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win_ansi_keeps_french_text() {
        let text = "Œuvre d’un cœur « généreux » — 12 € … façade";
        assert_eq!(win_ansi_safe(text), text);
    }

    #[test]
    fn win_ansi_replaces_other_characters() {
        assert_eq!(win_ansi_safe("25\u{202F}%"), "25\u{A0}%");
        assert_eq!(win_ansi_safe("≥ 2"), ">= 2");
        assert_eq!(win_ansi_safe("a\u{2011}b\tc\nd"), "a-b c d");
        assert_eq!(win_ansi_safe("Ключ 🔑"), "???? ?");
    }

    #[test]
    fn percent_uses_decimal_comma() {
        assert_eq!(percent_fr(100.0 / 3.0), "33,3 %");
        assert_eq!(percent_fr(50.0), "50,0 %");
    }

    #[test]
    fn dates_in_french_order() {
        let date = NaiveDate::from_ymd_opt(2025, 2, 7).unwrap();
        assert_eq!(date_fr(date), "07/02/2025");
        let time = date.and_hms_opt(14, 5, 0).unwrap().and_utc();
        assert_eq!(datetime_fr(time), "07/02/2025 14:05 UTC");
    }
}
