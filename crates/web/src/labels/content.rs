//! Label content, and its checks before anything is drawn.

use std::num::NonZeroUsize;
use std::thread;

use filiere_domain::DeviceCode;

use super::error::LabelError;
use super::qr::{qr_payload, QrMatrix};
use super::text::single_line;

/// Smallest batch worth a thread of its own.
const MIN_LABELS_PER_THREAD: usize = 100;

/// The data printed on one label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelData {
    /// Device code, as [`DeviceCode`] prints it.
    pub code: String,
    /// Address of the device page, ending with `/` and the code.
    pub url: String,
    /// Device category, such as "Ordinateur portable".
    pub category: String,
    /// Make and model, such as "Lenovo ThinkPad T480".
    pub model: String,
    /// Name of the workshop that refurbished the device.
    pub workshop: String,
}

/// A label whose code and URL were checked, with its QR symbol encoded.
pub struct PreparedLabel {
    pub code: String,
    pub payload: String,
    pub category: String,
    pub model: String,
    pub workshop: String,
    pub matrix: QrMatrix,
}

/// Checks every label and encodes its QR symbol.
///
/// Rejects an empty list, an invalid device code, and a URL that does not
/// end with the label's code, because scanning such a label would open the
/// page of another device.
pub fn prepare_labels(labels: &[LabelData]) -> Result<Vec<PreparedLabel>, LabelError> {
    if labels.is_empty() {
        return Err(LabelError::NoLabels);
    }
    // QR encoding dominates the build time (measured at about 0.5 ms per
    // symbol with qrcode 0.14, release build, 2-core machine), so large
    // batches use every core.
    let threads = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(labels.len().div_ceil(MIN_LABELS_PER_THREAD));
    let chunk_len = labels.len().div_ceil(threads);
    thread::scope(|scope| {
        let workers: Vec<_> = labels
            .chunks(chunk_len)
            .enumerate()
            .map(|(chunk, part)| scope.spawn(move || prepare_chunk(chunk * chunk_len, part)))
            .collect();
        let mut prepared = Vec::with_capacity(labels.len());
        for worker in workers {
            match worker.join() {
                Ok(part) => prepared.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(prepared)
    })
}

/// Prepares `labels`, the first of which is at 0-based position `first` of
/// the request.
fn prepare_chunk(first: usize, labels: &[LabelData]) -> Result<Vec<PreparedLabel>, LabelError> {
    labels
        .iter()
        .enumerate()
        .map(|(offset, label)| prepare_label(first + offset + 1, label))
        .collect()
}

/// Checks the label at 1-based position `index` of the request.
fn prepare_label(index: usize, label: &LabelData) -> Result<PreparedLabel, LabelError> {
    let code = DeviceCode::parse_scanned(&label.code).map_err(|error| LabelError::InvalidCode {
        index,
        code: label.code.clone(),
        reason: error.to_string(),
    })?;
    let code = code.as_str().to_string();
    let payload = qr_payload(&label.url);
    if !payload.ends_with(&format!("/{code}")) {
        return Err(LabelError::UrlMismatch {
            index,
            url: label.url.clone(),
            code,
        });
    }
    let matrix = QrMatrix::encode(&payload)?;
    Ok(PreparedLabel {
        code,
        payload,
        category: single_line(&label.category),
        model: single_line(&label.model),
        workshop: single_line(&label.workshop),
        matrix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> LabelData {
        let code = DeviceCode::from_random([7, 20, 3, 11, 2, 9]);
        LabelData {
            code: code.to_string(),
            url: format!("https://filiere.example.org/d/{code}"),
            category: "Ordinateur\nportable".to_string(),
            model: "Dell Latitude 5490".to_string(),
            workshop: "Atelier du Faubourg".to_string(),
        }
    }

    #[test]
    fn valid_label_prepared() {
        let prepared = prepare_labels(&[label()]).unwrap();
        assert_eq!(prepared.len(), 1);
        assert!(prepared[0]
            .payload
            .starts_with("HTTPS://FILIERE.EXAMPLE.ORG/D/"));
        assert_eq!(prepared[0].category, "Ordinateur portable");
    }

    #[test]
    fn empty_list_rejected() {
        let error = prepare_labels(&[]).err().unwrap().to_string();
        assert!(error.contains("no labels"), "{error}");
    }

    #[test]
    fn invalid_code_rejected() {
        let bad = LabelData {
            code: "7KXB3RA".to_string(),
            ..label()
        };
        let error = prepare_labels(&[label(), bad]).err().unwrap().to_string();
        assert!(error.contains("label 2"), "{error}");
        assert!(error.contains("7KXB3RA"), "{error}");
    }

    #[test]
    fn url_of_other_code_rejected() {
        let other = DeviceCode::from_random([1, 2, 3, 4, 5, 6]);
        let bad = LabelData {
            url: format!("https://filiere.example.org/d/{other}"),
            ..label()
        };
        let error = prepare_labels(&[bad]).err().unwrap().to_string();
        assert!(error.contains(other.as_str()), "{error}");
        assert!(error.contains("does not end with"), "{error}");
    }
}
