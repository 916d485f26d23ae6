//! Documents owed to donors: the erasure certificate of one device or of a
//! whole donation batch, and the reuse report of a batch (PDF and CSV).
//!
//! Each document is built in two steps. An async function reads the event
//! log up to its current head and returns a plain struct
//! ([`CertificateSet`], [`ReuseReport`]) that a web page can also show. A
//! synchronous function renders that struct as a French PDF (A4, built-in
//! Helvetica) or as CSV. Every document records the log position and head
//! hash it was computed from, so anyone can recompute it from the log.
//!
//! No donor document carries household data: neither names nor household
//! ids. The handover sheet ([`HandoverSheet`]) is the household's own
//! document: it prints the beneficiary's name while the household's
//! identity is stored, and a blank line to fill in by hand once it is
//! erased.
//!
//! Errors: [`DocumentError`] is the only error type of this module.

mod assemble;
mod certificate;
mod csv_export;
mod error;
mod french;
mod handover;
mod pdf;
mod reuse;
mod source;

pub use assemble::{device_certificate, donation_certificates, reuse_report};
pub use certificate::{
    CertificateSet, ErasureCertificate, ErasureLine, ErasureStatus, EvidenceCheck, EvidenceRef,
    LineStanding, UnitGap,
};
pub use csv_export::reuse_report_csv;
pub use error::DocumentError;
pub use handover::{handover_sheet, HandoverSheet};
pub use pdf::{
    certificate_pdf, handover_sheet_pdf, quarterly_report_pdf, reuse_report_pdf, IssueInfo,
};
pub use reuse::{OutcomeTotal, ReuseItem, ReuseOutcome, ReuseReport};
pub use source::{parse_donation_id, LogSnapshot};
