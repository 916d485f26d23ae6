//! Prescription steps that also change a device: each appends to the
//! prescription's stream and to the device's stream in one atomic batch,
//! with the exact version each was decided on. Two people reserving the
//! same device at once therefore cannot both succeed: the second append
//! finds the device stream changed and records nothing.

use chrono::NaiveDate;
use filiere_domain::event::HandoverMode;
use filiere_domain::prescription::{
    DeviceRef, Prescription, PrescriptionCommand, PrescriptionEvent, PrescriptionStep,
};
use filiere_domain::{Device, DeviceCode, DeviceCommand, DeviceStatus, PrescriptionId};

use super::{batch, prescription_stream, PrescriptionOutcome, PrescriptionStoreError};
use crate::workshop::{new_event, CommandContext, Workshop};
use crate::{ExpectedVersion, StoreError, StreamAppend};

impl Workshop {
    /// Reserves the device with `code` for an accepted prescription. Fails
    /// with [`PrescriptionStoreError::AlreadyReserved`] when the device is
    /// reserved already, including by a concurrent request that committed
    /// first.
    pub async fn reserve_device(
        &self,
        id: PrescriptionId,
        code: &DeviceCode,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let prescription = self.require_prescription(id).await?;
        let device = self.require_device(code).await?;
        let command = PrescriptionCommand::Reserve {
            device: DeviceRef {
                device_id: device.id,
                code: code.clone(),
            },
            category: device.category,
            holder: device.holder.clone(),
        };
        let today = context.now.date_naive();
        let prescription_events = prescription.decide(command, today)?;
        if device.status == DeviceStatus::Reserved {
            return Err(already_reserved(&device));
        }
        let device_events = device.decide(
            DeviceCommand::Reserve {
                household_id: prescription.household_id(),
                prescription_id: Some(id),
            },
            today,
        )?;
        let appended = self
            .append_both(
                &prescription,
                &prescription_events,
                &device,
                &device_events,
                context,
            )
            .await;
        match appended {
            Err(PrescriptionStoreError::Store(StoreError::Conflict { stream_id, .. }))
                if stream_id == device.id.stream_id() =>
            {
                let current = self.require_device(code).await?;
                if current.status == DeviceStatus::Reserved {
                    return Err(already_reserved(&current));
                }
                Err(StoreError::Conflict {
                    stream_id,
                    expected: ExpectedVersion::Exact(device.version as i64),
                    actual: current.version as i64,
                }
                .into())
            }
            other => other,
        }
    }

    /// Hands the reserved device over to the household, recording the
    /// handover on the device (with the prescription and household ids) and
    /// on the prescription.
    pub async fn hand_over(
        &self,
        id: PrescriptionId,
        mode: HandoverMode,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let prescription = self.require_prescription(id).await?;
        let device = self
            .device_of(&prescription, PrescriptionStep::Handover)
            .await?;
        let today = context.now.date_naive();
        let prescription_events = prescription.decide(
            PrescriptionCommand::HandOver {
                device_id: device.id,
                mode: mode.clone(),
            },
            today,
        )?;
        let device_events = device.decide(
            DeviceCommand::HandOver {
                household_id: prescription.household_id(),
                prescription_id: Some(id),
                mode,
            },
            today,
        )?;
        self.append_both(
            &prescription,
            &prescription_events,
            &device,
            &device_events,
            context,
        )
        .await
    }

    /// Moves the loan's due date to `due_on`, on the prescription and on the
    /// device, so that every figure counts the loan as overdue from the new
    /// date. Fails with [`PrescriptionStoreError::LoanEndedOnDevice`] when
    /// the loan already ended on the device's own stream.
    pub async fn extend_loan(
        &self,
        id: PrescriptionId,
        due_on: NaiveDate,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let prescription = self.require_prescription(id).await?;
        let device = self
            .device_of(&prescription, PrescriptionStep::ExtendLoan)
            .await?;
        let today = context.now.date_naive();
        let prescription_events =
            prescription.decide(PrescriptionCommand::ExtendLoan { due_on }, today)?;
        let lent = matches!(device.handover_mode, Some(HandoverMode::Loan { .. }));
        if device.status != DeviceStatus::HandedOver
            || device.household_id != Some(prescription.household_id())
            || !lent
        {
            return Err(PrescriptionStoreError::LoanEndedOnDevice {
                device: device.display_name(),
                status: device.status,
            });
        }
        let device_events = device.decide(DeviceCommand::ExtendLoan { due_on }, today)?;
        self.append_both(
            &prescription,
            &prescription_events,
            &device,
            &device_events,
            context,
        )
        .await
    }

    /// Releases the device reserved for the prescription. When the device's
    /// reservation was already released on the device itself, only the
    /// prescription records the release.
    pub async fn release_reservation(
        &self,
        id: PrescriptionId,
        reason: String,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let command = PrescriptionCommand::Release {
            reason: reason.clone(),
        };
        let device_command = DeviceCommand::ReleaseReservation { reason };
        self.record_with_device(id, command, device_command, DeviceStatus::Reserved, context)
            .await
    }

    /// Records the end of a loan. When the device was already returned on
    /// the device itself, only the prescription records the return.
    pub async fn return_device(
        &self,
        id: PrescriptionId,
        notes: String,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let command = PrescriptionCommand::Return {
            notes: notes.clone(),
        };
        let device_command = DeviceCommand::Return { notes };
        self.record_with_device(
            id,
            command,
            device_command,
            DeviceStatus::HandedOver,
            context,
        )
        .await
    }

    /// Turns the loan into a donation, on the prescription and the device.
    pub async fn convert_to_donation(
        &self,
        id: PrescriptionId,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let prescription = self.require_prescription(id).await?;
        let device = self
            .device_of(&prescription, PrescriptionStep::Convert)
            .await?;
        let today = context.now.date_naive();
        let prescription_events =
            prescription.decide(PrescriptionCommand::ConvertToDonation, today)?;
        let device_events = device.decide(DeviceCommand::ConvertLoanToDonation, today)?;
        self.append_both(
            &prescription,
            &prescription_events,
            &device,
            &device_events,
            context,
        )
        .await
    }

    /// Records `command` on the prescription and `device_command` on its
    /// device, or on the prescription alone when the device is no longer in
    /// `device_status` for this household (someone recorded the device's
    /// side directly on the device).
    async fn record_with_device(
        &self,
        id: PrescriptionId,
        command: PrescriptionCommand,
        device_command: DeviceCommand,
        device_status: DeviceStatus,
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let prescription = self.require_prescription(id).await?;
        let device = self.device_of(&prescription, command.step()).await?;
        let today = context.now.date_naive();
        let prescription_events = prescription.decide(command, today)?;
        let with_household = device.status == device_status
            && device.household_id == Some(prescription.household_id());
        if !with_household {
            tracing::warn!(
                prescription = %id,
                device = %device.display_name(),
                status = %device.status,
                "device side already recorded on the device; recording the prescription only"
            );
            return self
                .append_both(&prescription, &prescription_events, &device, &[], context)
                .await;
        }
        let device_events = device.decide(device_command, today)?;
        self.append_both(
            &prescription,
            &prescription_events,
            &device,
            &device_events,
            context,
        )
        .await
    }

    /// Appends to both streams in one batch; the device stream is left out
    /// when it has no event.
    async fn append_both(
        &self,
        prescription: &Prescription,
        prescription_events: &[PrescriptionEvent],
        device: &Device,
        device_events: &[filiere_domain::DeviceEvent],
        context: &CommandContext,
    ) -> Result<PrescriptionOutcome, PrescriptionStoreError> {
        let id = prescription.id();
        let mut streams = vec![prescription_stream(
            id,
            ExpectedVersion::Exact(prescription.version as i64),
            prescription_events,
        )];
        if !device_events.is_empty() {
            streams.push(StreamAppend {
                stream_id: device.id.stream_id(),
                expected: ExpectedVersion::Exact(device.version as i64),
                events: device_events.iter().map(new_event).collect(),
                unique_keys: vec![],
            });
        }
        let append = self.store().append(batch(context, streams)).await?;
        Ok(PrescriptionOutcome {
            prescription: self.require_prescription(id).await?,
            device: self.load_device(device.id).await?,
            append,
        })
    }

    async fn require_device(&self, code: &DeviceCode) -> Result<Device, PrescriptionStoreError> {
        self.find_device(code)
            .await?
            .ok_or_else(|| PrescriptionStoreError::DeviceNotFound(code.to_string()))
    }

    /// Loads the device reserved for or handed over to the prescription's
    /// household. Without one, the step is not allowed in this status.
    async fn device_of(
        &self,
        prescription: &Prescription,
        step: PrescriptionStep,
    ) -> Result<Device, PrescriptionStoreError> {
        let Some(reference) = &prescription.device else {
            return Err(prescription.step_not_allowed(step).into());
        };
        self.load_device(reference.device_id)
            .await?
            .ok_or_else(|| PrescriptionStoreError::DeviceNotFound(reference.code.to_string()))
    }
}

fn already_reserved(device: &Device) -> PrescriptionStoreError {
    PrescriptionStoreError::AlreadyReserved {
        device: device.display_name(),
    }
}
