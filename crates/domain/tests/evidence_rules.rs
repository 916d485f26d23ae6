//! Rules for steps read from tool reports: failing disks and erasure reports
//! that name a disk the diagnosis did not find.

use chrono::NaiveDate;
use filiere_domain::device::{Intake, ReadinessGap};
use filiere_domain::event::{Diagnosis, Erasure, HandoverMode, StorageUnit};
use filiere_domain::types::{
    Category, DonorKind, ErasureMethod, ErasureTechnique, Outcome, StorageKind, Verdict,
};
use filiere_domain::{Device, DeviceCode, DeviceCommand, DeviceId, DonationId, HouseholdId};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

fn received() -> Device {
    let intake = Intake {
        device_id: DeviceId::generate(),
        donation_id: DonationId::generate(),
        category: Category::Laptop,
        brand: "Dell".into(),
        model: "Latitude E6440".into(),
        serial: None,
        asset_tag: None,
        site: "Chartres".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
    };
    let events = Device::receive(intake, DeviceCode::from_random([1, 2, 3, 4, 5, 6])).unwrap();
    Device::from_events(&events).unwrap()
}

fn unit(name: &str, healthy: Option<bool>) -> StorageUnit {
    StorageUnit {
        unit: name.into(),
        kind: StorageKind::Hdd,
        model: String::new(),
        size_bytes: None,
        healthy,
    }
}

fn diagnosis(units: Vec<StorageUnit>) -> DeviceCommand {
    DeviceCommand::Diagnose(Diagnosis {
        functional_test: Outcome::Passed,
        verdict: Verdict::Refurbish,
        storage_units: units,
        cpu: String::new(),
        memory_bytes: None,
        battery_wear_percent: None,
        notes: String::new(),
        evidence_sha256: vec!["ab".repeat(32)],
    })
}

fn erasure(unit: &str, evidence: Option<&str>) -> DeviceCommand {
    DeviceCommand::RecordErasure(Erasure {
        unit: unit.into(),
        method: ErasureMethod::Clear,
        technique: ErasureTechnique::Overwrite,
        tool: "nwipe".into(),
        tool_version: "0.37".into(),
        verified: true,
        result: Outcome::Passed,
        operator: "Ana".into(),
        evidence_sha256: evidence.map(str::to_string),
    })
}

fn run(device: &mut Device, command: DeviceCommand) {
    for event in device.decide(command, today()).unwrap() {
        device.apply(&event);
    }
}

fn handover() -> DeviceCommand {
    DeviceCommand::HandOver {
        household_id: HouseholdId::generate(),
        prescription_id: None,
        mode: HandoverMode::Donation,
    }
}

fn stock() -> DeviceCommand {
    DeviceCommand::Stock(filiere_domain::event::Placement {
        site: "Chartres".into(),
        location: "A1".into(),
    })
}

#[test]
fn failing_disk_blocks_handover() {
    let mut device = received();
    run(&mut device, diagnosis(vec![unit("WD-1", Some(false))]));
    run(&mut device, erasure("WD-1", None));
    run(&mut device, stock());
    assert_eq!(
        device.readiness_gaps(),
        vec![ReadinessGap::UnitFailing("WD-1".into())]
    );
    assert!(device.decide(handover(), today()).is_err());
}

#[test]
fn manual_erasure_of_unknown_disk_rejected() {
    let mut device = received();
    run(&mut device, diagnosis(vec![unit("WD-1", Some(true))]));
    let error = device.decide(erasure("OTHER", None), today()).unwrap_err();
    assert!(error.to_string().contains("OTHER"), "{error}");
}

#[test]
fn reported_erasure_of_unknown_disk_blocks() {
    let mut device = received();
    run(&mut device, diagnosis(vec![unit("WD-1", Some(true))]));
    run(&mut device, erasure("WD-1", Some("cd")));
    run(&mut device, erasure("OTHER", Some("cd")));
    run(&mut device, stock());
    assert_eq!(
        device.readiness_gaps(),
        vec![ReadinessGap::ErasedUnitNotFound("OTHER".into())]
    );
    assert!(device.decide(handover(), today()).is_err());
}

#[test]
fn new_diagnosis_clears_foreign_erasure() {
    let mut device = received();
    run(&mut device, diagnosis(vec![unit("WD-1", Some(true))]));
    run(&mut device, erasure("WD-1", Some("cd")));
    run(&mut device, erasure("OTHER", Some("cd")));
    run(&mut device, diagnosis(vec![unit("WD-1", Some(true))]));
    run(&mut device, stock());
    assert!(
        device.readiness_gaps().is_empty(),
        "{:?}",
        device.readiness_gaps()
    );
    assert!(device.decide(handover(), today()).is_ok());
}
