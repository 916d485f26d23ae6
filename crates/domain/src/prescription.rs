//! Prescriptions: a referrer (social worker) prescribes equipment and
//! beginner digital training for a household. A workshop accepts or
//! declines the prescription, reserves a device, hands it over and follows a
//! loan to its end.
//!
//! Events hold the household's opaque id and the attributes funders count
//! (commune, priority areas, size and age bands, eligibility), never its
//! name or contact details: those live in the store's `households` table,
//! which can be erased without touching the log.
//!
//! Rules enforced here:
//! - a prescription is issued only for a household that the chosen
//!   eligibility scheme accepts;
//! - a device is handed over only after a workshop accepted the
//!   prescription and reserved that device for it;
//! - a declined, cancelled, expired or returned prescription has no further
//!   step, and a donation or sale only leaves the training to record.

pub mod codec;
mod command;
mod decide;
mod eligibility;
mod error;
mod event;
mod household;
pub mod matching;

use crate::event::HandoverMode;
use crate::ids::{HouseholdId, PrescriptionId};

pub use command::{NewPrescription, PrescriptionCommand, PrescriptionStatus, PrescriptionStep};
pub use eligibility::{
    EligibilityCategory, EligibilityRule, EligibilityScheme, Evidence, SchemeId,
};
pub use error::PrescriptionError;
pub use event::{
    DeviceRef, DigitalSkills, Need, PreferredMode, PrescriptionEvent, PrescriptionHandover,
    PrescriptionIssued, Purpose, SchemeSnapshot, Training, TrainingProvider, MAX_PIX_LEVEL,
};
pub use household::{AgeBand, HouseholdAttributes, HouseholdSize};

/// Current state of one prescription, folded from its events.
#[derive(Clone, Debug, PartialEq)]
pub struct Prescription {
    /// First event of the stream: the referrer's statement at issue.
    pub issued: PrescriptionIssued,
    pub status: PrescriptionStatus,
    /// Organisation of the workshop that accepted or declined it.
    pub workshop_organisation: Option<String>,
    /// Device reserved for or handed over to the household, if any.
    pub device: Option<DeviceRef>,
    /// Mode of the handover; a loan's due date follows its extensions.
    pub handover_mode: Option<HandoverMode>,
    pub training_attended: bool,
    pub trainings_missed: u32,
    /// Number of events folded so far: the stream version.
    pub version: u64,
}

impl Prescription {
    /// Folds a stream of events. Returns `None` for an empty stream or one
    /// that does not start with an issue.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = &'a PrescriptionEvent>,
    ) -> Option<Prescription> {
        let mut events = events.into_iter();
        let PrescriptionEvent::Issued(issued) = events.next()? else {
            return None;
        };
        let mut prescription = Prescription {
            issued: issued.clone(),
            status: PrescriptionStatus::Issued,
            workshop_organisation: None,
            device: None,
            handover_mode: None,
            training_attended: false,
            trainings_missed: 0,
            version: 1,
        };
        for event in events {
            prescription.apply(event);
        }
        Some(prescription)
    }

    pub fn id(&self) -> PrescriptionId {
        self.issued.prescription_id
    }

    pub fn household_id(&self) -> HouseholdId {
        self.issued.household_id
    }

    /// Folds one more event into the state. Events are recorded facts, so
    /// this accepts them in any order and returns no error.
    pub fn apply(&mut self, event: &PrescriptionEvent) {
        self.version += 1;
        match event {
            PrescriptionEvent::Issued(_) => {}
            PrescriptionEvent::Accepted {
                workshop_organisation,
            } => {
                self.workshop_organisation = Some(workshop_organisation.clone());
                self.status = PrescriptionStatus::Accepted;
            }
            PrescriptionEvent::Declined {
                workshop_organisation,
                ..
            } => {
                self.workshop_organisation = Some(workshop_organisation.clone());
                self.status = PrescriptionStatus::Declined;
            }
            PrescriptionEvent::DeviceReserved(device) => {
                self.device = Some(device.clone());
                self.status = PrescriptionStatus::Reserved;
            }
            PrescriptionEvent::ReservationReleased { .. } => {
                self.device = None;
                self.status = PrescriptionStatus::Accepted;
            }
            PrescriptionEvent::HandedOver(handover) => {
                self.handover_mode = Some(handover.mode.clone());
                self.status = PrescriptionStatus::HandedOver;
            }
            PrescriptionEvent::TrainingAttended { .. } => self.training_attended = true,
            PrescriptionEvent::TrainingMissed { .. } => self.trainings_missed += 1,
            PrescriptionEvent::LoanExtended { due_on } => {
                self.handover_mode = Some(HandoverMode::Loan { due_on: *due_on });
            }
            PrescriptionEvent::Returned { .. } => self.status = PrescriptionStatus::Returned,
            PrescriptionEvent::ConvertedToDonation {} => {
                self.handover_mode = Some(HandoverMode::Donation);
            }
            PrescriptionEvent::Cancelled { .. } => self.status = PrescriptionStatus::Cancelled,
            PrescriptionEvent::Expired {} => self.status = PrescriptionStatus::Expired,
        }
    }

    /// Steps allowed now, taking the prescription's history into account.
    pub fn allowed_steps(&self) -> Vec<PrescriptionStep> {
        let on_loan = matches!(self.handover_mode, Some(HandoverMode::Loan { .. }));
        let training_due = self.issued.training.is_some() && !self.training_attended;
        self.status
            .allowed_steps()
            .iter()
            .copied()
            .filter(|step| match step {
                PrescriptionStep::ExtendLoan
                | PrescriptionStep::Return
                | PrescriptionStep::Convert => on_loan,
                PrescriptionStep::AttendTraining | PrescriptionStep::MissTraining => training_due,
                _ => true,
            })
            .collect()
    }

    /// Returns whether the household's need is settled: declined, cancelled,
    /// expired, returned, or handed over for good (donation, sale, or a loan
    /// converted to a donation). Pending training does not keep it open.
    pub fn is_closed(&self) -> bool {
        match self.status {
            PrescriptionStatus::Declined
            | PrescriptionStatus::Returned
            | PrescriptionStatus::Cancelled
            | PrescriptionStatus::Expired => true,
            PrescriptionStatus::HandedOver => {
                !matches!(self.handover_mode, Some(HandoverMode::Loan { .. }))
            }
            PrescriptionStatus::Issued
            | PrescriptionStatus::Accepted
            | PrescriptionStatus::Reserved => false,
        }
    }
}
