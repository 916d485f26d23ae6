//! Command handling for prescriptions: load the prescription from its
//! stream, let the domain decide, append the result with the version it was
//! decided on. Steps that also change a device (reserve, release, handover,
//! loan extension, return, conversion) append to both streams in one atomic
//! batch; see [`devices`].

mod devices;
mod matching;

use filiere_domain::codec::CodecError;
use filiere_domain::prescription::codec::{decode_prescription_event, encode_prescription_event};
use filiere_domain::prescription::{
    NewPrescription, Prescription, PrescriptionCommand, PrescriptionError, PrescriptionEvent,
    SchemeId,
};
use filiere_domain::{Device, DeviceStatus, DomainError, HouseholdId, PrescriptionId};

use crate::workshop::{CommandContext, Workshop, WorkshopError};
use crate::{
    AppendBatch, AppendResult, ExpectedVersion, NewEvent, RecordedEvent, StoreError, StreamAppend,
};

/// Error of handling a prescription, a household record or an eligibility
/// scheme. No message contains a household's identity.
#[derive(Debug, thiserror::Error)]
pub enum PrescriptionStoreError {
    #[error(transparent)]
    Prescription(#[from] PrescriptionError),
    /// A device rule rejected the device side of a step.
    #[error(transparent)]
    Device(#[from] DomainError),
    #[error("no prescription with id {0}")]
    PrescriptionNotFound(PrescriptionId),
    #[error("no device with code {0}")]
    DeviceNotFound(String),
    #[error("no household with id {0}; record the household first")]
    HouseholdNotFound(HouseholdId),
    #[error("household {0} was erased; record the household again to issue a new prescription")]
    HouseholdErased(HouseholdId),
    #[error("no eligibility scheme with id or name '{0}'")]
    SchemeNotFound(String),
    #[error("an eligibility scheme named '{0}' already exists; choose another name")]
    DuplicateScheme(String),
    #[error(
        "device {device} is already reserved for another household; choose another device, \
         or release that reservation first"
    )]
    AlreadyReserved { device: String },
    /// The loan ended on the device's own stream (returned, converted or
    /// handed to another household), so the prescription may not extend it.
    #[error(
        "device {device} is no longer lent to this prescription's household (it is {status}); \
         record its return or its conversion to a donation on the prescription instead of an \
         extension"
    )]
    LoanEndedOnDevice {
        device: String,
        status: DeviceStatus,
    },
    #[error("invalid {field}: {reason}")]
    InvalidIdentity { field: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl PrescriptionStoreError {
    /// Returns whether another writer changed a stream meanwhile, so that reloading
    /// and retrying may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, PrescriptionStoreError::Store(error) if error.is_conflict())
    }
}

/// Converts the errors of loading a device, which are store, codec or
/// device-rule errors.
impl From<WorkshopError> for PrescriptionStoreError {
    fn from(error: WorkshopError) -> Self {
        match error {
            WorkshopError::Store(error) => PrescriptionStoreError::Store(error),
            WorkshopError::Codec(error) => PrescriptionStoreError::Codec(error),
            WorkshopError::Domain(error) => PrescriptionStoreError::Device(error),
            WorkshopError::DeviceNotFound(code) => PrescriptionStoreError::DeviceNotFound(code),
            // Loading a device never returns the other variants, which come
            // from recording donations and evidence.
            other => PrescriptionStoreError::Store(StoreError::Corrupt {
                position: 0,
                reason: other.to_string(),
            }),
        }
    }
}

/// Result of a prescription step: the new state of the prescription, and
/// of the device when the step changed one.
#[derive(Clone, Debug)]
pub struct PrescriptionOutcome {
    pub prescription: Prescription,
    pub device: Option<Device>,
    pub append: AppendResult,
}

impl Workshop {
    /// Loads a prescription by id, `None` when it does not exist.
    pub async fn load_prescription(
        &self,
        id: PrescriptionId,
    ) -> Result<Option<Prescription>, PrescriptionStoreError> {
        let events: Vec<PrescriptionEvent> = self
            .prescription_events(id)
            .await?
            .into_iter()
            .map(|(_, event)| event)
            .collect();
        Ok(Prescription::from_events(&events))
    }

    /// Loads every event of a prescription, decoded, with its position and
    /// time.
    pub async fn prescription_events(
        &self,
        id: PrescriptionId,
    ) -> Result<Vec<(RecordedEvent, PrescriptionEvent)>, PrescriptionStoreError> {
        let recorded = self.store().read_stream(&id.stream_id()).await?;
        recorded
            .into_iter()
            .map(|event| {
                let decoded = decode_prescription_event(
                    &event.event_type,
                    event.schema_version,
                    &event.payload,
                )?;
                Ok((event, decoded))
            })
            .collect()
    }

    pub(crate) async fn require_prescription(
        &self,
        id: PrescriptionId,
    ) -> Result<Prescription, PrescriptionStoreError> {
        self.load_prescription(id)
            .await?
            .ok_or(PrescriptionStoreError::PrescriptionNotFound(id))
    }

    /// Issues a prescription for a recorded, not erased household under the
    /// scheme `scheme_id`. Fails when the household is not eligible.
    pub async fn issue_prescription(
        &self,
        new: NewPrescription,
        scheme_id: SchemeId,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let household_id = new.household_id;
        let household = self
            .store()
            .household(household_id)
            .await?
            .ok_or(PrescriptionStoreError::HouseholdNotFound(household_id))?;
        if household.erased_at.is_some() {
            return Err(PrescriptionStoreError::HouseholdErased(household_id));
        }
        let scheme = self.store().scheme(&scheme_id.to_string()).await?;
        let id = new.prescription_id;
        let events = Prescription::issue(new, &scheme, context.now.date_naive())?;
        let append = self
            .store()
            .append(batch(
                context,
                vec![prescription_stream(id, ExpectedVersion::NoStream, &events)],
            ))
            .await?;
        let prescription = self.require_prescription(id).await?;
        Ok(PrescriptionOutcome {
            prescription,
            device: None,
            append,
        })
    }

    /// Decides `command` on a prescription and records the events. Steps
    /// that also concern the device go through the two-stream handling, so
    /// the device's stream always agrees with the prescription's. A
    /// concurrent change of either stream makes this fail with a conflict,
    /// and nothing is recorded.
    pub async fn record_prescription(
        &self,
        id: PrescriptionId,
        command: PrescriptionCommand,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        match command {
            PrescriptionCommand::Reserve { device, .. } => {
                self.reserve_device(id, &device.code, context).await
            }
            PrescriptionCommand::Release { reason } => {
                self.release_reservation(id, reason, context).await
            }
            PrescriptionCommand::HandOver { mode, .. } => self.hand_over(id, mode, context).await,
            PrescriptionCommand::ExtendLoan { due_on } => {
                self.extend_loan(id, due_on, context).await
            }
            PrescriptionCommand::Return { notes } => self.return_device(id, notes, context).await,
            PrescriptionCommand::ConvertToDonation => self.convert_to_donation(id, context).await,
            other => self.record_on_prescription(id, other, context).await,
        }
    }

    /// Records a step that changes the prescription's stream only.
    async fn record_on_prescription(
        &self,
        id: PrescriptionId,
        command: PrescriptionCommand,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let prescription = self.require_prescription(id).await?;
        let events = prescription.decide(command, context.now.date_naive())?;
        let expected = ExpectedVersion::Exact(prescription.version as i64);
        let append = self
            .store()
            .append(batch(
                context,
                vec![prescription_stream(id, expected, &events)],
            ))
            .await?;
        Ok(PrescriptionOutcome {
            prescription: self.require_prescription(id).await?,
            device: None,
            append,
        })
    }
}

pub(crate) fn prescription_stream(
    id: PrescriptionId,
    expected: ExpectedVersion,
    events: &[PrescriptionEvent],
) -> StreamAppend {
    StreamAppend {
        stream_id: id.stream_id(),
        expected,
        events: events
            .iter()
            .map(|event| {
                let (event_type, version, payload) = encode_prescription_event(event);
                NewEvent::new(event_type, version, payload)
            })
            .collect(),
        unique_keys: vec![],
    }
}

pub(crate) fn batch(context: &CommandContext, streams: Vec<StreamAppend>) -> AppendBatch {
    AppendBatch {
        command_id: context.command_id,
        metadata: context.metadata.clone(),
        occurred_at: context.now,
        streams,
    }
}
