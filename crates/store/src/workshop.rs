//! Command handling for devices and donation batches: load a device from its
//! stream, let the domain decide, append the result with the version it was
//! decided on. The CLI and the web server both go through here, so a rule
//! holds whatever the entry point.

use chrono::{DateTime, Utc};
use filiere_domain::codec::{decode_device_event, encode_device_event, CodecError};
use filiere_domain::device::Intake;
use filiere_domain::donation::{DonationEvent, NewDonation};
use filiere_domain::{Device, DeviceCode, DeviceCommand, DeviceEvent, DeviceId, DomainError};
use rand::Rng;
use uuid::Uuid;

use crate::{
    AppendBatch, AppendResult, EventStore, ExpectedVersion, Metadata, NewEvent, StoreError,
    StreamAppend, UniqueKey,
};

/// Unique-key namespace of device codes.
pub const CODE_KEY: &str = "device_code";
/// Unique-key namespace of device serial numbers (their match key).
pub const SERIAL_KEY: &str = "device_serial";

/// How many fresh codes to draw when a drawn code is already taken. With 387
/// million codes and 2 million devices, one draw in 190 collides.
const CODE_ATTEMPTS: usize = 8;

/// Error of handling a command.
#[derive(Debug, thiserror::Error)]
pub enum WorkshopError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("no device with code {0}")]
    DeviceNotFound(String),
    #[error("serial number {serial} is already recorded for device {owner}")]
    DuplicateSerial { serial: String, owner: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Evidence(Vec<filiere_evidence::EvidenceError>),
}

/// Actor, time and command id of one command.
#[derive(Clone, Debug)]
pub struct CommandContext {
    pub metadata: Metadata,
    pub command_id: Option<Uuid>,
    pub now: DateTime<Utc>,
}

impl CommandContext {
    pub fn new(actor: &str, organisation: &str) -> Self {
        Self {
            metadata: Metadata::new(actor, organisation),
            command_id: None,
            now: Utc::now(),
        }
    }
}

/// One device of a new donation batch.
#[derive(Clone, Debug)]
pub struct NewDevice {
    pub intake: Intake,
}

/// Outcome of recording a donation batch.
#[derive(Clone, Debug)]
pub struct DonationOutcome {
    pub donation_id: filiere_domain::DonationId,
    pub devices: Vec<(DeviceId, DeviceCode)>,
    pub append: AppendResult,
}

/// Command handling over an event store.
#[derive(Clone, Debug)]
pub struct Workshop {
    store: EventStore,
}

impl Workshop {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Loads the device with `code`, or `None` when no device has it.
    pub async fn find_device(&self, code: &DeviceCode) -> Result<Option<Device>, WorkshopError> {
        match self.store.stream_for_key(CODE_KEY, code.as_str()).await? {
            Some(stream_id) => self.load_stream(&stream_id).await,
            None => Ok(None),
        }
    }

    /// Loads a device by id.
    pub async fn load_device(&self, id: DeviceId) -> Result<Option<Device>, WorkshopError> {
        self.load_stream(&id.stream_id()).await
    }

    /// Every event of a device, decoded, with its position and time.
    pub async fn device_events(
        &self,
        id: DeviceId,
    ) -> Result<Vec<(crate::RecordedEvent, DeviceEvent)>, WorkshopError> {
        let recorded = self.store.read_stream(&id.stream_id()).await?;
        recorded
            .into_iter()
            .map(|event| {
                let decoded =
                    decode_device_event(&event.event_type, event.schema_version, &event.payload)?;
                Ok((event, decoded))
            })
            .collect()
    }

    async fn load_stream(&self, stream_id: &str) -> Result<Option<Device>, WorkshopError> {
        let mut events = Vec::new();
        for event in self.store.read_stream(stream_id).await? {
            events.push(decode_device_event(
                &event.event_type,
                event.schema_version,
                &event.payload,
            )?);
        }
        Ok(Device::from_events(&events))
    }

    /// Device that already carries this serial number, by code.
    pub async fn device_with_serial(
        &self,
        serial: &filiere_domain::serial::SerialNumber,
    ) -> Result<Option<String>, WorkshopError> {
        let Some(stream_id) = self
            .store
            .stream_for_key(SERIAL_KEY, &serial.match_key())
            .await?
        else {
            return Ok(None);
        };
        self.code_of_stream(&stream_id).await
    }

    async fn code_of_stream(&self, stream_id: &str) -> Result<Option<String>, WorkshopError> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM unique_keys WHERE namespace = $1 AND stream_id = $2",
        )
        .bind(CODE_KEY)
        .bind(stream_id)
        .fetch_optional(self.store.pool())
        .await
        .map_err(StoreError::from)?)
    }

    /// Decides `command` on the device with `code` and records the events.
    /// A concurrent step on the same device makes this fail with a conflict,
    /// and nothing is recorded.
    pub async fn record(
        &self,
        code: &DeviceCode,
        command: DeviceCommand,
        context: &CommandContext,
    ) -> Result<(Device, AppendResult), WorkshopError> {
        let mut device = self
            .find_device(code)
            .await?
            .ok_or_else(|| WorkshopError::DeviceNotFound(code.to_string()))?;
        let events = device.decide(command, context.now.date_naive())?;
        let append = self
            .store
            .append(AppendBatch {
                command_id: context.command_id,
                metadata: context.metadata.clone(),
                occurred_at: context.now,
                streams: vec![StreamAppend {
                    stream_id: device.id.stream_id(),
                    expected: ExpectedVersion::Exact(device.version as i64),
                    events: events.iter().map(new_event).collect(),
                    unique_keys: vec![],
                }],
            })
            .await?;
        if !append.duplicate {
            for event in &events {
                device.apply(event);
            }
        } else if let Some(reloaded) = self.find_device(code).await? {
            device = reloaded;
        }
        Ok((device, append))
    }

    /// Records a donation batch and all its devices in one transaction, with
    /// a fresh code for each device. Either the whole batch is recorded or
    /// nothing is.
    pub async fn receive_donation(
        &self,
        donation: NewDonation,
        devices: Vec<NewDevice>,
        context: &CommandContext,
    ) -> Result<DonationOutcome, WorkshopError> {
        let donation_id = donation.donation_id;
        let count = u32::try_from(devices.len()).unwrap_or(u32::MAX);
        let header = donation.decide(count, context.now.date_naive())?;
        let mut last_error = None;
        for _ in 0..CODE_ATTEMPTS {
            let (batch, codes) = self.donation_batch(&header, &devices, context)?;
            match self.store.append(batch).await {
                Ok(append) => {
                    return Ok(DonationOutcome {
                        donation_id,
                        devices: codes,
                        append,
                    })
                }
                Err(StoreError::UniqueKeyTaken { namespace, .. }) if namespace == CODE_KEY => {
                    last_error = Some(namespace);
                }
                Err(StoreError::UniqueKeyTaken {
                    namespace,
                    value,
                    owner,
                }) if namespace == SERIAL_KEY => {
                    let owner = self.code_of_stream(&owner).await?.unwrap_or(owner);
                    return Err(WorkshopError::DuplicateSerial {
                        serial: value,
                        owner,
                    });
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(StoreError::UniqueKeyTaken {
            namespace: last_error.unwrap_or_default(),
            value: String::new(),
            owner: format!("another device after {CODE_ATTEMPTS} fresh draws"),
        }
        .into())
    }

    fn donation_batch(
        &self,
        header: &DonationEvent,
        devices: &[NewDevice],
        context: &CommandContext,
    ) -> Result<(AppendBatch, Vec<(DeviceId, DeviceCode)>), WorkshopError> {
        let DonationEvent::DonationReceived(received) = header;
        let mut streams = vec![StreamAppend {
            stream_id: received.donation_id.stream_id(),
            expected: ExpectedVersion::NoStream,
            events: vec![NewEvent::new(
                header.event_type(),
                1,
                serde_json::to_value(header)
                    .map(strip_type)
                    .expect("events serialise"),
            )],
            unique_keys: vec![],
        }];
        let mut codes = Vec::new();
        let mut rng = rand::thread_rng();
        for device in devices {
            let code = DeviceCode::from_random(rng.gen());
            let events = Device::receive_for(
                device.intake.clone(),
                code.clone(),
                &context.metadata.organisation,
            )?;
            let mut unique_keys = vec![UniqueKey::new(CODE_KEY, code.as_str())];
            if let Some(serial) = &device.intake.serial {
                unique_keys.push(UniqueKey::new(SERIAL_KEY, serial.match_key()));
            }
            streams.push(StreamAppend {
                stream_id: device.intake.device_id.stream_id(),
                expected: ExpectedVersion::NoStream,
                events: events.iter().map(new_event).collect(),
                unique_keys,
            });
            codes.push((device.intake.device_id, code));
        }
        let batch = AppendBatch {
            command_id: context.command_id,
            metadata: context.metadata.clone(),
            occurred_at: context.now,
            streams,
        };
        Ok((batch, codes))
    }
}

pub(crate) fn new_event(event: &DeviceEvent) -> NewEvent {
    let (event_type, version, payload) = encode_device_event(event);
    NewEvent::new(event_type, version, payload)
}

fn strip_type(mut value: serde_json::Value) -> serde_json::Value {
    if let serde_json::Value::Object(map) = &mut value {
        map.remove("type");
    }
    value
}
