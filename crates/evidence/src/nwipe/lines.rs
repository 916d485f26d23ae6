//! Splits an nwipe or ShredOS log into log entries and summary-table rows.
//!
//! Entry formats, oldest first:
//! - `[2016/08/18 15:41:48] nwipe: notice: message`
//! - `[2020/06/26 22:26:03] notice: message`
//! - `[2024/08/13 14:23:36]    info: message`, with the level right-aligned.
//!
//! ShredOS wraps long entries onto lines indented by 31 spaces, and some logs
//! contain a line that continues the previous entry after a stray line break
//! (` on /dev/sda`). Both are joined to the entry they continue.

/// Level names that nwipe writes after the timestamp.
const LEVELS: &[&str] = &[
    "debug", "info", "notice", "warning", "error", "fatal", "sanity",
];

/// Indent of the wrapped part of a long ShredOS entry.
const WRAP_INDENT: &str = "                               ";

/// Width of the console that some logs were copied from. A line of exactly
/// this many characters may have lost its end.
const CONSOLE_WIDTH: usize = 80;

/// One log entry, continuation lines included.
#[derive(Debug)]
pub(super) struct Entry {
    /// Line number (1-based) where the entry starts.
    pub line: usize,
    /// Timestamp as written, such as "2024/08/13 14:23:36".
    pub time: String,
    /// Level name such as "notice". It is `None` for timestamped lines without
    /// a level, such as the "Total Throughput" line of the summary.
    pub level: Option<String>,
    pub message: String,
    /// Whether the entry's last line is exactly [`CONSOLE_WIDTH`] characters
    /// long, so that its last field may be cut.
    pub maybe_truncated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Table {
    ErrorSummary,
    DriveStatus,
}

/// One row of a summary table, such as `  loop44 | Erased |  31 MB/s | ...`.
#[derive(Debug)]
pub(super) struct TableRow {
    pub line: usize,
    pub table: Table,
    /// Device name without "/dev/", as nwipe prints it.
    pub device: String,
    /// Cells after the device name, trimmed.
    pub cells: Vec<String>,
}

#[derive(Debug)]
pub(super) enum Record {
    Entry(Entry),
    Row(TableRow),
}

/// Splits `text` into records, skipping lines that are neither entries nor
/// table rows (blank lines, table borders and headers).
pub(super) fn split_records(text: &str) -> Vec<Record> {
    let mut records = Vec::new();
    let mut table = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let number = index + 1;
        if let Some(entry) = parse_entry(number, line) {
            records.push(Record::Entry(entry));
        } else if let Some(border) = table_border(line) {
            table = border;
        } else if let Some(row) = table.and_then(|table| parse_row(number, table, line)) {
            records.push(Record::Row(row));
        } else if line.starts_with(' ') && !line.trim().is_empty() {
            append_continuation(&mut records, line);
        }
    }
    for record in &mut records {
        if let Record::Entry(entry) = record {
            entry.message.truncate(entry.message.trim_end().len());
        }
    }
    records
}

fn parse_entry(number: usize, line: &str) -> Option<Entry> {
    let (time, rest) = split_timestamp(line)?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("nwipe:").map_or(rest, str::trim_start);
    let (level, message) = match rest.split_once(':') {
        Some((word, message)) if LEVELS.contains(&word) => (Some(word.to_string()), message),
        _ => (None, rest),
    };
    Some(Entry {
        line: number,
        time: time.to_string(),
        level,
        message: message.trim_start().to_string(),
        maybe_truncated: line.chars().count() == CONSOLE_WIDTH,
    })
}

/// Splits `[YYYY/MM/DD HH:MM:SS] rest` into the timestamp and the rest.
fn split_timestamp(line: &str) -> Option<(&str, &str)> {
    let inner = line.strip_prefix('[')?;
    let (time, rest) = inner.split_once(']')?;
    let shape_ok = time.len() == 19
        && time.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'/',
            10 => byte == b' ',
            13 | 16 => byte == b':',
            _ => byte.is_ascii_digit(),
        });
    shape_ok.then_some((time, rest))
}

/// Returns `Some(table)` for a line that opens or closes a summary table,
/// such as `***** Drive Status *****` or a line of asterisks.
fn table_border(line: &str) -> Option<Option<Table>> {
    let trimmed = line.trim();
    if !trimmed.starts_with('*') {
        return None;
    }
    if trimmed.contains("Error Summary") {
        Some(Some(Table::ErrorSummary))
    } else if trimmed.contains("Drive Status") {
        Some(Some(Table::DriveStatus))
    } else if trimmed.chars().all(|c| c == '*') {
        Some(None)
    } else {
        None
    }
}

fn parse_row(number: usize, table: Table, line: &str) -> Option<TableRow> {
    if !line.contains('|') {
        return None;
    }
    let mut cells = line.split('|').map(str::trim);
    // A failed device's row starts with "!", and so does the header row.
    let device = cells.next()?.trim_start_matches('!').trim();
    if device.is_empty() || device == "Device" {
        return None;
    }
    Some(TableRow {
        line: number,
        table,
        device: device.to_string(),
        cells: cells.map(str::to_string).collect(),
    })
}

/// Appends a line that continues the previous entry: a ShredOS wrapped line
/// loses its indent, any other line is kept as it is.
fn append_continuation(records: &mut [Record], line: &str) {
    let Some(Record::Entry(entry)) = records.last_mut() else {
        return;
    };
    let text = line.strip_prefix(WRAP_INDENT).unwrap_or(line);
    entry.message.push_str(text.trim_end_matches(' '));
    entry.maybe_truncated = line.chars().count() == CONSOLE_WIDTH;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<Entry> {
        split_records(text)
            .into_iter()
            .filter_map(|record| match record {
                Record::Entry(entry) => Some(entry),
                Record::Row(_) => None,
            })
            .collect()
    }

    #[test]
    fn old_format_prefix_removed() {
        let entries = entries("[2016/08/18 15:41:48] nwipe: notice: Blanking device '/dev/sdb'.\n");
        assert_eq!(entries[0].level.as_deref(), Some("notice"));
        assert_eq!(entries[0].message, "Blanking device '/dev/sdb'.");
    }

    #[test]
    fn wrapped_line_joined() {
        let text = format!("[2024/08/13 14:23:36]    info: Linux (Build\n{WRAP_INDENT}root) 12\n");
        let entries = entries(&text);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].message, "Linux (Buildroot) 12");
    }

    #[test]
    fn stray_line_keeps_space() {
        let text = "[2025/07/29 17:31:36]    info: hpa is disabled\n on /dev/sda\n";
        assert_eq!(entries(text)[0].message, "hpa is disabled on /dev/sda");
    }

    #[test]
    fn table_rows_need_a_table() {
        let text = "  sda | Erased |\n\
                    ***** Drive Status *****\n\
                    !   Device | Status |\n\
                    !      sdb |-FAILED-| 1 MB/s\n\
                    ****\n";
        let rows: Vec<TableRow> = split_records(text)
            .into_iter()
            .filter_map(|record| match record {
                Record::Row(row) => Some(row),
                Record::Entry(_) => None,
            })
            .collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].device, "sdb");
        assert_eq!(rows[0].cells[0], "-FAILED-");
    }
}
