//! QR encoding of label URLs.

use qrcode::{Color, EcLevel, QrCode};

use super::error::LabelError;

/// Light modules around the symbol on each side, as the QR standard
/// (ISO/IEC 18004) requires.
pub const QUIET_ZONE_MODULES: usize = 4;

/// Returns the text stored in a label's QR code: the URL in upper case.
///
/// Upper-case letters, digits and `:/.-` fit QR alphanumeric mode, which
/// stores 5.5 bits per character instead of 8, so the symbol needs fewer
/// modules and each module can be printed larger. Host names are case
/// insensitive, so the server must match the path (`/D/CODE`) without case.
pub fn qr_payload(url: &str) -> String {
    url.trim().to_ascii_uppercase()
}

/// A QR symbol as a square grid of modules, without the quiet zone.
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

/// A horizontal run of dark modules: `row`, first `column`, `length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub row: usize,
    pub column: usize,
    pub length: usize,
}

impl QrMatrix {
    /// Encodes `payload` with error correction level Q, which restores up to
    /// 25 % of damaged modules: labels get scratched on devices.
    pub fn encode(payload: &str) -> Result<Self, LabelError> {
        let code =
            QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::Q).map_err(|_| {
                LabelError::UrlTooLong {
                    url: payload.to_string(),
                }
            })?;
        let dark = code
            .to_colors()
            .into_iter()
            .map(|color| color == Color::Dark)
            .collect();
        Ok(Self {
            width: code.width(),
            dark,
        })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Modules per side, quiet zone included.
    pub fn width_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE_MODULES
    }

    /// Returns whether the module at `row`, `column` is dark.
    pub fn is_dark(&self, row: usize, column: usize) -> bool {
        self.dark[row * self.width + column]
    }

    /// Lists the horizontal runs of dark modules, row by row from the top.
    /// Drawing one rectangle per run instead of one per module leaves no
    /// hairline seams between neighbouring modules and keeps the PDF small.
    pub fn runs(&self) -> Vec<Run> {
        let width = self.width();
        let mut runs = Vec::new();
        for row in 0..width {
            let mut column = 0;
            while column < width {
                if !self.is_dark(row, column) {
                    column += 1;
                    continue;
                }
                let start = column;
                while column < width && self.is_dark(row, column) {
                    column += 1;
                }
                runs.push(Run {
                    row,
                    column: start,
                    length: column - start,
                });
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://filiere.example.org/d/7KXB3R9";

    #[test]
    fn payload_is_upper_case() {
        assert_eq!(qr_payload(URL), "HTTPS://FILIERE.EXAMPLE.ORG/D/7KXB3R9");
    }

    #[test]
    fn alphanumeric_payload_uses_version_3() {
        // 37 alphanumeric characters fit version 3 (29 modules) at level Q;
        // byte mode would need version 4.
        let matrix = QrMatrix::encode(&qr_payload(URL)).unwrap();
        assert_eq!(matrix.width(), 29);
        assert_eq!(matrix.width_with_quiet_zone(), 37);
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let matrix = QrMatrix::encode(&qr_payload(URL)).unwrap();
        let runs = matrix.runs();
        let mut covered = vec![false; matrix.width() * matrix.width()];
        for run in &runs {
            assert!(run.length >= 1);
            for column in run.column..run.column + run.length {
                covered[run.row * matrix.width() + column] = true;
            }
        }
        assert_eq!(covered, matrix.dark);
    }

    #[test]
    fn runs_are_maximal() {
        let matrix = QrMatrix::encode(&qr_payload(URL)).unwrap();
        for run in matrix.runs() {
            let end = run.column + run.length;
            assert!(run.column == 0 || !matrix.is_dark(run.row, run.column - 1));
            assert!(end == matrix.width() || !matrix.is_dark(run.row, end));
        }
        // The top row starts with the 7-module finder pattern edge.
        assert_eq!(
            matrix.runs()[0],
            Run {
                row: 0,
                column: 0,
                length: 7
            }
        );
    }

    #[test]
    fn oversized_url_rejected() {
        let url = format!("HTTPS://{}", "X".repeat(5000));
        let error = QrMatrix::encode(&url).err().unwrap().to_string();
        assert!(error.contains("too long"), "{error}");
    }
}
