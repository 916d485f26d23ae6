//! Deciding the events of issuing a prescription and of each later step.

use std::fmt;

use chrono::NaiveDate;

use crate::command::{check_due_date, check_extended_due_date};
use crate::error::DomainError;
use crate::event::HandoverMode;
use crate::territory::Territories;
use crate::text::bounded;

use super::command::{NewPrescription, PrescriptionCommand, PrescriptionStep};
use super::eligibility::EligibilityScheme;
use super::error::PrescriptionError;
use super::event::{
    DigitalSkills, PrescriptionEvent, PrescriptionHandover, PrescriptionIssued, SchemeSnapshot,
    Training, MAX_PIX_LEVEL,
};
use super::Prescription;

impl Prescription {
    /// Checks a new prescription against `scheme` and returns its first
    /// event. `today` is the day it is issued, used to check the training
    /// date.
    pub fn issue(
        new: NewPrescription,
        scheme: &EligibilityScheme,
        today: NaiveDate,
    ) -> Result<Vec<PrescriptionEvent>, PrescriptionError> {
        let eligibility = scheme.check(&new.evidence)?;
        Territories::embedded().commune(&new.household.commune)?;
        let referrer = required("referrer organisation", &new.referrer_organisation, 100)?;
        if let DigitalSkills::Pix { level } = new.skills {
            if level > MAX_PIX_LEVEL {
                return Err(invalid(
                    "Pix level",
                    level,
                    "a Pix level is between 0 and 8",
                ));
            }
        }
        let training = new
            .training
            .map(|training| check_training(training, today))
            .transpose()?;
        Ok(vec![PrescriptionEvent::Issued(PrescriptionIssued {
            prescription_id: new.prescription_id,
            household_id: new.household_id,
            referrer_organisation: referrer,
            need: new.need,
            scheme: SchemeSnapshot {
                id: scheme.id,
                name: scheme.name.clone(),
                rule: scheme.rule.clone(),
                programme: scheme.programme.clone(),
            },
            evidence: new.evidence,
            eligibility,
            preferred_mode: new.preferred_mode,
            skills: new.skills,
            training,
            household: new.household,
        })])
    }

    /// Checks `command` against the current state and returns the events it
    /// records. `today` is the day the step happens.
    pub fn decide(
        &self,
        command: PrescriptionCommand,
        today: NaiveDate,
    ) -> Result<Vec<PrescriptionEvent>, PrescriptionError> {
        let step = command.step();
        if !self.allowed_steps().contains(&step) {
            return Err(self.step_not_allowed(step));
        }
        let event = match command {
            PrescriptionCommand::Accept {
                workshop_organisation,
            } => PrescriptionEvent::Accepted {
                workshop_organisation: required(
                    "workshop organisation",
                    &workshop_organisation,
                    100,
                )?,
            },
            PrescriptionCommand::Decline {
                workshop_organisation,
                reason,
            } => PrescriptionEvent::Declined {
                workshop_organisation: required(
                    "workshop organisation",
                    &workshop_organisation,
                    100,
                )?,
                reason: required("reason", &reason, 500)?,
            },
            PrescriptionCommand::Reserve {
                device,
                category,
                holder,
            } => self.decide_reserve(device, category, &holder)?,
            PrescriptionCommand::Release { reason } => {
                let Some(device) = &self.device else {
                    return Err(self.step_not_allowed(step));
                };
                PrescriptionEvent::ReservationReleased {
                    device_id: device.device_id,
                    reason: required("reason", &reason, 500)?,
                }
            }
            PrescriptionCommand::HandOver { device_id, mode } => {
                self.decide_handover(device_id, mode, today)?
            }
            PrescriptionCommand::AttendTraining { on } => {
                check_not_future("training date", on, today)?;
                PrescriptionEvent::TrainingAttended { on }
            }
            PrescriptionCommand::MissTraining { on } => {
                check_not_future("training date", on, today)?;
                PrescriptionEvent::TrainingMissed { on }
            }
            PrescriptionCommand::ExtendLoan { due_on } => self.decide_extension(due_on, today)?,
            PrescriptionCommand::Return { notes } => PrescriptionEvent::Returned {
                notes: bounded("notes", &notes, 500)?,
            },
            PrescriptionCommand::ConvertToDonation => PrescriptionEvent::ConvertedToDonation {},
            PrescriptionCommand::Cancel { reason } => PrescriptionEvent::Cancelled {
                reason: required("reason", &reason, 500)?,
            },
            PrescriptionCommand::Expire => PrescriptionEvent::Expired {},
        };
        Ok(vec![event])
    }

    fn decide_reserve(
        &self,
        device: super::DeviceRef,
        category: crate::types::Category,
        holder: &str,
    ) -> Result<PrescriptionEvent, PrescriptionError> {
        let needed = self.issued.need.category;
        if category != needed {
            return Err(PrescriptionError::WrongCategory {
                prescription: self.id(),
                device: device.code.to_string(),
                actual: category,
                needed,
            });
        }
        let workshop = self.workshop_organisation.clone().unwrap_or_default();
        if holder != workshop {
            return Err(PrescriptionError::WrongHolder {
                prescription: self.id(),
                device: device.code.to_string(),
                holder: holder.to_string(),
                workshop,
            });
        }
        Ok(PrescriptionEvent::DeviceReserved(device))
    }

    fn decide_handover(
        &self,
        device_id: crate::ids::DeviceId,
        mode: HandoverMode,
        today: NaiveDate,
    ) -> Result<PrescriptionEvent, PrescriptionError> {
        let reserved = self.device.as_ref();
        if reserved.map(|d| d.device_id) != Some(device_id) {
            return Err(PrescriptionError::NotReservedDevice {
                prescription: self.id(),
                device: device_id.to_string(),
                reserved: reserved.map_or_else(|| "none".to_string(), |d| d.code.to_string()),
            });
        }
        if let HandoverMode::Loan { due_on } = &mode {
            check_due_date(*due_on, today)
                .map_err(|reason| invalid("due date", due_on, &reason))?;
        }
        Ok(PrescriptionEvent::HandedOver(PrescriptionHandover {
            device_id,
            mode,
        }))
    }

    fn decide_extension(
        &self,
        due_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<PrescriptionEvent, PrescriptionError> {
        let checked = match &self.handover_mode {
            Some(HandoverMode::Loan { due_on: current }) => {
                check_extended_due_date(due_on, *current, today)
            }
            _ => check_due_date(due_on, today),
        };
        checked.map_err(|reason| invalid("due date", due_on, &reason))?;
        Ok(PrescriptionEvent::LoanExtended { due_on })
    }

    /// Builds the error of `step` not being allowed now, listing the steps
    /// that are.
    pub fn step_not_allowed(&self, step: PrescriptionStep) -> PrescriptionError {
        let allowed = self.allowed_steps();
        PrescriptionError::StepNotAllowed {
            prescription: self.id(),
            status: self.status,
            step,
            allowed: if allowed.is_empty() {
                "none, the prescription is closed".to_string()
            } else {
                allowed
                    .iter()
                    .map(|step| step.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }
    }
}

fn check_training(training: Training, today: NaiveDate) -> Result<Training, PrescriptionError> {
    let name = required("training adviser or venue", &training.name, 200)?;
    if let Some(day) = training.scheduled_on {
        if day < today {
            return Err(invalid(
                "training date",
                day,
                &format!("the first session cannot be before today ({today}); leave the date out if it is still to be scheduled"),
            ));
        }
    }
    Ok(Training { name, ..training })
}

fn check_not_future(
    field: &'static str,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<(), PrescriptionError> {
    if day > today {
        return Err(invalid(
            field,
            day,
            &format!("record a session once it happened, on or before today ({today})"),
        ));
    }
    Ok(())
}

/// Trims `text` and rejects it when empty or longer than `max_chars`.
fn required(
    field: &'static str,
    text: &str,
    max_chars: usize,
) -> Result<String, PrescriptionError> {
    let text = bounded(field, text, max_chars)?;
    if text.is_empty() {
        return Err(invalid(field, "", "this field is required"));
    }
    Ok(text)
}

fn invalid(field: &'static str, value: impl fmt::Display, reason: &str) -> PrescriptionError {
    PrescriptionError::Invalid(DomainError::InvalidField {
        field,
        value: value.to_string(),
        reason: reason.to_string(),
    })
}
