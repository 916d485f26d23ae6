//! Recognising which tool wrote a file, from its content alone (file names
//! are whatever the person saved them as).

use crate::workbench::WorkbenchSnapshot;
use crate::{
    lshw, nwipe, smartctl, workbench, DiskHealth, ErasureLog, EvidenceError, EvidenceErrorKind,
    EvidenceKind, HardwareReport,
};

/// A parsed evidence file.
#[derive(Clone, Debug, PartialEq)]
pub enum ParsedEvidence {
    Hardware(HardwareReport),
    Health(DiskHealth),
    Erasure(ErasureLog),
    Workbench(WorkbenchSnapshot),
}

/// Guesses the kind of a file from its content. Workbench snapshots embed
/// smartctl and lshw output, so they are recognised first, by the markers
/// their three formats carry; then smartctl JSON by its own keys, lshw JSON
/// by its `"class"` nodes, and nwipe or ShredOS logs by their banner.
pub fn detect(bytes: &[u8]) -> Option<EvidenceKind> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let first_line = trimmed.lines().next().unwrap_or_default();
    let json =
        trimmed.starts_with('{') || (trimmed.starts_with('[') && !is_nwipe_log_line(first_line));
    if json {
        let workbench = text.contains("\"devices:Snapshot\"")
            || text.contains("\"Workbench\"")
            || (text.contains("\"components\"") && text.contains("\"closed\""));
        let smartctl = [
            "\"smartctl\"",
            "\"ata_smart_attributes\"",
            "\"nvme_smart_health_information_log\"",
        ]
        .iter()
        .any(|key| text.contains(key));
        return if workbench {
            Some(EvidenceKind::Workbench)
        } else if smartctl {
            Some(EvidenceKind::Smartctl)
        } else if text.contains("\"class\"") {
            Some(EvidenceKind::Lshw)
        } else {
            None
        };
    }
    if trimmed.starts_with("smartctl ") {
        return Some(EvidenceKind::Smartctl);
    }
    let head: String = text
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    let nwipe_line = head.lines().any(is_nwipe_log_line);
    if nwipe_line || head.contains("nwipe") || head.contains("shredos") {
        return Some(EvidenceKind::Nwipe);
    }
    None
}

/// Whether a line starts like an nwipe log line: `[YYYY/MM/DD HH:MM:SS]`.
fn is_nwipe_log_line(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 21
        && bytes[0] == b'['
        && bytes[5] == b'/'
        && bytes[8] == b'/'
        && bytes[20] == b']'
        && bytes[1..5].iter().all(u8::is_ascii_digit)
}

/// Detects and parses a file; the error names the file.
pub fn parse_evidence(
    file_name: &str,
    bytes: &[u8],
) -> Result<(EvidenceKind, ParsedEvidence), EvidenceError> {
    if String::from_utf8_lossy(bytes)
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .is_empty()
    {
        return Err(EvidenceError::new(
            file_name,
            "the file is empty; export the tool's report again and import the whole file",
        )
        .with_kind(EvidenceErrorKind::Empty));
    }
    let kind = detect(bytes).ok_or_else(|| {
        EvidenceError::new(
            file_name,
            "not a file Filière reads: expected `lshw -json` output, `smartctl --json` output, \
             an nwipe or ShredOS log, or an eReuse Workbench snapshot",
        )
        .with_kind(EvidenceErrorKind::NotEvidence)
    })?;
    let in_file = |error: EvidenceError| EvidenceError {
        location: format!("{file_name}, {}", error.location),
        ..error
    };
    let parsed = match kind {
        EvidenceKind::Lshw => ParsedEvidence::Hardware(lshw::parse_lshw(bytes).map_err(in_file)?),
        EvidenceKind::Smartctl => {
            ParsedEvidence::Health(smartctl::parse_smartctl(bytes).map_err(in_file)?)
        }
        EvidenceKind::Nwipe => ParsedEvidence::Erasure(nwipe::parse_nwipe(bytes).map_err(in_file)?),
        EvidenceKind::Workbench => {
            ParsedEvidence::Workbench(workbench::parse_workbench(bytes).map_err(in_file)?)
        }
    };
    Ok((kind, parsed))
}

impl EvidenceKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EvidenceKind::Lshw => "lshw",
            EvidenceKind::Smartctl => "smartctl",
            EvidenceKind::Nwipe => "nwipe",
            EvidenceKind::Workbench => "workbench",
        }
    }
}
