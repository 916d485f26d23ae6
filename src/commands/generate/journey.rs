//! Journeys: the planned steps of one device (with the prescription that
//! brings it to a household, if any) or of one prescription without a
//! device. Each step is decided by the domain on the current state, as the
//! command handlers do, and becomes one append batch.

use std::collections::VecDeque;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use filiere_domain::codec::encode_device_event;
use filiere_domain::event::{
    Diagnosis, Erasure, Grading, HandoverMode, Placement, Recycling, Repair, Software, StorageUnit,
};
use filiere_domain::prescription::codec::encode_prescription_event;
use filiere_domain::prescription::{
    DeviceRef, DigitalSkills, Need, NewPrescription, PreferredMode, Prescription,
    PrescriptionCommand, PrescriptionEvent, Purpose, Training, TrainingProvider,
};
use filiere_domain::types::{
    Autonomy, Category, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind, Verdict,
    WriteOffReason,
};
use filiere_domain::{Device, DeviceCommand, DeviceEvent, HouseholdId, PrescriptionId};
use filiere_store::households::HouseholdIdentity;
use filiere_store::{AppendBatch, ExpectedVersion, Metadata, NewEvent, StreamAppend};
use rand::rngs::StdRng;
use rand::Rng;

use super::world::{self, World};

/// Actor recorded on generated events.
pub const ACTOR: &str = "generator";

/// A step of a journey.
pub enum Action {
    /// A step on the device stream only.
    Device(DeviceCommand),
    /// The first event of the prescription stream.
    Issue {
        new: Box<NewPrescription>,
        scheme: usize,
    },
    /// A step on the prescription stream only.
    Prescription(PrescriptionCommand),
    /// Steps recorded on the prescription and its device in one batch.
    Reserve,
    Release(String),
    HandOver(HandoverMode),
    Return(String),
    Convert,
}

/// End of a device's journey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Recycled,
    Dismantled,
    WrittenOff,
    /// Refurbished and left in stock.
    Stock,
    /// Refurbished, then handed over through a prescription.
    Prescribed,
    /// Refurbished, then given or sold by the workshop without a
    /// prescription.
    Direct,
}

/// Share of each fate among received devices, in percent.
const FATES: &[(Fate, u32)] = &[
    (Fate::Recycled, 15),
    (Fate::Dismantled, 4),
    (Fate::WrittenOff, 1),
    (Fate::Stock, 28),
    (Fate::Prescribed, 40),
    (Fate::Direct, 12),
];

/// The planned steps of one device or prescription, and its state.
pub struct Journey {
    pub workshop: usize,
    pub device: Option<Device>,
    pub prescription: Option<Prescription>,
    pub household_id: Option<HouseholdId>,
    pub prescription_id: Option<PrescriptionId>,
    pub script: VecDeque<(DateTime<Utc>, Action)>,
}

/// Household rows to record with the events that refer to them.
pub type NewHousehold = (HouseholdId, HouseholdIdentity, DateTime<Utc>);

/// Builds a script step by step; steps after `now` are left out, so a
/// recent device stops where the workshop is today.
struct Script {
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    steps: VecDeque<(DateTime<Utc>, Action)>,
    stopped: bool,
}

impl Script {
    fn new(start: DateTime<Utc>, now: DateTime<Utc>) -> Script {
        Script {
            at: start,
            now,
            steps: VecDeque::new(),
            stopped: false,
        }
    }

    /// Adds a step `hours` after the previous one. Returns false once a step
    /// falls after `now`.
    fn then(&mut self, hours: i64, action: Action) -> bool {
        if self.stopped {
            return false;
        }
        let at = self.at + Duration::hours(hours.max(1));
        if at > self.now {
            self.stopped = true;
            return false;
        }
        self.at = at;
        self.steps.push_back((at, action));
        true
    }

    fn day(&self) -> NaiveDate {
        self.at.date_naive()
    }
}

fn days(rng: &mut StdRng, min: i64, max: i64) -> i64 {
    rng.gen_range(min * 24..max * 24)
}

/// Plans the life of a device received at `received_at`. Returns the
/// device's journey, an optional prescription journey without a device,
/// and the households to record.
pub fn plan_device(
    rng: &mut StdRng,
    world: &World,
    workshop: usize,
    device: Device,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Journey, Option<Journey>, Vec<NewHousehold>) {
    let mut script = Script::new(received_at, now);
    let mut households = Vec::new();
    let mut journey = Journey {
        workshop,
        device: None,
        prescription: None,
        household_id: None,
        prescription_id: None,
        script: VecDeque::new(),
    };
    let fate = pick_fate(rng);
    let disk = device
        .code
        .as_ref()
        .map(|code| format!("S4{code}D"))
        .unwrap_or_default();
    match fate {
        Fate::Recycled => {
            script.then(
                days(rng, 1, 40),
                Action::Device(DeviceCommand::Diagnose(failed_diagnosis(Verdict::Recycle))),
            );
            script.then(
                days(rng, 3, 60),
                Action::Device(DeviceCommand::Recycle(Recycling {
                    weight_grams: rng.gen_range(300..9_000),
                    eco_organism: "Ecologic".into(),
                })),
            );
        }
        Fate::Dismantled => {
            script.then(
                days(rng, 1, 40),
                Action::Device(DeviceCommand::Diagnose(failed_diagnosis(
                    Verdict::HarvestParts,
                ))),
            );
            script.then(
                days(rng, 3, 60),
                Action::Device(DeviceCommand::Dismantle {
                    parts_harvested: vec!["barrette mémoire".into(), "chargeur".into()],
                }),
            );
        }
        _ => {
            refurbish(rng, world, workshop, &device, &disk, &mut script, true);
            match fate {
                Fate::WrittenOff => {
                    script.then(
                        days(rng, 10, 200),
                        Action::Device(DeviceCommand::WriteOff {
                            reason: [WriteOffReason::Lost, WriteOffReason::Stolen]
                                [rng.gen_range(0..2)],
                            notes: String::new(),
                        }),
                    );
                }
                Fate::Direct => {
                    let mode = if rng.gen_bool(0.6) {
                        HandoverMode::Donation
                    } else {
                        HandoverMode::SolidaritySale {
                            price_cents: sale_price(rng, &device),
                        }
                    };
                    script.then(
                        days(rng, 5, 90),
                        Action::Device(DeviceCommand::HandOver {
                            household_id: HouseholdId::new_at(script.at, rng.gen()),
                            prescription_id: None,
                            mode,
                        }),
                    );
                }
                Fate::Prescribed => {
                    prescribe(
                        rng,
                        world,
                        &mut journey,
                        &device,
                        &disk,
                        &mut script,
                        &mut households,
                    );
                }
                _ => {}
            }
        }
    }

    let standalone = (fate == Fate::Prescribed && rng.gen_bool(0.25))
        .then(|| plan_standalone(rng, world, workshop, received_at, now, &mut households))
        .flatten();
    journey.device = Some(device);
    journey.script = script.steps;
    (journey, standalone, households)
}

/// Diagnosis, erasure, repair, software, grading and stocking of a device
/// that passes its test.
fn refurbish(
    rng: &mut StdRng,
    world: &World,
    workshop: usize,
    device: &Device,
    disk: &str,
    script: &mut Script,
    first_time: bool,
) {
    let holds_data = device.category.holds_data();
    let diagnosis = if holds_data {
        passed_diagnosis(disk.to_string())
    } else {
        Diagnosis {
            storage_units: vec![],
            ..passed_diagnosis(String::new())
        }
    };
    let delay = if first_time {
        days(rng, 1, 40)
    } else {
        days(rng, 2, 20)
    };
    script.then(delay, Action::Device(DeviceCommand::Diagnose(diagnosis)));
    if rng.gen_bool(0.25) {
        script.then(
            days(rng, 1, 6),
            Action::Device(DeviceCommand::Repair(Repair {
                parts_replaced: vec!["batterie".into()],
                minutes: rng.gen_range(10..90),
                cost_cents: rng.gen_range(0..4_000),
                notes: String::new(),
            })),
        );
    }
    if holds_data {
        script.then(
            rng.gen_range(1..72),
            Action::Device(DeviceCommand::RecordErasure(erasure(disk.to_string()))),
        );
    }
    if matches!(device.category, Category::Laptop | Category::Desktop) && first_time {
        script.then(
            rng.gen_range(1..48),
            Action::Device(DeviceCommand::InstallSoftware(Software {
                os: "Linux Mint".into(),
                os_version: "22".into(),
                licence: None,
            })),
        );
    }
    script.then(
        rng.gen_range(1..48),
        Action::Device(DeviceCommand::Grade(Grading {
            grade: [Grade::A, Grade::B, Grade::B, Grade::C][rng.gen_range(0..4)],
            autonomy: [Autonomy::Beginner, Autonomy::Intermediate][rng.gen_range(0..2)],
            notes: String::new(),
        })),
    );
    let sites = &world.workshops[workshop].sites;
    script.then(
        rng.gen_range(1..48),
        Action::Device(DeviceCommand::Stock(Placement {
            site: sites[rng.gen_range(0..sites.len())].clone(),
            location: format!("Étagère {}", rng.gen_range(1..30)),
        })),
    );
    if first_time && rng.gen_bool(0.08) {
        script.then(
            days(rng, 5, 60),
            Action::Device(DeviceCommand::Move(Placement {
                site: sites[rng.gen_range(0..sites.len())].clone(),
                location: format!("Réserve {}", rng.gen_range(1..10)),
            })),
        );
    }
}

/// Plans the prescription that brings a stocked device to a household:
/// issue, acceptance, reservation, handover, training, and a loan's end.
fn prescribe(
    rng: &mut StdRng,
    world: &World,
    journey: &mut Journey,
    device: &Device,
    disk: &str,
    script: &mut Script,
    households: &mut Vec<NewHousehold>,
) {
    let workshop = &world.workshops[journey.workshop];
    let mode = match rng.gen_range(0..100) {
        0..=44 => HandoverMode::Loan {
            due_on: NaiveDate::MIN,
        },
        45..=84 => HandoverMode::Donation,
        _ => HandoverMode::SolidaritySale {
            price_cents: sale_price(rng, device),
        },
    };
    let (new, scheme) = new_prescription(
        rng,
        world,
        journey.workshop,
        device.category,
        &mode,
        script.at,
    );
    let household_id = new.household_id;
    let prescription_id = new.prescription_id;
    let training_prescribed = new.training.is_some();
    if !script.then(
        days(rng, 1, 120),
        Action::Issue {
            new: Box::new(new),
            scheme,
        },
    ) {
        return;
    }
    households.push((household_id, world::identity(rng), script.at));
    journey.household_id = Some(household_id);
    journey.prescription_id = Some(prescription_id);
    script.then(
        days(rng, 1, 10),
        Action::Prescription(PrescriptionCommand::Accept {
            workshop_organisation: workshop.organisation.clone(),
        }),
    );
    script.then(days(rng, 1, 15), Action::Reserve);
    if rng.gen_bool(0.04) {
        script.then(
            days(rng, 2, 20),
            Action::Release("Foyer injoignable au rendez-vous".into()),
        );
        script.then(days(rng, 2, 10), Action::Reserve);
    }
    let mode = match mode {
        HandoverMode::Loan { .. } => {
            let handover_day = (script.at + Duration::days(10)).date_naive();
            HandoverMode::Loan {
                due_on: handover_day + Duration::days(rng.gen_range(180..366)),
            }
        }
        other => other,
    };
    if !script.then(days(rng, 2, 10), Action::HandOver(mode.clone())) {
        return;
    }
    // Most households go to the training they were prescribed; some miss a
    // session first, and some never come.
    if training_prescribed && rng.gen_bool(0.8) {
        if rng.gen_bool(0.25) {
            script.then(
                days(rng, 3, 30),
                Action::Prescription(PrescriptionCommand::MissTraining { on: script.day() }),
            );
        }
        let on = script.day();
        script.then(
            days(rng, 3, 30),
            Action::Prescription(PrescriptionCommand::AttendTraining { on }),
        );
    }
    let HandoverMode::Loan { due_on } = mode else {
        return;
    };
    let due = due_on
        .and_hms_opt(10, 0, 0)
        .expect("10:00 exists")
        .and_utc();
    let until_due = (due - script.at).num_hours();
    match rng.gen_range(0..100) {
        0..=54 => {
            let delay = until_due + rng.gen_range(-240..480);
            let returned = script.then(delay, Action::Return("Fin de prêt".into()));
            if returned {
                after_return(rng, world, journey.workshop, device, disk, script);
            }
        }
        55..=69 => {
            let extended = due_on + Duration::days(rng.gen_range(90..181));
            script.then(
                until_due - 240,
                Action::Prescription(PrescriptionCommand::ExtendLoan { due_on: extended }),
            );
            let until_extended = (extended
                .and_hms_opt(10, 0, 0)
                .expect("10:00 exists")
                .and_utc()
                - script.at)
                .num_hours();
            if script.then(
                until_extended,
                Action::Return("Fin de prêt prolongé".into()),
            ) {
                after_return(rng, world, journey.workshop, device, disk, script);
            }
        }
        70..=84 => {
            script.then(until_due - 120, Action::Convert);
        }
        // The rest stay with the household past the due date: overdue loans.
        _ => {}
    }
}

/// Plans the new diagnosis of a returned device, then its refurbishing or
/// its recycling.
fn after_return(
    rng: &mut StdRng,
    world: &World,
    workshop: usize,
    device: &Device,
    disk: &str,
    script: &mut Script,
) {
    if rng.gen_bool(0.7) {
        refurbish(rng, world, workshop, device, disk, script, false);
    } else {
        script.then(
            days(rng, 2, 20),
            Action::Device(DeviceCommand::Diagnose(failed_diagnosis(Verdict::Recycle))),
        );
        script.then(
            days(rng, 3, 40),
            Action::Device(DeviceCommand::Recycle(Recycling {
                weight_grams: rng.gen_range(300..9_000),
                eco_organism: "Ecologic".into(),
            })),
        );
    }
}

/// Plans a prescription that never gets a device: declined by the
/// workshop, cancelled by the referrer, or expired.
fn plan_standalone(
    rng: &mut StdRng,
    world: &World,
    workshop: usize,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    households: &mut Vec<NewHousehold>,
) -> Option<Journey> {
    let category = [Category::Laptop, Category::Tablet, Category::Smartphone][rng.gen_range(0..3)];
    let (new, scheme) = new_prescription(
        rng,
        world,
        workshop,
        category,
        &HandoverMode::Donation,
        start,
    );
    let household_id = new.household_id;
    let prescription_id = new.prescription_id;
    let mut script = Script::new(start, now);
    if !script.then(
        days(rng, 1, 200),
        Action::Issue {
            new: Box::new(new),
            scheme,
        },
    ) {
        return None;
    }
    households.push((household_id, world::identity(rng), script.at));
    let organisation = world.workshops[workshop].organisation.clone();
    match rng.gen_range(0..100) {
        0..=39 => {
            script.then(
                days(rng, 1, 15),
                Action::Prescription(PrescriptionCommand::Decline {
                    workshop_organisation: organisation,
                    reason: "Aucun appareil de cette catégorie disponible".into(),
                }),
            );
        }
        40..=64 => {
            script.then(
                days(rng, 1, 10),
                Action::Prescription(PrescriptionCommand::Accept {
                    workshop_organisation: organisation,
                }),
            );
            script.then(
                days(rng, 5, 60),
                Action::Prescription(PrescriptionCommand::Cancel {
                    reason: "Le foyer a trouvé un équipement".into(),
                }),
            );
        }
        _ => {
            script.then(
                days(rng, 1, 10),
                Action::Prescription(PrescriptionCommand::Accept {
                    workshop_organisation: organisation,
                }),
            );
            script.then(
                days(rng, 90, 180),
                Action::Prescription(PrescriptionCommand::Expire),
            );
        }
    }
    Some(Journey {
        workshop,
        device: None,
        prescription: None,
        household_id: Some(household_id),
        prescription_id: Some(prescription_id),
        script: script.steps,
    })
}

fn new_prescription(
    rng: &mut StdRng,
    world: &World,
    workshop: usize,
    category: Category,
    mode: &HandoverMode,
    at: DateTime<Utc>,
) -> (NewPrescription, usize) {
    let place = &world.workshops[workshop];
    let (scheme, evidence) = world.pick_scheme(rng);
    let preferred_mode = match (mode, rng.gen_bool(0.85)) {
        (HandoverMode::Loan { .. }, true) => PreferredMode::Loan,
        (HandoverMode::SolidaritySale { .. }, true) => PreferredMode::SolidaritySale,
        (_, true) => PreferredMode::Donation,
        (_, false) => PreferredMode::Loan,
    };
    let purpose = [
        Purpose::JobSearch,
        Purpose::Schooling,
        Purpose::AdministrativeProcedures,
        Purpose::Health,
        Purpose::Other,
    ][rng.gen_range(0..5)];
    let skills = if rng.gen_bool(0.5) {
        DigitalSkills::Pix {
            level: rng.gen_range(0..6),
        }
    } else {
        DigitalSkills::Autonomy {
            level: [Autonomy::Beginner, Autonomy::Intermediate][rng.gen_range(0..2)],
        }
    };
    let training = rng.gen_bool(0.75).then(|| Training {
        provider: if rng.gen_bool(0.6) {
            TrainingProvider::Adviser
        } else {
            TrainingProvider::Venue
        },
        name: format!("Médiation numérique {}", place.departement_name),
        scheduled_on: None,
    });
    let new = NewPrescription {
        prescription_id: PrescriptionId::new_at(at, rng.gen()),
        household_id: HouseholdId::new_at(at, rng.gen()),
        referrer_organisation: place.social_service.clone(),
        need: Need { category, purpose },
        evidence,
        preferred_mode,
        skills,
        training,
        household: world::household(&place.communes, rng),
    };
    (new, scheme)
}

fn pick_fate(rng: &mut StdRng) -> Fate {
    let mut roll = rng.gen_range(0..100);
    for (fate, share) in FATES {
        if roll < *share {
            return *fate;
        }
        roll -= share;
    }
    Fate::Stock
}

/// Draws a solidarity price within the free-transfer cap of the category.
fn sale_price(rng: &mut StdRng, device: &Device) -> i64 {
    let price = rng.gen_range(20..120) * 100;
    match device.category.solidarity_price_cap_cents() {
        Some(cap) => price.min(cap),
        None => price,
    }
}

fn passed_diagnosis(disk: String) -> Diagnosis {
    Diagnosis {
        functional_test: Outcome::Passed,
        verdict: Verdict::Refurbish,
        storage_units: vec![StorageUnit {
            unit: disk,
            kind: StorageKind::Ssd,
            model: "Samsung PM871".into(),
            size_bytes: Some(256_060_514_304),
            healthy: Some(true),
        }],
        cpu: "Intel Core i5-8350U".into(),
        memory_bytes: Some(8 * 1024 * 1024 * 1024),
        battery_wear_percent: Some(21),
        notes: String::new(),
        evidence_sha256: Vec::new(),
    }
}

fn failed_diagnosis(verdict: Verdict) -> Diagnosis {
    Diagnosis {
        functional_test: Outcome::Failed,
        verdict,
        storage_units: vec![],
        cpu: String::new(),
        memory_bytes: None,
        battery_wear_percent: None,
        notes: "La carte mère ne démarre pas".into(),
        evidence_sha256: Vec::new(),
    }
}

fn erasure(unit: String) -> Erasure {
    Erasure {
        unit,
        method: ErasureMethod::Clear,
        technique: ErasureTechnique::Overwrite,
        tool: "nwipe".into(),
        tool_version: "0.37".into(),
        verified: true,
        result: Outcome::Passed,
        operator: "Camille".into(),
        evidence_sha256: None,
    }
}

impl Journey {
    /// Decides `action` on the journey's current state, applies the events
    /// and returns them as one append batch at `at`.
    pub fn execute(
        &mut self,
        world: &World,
        at: DateTime<Utc>,
        action: Action,
    ) -> anyhow::Result<AppendBatch> {
        let today = at.date_naive();
        let place = &world.workshops[self.workshop];
        let mut organisation = place.organisation.clone();
        let streams = match action {
            Action::Device(command) => {
                let device = self
                    .device
                    .as_mut()
                    .context("a device step without a device")?;
                vec![device_stream(device, command, today)?]
            }
            Action::Issue { new, scheme } => {
                organisation = place.social_service.clone();
                let id = new.prescription_id;
                let events = Prescription::issue(*new, &world.schemes[scheme], today)
                    .context("the generated prescription was rejected")?;
                self.prescription = Prescription::from_events(&events);
                vec![prescription_stream(id, ExpectedVersion::NoStream, &events)]
            }
            Action::Prescription(PrescriptionCommand::ExtendLoan { due_on }) => self.both(
                PrescriptionCommand::ExtendLoan { due_on },
                DeviceCommand::ExtendLoan { due_on },
                today,
            )?,
            Action::Prescription(command) => {
                if matches!(
                    command,
                    PrescriptionCommand::Cancel { .. }
                        | PrescriptionCommand::AttendTraining { .. }
                        | PrescriptionCommand::MissTraining { .. }
                ) {
                    organisation = place.social_service.clone();
                }
                let prescription = self.prescription_mut()?;
                vec![prescription_step(prescription, command, today)?]
            }
            Action::Reserve => {
                let device = self
                    .device
                    .as_ref()
                    .context("a reservation without a device")?;
                let code = device.code.clone().context("a device without a code")?;
                let command = PrescriptionCommand::Reserve {
                    device: DeviceRef {
                        device_id: device.id,
                        code,
                    },
                    category: device.category,
                    holder: device.holder.clone(),
                };
                let household_id = self.household_id.context("no household")?;
                let device_command = DeviceCommand::Reserve {
                    household_id,
                    prescription_id: self.prescription_id,
                };
                self.both(command, device_command, today)?
            }
            Action::Release(reason) => self.both(
                PrescriptionCommand::Release {
                    reason: reason.clone(),
                },
                DeviceCommand::ReleaseReservation { reason },
                today,
            )?,
            Action::HandOver(mode) => {
                let device_id = self
                    .device
                    .as_ref()
                    .context("a handover without a device")?
                    .id;
                let household_id = self.household_id.context("no household")?;
                self.both(
                    PrescriptionCommand::HandOver {
                        device_id,
                        mode: mode.clone(),
                    },
                    DeviceCommand::HandOver {
                        household_id,
                        prescription_id: self.prescription_id,
                        mode,
                    },
                    today,
                )?
            }
            Action::Return(notes) => self.both(
                PrescriptionCommand::Return {
                    notes: notes.clone(),
                },
                DeviceCommand::Return { notes },
                today,
            )?,
            Action::Convert => self.both(
                PrescriptionCommand::ConvertToDonation,
                DeviceCommand::ConvertLoanToDonation,
                today,
            )?,
        };
        Ok(AppendBatch {
            command_id: None,
            metadata: Metadata::new(ACTOR, organisation),
            occurred_at: at,
            streams,
        })
    }

    fn prescription_mut(&mut self) -> anyhow::Result<&mut Prescription> {
        self.prescription
            .as_mut()
            .context("a prescription step before the prescription was issued")
    }

    /// Decides a step on the prescription and on its device, in one batch
    /// of two streams, as the store's prescription handling does.
    fn both(
        &mut self,
        command: PrescriptionCommand,
        device_command: DeviceCommand,
        today: NaiveDate,
    ) -> anyhow::Result<Vec<StreamAppend>> {
        let prescription = self
            .prescription
            .as_mut()
            .context("a prescription step before the prescription was issued")?;
        let first = prescription_step(prescription, command, today)?;
        let device = self
            .device
            .as_mut()
            .context("a device step without a device")?;
        let second = device_stream(device, device_command, today)?;
        Ok(vec![first, second])
    }
}

fn device_stream(
    device: &mut Device,
    command: DeviceCommand,
    today: NaiveDate,
) -> anyhow::Result<StreamAppend> {
    let step = command.step();
    let expected = ExpectedVersion::Exact(i64::try_from(device.version)?);
    let events = device.decide(command, today).with_context(|| {
        format!(
            "the generated step {} on device {} was rejected",
            step.as_str(),
            device.display_name()
        )
    })?;
    for event in &events {
        device.apply(event);
    }
    Ok(StreamAppend {
        stream_id: device.id.stream_id(),
        expected,
        events: events.iter().map(device_event).collect(),
        unique_keys: vec![],
    })
}

fn prescription_step(
    prescription: &mut Prescription,
    command: PrescriptionCommand,
    today: NaiveDate,
) -> anyhow::Result<StreamAppend> {
    let step = command.step();
    let expected = ExpectedVersion::Exact(i64::try_from(prescription.version)?);
    let events = prescription.decide(command, today).with_context(|| {
        format!(
            "the generated step {} on prescription {} was rejected",
            step.as_str(),
            prescription.id()
        )
    })?;
    for event in &events {
        prescription.apply(event);
    }
    Ok(prescription_stream(prescription.id(), expected, &events))
}

fn prescription_stream(
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

pub fn device_event(event: &DeviceEvent) -> NewEvent {
    let (event_type, schema_version, payload) = encode_device_event(event);
    NewEvent::new(event_type, schema_version, payload)
}
