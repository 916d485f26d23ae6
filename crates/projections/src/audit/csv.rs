//! A minimal RFC 4180 CSV writer: comma separators, CRLF line ends, and
//! double quotes around fields that contain a comma, a quote or a line break.

pub struct CsvWriter {
    text: String,
}

impl CsvWriter {
    pub fn new(header: &[&str]) -> Self {
        let mut writer = CsvWriter {
            text: String::new(),
        };
        writer.row(header);
        writer
    }

    pub fn row(&mut self, fields: &[&str]) {
        let quoted: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        self.text.push_str(&quoted.join(","));
        self.text.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.text
    }
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
