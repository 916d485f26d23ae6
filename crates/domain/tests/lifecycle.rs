//! Tests of the device aggregate's lifecycle: which steps `Device::decide`
//! accepts in each status and which readiness rules gate a handover. A
//! property test runs random command sequences and checks the same rules with
//! its own checker, which does not call `Device::readiness_gaps`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use filiere_domain::command::Step;
use filiere_domain::device::Intake;
use filiere_domain::event::{
    Diagnosis, Erasure, Grading, HandoverMode, Placement, Recycling, Repair, Software, StorageUnit,
};
use filiere_domain::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict, WriteOffReason,
};
use filiere_domain::{
    Device, DeviceCode, DeviceCommand, DeviceEvent, DeviceId, DeviceStatus, DomainError,
    DonationId, HouseholdId, PrescriptionId,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestRng, TestRunner};
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// Day on which every step of these tests happens.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 10).expect("valid date")
}

fn code() -> DeviceCode {
    DeviceCode::from_random([3, 14, 15, 9, 26, 5])
}

/// Returns the text of `code()`, as error messages show it.
fn device_code() -> String {
    code().to_string()
}

fn household(n: u128) -> HouseholdId {
    HouseholdId(Uuid::from_u128(n))
}

fn intake(category: Category, donor_kind: DonorKind, free_transfer: bool) -> Intake {
    let received_at = DateTime::<Utc>::from_timestamp(1_741_600_000, 0).expect("valid timestamp");
    Intake {
        device_id: DeviceId::new_at(received_at, [1; 10]),
        donation_id: DonationId::new_at(received_at, [2; 10]),
        category,
        brand: "Lenovo".into(),
        model: "ThinkPad T480".into(),
        serial: None,
        asset_tag: None,
        site: "Lyon".into(),
        donor_kind,
        free_transfer,
    }
}

fn storage_unit(name: &str) -> StorageUnit {
    StorageUnit {
        unit: name.into(),
        kind: StorageKind::Ssd,
        model: "Samsung PM981".into(),
        size_bytes: Some(256_000_000_000),
        healthy: Some(true),
    }
}

fn diagnose(functional_test: Outcome, verdict: Verdict, units: &[&str]) -> DeviceCommand {
    DeviceCommand::Diagnose(Diagnosis {
        functional_test,
        verdict,
        storage_units: units.iter().map(|name| storage_unit(name)).collect(),
        cpu: "Intel Core i5-8250U".into(),
        memory_bytes: Some(8 << 30),
        battery_wear_percent: Some(20),
        notes: String::new(),
        evidence_sha256: vec![],
    })
}

fn diagnose_ready(units: &[&str]) -> DeviceCommand {
    diagnose(Outcome::Passed, Verdict::Refurbish, units)
}

fn erasure(unit: &str, method: ErasureMethod, result: Outcome) -> Erasure {
    let technique = match method {
        ErasureMethod::Clear => ErasureTechnique::Overwrite,
        ErasureMethod::Purge => ErasureTechnique::BlockErase,
        ErasureMethod::Destroy => ErasureTechnique::Shredding,
    };
    Erasure {
        unit: unit.into(),
        method,
        technique,
        tool: "nwipe".into(),
        tool_version: "0.36".into(),
        verified: result == Outcome::Passed,
        result,
        operator: "Camille".into(),
        evidence_sha256: None,
    }
}

fn erase(unit: &str, result: Outcome) -> DeviceCommand {
    DeviceCommand::RecordErasure(erasure(unit, ErasureMethod::Purge, result))
}

fn repair() -> DeviceCommand {
    DeviceCommand::Repair(Repair {
        parts_replaced: vec!["battery".into()],
        minutes: 30,
        cost_cents: 2_500,
        notes: String::new(),
    })
}

fn install() -> DeviceCommand {
    DeviceCommand::InstallSoftware(Software {
        os: "Linux Mint".into(),
        os_version: "22".into(),
        licence: Some("GPL".into()),
    })
}

fn grade(notes: &str) -> DeviceCommand {
    DeviceCommand::Grade(Grading {
        grade: Grade::B,
        autonomy: Autonomy::Beginner,
        notes: notes.into(),
    })
}

fn placement(location: &str) -> Placement {
    Placement {
        site: "Lyon".into(),
        location: location.into(),
    }
}

fn stock() -> DeviceCommand {
    DeviceCommand::Stock(placement("shelf A3"))
}

fn reserve(household_number: u128) -> DeviceCommand {
    DeviceCommand::Reserve {
        household_id: household(household_number),
        prescription_id: Some(PrescriptionId(Uuid::from_u128(77))),
    }
}

fn hand_over(household_number: u128, mode: HandoverMode) -> DeviceCommand {
    DeviceCommand::HandOver {
        household_id: household(household_number),
        prescription_id: None,
        mode,
    }
}

fn loan_for(days: i64) -> HandoverMode {
    HandoverMode::Loan {
        due_on: today() + Duration::days(days),
    }
}

/// Builds an extension of the current loan to `days` after `today()`.
fn extend_to(days: i64) -> DeviceCommand {
    DeviceCommand::ExtendLoan {
        due_on: today() + Duration::days(days),
    }
}

fn sale(price_cents: i64) -> HandoverMode {
    HandoverMode::SolidaritySale { price_cents }
}

fn return_device() -> DeviceCommand {
    DeviceCommand::Return {
        notes: "screen hinge loose".into(),
    }
}

fn recycle() -> DeviceCommand {
    DeviceCommand::Recycle(Recycling {
        weight_grams: 2_100,
        eco_organism: "ecosystem".into(),
    })
}

/// Builds a valid command for `step`, for a laptop whose diagnosis found unit
/// "sda" and that was reserved for or handed over to household 1 as a loan.
fn sample_command(step: Step) -> DeviceCommand {
    match step {
        Step::Diagnose => diagnose_ready(&["sda"]),
        Step::Erase => erase("sda", Outcome::Passed),
        Step::Repair => repair(),
        Step::Install => install(),
        Step::Grade => grade("small scratch on the lid"),
        Step::Stock => stock(),
        Step::Move => DeviceCommand::Move(placement("bench 2")),
        Step::Reserve => reserve(1),
        Step::Release => DeviceCommand::ReleaseReservation {
            reason: "household moved away".into(),
        },
        Step::Handover => hand_over(1, loan_for(90)),
        Step::Return => return_device(),
        Step::Convert => DeviceCommand::ConvertLoanToDonation,
        Step::Extend => extend_to(120),
        Step::Recycle => recycle(),
        Step::Dismantle => DeviceCommand::Dismantle {
            parts_harvested: vec!["RAM".into()],
        },
        Step::WriteOff => DeviceCommand::WriteOff {
            reason: WriteOffReason::Lost,
            notes: "not found at inventory".into(),
        },
        Step::Transfer => DeviceCommand::Transfer {
            to: "atelier-voisin".into(),
        },
    }
}

/// A device with its event stream, advanced through `Device::decide` and
/// `Device::apply` as the application does.
struct Bench {
    device: Device,
    events: Vec<DeviceEvent>,
}

impl Bench {
    fn receive(category: Category, donor_kind: DonorKind, free_transfer: bool) -> Bench {
        let events = Device::receive(intake(category, donor_kind, free_transfer), code())
            .expect("the intake fixture is valid");
        let device = Device::from_events(&events).expect("the stream starts with Received");
        Bench { device, events }
    }

    fn laptop() -> Bench {
        Bench::receive(Category::Laptop, DonorKind::Company, false)
    }

    fn decide(&self, command: DeviceCommand) -> Result<Vec<DeviceEvent>, DomainError> {
        self.device.decide(command, today())
    }

    /// Decides `command` and applies its events. Panics when the command is
    /// rejected.
    #[track_caller]
    fn step(&mut self, command: DeviceCommand) {
        let step = command.step();
        let events = match self.decide(command) {
            Ok(events) => events,
            Err(error) => panic!(
                "step '{}' on a {} device was rejected: {error}",
                step.as_str(),
                self.device.status
            ),
        };
        for event in &events {
            self.device.apply(event);
        }
        self.events.extend(events);
    }

    /// Builds a laptop in the workshop, diagnosed ready with units sda and sdb
    /// and both units erased.
    fn ready_laptop() -> Bench {
        let mut bench = Bench::laptop();
        bench.step(diagnose_ready(&["sda", "sdb"]));
        bench.step(erase("sda", Outcome::Passed));
        bench.step(erase("sdb", Outcome::Passed));
        bench
    }

    /// Builds a laptop in `status`, reached along the usual path. The laptop is
    /// diagnosed and erased first unless `status` comes straight after intake.
    fn in_status(status: DeviceStatus) -> Bench {
        let mut bench = match status {
            DeviceStatus::Received
            | DeviceStatus::Recycled
            | DeviceStatus::Dismantled
            | DeviceStatus::WrittenOff => Bench::laptop(),
            _ => Bench::ready_laptop(),
        };
        let path: &[Step] = match status {
            DeviceStatus::Received | DeviceStatus::InWorkshop => &[],
            DeviceStatus::InStock => &[Step::Stock],
            DeviceStatus::Reserved => &[Step::Stock, Step::Reserve],
            DeviceStatus::HandedOver => &[Step::Stock, Step::Handover],
            DeviceStatus::Returned => &[Step::Stock, Step::Handover, Step::Return],
            DeviceStatus::Recycled => &[Step::Recycle],
            DeviceStatus::Dismantled => &[Step::Dismantle],
            DeviceStatus::WrittenOff => &[Step::WriteOff],
        };
        for step in path {
            bench.step(sample_command(*step));
        }
        assert_eq!(
            bench.device.status, status,
            "fixture did not reach {status}"
        );
        bench
    }
}

/// Asserts that `result` is a `StepNotAllowed` naming the device code, its
/// status and `step`, in the fields and in the message.
#[track_caller]
fn assert_step_not_allowed(
    result: Result<Vec<DeviceEvent>, DomainError>,
    bench: &Bench,
    step: Step,
) {
    let error = match result {
        Ok(events) => panic!(
            "step '{}' on a {} device was accepted with {events:?}",
            step.as_str(),
            bench.device.status
        ),
        Err(error) => error,
    };
    let message = error.to_string();
    let DomainError::StepNotAllowed {
        device,
        status,
        step: rejected_step,
        ..
    } = &error
    else {
        panic!(
            "expected StepNotAllowed for step '{}', got {error:?}",
            step.as_str()
        );
    };
    assert_eq!(
        device,
        &device_code(),
        "error names another device: {message}"
    );
    assert_eq!(
        *status, bench.device.status,
        "error names another status: {message}"
    );
    assert_eq!(
        *rejected_step,
        step.as_str(),
        "error names another step: {message}"
    );
    assert!(
        message.contains(&device_code()),
        "message lacks the device code: {message}"
    );
    assert!(
        message.contains(&format!("is {}", bench.device.status)),
        "message lacks the status: {message}"
    );
    assert!(
        message.contains(&format!("step '{}'", step.as_str())),
        "message lacks the step: {message}"
    );
}

/// Asserts that `result` is a `NotReady` for `action` whose missing reasons
/// include every text in `expected` and none in `unexpected`.
#[track_caller]
fn assert_not_ready(
    result: Result<Vec<DeviceEvent>, DomainError>,
    action: &str,
    expected: &[&str],
    unexpected: &[&str],
) {
    let error = match result {
        Ok(events) => panic!("the device was {action} with {events:?}"),
        Err(error) => error,
    };
    let message = error.to_string();
    let DomainError::NotReady {
        device,
        action: rejected_action,
        missing,
    } = &error
    else {
        panic!("expected NotReady, got {error:?}");
    };
    assert_eq!(
        device,
        &device_code(),
        "error names another device: {message}"
    );
    assert_eq!(
        *rejected_action, action,
        "error names another action: {message}"
    );
    for reason in expected {
        assert!(
            missing.iter().any(|m| m.contains(reason)),
            "missing reasons lack '{reason}': {missing:?}"
        );
    }
    for reason in unexpected {
        assert!(
            !missing.iter().any(|m| m.contains(reason)),
            "missing reasons wrongly contain '{reason}': {missing:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Happy path and event folding
// ---------------------------------------------------------------------------

#[test]
fn happy_path_status_after_each_step() {
    let mut bench = Bench::laptop();
    assert_eq!(
        bench.device.status,
        DeviceStatus::Received,
        "status after intake"
    );
    assert_eq!(
        bench.device.code.as_ref().map(ToString::to_string),
        Some(device_code()),
        "intake assigns the label code"
    );

    let steps = [
        (diagnose_ready(&["sda", "sdb"]), DeviceStatus::InWorkshop),
        (erase("sda", Outcome::Passed), DeviceStatus::InWorkshop),
        (erase("sdb", Outcome::Passed), DeviceStatus::InWorkshop),
        (repair(), DeviceStatus::InWorkshop),
        (install(), DeviceStatus::InWorkshop),
        (grade("small scratch on the lid"), DeviceStatus::InWorkshop),
        (stock(), DeviceStatus::InStock),
        (reserve(1), DeviceStatus::Reserved),
        (hand_over(1, loan_for(180)), DeviceStatus::HandedOver),
        (return_device(), DeviceStatus::Returned),
        (diagnose_ready(&["sda"]), DeviceStatus::InWorkshop),
        (erase("sda", Outcome::Passed), DeviceStatus::InWorkshop),
        (stock(), DeviceStatus::InStock),
        (
            hand_over(2, HandoverMode::Donation),
            DeviceStatus::HandedOver,
        ),
    ];
    for (index, (command, expected)) in steps.into_iter().enumerate() {
        let step = command.step().as_str();
        bench.step(command);
        assert_eq!(
            bench.device.status, expected,
            "status after step {index} ('{step}')"
        );
    }

    assert_eq!(
        bench.device.handover_mode,
        Some(HandoverMode::Donation),
        "final handover mode"
    );
    assert_eq!(
        bench.device.household_id,
        Some(household(2)),
        "final household"
    );
    assert_eq!(
        bench.device.grade,
        Some(Grade::B),
        "grade survives the return"
    );
    assert_eq!(
        bench.device.placement,
        placement("shelf A3"),
        "placement of the last stocking"
    );
}

#[test]
fn from_events_matches_applied_state() {
    let mut bench = Bench::in_status(DeviceStatus::Returned);
    bench.step(diagnose_ready(&["sda"]));
    let rebuilt = Device::from_events(&bench.events).expect("the stream starts with Received");
    assert_eq!(
        rebuilt, bench.device,
        "folded state differs from applied state"
    );
    assert_eq!(
        rebuilt.version,
        bench.events.len() as u64,
        "version counts the events"
    );
}

#[test]
fn from_events_rejects_stream_without_intake() {
    assert!(
        Device::from_events(&[]).is_none(),
        "an empty stream has no device"
    );
    let stream = [DeviceEvent::Returned {
        notes: String::new(),
    }];
    assert!(
        Device::from_events(&stream).is_none(),
        "a stream must start with Received"
    );
}

#[test]
fn return_clears_household_and_erasures() {
    let bench = Bench::in_status(DeviceStatus::Returned);
    assert_eq!(bench.device.household_id, None, "household after return");
    assert_eq!(
        bench.device.handover_mode, None,
        "handover mode after return"
    );
    assert!(
        bench.device.erasures.is_empty(),
        "erasures after return: {:?}",
        bench.device.erasures
    );
    assert_eq!(
        bench.device.functional_test, None,
        "functional test after return"
    );
    assert_eq!(bench.device.verdict, None, "verdict after return");
}

// ---------------------------------------------------------------------------
// Steps the status forbids
// ---------------------------------------------------------------------------

#[test]
fn received_device_rejects_handover() {
    let bench = Bench::laptop();
    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert_step_not_allowed(result, &bench, Step::Handover);
}

#[test]
fn received_device_rejects_erasure() {
    let bench = Bench::laptop();
    let result = bench.decide(erase("sda", Outcome::Passed));
    assert_step_not_allowed(result, &bench, Step::Erase);
}

#[test]
fn handed_over_device_rejects_reserve() {
    let bench = Bench::in_status(DeviceStatus::HandedOver);
    let result = bench.decide(reserve(2));
    assert_step_not_allowed(result, &bench, Step::Reserve);
}

#[test]
fn returned_device_rejects_handover() {
    let bench = Bench::in_status(DeviceStatus::Returned);
    let result = bench.decide(hand_over(2, HandoverMode::Donation));
    assert_step_not_allowed(result, &bench, Step::Handover);
}

#[test]
fn exited_device_rejects_every_step() {
    for status in [
        DeviceStatus::Recycled,
        DeviceStatus::Dismantled,
        DeviceStatus::WrittenOff,
    ] {
        let bench = Bench::in_status(status);
        assert!(
            bench.device.allowed_steps().is_empty(),
            "{status} device lists steps: {:?}",
            bench.device.allowed_steps()
        );
        for step in Step::ALL {
            let result = bench.decide(sample_command(*step));
            let message = match &result {
                Err(error) => error.to_string(),
                Ok(_) => String::new(),
            };
            assert_step_not_allowed(result, &bench, *step);
            assert!(
                message.contains("left the supply chain"),
                "{status} device message does not say it left: {message}"
            );
        }
    }
}

#[test]
fn status_rejects_steps_it_forbids() {
    for status in DeviceStatus::ALL {
        let bench = Bench::in_status(*status);
        let allowed = status.allowed_steps();
        for step in Step::ALL.iter().filter(|step| !allowed.contains(step)) {
            let result = bench.decide(sample_command(*step));
            assert_step_not_allowed(result, &bench, *step);
        }
    }
}

#[test]
fn allowed_steps_are_accepted() {
    for status in DeviceStatus::ALL {
        let bench = Bench::in_status(*status);
        for step in bench.device.allowed_steps() {
            let result = bench.decide(sample_command(step));
            assert!(
                result.is_ok(),
                "{status} device lists step '{}' but rejects it: {:?}",
                step.as_str(),
                result.err()
            );
        }
    }
}

#[test]
fn allowed_steps_hide_handover_until_ready() {
    let mut bench = Bench::laptop();
    bench.step(diagnose_ready(&["sda"]));
    bench.step(stock());
    let allowed = bench.device.allowed_steps();
    assert!(
        !allowed.contains(&Step::Handover),
        "handover listed before erasure: {allowed:?}"
    );
    assert!(
        !allowed.contains(&Step::Reserve),
        "reserve listed before erasure: {allowed:?}"
    );

    bench.step(erase("sda", Outcome::Passed));
    let allowed = bench.device.allowed_steps();
    assert!(
        allowed.contains(&Step::Handover),
        "handover not listed once ready: {allowed:?}"
    );
    assert!(
        allowed.contains(&Step::Reserve),
        "reserve not listed once ready: {allowed:?}"
    );
}

// ---------------------------------------------------------------------------
// Erasure
// ---------------------------------------------------------------------------

#[test]
fn erasure_of_unknown_unit_rejected() {
    let mut bench = Bench::laptop();
    bench.step(diagnose_ready(&["sda", "sdb"]));
    let error = bench
        .decide(erase("nvme0", Outcome::Passed))
        .expect_err("an erasure of a unit absent from the diagnosis must be rejected");
    let message = error.to_string();
    let DomainError::UnknownStorageUnit {
        device,
        unit,
        known,
    } = &error
    else {
        panic!("expected UnknownStorageUnit, got {error:?}");
    };
    assert_eq!(
        device,
        &device_code(),
        "error names another device: {message}"
    );
    assert_eq!(unit, "nvme0", "error names another unit: {message}");
    assert_eq!(known, &["sda", "sdb"], "known units: {message}");
    assert!(
        message.contains(&device_code()),
        "message lacks the device code: {message}"
    );
    assert!(
        message.contains("'nvme0'"),
        "message lacks the unknown unit: {message}"
    );
    assert!(
        message.contains("sda, sdb"),
        "message lacks the known units: {message}"
    );
}

#[test]
fn erasure_of_dropped_unit_rejected() {
    let mut bench = Bench::laptop();
    bench.step(diagnose_ready(&["sda", "sdb"]));
    bench.step(diagnose_ready(&["sda"]));
    let result = bench.decide(erase("sdb", Outcome::Passed));
    assert!(
        matches!(result, Err(DomainError::UnknownStorageUnit { .. })),
        "a unit absent from the latest diagnosis is unknown: {result:?}"
    );
}

#[test]
fn erasure_without_tool_or_operator_rejected() {
    let mut bench = Bench::laptop();
    bench.step(diagnose_ready(&["sda"]));

    let mut no_tool = erasure("sda", ErasureMethod::Purge, Outcome::Passed);
    no_tool.tool = "  ".into();
    let result = bench.decide(DeviceCommand::RecordErasure(no_tool));
    assert!(
        matches!(result, Err(DomainError::InvalidField { field: "tool", .. })),
        "blank tool: {result:?}"
    );

    let mut no_operator = erasure("sda", ErasureMethod::Purge, Outcome::Passed);
    no_operator.operator = String::new();
    let result = bench.decide(DeviceCommand::RecordErasure(no_operator));
    assert!(
        matches!(
            result,
            Err(DomainError::InvalidField {
                field: "operator",
                ..
            })
        ),
        "blank operator: {result:?}"
    );
}

// ---------------------------------------------------------------------------
// Readiness for a household
// ---------------------------------------------------------------------------

#[test]
fn failed_functional_test_blocks_handover() {
    let mut bench = Bench::laptop();
    bench.step(diagnose(Outcome::Failed, Verdict::Refurbish, &["sda"]));
    bench.step(erase("sda", Outcome::Passed));
    bench.step(stock());

    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert_not_ready(result, "handed over", &["functional test failed"], &["sda"]);
    let result = bench.decide(reserve(1));
    assert_not_ready(result, "reserved", &["functional test failed"], &[]);
}

#[test]
fn verdict_other_than_refurbish_blocks_handover() {
    for verdict in [Verdict::HarvestParts, Verdict::Recycle] {
        let mut bench = Bench::laptop();
        bench.step(diagnose(Outcome::Passed, verdict, &["sda"]));
        bench.step(erase("sda", Outcome::Passed));
        bench.step(stock());

        let expected = format!("verdict is {verdict}");
        let result = bench.decide(hand_over(1, HandoverMode::Donation));
        assert_not_ready(result, "handed over", &[&expected], &[]);
        let result = bench.decide(reserve(1));
        assert_not_ready(result, "reserved", &[&expected], &[]);
    }
}

#[test]
fn unerased_unit_blocks_handover() {
    let mut bench = Bench::laptop();
    bench.step(diagnose_ready(&["sda", "sdb"]));
    bench.step(erase("sda", Outcome::Passed));
    bench.step(stock());

    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert_not_ready(
        result,
        "handed over",
        &["storage unit sdb is not erased"],
        &["sda"],
    );
    let result = bench.decide(reserve(1));
    assert_not_ready(
        result,
        "reserved",
        &["storage unit sdb is not erased"],
        &["sda"],
    );
}

#[test]
fn failed_erasure_blocks_until_passed() {
    let mut bench = Bench::laptop();
    bench.step(diagnose_ready(&["sda", "sdb"]));
    bench.step(erase("sda", Outcome::Passed));
    bench.step(erase("sdb", Outcome::Failed));
    bench.step(stock());

    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert_not_ready(
        result,
        "handed over",
        &["erasure of storage unit sdb failed"],
        &["sda"],
    );

    bench.step(erase("sdb", Outcome::Passed));
    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert!(
        result.is_ok(),
        "handover after a later passed erasure: {result:?}"
    );
}

#[test]
fn failed_erasure_after_pass_blocks() {
    let mut bench = Bench::ready_laptop();
    bench.step(stock());
    bench.step(erase("sda", Outcome::Failed));

    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert_not_ready(
        result,
        "handed over",
        &["erasure of storage unit sda failed"],
        &["sdb"],
    );
}

#[test]
fn destroyed_unit_allows_handover() {
    let mut bench = Bench::laptop();
    bench.step(diagnose_ready(&["sda"]));
    bench.step(erase("sda", Outcome::Failed));
    bench.step(DeviceCommand::RecordErasure(erasure(
        "sda",
        ErasureMethod::Destroy,
        Outcome::Passed,
    )));
    bench.step(stock());

    assert!(
        bench.device.readiness_gaps().is_empty(),
        "gaps after destruction: {:?}",
        bench.device.readiness_gaps()
    );
    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert!(
        result.is_ok(),
        "handover after the unit was destroyed: {result:?}"
    );
}

#[test]
fn diagnosis_without_units_needs_no_erasure() {
    let mut bench = Bench::receive(Category::Screen, DonorKind::Company, false);
    bench.step(diagnose_ready(&[]));
    bench.step(stock());
    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert!(
        result.is_ok(),
        "handover of a device without storage: {result:?}"
    );
}

#[test]
fn return_requires_new_diagnosis_and_erasure() {
    let mut bench = Bench::in_status(DeviceStatus::Returned);
    let gaps = bench.device.readiness_gaps();
    assert!(
        !gaps.is_empty(),
        "a returned device has no readiness gap: {gaps:?}"
    );

    bench.step(diagnose_ready(&["sda", "sdb"]));
    bench.step(stock());
    let result = bench.decide(hand_over(2, HandoverMode::Donation));
    assert_not_ready(
        result,
        "handed over",
        &[
            "storage unit sda is not erased",
            "storage unit sdb is not erased",
        ],
        &["diagnosis"],
    );

    bench.step(erase("sda", Outcome::Passed));
    bench.step(erase("sdb", Outcome::Passed));
    let result = bench.decide(hand_over(2, HandoverMode::Donation));
    assert!(
        result.is_ok(),
        "handover after new diagnosis and erasure: {result:?}"
    );
}

#[test]
fn reservation_binds_household() {
    let mut bench = Bench::in_status(DeviceStatus::Reserved);
    let result = bench.decide(hand_over(2, HandoverMode::Donation));
    let Err(DomainError::InvalidField { field, reason, .. }) = &result else {
        panic!("handover to another household: expected InvalidField, got {result:?}");
    };
    assert_eq!(*field, "household", "rejected field");
    assert!(
        reason.contains(&device_code()),
        "reason lacks the device code: {reason}"
    );

    bench.step(sample_command(Step::Release));
    assert_eq!(
        bench.device.status,
        DeviceStatus::InStock,
        "status after release"
    );
    assert_eq!(bench.device.household_id, None, "household after release");
    let result = bench.decide(hand_over(2, HandoverMode::Donation));
    assert!(
        result.is_ok(),
        "handover to another household after release: {result:?}"
    );
}

// ---------------------------------------------------------------------------
// Handover modes
// ---------------------------------------------------------------------------

fn stocked_ready(category: Category, donor_kind: DonorKind, free_transfer: bool) -> Bench {
    let mut bench = Bench::receive(category, donor_kind, free_transfer);
    bench.step(diagnose_ready(&["sda"]));
    bench.step(erase("sda", Outcome::Passed));
    bench.step(stock());
    bench
}

#[test]
fn free_transfer_laptop_price_capped() {
    let bench = stocked_ready(Category::Laptop, DonorKind::PublicBody, true);

    let result = bench.decide(hand_over(1, sale(18_000)));
    assert!(result.is_ok(), "sale at the 180.00 EUR cap: {result:?}");

    let error = bench
        .decide(hand_over(1, sale(18_001)))
        .expect_err("a sale one cent above the cap must be rejected");
    let message = error.to_string();
    assert_eq!(
        error,
        DomainError::PriceAboveCap {
            device: device_code(),
            category: "laptop",
            price_cents: 18_001,
            cap_cents: 18_000,
        },
        "error for 180.01 EUR"
    );
    assert!(
        message.contains("180.00 EUR"),
        "message lacks the cap: {message}"
    );
    assert!(
        message.contains("180.01 EUR"),
        "message lacks the price: {message}"
    );
}

#[test]
fn free_transfer_caps_every_category() {
    for category in Category::ALL {
        let Some(cap) = category.solidarity_price_cap_cents() else {
            continue;
        };
        let bench = stocked_ready(*category, DonorKind::PublicBody, true);
        let result = bench.decide(hand_over(1, sale(cap)));
        assert!(
            result.is_ok(),
            "{category} sale at the cap {cap}: {result:?}"
        );
        let result = bench.decide(hand_over(1, sale(cap + 1)));
        assert!(
            matches!(result, Err(DomainError::PriceAboveCap { .. })),
            "{category} sale above the cap {cap}: {result:?}"
        );
    }
}

#[test]
fn free_transfer_other_category_rejects_sale() {
    let bench = stocked_ready(Category::Other, DonorKind::PublicBody, true);
    let result = bench.decide(hand_over(1, sale(0)));
    assert_eq!(
        result,
        Err(DomainError::NoPriceCap {
            device: device_code(),
            category: "other",
        }),
        "sale of a free-transfer device of category other"
    );

    let result = bench.decide(hand_over(1, HandoverMode::Donation));
    assert!(
        result.is_ok(),
        "donation of a free-transfer device of category other: {result:?}"
    );
}

#[test]
fn price_uncapped_without_free_transfer() {
    let bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    let result = bench.decide(hand_over(1, sale(45_000)));
    assert!(
        result.is_ok(),
        "sale of a device outside the free-transfer rule: {result:?}"
    );
    let bench = stocked_ready(Category::Other, DonorKind::Company, false);
    let result = bench.decide(hand_over(1, sale(5_000)));
    assert!(
        result.is_ok(),
        "sale of an other-category device outside the free-transfer rule: {result:?}"
    );
}

#[test]
fn negative_price_rejected() {
    for free_transfer in [false, true] {
        let bench = stocked_ready(Category::Laptop, DonorKind::PublicBody, free_transfer);
        let result = bench.decide(hand_over(1, sale(-1)));
        assert!(
            matches!(
                result,
                Err(DomainError::InvalidField { field: "price", .. })
            ),
            "negative price with free_transfer={free_transfer}: {result:?}"
        );
    }
}

#[test]
fn loan_due_date_bounds() {
    let bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    let cases = [
        (-30, false),
        (-1, false),
        (0, false),
        (1, true),
        (731, true),
        (732, false),
        (3_650, false),
    ];
    for (days, accepted) in cases {
        let result = bench.decide(hand_over(1, loan_for(days)));
        if accepted {
            assert!(result.is_ok(), "loan due in {days} days: {result:?}");
        } else {
            assert!(
                matches!(
                    result,
                    Err(DomainError::InvalidField {
                        field: "due date",
                        ..
                    })
                ),
                "loan due in {days} days: {result:?}"
            );
        }
    }
}

#[test]
fn return_allowed_only_for_loan() {
    let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    bench.step(hand_over(1, loan_for(60)));
    assert!(bench.device.allowed_steps().contains(&Step::Return));
    bench.step(DeviceCommand::Return {
        notes: String::new(),
    });
    assert_eq!(bench.device.status, DeviceStatus::Returned);

    for mode in [HandoverMode::Donation, sale(5_000)] {
        let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
        bench.step(hand_over(1, mode));
        assert!(!bench.device.allowed_steps().contains(&Step::Return));
        let error = bench
            .decide(DeviceCommand::Return {
                notes: String::new(),
            })
            .unwrap_err()
            .to_string();
        assert!(error.contains("only a loan is returned"), "{error}");
    }
}

#[test]
fn convert_allowed_only_for_loan() {
    let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    bench.step(hand_over(1, loan_for(60)));
    bench.step(DeviceCommand::ConvertLoanToDonation);
    assert_eq!(
        bench.device.handover_mode,
        Some(HandoverMode::Donation),
        "mode after conversion"
    );
    assert_eq!(
        bench.device.status,
        DeviceStatus::HandedOver,
        "status after conversion"
    );
    let result = bench.decide(DeviceCommand::ConvertLoanToDonation);
    assert_step_not_allowed(result, &bench, Step::Convert);

    for mode in [HandoverMode::Donation, sale(5_000)] {
        let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
        bench.step(hand_over(1, mode));
        let result = bench.decide(DeviceCommand::ConvertLoanToDonation);
        assert_step_not_allowed(result, &bench, Step::Convert);
    }

    let bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    let result = bench.decide(DeviceCommand::ConvertLoanToDonation);
    assert_step_not_allowed(result, &bench, Step::Convert);
}

#[test]
fn extend_allowed_only_for_loan() {
    let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    bench.step(hand_over(1, loan_for(60)));
    assert!(
        bench.device.allowed_steps().contains(&Step::Extend),
        "extend not listed for a loan: {:?}",
        bench.device.allowed_steps()
    );

    for mode in [HandoverMode::Donation, sale(5_000)] {
        let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
        bench.step(hand_over(1, mode.clone()));
        assert!(
            !bench.device.allowed_steps().contains(&Step::Extend),
            "extend listed for a {} handover",
            mode.as_str()
        );
        let result = bench.decide(extend_to(120));
        assert_step_not_allowed(result, &bench, Step::Extend);
    }

    let mut converted = stocked_ready(Category::Laptop, DonorKind::Company, false);
    converted.step(hand_over(1, loan_for(60)));
    converted.step(DeviceCommand::ConvertLoanToDonation);
    let result = converted.decide(extend_to(120));
    assert_step_not_allowed(result, &converted, Step::Extend);

    for status in [
        DeviceStatus::InStock,
        DeviceStatus::Reserved,
        DeviceStatus::Returned,
    ] {
        let bench = Bench::in_status(status);
        let result = bench.decide(extend_to(120));
        assert_step_not_allowed(result, &bench, Step::Extend);
    }
}

#[test]
fn extension_due_date_bounds() {
    let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    bench.step(hand_over(1, loan_for(60)));
    // The current due date is 60 days after today; the maximum loan length
    // counts from the day of the extension, as for a handover.
    let cases = [
        (-1, false),
        (0, false),
        (30, false),
        (60, false),
        (61, true),
        (731, true),
        (732, false),
    ];
    for (days, accepted) in cases {
        let result = bench.decide(extend_to(days));
        if accepted {
            assert_eq!(
                result,
                Ok(vec![DeviceEvent::LoanExtended {
                    due_on: today() + Duration::days(days)
                }]),
                "extension to {days} days"
            );
        } else {
            let Err(DomainError::InvalidField { field, value, .. }) = &result else {
                panic!("extension to {days} days: expected InvalidField, got {result:?}");
            };
            assert_eq!(*field, "due date", "rejected field for {days} days");
            assert_eq!(
                value,
                &(today() + Duration::days(days)).to_string(),
                "rejected value for {days} days"
            );
        }
    }

    let message = bench.decide(extend_to(30)).unwrap_err().to_string();
    assert!(
        message.contains(&format!(
            "current due date ({})",
            today() + Duration::days(60)
        )),
        "message lacks the current due date: {message}"
    );
}

#[test]
fn overdue_loan_extension_counts_from_today() {
    let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    bench.step(hand_over(1, loan_for(60)));
    let later = today() + Duration::days(90);
    // The loan is 30 days overdue on `later`: a new due date between the
    // current one and `later` is in the past and rejected.
    let past = bench
        .device
        .decide(extend_to(75), later)
        .expect_err("an extension ending before the day it is recorded");
    assert!(
        past.to_string().contains("after today"),
        "message does not ask for a later date: {past}"
    );
    let events = bench
        .device
        .decide(extend_to(91), later)
        .expect("an extension ending after the day it is recorded");
    assert_eq!(
        events,
        vec![DeviceEvent::LoanExtended {
            due_on: today() + Duration::days(91)
        }]
    );
}

#[test]
fn extension_folds_new_due_date() {
    let mut bench = stocked_ready(Category::Laptop, DonorKind::Company, false);
    bench.step(hand_over(1, loan_for(60)));
    bench.step(extend_to(120));
    bench.step(extend_to(200));
    assert_eq!(
        bench.device.handover_mode,
        Some(loan_for(200)),
        "mode after two extensions"
    );
    assert_eq!(
        bench.device.status,
        DeviceStatus::HandedOver,
        "status after extensions"
    );
    assert_eq!(
        bench.device.household_id,
        Some(household(1)),
        "household after extensions"
    );
    let replayed = Device::from_events(&bench.events).expect("the stream starts with Received");
    assert_eq!(replayed, bench.device, "replayed state");

    bench.step(return_device());
    assert_eq!(bench.device.handover_mode, None, "mode after the return");
}

// ---------------------------------------------------------------------------
// Free text
// ---------------------------------------------------------------------------

#[test]
fn grading_notes_reject_forbidden_phrases() {
    let bench = Bench::ready_laptop();
    for notes in [
        "Comme neuf",
        "comme-neuf !",
        "COMME NEUF",
        "état neuf",
        "remis à neuf",
    ] {
        let result = bench.decide(grade(notes));
        let Err(DomainError::InvalidField { field, value, .. }) = &result else {
            panic!("grading notes '{notes}': expected InvalidField, got {result:?}");
        };
        assert_eq!(*field, "notes", "rejected field for '{notes}'");
        assert_eq!(value, notes, "rejected value for '{notes}'");
    }
    let result = bench.decide(grade("light wear, neuf Go free on disk"));
    assert!(result.is_ok(), "honest grading notes: {result:?}");
}

#[test]
fn repair_and_diagnosis_reject_forbidden_phrases() {
    let bench = Bench::ready_laptop();
    let DeviceCommand::Diagnose(mut diagnosis) = diagnose_ready(&["sda"]) else {
        unreachable!("diagnose_ready builds a Diagnose command");
    };
    diagnosis.notes = "comme neuf".into();
    let result = bench.decide(DeviceCommand::Diagnose(diagnosis));
    assert!(
        matches!(
            result,
            Err(DomainError::InvalidField { field: "notes", .. })
        ),
        "diagnosis notes: {result:?}"
    );

    let DeviceCommand::Repair(mut repair) = repair() else {
        unreachable!("repair builds a Repair command");
    };
    repair.notes = "état neuf".into();
    let result = bench.decide(DeviceCommand::Repair(repair));
    assert!(
        matches!(
            result,
            Err(DomainError::InvalidField { field: "notes", .. })
        ),
        "repair notes: {result:?}"
    );
}

#[test]
fn diagnosis_rejects_duplicate_or_blank_units() {
    let bench = Bench::laptop();
    let result = bench.decide(diagnose_ready(&["sda", "sda"]));
    assert!(
        matches!(
            result,
            Err(DomainError::InvalidField {
                field: "storage unit",
                ..
            })
        ),
        "duplicate unit: {result:?}"
    );
    let result = bench.decide(diagnose_ready(&["sda", " "]));
    assert!(
        matches!(
            result,
            Err(DomainError::InvalidField {
                field: "storage unit",
                ..
            })
        ),
        "blank unit: {result:?}"
    );
}

// ---------------------------------------------------------------------------
// Property test with an independent checker
// ---------------------------------------------------------------------------

/// Units a random diagnosis may find.
const UNITS: [&str; 3] = ["sda", "sdb", "nvme0"];

/// Unit that no diagnosis finds, so erasures of it must be rejected.
const ABSENT_UNIT: &str = "sdz";

fn is_exit(event: &DeviceEvent) -> bool {
    matches!(
        event,
        DeviceEvent::Recycled(_) | DeviceEvent::Dismantled { .. } | DeviceEvent::WrittenOff { .. }
    )
}

fn event_types(history: &[DeviceEvent]) -> String {
    history
        .iter()
        .map(DeviceEvent::event_type)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Events after the last `Received` or `Returned` in `history`.
fn since_intake_or_return(history: &[DeviceEvent]) -> &[DeviceEvent] {
    let start = history
        .iter()
        .rposition(|event| {
            matches!(
                event,
                DeviceEvent::Received(_) | DeviceEvent::Returned { .. }
            )
        })
        .map_or(0, |index| index + 1);
    &history[start..]
}

/// Checks that a `HandedOver` or `Reserved` event at the end of `history`
/// follows a passed, refurbish diagnosis whose every unit's latest erasure
/// passed, counting only events since the last intake or return.
fn check_ready_when_placed(history: &[DeviceEvent]) -> Result<(), TestCaseError> {
    let Some((last, earlier)) = history.split_last() else {
        return Ok(());
    };
    if !matches!(last, DeviceEvent::HandedOver(_) | DeviceEvent::Reserved(_)) {
        return Ok(());
    }
    let window = since_intake_or_return(earlier);
    let diagnosis = window.iter().rev().find_map(|event| match event {
        DeviceEvent::Diagnosed(diagnosis) => Some(diagnosis),
        _ => None,
    });
    let Some(diagnosis) = diagnosis else {
        return Err(TestCaseError::fail(format!(
            "{} with no diagnosis since intake or return; history: {}",
            last.event_type(),
            event_types(history)
        )));
    };
    prop_assert_eq!(
        diagnosis.functional_test,
        Outcome::Passed,
        "{} after a failed functional test; history: {}",
        last.event_type(),
        event_types(history)
    );
    prop_assert_eq!(
        diagnosis.verdict,
        Verdict::Refurbish,
        "{} after a non-refurbish verdict; history: {}",
        last.event_type(),
        event_types(history)
    );
    for unit in &diagnosis.storage_units {
        let latest = window.iter().rev().find_map(|event| match event {
            DeviceEvent::DataErased(erasure) if erasure.unit == unit.unit => Some(erasure),
            _ => None,
        });
        let Some(latest) = latest else {
            return Err(TestCaseError::fail(format!(
                "{} with unit {} never erased since intake or return; history: {}",
                last.event_type(),
                unit.unit,
                event_types(history)
            )));
        };
        prop_assert_eq!(
            latest.result,
            Outcome::Passed,
            "{} with the latest erasure of unit {} failed; history: {}",
            last.event_type(),
            unit.unit,
            event_types(history)
        );
    }
    Ok(())
}

/// Checks that no event follows a recycling, dismantling or write-off.
fn check_nothing_after_exit(history: &[DeviceEvent]) -> Result<(), TestCaseError> {
    let exit = history.iter().position(is_exit);
    if let Some(index) = exit {
        prop_assert_eq!(
            index + 1,
            history.len(),
            "{} at index {} is followed by other events; history: {}",
            history[index].event_type(),
            index,
            event_types(history)
        );
    }
    Ok(())
}

fn outcome_strategy() -> impl Strategy<Value = Outcome> {
    prop_oneof![4 => Just(Outcome::Passed), 1 => Just(Outcome::Failed)]
}

fn verdict_strategy() -> impl Strategy<Value = Verdict> {
    prop_oneof![
        6 => Just(Verdict::Refurbish),
        1 => Just(Verdict::HarvestParts),
        1 => Just(Verdict::Recycle),
    ]
}

fn units_strategy() -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(UNITS.to_vec(), 0..=UNITS.len())
}

fn diagnosis_strategy() -> impl Strategy<Value = DeviceCommand> {
    (outcome_strategy(), verdict_strategy(), units_strategy())
        .prop_map(|(functional_test, verdict, units)| diagnose(functional_test, verdict, &units))
}

/// Generates the bench routine that usually makes a device ready: a diagnosis, one
/// erasure per unit it found (random method and outcome), then stocking.
fn bench_routine_strategy() -> impl Strategy<Value = Vec<DeviceCommand>> {
    let erasures = prop::collection::vec(
        (select(ErasureMethod::ALL), outcome_strategy()),
        UNITS.len(),
    );
    (
        outcome_strategy(),
        verdict_strategy(),
        units_strategy(),
        erasures,
    )
        .prop_map(|(functional_test, verdict, units, erasures)| {
            let mut commands = vec![diagnose(functional_test, verdict, &units)];
            for (unit, (method, result)) in units.iter().zip(erasures) {
                commands.push(DeviceCommand::RecordErasure(erasure(unit, method, result)));
            }
            commands.push(stock());
            commands
        })
}

fn erasure_strategy() -> impl Strategy<Value = DeviceCommand> {
    let unit = prop_oneof![4 => select(UNITS.to_vec()), 1 => Just(ABSENT_UNIT)];
    (unit, select(ErasureMethod::ALL), outcome_strategy()).prop_map(|(unit, method, result)| {
        DeviceCommand::RecordErasure(erasure(unit, method, result))
    })
}

fn handover_mode_strategy() -> impl Strategy<Value = HandoverMode> {
    prop_oneof![
        (-5i64..=740).prop_map(loan_for),
        Just(HandoverMode::Donation),
        (-10i64..=25_000).prop_map(sale),
    ]
}

/// Generates one command of any variant. Handover and return weigh most, so
/// that devices reach a household, come back and go out again. The three exit
/// commands share one small weight, so that most sequences run to their end.
fn command_strategy() -> impl Strategy<Value = DeviceCommand> {
    let household_number = 1u128..=2;
    let notes = prop_oneof![
        Just(String::new()),
        Just("light scratches".to_string()),
        Just("comme neuf".to_string()),
    ];
    prop_oneof![
        6 => erasure_strategy(),
        3 => diagnosis_strategy(),
        12 => (household_number.clone(), handover_mode_strategy())
            .prop_map(|(number, mode)| hand_over(number, mode)),
        4 => Just(stock()),
        4 => household_number.prop_map(reserve),
        8 => Just(return_device()),
        3 => Just(DeviceCommand::ConvertLoanToDonation),
        2 => (-5i64..=800).prop_map(extend_to),
        2 => Just(sample_command(Step::Release)),
        1 => Just(repair()),
        1 => Just(install()),
        1 => notes.prop_map(|notes| grade(&notes)),
        1 => Just(DeviceCommand::Move(placement("bench 2"))),
        1 => exit_strategy(),
    ]
}

/// Generates a recycling, dismantling or write-off command, after which a
/// device has no further step.
fn exit_strategy() -> impl Strategy<Value = DeviceCommand> {
    prop_oneof![
        (0u32..=250_000).prop_map(|weight_grams| DeviceCommand::Recycle(Recycling {
            weight_grams,
            eco_organism: "ecosystem".into(),
        })),
        Just(sample_command(Step::Dismantle)),
        select(WriteOffReason::ALL).prop_map(|reason| DeviceCommand::WriteOff {
            reason,
            notes: String::new(),
        }),
    ]
}

/// Maximum number of commands in one random sequence.
const MAX_COMMANDS: usize = 40;

/// Generates a device's intake values and up to `MAX_COMMANDS` commands.
///
/// Single random commands are mixed with bench routines because single
/// commands alone rarely line up a diagnosis with the erasure of each of its
/// units. In a trial with single commands only, 33 of 2000 sequences reached
/// a handover and none handed over again after a return.
/// `random_commands_reach_every_event` checks that the mix reaches both.
fn case_strategy() -> impl Strategy<Value = (Category, DonorKind, bool, Vec<DeviceCommand>)> {
    let chunk = prop_oneof![
        3 => command_strategy().prop_map(|command| vec![command]),
        1 => bench_routine_strategy(),
    ];
    let commands = prop::collection::vec(chunk, 1..=MAX_COMMANDS).prop_map(|chunks| {
        let mut commands: Vec<DeviceCommand> = chunks.into_iter().flatten().collect();
        commands.truncate(MAX_COMMANDS);
        commands
    });
    (
        select(Category::ALL),
        select(DonorKind::ALL),
        any::<bool>(),
        commands,
    )
}

/// Builds the proptest configuration of the random-command tests. It uses
/// XorShift in place of the default ChaCha generator because in a debug build,
/// generating 2000 sequences took 4.5 s with ChaCha and 0.7 s with XorShift.
fn random_commands_config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

/// Returns the name of the `DomainError` variant, for coverage counts.
fn error_kind(error: &DomainError) -> &'static str {
    match error {
        DomainError::InvalidCode { .. } => "invalid_code",
        DomainError::InvalidField { .. } => "invalid_field",
        DomainError::StepNotAllowed { .. } => "step_not_allowed",
        DomainError::NotReady { .. } => "not_ready",
        DomainError::UnknownStorageUnit { .. } => "unknown_storage_unit",
        DomainError::PriceAboveCap { .. } => "price_above_cap",
        DomainError::NoPriceCap { .. } => "no_price_cap",
    }
}

/// Receives a device and runs `commands` through `decide`, applying the
/// events of accepted ones. Returns the device and the kinds of the errors
/// of rejected commands.
fn play(
    category: Category,
    donor_kind: DonorKind,
    free_transfer: bool,
    commands: Vec<DeviceCommand>,
) -> (Bench, Vec<&'static str>) {
    let mut bench = Bench::receive(category, donor_kind, free_transfer);
    let mut rejections = Vec::new();
    for command in commands {
        match bench.decide(command) {
            Ok(events) => {
                for event in events {
                    bench.device.apply(&event);
                    bench.events.push(event);
                }
            }
            Err(error) => rejections.push(error_kind(&error)),
        }
    }
    (bench, rejections)
}

proptest! {
    #![proptest_config(random_commands_config(2000))]

    #[test]
    fn random_commands_keep_invariants(
        (category, donor_kind, free_transfer, commands) in case_strategy(),
    ) {
        let (bench, _) = play(category, donor_kind, free_transfer, commands);
        for end in 1..=bench.events.len() {
            check_ready_when_placed(&bench.events[..end])?;
        }
        check_nothing_after_exit(&bench.events)?;
        let rebuilt = Device::from_events(&bench.events);
        prop_assert_eq!(
            rebuilt.as_ref(),
            Some(&bench.device),
            "folded state differs from applied state; history: {}",
            event_types(&bench.events)
        );
    }
}

/// Guards the property test against a generator that stops reaching the
/// interesting states: with a fixed seed, the random sequences must produce
/// every event type, every kind of rejection a device command can get, and
/// handovers after a return.
#[test]
fn random_commands_reach_every_event() {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::deterministic_rng(RngAlgorithm::XorShift),
    );
    let strategy = case_strategy();
    let mut event_counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rejection_counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut handovers_after_return = 0;
    let sequences = 500;
    for _ in 0..sequences {
        let (category, donor_kind, free_transfer, commands) = strategy
            .new_tree(&mut runner)
            .expect("the case strategy always generates")
            .current();
        let (bench, rejections) = play(category, donor_kind, free_transfer, commands);
        for event in &bench.events {
            *event_counts.entry(event.event_type()).or_default() += 1;
        }
        for kind in rejections {
            *rejection_counts.entry(kind).or_default() += 1;
        }
        let handed_over_after_return = bench
            .events
            .iter()
            .skip_while(|event| !matches!(event, DeviceEvent::Returned { .. }))
            .any(|event| matches!(event, DeviceEvent::HandedOver(_)));
        if handed_over_after_return {
            handovers_after_return += 1;
        }
    }

    let event_types = [
        "received",
        "label_assigned",
        "diagnosed",
        "data_erased",
        "repaired",
        "software_installed",
        "graded",
        "stocked",
        "moved",
        "reserved",
        "reservation_released",
        "handed_over",
        "returned",
        "loan_converted_to_donation",
        "recycled",
        "dismantled",
        "written_off",
    ];
    for event_type in event_types {
        assert!(
            event_counts.contains_key(event_type),
            "no sequence produced {event_type}; counts: {event_counts:?}"
        );
    }
    let rejection_kinds = [
        "invalid_field",
        "step_not_allowed",
        "not_ready",
        "unknown_storage_unit",
        "price_above_cap",
        "no_price_cap",
    ];
    for kind in rejection_kinds {
        assert!(
            rejection_counts.contains_key(kind),
            "no command was rejected with {kind}; counts: {rejection_counts:?}"
        );
    }
    // With this seed the sequences produced 227 handovers when this test was
    // written. Since only a loan can be returned, 8 sequences hand over
    // again after a return. The thresholds leave room to retune the weights.
    let handed_over = event_counts.get("handed_over").copied().unwrap_or(0);
    assert!(
        handed_over >= sequences / 5,
        "only {handed_over} handovers in {sequences} sequences; counts: {event_counts:?}"
    );
    assert!(
        handovers_after_return >= sequences / 100,
        "only {handovers_after_return} of {sequences} sequences hand over after a return"
    );
}

// ---------------------------------------------------------------------------
// Checks of the property test's checker
// ---------------------------------------------------------------------------

fn received_event() -> DeviceEvent {
    Device::receive(intake(Category::Laptop, DonorKind::Company, false), code())
        .expect("the intake fixture is valid")
        .remove(0)
}

fn diagnosed(functional_test: Outcome, verdict: Verdict, units: &[&str]) -> DeviceEvent {
    let DeviceCommand::Diagnose(diagnosis) = diagnose(functional_test, verdict, units) else {
        unreachable!("diagnose builds a Diagnose command");
    };
    DeviceEvent::Diagnosed(diagnosis)
}

fn erased(unit: &str, result: Outcome) -> DeviceEvent {
    DeviceEvent::DataErased(erasure(unit, ErasureMethod::Purge, result))
}

fn handed_over() -> DeviceEvent {
    let DeviceCommand::HandOver {
        household_id,
        prescription_id,
        mode,
    } = hand_over(1, HandoverMode::Donation)
    else {
        unreachable!("hand_over builds a HandOver command");
    };
    DeviceEvent::HandedOver(filiere_domain::event::Handover {
        household_id,
        prescription_id,
        mode,
    })
}

#[test]
fn checker_accepts_ready_handover() {
    let history = vec![
        received_event(),
        diagnosed(Outcome::Passed, Verdict::Refurbish, &["sda"]),
        erased("sda", Outcome::Failed),
        erased("sda", Outcome::Passed),
        handed_over(),
    ];
    let result = check_ready_when_placed(&history);
    assert!(result.is_ok(), "ready history rejected: {result:?}");
}

#[test]
fn checker_flags_unready_handover() {
    let returned = DeviceEvent::Returned {
        notes: String::new(),
    };
    let cases = [
        ("no diagnosis", vec![received_event(), handed_over()]),
        (
            "failed functional test",
            vec![
                received_event(),
                diagnosed(Outcome::Failed, Verdict::Refurbish, &[]),
                handed_over(),
            ],
        ),
        (
            "harvest verdict",
            vec![
                received_event(),
                diagnosed(Outcome::Passed, Verdict::HarvestParts, &[]),
                handed_over(),
            ],
        ),
        (
            "unit not erased",
            vec![
                received_event(),
                diagnosed(Outcome::Passed, Verdict::Refurbish, &["sda", "sdb"]),
                erased("sda", Outcome::Passed),
                handed_over(),
            ],
        ),
        (
            "latest erasure failed",
            vec![
                received_event(),
                diagnosed(Outcome::Passed, Verdict::Refurbish, &["sda"]),
                erased("sda", Outcome::Passed),
                erased("sda", Outcome::Failed),
                handed_over(),
            ],
        ),
        (
            "erasure before return",
            vec![
                received_event(),
                diagnosed(Outcome::Passed, Verdict::Refurbish, &["sda"]),
                erased("sda", Outcome::Passed),
                handed_over(),
                returned,
                diagnosed(Outcome::Passed, Verdict::Refurbish, &["sda"]),
                handed_over(),
            ],
        ),
    ];
    for (case, history) in cases {
        assert!(
            check_ready_when_placed(&history).is_err(),
            "checker accepts history with {case}: {}",
            event_types(&history)
        );
    }
}

#[test]
fn checker_flags_event_after_exit() {
    let history = vec![
        received_event(),
        DeviceEvent::WrittenOff {
            reason: WriteOffReason::Stolen,
            notes: String::new(),
        },
        DeviceEvent::Moved(placement("bench 2")),
    ];
    assert!(
        check_nothing_after_exit(&history).is_err(),
        "checker accepts an event after a write-off"
    );
    assert!(
        check_nothing_after_exit(&history[..2]).is_ok(),
        "checker rejects a write-off as the last event"
    );
}
