//! The device aggregate: current state folded from the device's events, and
//! the rules that decide which step is allowed next.
//!
//! Rules enforced here whatever the order of scans:
//! - a device reaches a household only with a passed functional test, a
//!   "refurbish" verdict and a passed erasure (or a recorded destruction) of
//!   every storage unit found at its latest diagnosis; "reconditionné" means
//!   exactly that in French law (décret n° 2022-190);
//! - a returned device is diagnosed and erased again before its next handover;
//! - a device in a household cannot be reserved again, and a recycled,
//!   dismantled or written-off device has no further step.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code::DeviceCode;
use crate::command::{check_due_date, check_extended_due_date, DeviceCommand, Step};
use crate::error::DomainError;
use crate::event::{
    DeviceEvent, Erasure, Handover, HandoverMode, Placement, Received, Reservation, StorageUnit,
};
use crate::ids::{DeviceId, DonationId, HouseholdId};
use crate::serial::SerialNumber;
use crate::text::{bounded, check_no_new_claim};
use crate::types::{Autonomy, Category, DonorKind, Grade, Outcome, Verdict};

/// Stage of a device's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Taken in, waiting for diagnosis.
    Received,
    /// Diagnosed and on the bench (erasure, repair, software, grading).
    InWorkshop,
    /// On a shelf, available.
    InStock,
    /// Held for one household.
    Reserved,
    /// With a household (loan, donation or solidarity sale).
    HandedOver,
    /// Back from a household, waiting for a new diagnosis and erasure.
    Returned,
    Recycled,
    Dismantled,
    WrittenOff,
}

impl DeviceStatus {
    pub const ALL: &'static [DeviceStatus] = &[
        DeviceStatus::Received,
        DeviceStatus::InWorkshop,
        DeviceStatus::InStock,
        DeviceStatus::Reserved,
        DeviceStatus::HandedOver,
        DeviceStatus::Returned,
        DeviceStatus::Recycled,
        DeviceStatus::Dismantled,
        DeviceStatus::WrittenOff,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DeviceStatus::Received => "received",
            DeviceStatus::InWorkshop => "in_workshop",
            DeviceStatus::InStock => "in_stock",
            DeviceStatus::Reserved => "reserved",
            DeviceStatus::HandedOver => "handed_over",
            DeviceStatus::Returned => "returned",
            DeviceStatus::Recycled => "recycled",
            DeviceStatus::Dismantled => "dismantled",
            DeviceStatus::WrittenOff => "written_off",
        }
    }

    pub fn label_fr(&self) -> &'static str {
        match self {
            DeviceStatus::Received => "Reçu, à diagnostiquer",
            DeviceStatus::InWorkshop => "En atelier",
            DeviceStatus::InStock => "En stock",
            DeviceStatus::Reserved => "Réservé",
            DeviceStatus::HandedOver => "Remis à un foyer",
            DeviceStatus::Returned => "Restitué, à rediagnostiquer",
            DeviceStatus::Recycled => "Recyclé",
            DeviceStatus::Dismantled => "Démantelé",
            DeviceStatus::WrittenOff => "Sorti de l'inventaire",
        }
    }

    pub fn parse(name: &str) -> Option<DeviceStatus> {
        let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
        DeviceStatus::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == wanted)
    }

    /// Steps allowed in this status, before the checks that depend on the
    /// device's history (readiness, loan mode).
    pub fn allowed_steps(&self) -> &'static [Step] {
        use Step::*;
        match self {
            DeviceStatus::Received | DeviceStatus::Returned => {
                &[Diagnose, Move, Recycle, Dismantle, WriteOff, Transfer]
            }
            DeviceStatus::InWorkshop => &[
                Diagnose, Erase, Repair, Install, Grade, Stock, Move, Recycle, Dismantle, WriteOff,
                Transfer,
            ],
            DeviceStatus::InStock => &[
                Diagnose, Erase, Repair, Install, Grade, Move, Reserve, Handover, Recycle,
                Dismantle, WriteOff, Transfer,
            ],
            DeviceStatus::Reserved => &[Release, Handover, Move, WriteOff],
            DeviceStatus::HandedOver => &[Return, Convert, Extend, WriteOff],
            DeviceStatus::Recycled | DeviceStatus::Dismantled | DeviceStatus::WrittenOff => &[],
        }
    }
}

impl fmt::Display for DeviceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason why a device may not reach a household yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadinessGap {
    NotDiagnosed,
    FunctionalTestFailed,
    VerdictNotRefurbish(Verdict),
    UnitNotErased(String),
    UnitErasureFailed(String),
    /// A disk health report marks this unit as failing.
    UnitFailing(String),
    /// An erasure report names a disk that the latest diagnosis did not find:
    /// the report may belong to another device.
    ErasedUnitNotFound(String),
}

impl ReadinessGap {
    pub fn label_fr(&self) -> String {
        match self {
            ReadinessGap::NotDiagnosed => "aucun diagnostic depuis l'entrée ou le retour".into(),
            ReadinessGap::FunctionalTestFailed => "le test fonctionnel a échoué".into(),
            ReadinessGap::VerdictNotRefurbish(v) => {
                format!("le diagnostic conclut : {}", v.label_fr().to_lowercase())
            }
            ReadinessGap::UnitNotErased(unit) => format!("le support {unit} n'a pas été effacé"),
            ReadinessGap::UnitErasureFailed(unit) => {
                format!("l'effacement du support {unit} a échoué")
            }
            ReadinessGap::UnitFailing(unit) => {
                format!("le support {unit} est défaillant (SMART) : remplacez-le")
            }
            ReadinessGap::ErasedUnitNotFound(unit) => format!(
                "le rapport d'effacement cite le disque {unit}, absent du diagnostic : vérifiez le rapport ou refaites le diagnostic"
            ),
        }
    }
}

impl fmt::Display for ReadinessGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadinessGap::NotDiagnosed => f.write_str("no diagnosis since intake or return"),
            ReadinessGap::FunctionalTestFailed => f.write_str("the functional test failed"),
            ReadinessGap::VerdictNotRefurbish(v) => write!(f, "the diagnosis verdict is {v}"),
            ReadinessGap::UnitNotErased(unit) => write!(f, "storage unit {unit} is not erased"),
            ReadinessGap::UnitErasureFailed(unit) => {
                write!(f, "the erasure of storage unit {unit} failed")
            }
            ReadinessGap::UnitFailing(unit) => {
                write!(f, "storage unit {unit} is failing according to its health report; replace it")
            }
            ReadinessGap::ErasedUnitNotFound(unit) => write!(
                f,
                "an erasure report names disk {unit}, which the latest diagnosis did not find; check the report or diagnose again"
            ),
        }
    }
}

/// Everything needed to take in one donated device.
#[derive(Clone, Debug, PartialEq)]
pub struct Intake {
    pub device_id: DeviceId,
    pub donation_id: DonationId,
    pub category: Category,
    pub brand: String,
    pub model: String,
    pub serial: Option<SerialNumber>,
    pub asset_tag: Option<String>,
    pub site: String,
    pub donor_kind: DonorKind,
    pub free_transfer: bool,
}

/// Current state of one device, folded from its events.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub id: DeviceId,
    pub donation_id: DonationId,
    pub code: Option<DeviceCode>,
    pub category: Category,
    pub brand: String,
    pub model: String,
    pub serial: Option<SerialNumber>,
    pub donor_kind: DonorKind,
    pub free_transfer: bool,
    /// Organisation in possession of the device now.
    pub holder: String,
    pub status: DeviceStatus,
    pub placement: Placement,
    pub functional_test: Option<Outcome>,
    pub verdict: Option<Verdict>,
    pub storage_units: Vec<StorageUnit>,
    /// Latest erasure of each unit since intake or the last return.
    pub erasures: BTreeMap<String, Erasure>,
    pub grade: Option<Grade>,
    pub autonomy: Option<Autonomy>,
    pub household_id: Option<HouseholdId>,
    pub handover_mode: Option<HandoverMode>,
    /// Number of events folded so far: the stream version.
    pub version: u64,
}

impl Device {
    /// Decides the events of taking in a new device with the given code, for
    /// the organisation "local".
    pub fn receive(intake: Intake, code: DeviceCode) -> Result<Vec<DeviceEvent>, DomainError> {
        Device::receive_for(intake, code, "local")
    }

    /// Decides the events of taking in a new device with the given code, held
    /// by `holder` (an organisation id).
    pub fn receive_for(
        intake: Intake,
        code: DeviceCode,
        holder: &str,
    ) -> Result<Vec<DeviceEvent>, DomainError> {
        let brand = bounded("brand", &intake.brand, 100)?;
        let model = bounded("model", &intake.model, 200)?;
        check_no_new_claim("model", &model)?;
        let site = bounded("site", &intake.site, 100)?;
        if site.is_empty() {
            return Err(DomainError::InvalidField {
                field: "site",
                value: String::new(),
                reason: "every device is received at a site; give the site name".into(),
            });
        }
        let asset_tag = match intake.asset_tag {
            Some(tag) if !tag.trim().is_empty() => Some(bounded("asset tag", &tag, 100)?),
            _ => None,
        };
        Ok(vec![
            DeviceEvent::Received(Received {
                device_id: intake.device_id,
                donation_id: intake.donation_id,
                category: intake.category,
                brand,
                model,
                serial: intake.serial,
                asset_tag,
                site,
                donor_kind: intake.donor_kind,
                free_transfer: intake.free_transfer,
                holder: holder.to_string(),
            }),
            DeviceEvent::LabelAssigned { code },
        ])
    }

    /// Folds a stream of events. Returns `None` for an empty stream or one
    /// that does not start with a reception.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a DeviceEvent>) -> Option<Device> {
        let mut events = events.into_iter();
        let DeviceEvent::Received(received) = events.next()? else {
            return None;
        };
        let mut device = Device::new(received);
        for event in events {
            device.apply(event);
        }
        Some(device)
    }

    fn new(received: &Received) -> Device {
        Device {
            id: received.device_id,
            donation_id: received.donation_id,
            code: None,
            category: received.category,
            brand: received.brand.clone(),
            model: received.model.clone(),
            serial: received.serial.clone(),
            donor_kind: received.donor_kind,
            free_transfer: received.free_transfer,
            holder: received.holder.clone(),
            status: DeviceStatus::Received,
            placement: Placement {
                site: received.site.clone(),
                location: String::new(),
            },
            functional_test: None,
            verdict: None,
            storage_units: Vec::new(),
            erasures: BTreeMap::new(),
            grade: None,
            autonomy: None,
            household_id: None,
            handover_mode: None,
            version: 1,
        }
    }

    /// Folds one more event into the state. Events are facts: this never
    /// fails, whatever the order.
    pub fn apply(&mut self, event: &DeviceEvent) {
        self.version += 1;
        match event {
            DeviceEvent::Received(_) => {}
            DeviceEvent::LabelAssigned { code } => self.code = Some(code.clone()),
            DeviceEvent::Diagnosed(diagnosis) => {
                self.functional_test = Some(diagnosis.functional_test);
                self.verdict = Some(diagnosis.verdict);
                self.storage_units = diagnosis.storage_units.clone();
                // A new diagnosis re-examined the hardware: erasures of disks it
                // did not find no longer describe this device.
                let units = &self.storage_units;
                self.erasures
                    .retain(|unit, _| units.iter().any(|u| &u.unit == unit));
                if matches!(
                    self.status,
                    DeviceStatus::Received | DeviceStatus::Returned | DeviceStatus::InStock
                ) {
                    self.status = DeviceStatus::InWorkshop;
                }
            }
            DeviceEvent::DataErased(erasure) => {
                self.erasures.insert(erasure.unit.clone(), erasure.clone());
            }
            DeviceEvent::Repaired(_) | DeviceEvent::SoftwareInstalled(_) => {}
            DeviceEvent::Graded(grading) => {
                self.grade = Some(grading.grade);
                self.autonomy = Some(grading.autonomy);
            }
            DeviceEvent::Stocked(placement) => {
                self.placement = placement.clone();
                self.status = DeviceStatus::InStock;
            }
            DeviceEvent::Moved(placement) => self.placement = placement.clone(),
            DeviceEvent::Reserved(Reservation { household_id, .. }) => {
                self.household_id = Some(*household_id);
                self.status = DeviceStatus::Reserved;
            }
            DeviceEvent::ReservationReleased { .. } => {
                self.household_id = None;
                self.status = DeviceStatus::InStock;
            }
            DeviceEvent::HandedOver(Handover {
                household_id, mode, ..
            }) => {
                self.household_id = Some(*household_id);
                self.handover_mode = Some(mode.clone());
                self.status = DeviceStatus::HandedOver;
            }
            DeviceEvent::Returned { .. } => {
                self.household_id = None;
                self.handover_mode = None;
                self.functional_test = None;
                self.verdict = None;
                self.erasures.clear();
                self.status = DeviceStatus::Returned;
            }
            DeviceEvent::LoanConvertedToDonation {} => {
                self.handover_mode = Some(HandoverMode::Donation);
            }
            DeviceEvent::LoanExtended { due_on } => {
                self.handover_mode = Some(HandoverMode::Loan { due_on: *due_on });
            }
            DeviceEvent::Recycled(_) => self.status = DeviceStatus::Recycled,
            DeviceEvent::Dismantled { .. } => self.status = DeviceStatus::Dismantled,
            DeviceEvent::WrittenOff { .. } => self.status = DeviceStatus::WrittenOff,
            DeviceEvent::Transferred { to, .. } => self.holder = to.clone(),
        }
    }

    /// Name used for this device in messages: its code, or its id before a
    /// label is assigned.
    pub fn display_name(&self) -> String {
        self.code
            .as_ref()
            .map_or_else(|| self.id.to_string(), |code| code.to_string())
    }

    /// Steps allowed now, taking the device's history into account.
    pub fn allowed_steps(&self) -> Vec<Step> {
        self.status
            .allowed_steps()
            .iter()
            .copied()
            .filter(|step| match step {
                Step::Convert | Step::Extend | Step::Return => {
                    matches!(self.handover_mode, Some(HandoverMode::Loan { .. }))
                }
                Step::Reserve | Step::Handover => self.readiness_gaps().is_empty(),
                _ => true,
            })
            .collect()
    }

    /// Reasons why the device may not reach a household yet; empty when it may.
    pub fn readiness_gaps(&self) -> Vec<ReadinessGap> {
        let mut gaps = Vec::new();
        match self.functional_test {
            None => gaps.push(ReadinessGap::NotDiagnosed),
            Some(Outcome::Failed) => gaps.push(ReadinessGap::FunctionalTestFailed),
            Some(Outcome::Passed) => {}
        }
        if let Some(verdict) = self.verdict.filter(|v| *v != Verdict::Refurbish) {
            gaps.push(ReadinessGap::VerdictNotRefurbish(verdict));
        }
        for unit in &self.storage_units {
            match self.erasures.get(&unit.unit) {
                None => gaps.push(ReadinessGap::UnitNotErased(unit.unit.clone())),
                Some(e) if e.result == Outcome::Failed => {
                    gaps.push(ReadinessGap::UnitErasureFailed(unit.unit.clone()))
                }
                Some(_) => {}
            }
            if unit.healthy == Some(false) {
                gaps.push(ReadinessGap::UnitFailing(unit.unit.clone()));
            }
        }
        for unit in self.erasures.keys() {
            if !self.storage_units.iter().any(|u| &u.unit == unit) {
                gaps.push(ReadinessGap::ErasedUnitNotFound(unit.clone()));
            }
        }
        gaps
    }

    /// Checks `command` against the current state and returns the events it
    /// records. `today` is the date the step happens, used for loan terms.
    pub fn decide(
        &self,
        command: DeviceCommand,
        today: NaiveDate,
    ) -> Result<Vec<DeviceEvent>, DomainError> {
        let step = command.step();
        if !self.status.allowed_steps().contains(&step) {
            return Err(self.step_not_allowed(step));
        }
        let event = match command {
            DeviceCommand::Diagnose(diagnosis) => {
                check_no_new_claim("notes", &diagnosis.notes)?;
                check_unique_units(&diagnosis.storage_units)?;
                DeviceEvent::Diagnosed(diagnosis)
            }
            DeviceCommand::RecordErasure(erasure) => self.decide_erasure(erasure)?,
            DeviceCommand::Repair(repair) => {
                check_no_new_claim("notes", &repair.notes)?;
                if repair.cost_cents < 0 {
                    return Err(invalid(
                        "cost",
                        repair.cost_cents,
                        "a cost cannot be negative",
                    ));
                }
                DeviceEvent::Repaired(repair)
            }
            DeviceCommand::InstallSoftware(software) => {
                if software.os.trim().is_empty() {
                    return Err(invalid("os", "", "name the operating system installed"));
                }
                DeviceEvent::SoftwareInstalled(software)
            }
            DeviceCommand::Grade(grading) => {
                check_no_new_claim("notes", &grading.notes)?;
                DeviceEvent::Graded(grading)
            }
            DeviceCommand::Stock(placement) => DeviceEvent::Stocked(check_placement(placement)?),
            DeviceCommand::Move(placement) => DeviceEvent::Moved(check_placement(placement)?),
            DeviceCommand::Reserve {
                household_id,
                prescription_id,
            } => {
                self.check_ready("reserved")?;
                DeviceEvent::Reserved(Reservation {
                    prescription_id,
                    household_id,
                })
            }
            DeviceCommand::ReleaseReservation { reason } => {
                DeviceEvent::ReservationReleased { reason }
            }
            DeviceCommand::HandOver {
                household_id,
                prescription_id,
                mode,
            } => self.decide_handover(household_id, prescription_id, mode, today)?,
            DeviceCommand::Return { notes } => {
                // A donated or sold device belongs to the household: it is
                // never "returned". One brought back later enters again as
                // a new donation, so that it is not counted twice.
                if self.status == DeviceStatus::HandedOver
                    && !matches!(self.handover_mode, Some(HandoverMode::Loan { .. }))
                {
                    return Err(invalid(
                        "step",
                        step.as_str(),
                        &format!(
                            "device {} was handed over as a donation or sale and belongs to the \
                             household; only a loan is returned. If the household gives it \
                             back, record it in a new donation batch",
                            self.display_name()
                        ),
                    ));
                }
                DeviceEvent::Returned { notes }
            }
            DeviceCommand::ConvertLoanToDonation => {
                if !matches!(self.handover_mode, Some(HandoverMode::Loan { .. })) {
                    return Err(self.step_not_allowed(step));
                }
                DeviceEvent::LoanConvertedToDonation {}
            }
            DeviceCommand::ExtendLoan { due_on } => self.decide_extension(step, due_on, today)?,
            DeviceCommand::Recycle(recycling) => {
                if recycling.weight_grams == 0 || recycling.weight_grams > 200_000 {
                    return Err(invalid(
                        "weight",
                        recycling.weight_grams,
                        "give the weight in grams, between 1 and 200000",
                    ));
                }
                DeviceEvent::Recycled(recycling)
            }
            DeviceCommand::Dismantle { parts_harvested } => {
                DeviceEvent::Dismantled { parts_harvested }
            }
            DeviceCommand::WriteOff { reason, notes } => DeviceEvent::WrittenOff { reason, notes },
            DeviceCommand::Transfer { to } => {
                let to = bounded("organisation", &to, 100)?;
                if to.is_empty() || to == self.holder {
                    return Err(invalid(
                        "organisation",
                        &to,
                        "name another organisation than the one holding the device",
                    ));
                }
                DeviceEvent::Transferred {
                    from: self.holder.clone(),
                    to,
                }
            }
        };
        Ok(vec![event])
    }

    fn decide_erasure(&self, erasure: Erasure) -> Result<DeviceEvent, DomainError> {
        let known = self.storage_units.iter().any(|u| u.unit == erasure.unit);
        // An imported tool report is a fact even when it names a disk the
        // diagnosis did not find; it is recorded and blocks the handover.
        if !known && erasure.evidence_sha256.is_none() {
            return Err(DomainError::UnknownStorageUnit {
                device: self.display_name(),
                unit: erasure.unit,
                known: self.storage_units.iter().map(|u| u.unit.clone()).collect(),
            });
        }
        if erasure.tool.trim().is_empty() {
            return Err(invalid(
                "tool",
                "",
                "name the erasure tool (for example nwipe)",
            ));
        }
        if erasure.operator.trim().is_empty() {
            return Err(invalid(
                "operator",
                "",
                "name the person who ran the erasure",
            ));
        }
        Ok(DeviceEvent::DataErased(erasure))
    }

    fn decide_handover(
        &self,
        household_id: HouseholdId,
        prescription_id: Option<crate::ids::PrescriptionId>,
        mode: HandoverMode,
        today: NaiveDate,
    ) -> Result<DeviceEvent, DomainError> {
        self.check_ready("handed over")?;
        if self.status == DeviceStatus::Reserved && self.household_id != Some(household_id) {
            return Err(DomainError::InvalidField {
                field: "household",
                value: household_id.to_string(),
                reason: format!(
                    "device {} is reserved for another household; release the reservation first",
                    self.display_name()
                ),
            });
        }
        match &mode {
            HandoverMode::Loan { due_on } => {
                check_due_date(*due_on, today)
                    .map_err(|reason| invalid("due date", due_on, &reason))?;
            }
            HandoverMode::Donation => {}
            HandoverMode::SolidaritySale { price_cents } => self.check_price(*price_cents)?,
        }
        Ok(DeviceEvent::HandedOver(Handover {
            household_id,
            prescription_id,
            mode,
        }))
    }

    /// Checks a new due date for the current loan with the rules of a
    /// prescription's extension: after the current due date and after
    /// `today`, and at most `MAX_LOAN_DAYS` days from `today`.
    ///
    /// NOTE: an extension recorded on the device alone (step `extend`) does
    /// not reach the prescription the device was lent under, so its loan
    /// lists keep the old date. Extending through the prescription changes
    /// both streams.
    fn decide_extension(
        &self,
        step: Step,
        due_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<DeviceEvent, DomainError> {
        let Some(HandoverMode::Loan { due_on: current }) = self.handover_mode else {
            return Err(self.step_not_allowed(step));
        };
        check_extended_due_date(due_on, current, today)
            .map_err(|reason| invalid("due date", due_on, &reason))?;
        Ok(DeviceEvent::LoanExtended { due_on })
    }

    fn check_price(&self, price_cents: i64) -> Result<(), DomainError> {
        if price_cents < 0 {
            // The value is shown in euros, the unit in which prices are typed.
            let euros = format!("{:.2}", price_cents as f64 / 100.0);
            return Err(invalid("price", euros, "a price cannot be negative"));
        }
        if !self.free_transfer {
            return Ok(());
        }
        match self.category.solidarity_price_cap_cents() {
            None => Err(DomainError::NoPriceCap {
                device: self.display_name(),
                category: self.category.as_str(),
            }),
            Some(cap) if price_cents > cap => Err(DomainError::PriceAboveCap {
                device: self.display_name(),
                category: self.category.as_str(),
                price_cents,
                cap_cents: cap,
            }),
            Some(_) => Ok(()),
        }
    }

    fn check_ready(&self, action: &'static str) -> Result<(), DomainError> {
        let gaps = self.readiness_gaps();
        if gaps.is_empty() {
            return Ok(());
        }
        Err(DomainError::NotReady {
            device: self.display_name(),
            action,
            missing: gaps.iter().map(ToString::to_string).collect(),
        })
    }

    fn step_not_allowed(&self, step: Step) -> DomainError {
        let allowed = self.allowed_steps();
        DomainError::StepNotAllowed {
            device: self.display_name(),
            status: self.status,
            step: step.as_str(),
            allowed: if allowed.is_empty() {
                "none, the device has left the supply chain".to_string()
            } else {
                allowed
                    .iter()
                    .map(Step::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }
    }
}

fn invalid(field: &'static str, value: impl fmt::Display, reason: &str) -> DomainError {
    DomainError::InvalidField {
        field,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn check_placement(placement: Placement) -> Result<Placement, DomainError> {
    let site = bounded("site", &placement.site, 100)?;
    if site.is_empty() {
        return Err(invalid("site", "", "give the site name"));
    }
    let location = bounded("location", &placement.location, 100)?;
    Ok(Placement { site, location })
}

fn check_unique_units(units: &[StorageUnit]) -> Result<(), DomainError> {
    let mut seen = std::collections::BTreeSet::new();
    for unit in units {
        if unit.unit.trim().is_empty() {
            return Err(invalid(
                "storage unit",
                "",
                "identify each storage unit by its serial number, or by its slot when the serial cannot be read",
            ));
        }
        if !seen.insert(unit.unit.as_str()) {
            return Err(invalid(
                "storage unit",
                &unit.unit,
                "this unit is listed twice",
            ));
        }
    }
    Ok(())
}
