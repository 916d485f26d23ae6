//! The single error type of the documents module.

use filiere_domain::codec::CodecError;
use filiere_domain::prescription::PrescriptionStatus;
use filiere_projections::ProjectionError;
use filiere_store::prescriptions::PrescriptionStoreError;
use filiere_store::StoreError;
use thiserror::Error;

/// Errors raised while gathering or rendering a document.
#[derive(Debug, Error)]
pub enum DocumentError {
    #[error("no device with code {0}; check the label or search the stock")]
    DeviceNotFound(String),

    #[error("invalid donation id '{0}': expected the UUID printed when the batch was imported")]
    InvalidDonationId(String),

    #[error("no donation batch with id {0}; the list of donation batches shows their ids")]
    DonationNotFound(String),

    #[error(
        "donation batch {donation} has {expected} devices but the stock view lists {listed}; \
         wait for the projections to catch up, or rebuild them"
    )]
    ProjectionBehind {
        donation: String,
        expected: u32,
        listed: usize,
    },

    #[error("stream {stream} does not start with a reception event; the log is inconsistent")]
    MalformedStream { stream: String },

    #[error("no prescription with id {0}; `filiere prescription show ID` checks an id")]
    PrescriptionNotFound(String),

    #[error(
        "prescription {prescription} is {status}: a handover sheet exists once its device is \
         handed over; record the handover first"
    )]
    NotHandedOver {
        prescription: String,
        status: PrescriptionStatus,
    },

    #[error(
        "stream {stream} has no handover for prescription {prescription}, which records one; \
         the log is inconsistent"
    )]
    HandoverMissing {
        prescription: String,
        stream: String,
    },

    #[error("event at position {position} cannot be read: {reason}")]
    Event { position: i64, reason: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Projection(#[from] ProjectionError),

    #[error(transparent)]
    Prescription(#[from] PrescriptionStoreError),

    #[error(transparent)]
    Codec(#[from] CodecError),

    #[error("cannot write the CSV file: {0}")]
    Csv(#[from] csv::Error),
}
