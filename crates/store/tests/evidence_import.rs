//! Checks of tool reports against the device they are imported on, run on
//! SQLite and on PostgreSQL: another machine's report, another device's
//! disks, erasure logs without disk serial or on a device with no storage
//! unit known, a file imported twice, and an upload whose good files are
//! recorded while the bad ones are reported.

use std::path::PathBuf;

use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, StorageUnit};
use filiere_domain::serial::SerialNumber;
use filiere_domain::types::{Category, DonorKind, Outcome, StorageKind, Verdict};
use filiere_domain::{DeviceCode, DeviceCommand, DeviceId, DonationId};
use filiere_store::evidence_import::{EvidenceUpload, FileOutcome, FileRejection};
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop, WorkshopError};
use filiere_store::{backend_tests, EventStore};

const DELL_LSHW: &str = "lshw/dell-latitude-e6440.lshw.json";
const HP_LSHW: &str = "lshw/hp-compaq-8100-elite-sff.lshw.json";
const SHREDOS_LOG: &str = "nwipe/shredos-0.37_2024_issue213_micron1100_laptop-freeze.log";
const QEMU_LSHW: &str = "lshw/qemu-vm-INVALID-missing-children.lshw.json";
const LOOP_LOG: &str = "nwipe/nwipe_2021_pr325_error-summary_drive-status_loop.log";
const NO_SERIAL_LOG: &str = "nwipe/nwipe-0.29_2020_issue283_3-rounds-verify.log";
/// Serial and disk of the demonstration's laptop 1V0SEGY.
const DEMO_SERIAL: &str = "G7eaN000000250";
const DEMO_DISK: &str = "S41V0SEGYD";

fn upload(path: &str) -> EvidenceUpload {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../evidence/tests/fixtures")
        .join(path);
    EvidenceUpload {
        file_name: path.rsplit('/').next().unwrap().to_string(),
        bytes: std::fs::read(&full).unwrap(),
    }
}

fn context() -> CommandContext {
    CommandContext::new("test:camille", "workshop-test")
}

async fn open(db: &TestDatabase) -> Workshop {
    Workshop::new(EventStore::connect(&db.url).await.unwrap())
}

/// Records one laptop with `serial` and returns its code.
async fn laptop(workshop: &Workshop, serial: Option<&str>) -> DeviceCode {
    let donation = NewDonation {
        donation_id: DonationId::generate(),
        donor_name: "Mairie".into(),
        donor_kind: DonorKind::PublicBody,
        free_transfer: true,
        received_on: chrono::Utc::now().date_naive(),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let intake = Intake {
        device_id: DeviceId::generate(),
        donation_id: donation.donation_id,
        category: Category::Laptop,
        brand: "Dell".into(),
        model: "Latitude E6440".into(),
        serial: serial.and_then(|s| SerialNumber::parse(s).unwrap()),
        asset_tag: None,
        site: "Chartres".into(),
        donor_kind: DonorKind::PublicBody,
        free_transfer: true,
    };
    let outcome = workshop
        .receive_donation(donation, vec![NewDevice { intake }], &context())
        .await
        .unwrap();
    outcome.devices[0].1.clone()
}

/// Records a diagnosis typed by hand, as the demonstration generator does:
/// one SSD named `unit`, or none.
async fn diagnose_by_hand(workshop: &Workshop, code: &DeviceCode, unit: Option<&str>) {
    let diagnosis = Diagnosis {
        functional_test: if unit.is_some() {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        verdict: if unit.is_some() {
            Verdict::Refurbish
        } else {
            Verdict::Recycle
        },
        storage_units: unit
            .map(|unit| StorageUnit {
                unit: unit.to_string(),
                kind: StorageKind::Ssd,
                model: "Samsung PM871".into(),
                size_bytes: Some(256_060_514_304),
                healthy: Some(true),
            })
            .into_iter()
            .collect(),
        cpu: String::new(),
        memory_bytes: None,
        battery_wear_percent: None,
        notes: String::new(),
        evidence_sha256: Vec::new(),
    };
    workshop
        .record(code, DeviceCommand::Diagnose(diagnosis), &context())
        .await
        .unwrap();
}

/// A laptop like the demonstration's 1V0SEGY: diagnosed by hand with its
/// disk, then, after a return, diagnosed again with no unit.
async fn demo_laptop(workshop: &Workshop) -> DeviceCode {
    let code = laptop(workshop, Some(DEMO_SERIAL)).await;
    diagnose_by_hand(workshop, &code, Some(DEMO_DISK)).await;
    diagnose_by_hand(workshop, &code, None).await;
    code
}

async fn vm_inventory_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    for code in [demo_laptop(&workshop).await, {
        let code = laptop(&workshop, Some("G7eaN000000251")).await;
        diagnose_by_hand(&workshop, &code, Some(DEMO_DISK)).await;
        code
    }] {
        let head = workshop.store().head().await.unwrap().0;
        let batch = workshop
            .import_evidence_files(
                &code,
                vec![upload(QEMU_LSHW)],
                Some(Outcome::Passed),
                &context(),
            )
            .await
            .unwrap();
        match &batch.files[0].outcome {
            FileOutcome::Rejected(FileRejection::OtherMachineDisks {
                report_system,
                report_serial,
                device_serial,
                report_disks,
                device_disks,
            }) => {
                assert!(report_system.contains("QEMU"), "{report_system}");
                assert_eq!(report_serial, &None);
                assert!(device_serial.is_some());
                assert_eq!(report_disks, &["QM00001".to_string()]);
                assert_eq!(device_disks, &[DEMO_DISK.to_string()]);
            }
            other => panic!("expected another machine's disks, got {other:?}"),
        }
        assert!(batch.append.is_none());
        assert_eq!(workshop.store().head().await.unwrap().0, head);

        let error = workshop
            .import_evidence(
                &code,
                vec![upload(QEMU_LSHW)],
                Some(Outcome::Passed),
                &context(),
            )
            .await
            .unwrap_err();
        let WorkshopError::Evidence(problems) = &error else {
            panic!("expected an evidence error, got {error}");
        };
        assert_eq!(problems.len(), 1, "{error}");
        let message = problems[0].to_string();
        assert!(message.contains("qemu-vm-INVALID"), "{message}");
        assert!(message.contains("QM00001"), "{message}");
        assert!(message.contains(DEMO_DISK), "{message}");
        assert_eq!(workshop.store().head().await.unwrap().0, head);
        let device = workshop.find_device(&code).await.unwrap().unwrap();
        assert!(device
            .storage_units
            .iter()
            .all(|unit| unit.unit != "QM00001"));
    }
    db.cleanup().await;
}

async fn erasure_of_other_disk_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = demo_laptop(&workshop).await;
    let head = workshop.store().head().await.unwrap().0;
    let batch = workshop
        .import_evidence_files(&code, vec![upload(LOOP_LOG)], None, &context())
        .await
        .unwrap();
    match &batch.files[0].outcome {
        FileOutcome::Rejected(FileRejection::DiskWithoutSerial {
            disks,
            device_disks,
        }) => {
            assert_eq!(disks, &["/dev/loop44 (Loopback device)".to_string()]);
            assert_eq!(device_disks, &[DEMO_DISK.to_string()]);
        }
        other => panic!("expected a disk without serial, got {other:?}"),
    }
    assert!(batch.append.is_none());
    assert_eq!(workshop.store().head().await.unwrap().0, head);

    // A log with disk serials, none of them the device's.
    let batch = workshop
        .import_evidence_files(&code, vec![upload(SHREDOS_LOG)], None, &context())
        .await
        .unwrap();
    match &batch.files[0].outcome {
        FileOutcome::Rejected(FileRejection::OtherDisks {
            report_disks,
            device_disks,
        }) => {
            assert_eq!(report_disks, &["18291D85DF09".to_string()]);
            assert_eq!(device_disks, &[DEMO_DISK.to_string()]);
        }
        other => panic!("expected another device's disks, got {other:?}"),
    }
    assert_eq!(workshop.store().head().await.unwrap().0, head);
    db.cleanup().await;
}

async fn erasure_without_unit_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = laptop(&workshop, Some("FJBQVZ1")).await;
    let head = workshop.store().head().await.unwrap().0;
    let error = workshop
        .import_evidence(&code, vec![upload(SHREDOS_LOG)], None, &context())
        .await
        .unwrap_err();
    let WorkshopError::Evidence(problems) = &error else {
        panic!("expected an evidence error, got {error}");
    };
    let message = problems[0].to_string();
    assert!(message.contains("shredos-0.37"), "{message}");
    assert!(message.contains("18291D85DF09"), "{message}");
    assert!(message.contains("no storage unit known"), "{message}");
    assert!(message.contains("inventory"), "{message}");
    assert_eq!(workshop.store().head().await.unwrap().0, head);
    db.cleanup().await;
}

async fn erasure_without_serial_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = laptop(&workshop, Some("FJBQVZ1")).await;
    workshop
        .import_evidence(
            &code,
            vec![upload(DELL_LSHW)],
            Some(Outcome::Passed),
            &context(),
        )
        .await
        .unwrap();
    let head = workshop.store().head().await.unwrap().0;
    let error = workshop
        .import_evidence(&code, vec![upload(NO_SERIAL_LOG)], None, &context())
        .await
        .unwrap_err();
    let WorkshopError::Evidence(problems) = &error else {
        panic!("expected an evidence error, got {error}");
    };
    assert_eq!(problems.len(), 1, "{error}");
    let message = problems[0].to_string();
    assert!(message.contains("nwipe-0.29_2020_issue283"), "{message}");
    assert!(message.contains("/dev/sda"), "{message}");
    assert!(message.contains("no serial"), "{message}");
    assert!(message.contains("164014297BCC"), "{message}");
    assert!(message.contains("by hand"), "{message}");
    assert_eq!(workshop.store().head().await.unwrap().0, head);

    let batch = workshop
        .import_evidence_files(&code, vec![upload(NO_SERIAL_LOG)], None, &context())
        .await
        .unwrap();
    assert!(matches!(
        &batch.files[0].outcome,
        FileOutcome::Rejected(FileRejection::DiskWithoutSerial { disks, .. })
            if disks == &["/dev/sda".to_string()]
    ));
    let device = workshop.find_device(&code).await.unwrap().unwrap();
    assert!(device.erasures.is_empty());
    assert_eq!(workshop.store().head().await.unwrap().0, head);
    db.cleanup().await;
}

async fn slot_named_units_not_compared(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = laptop(&workshop, Some("G7eaN000000252")).await;
    diagnose_by_hand(&workshop, &code, Some("sda")).await;
    let batch = workshop
        .import_evidence_files(
            &code,
            vec![upload(
                "lshw/generic-desktop-no-serial.reserialised.lshw.json",
            )],
            None,
            &context(),
        )
        .await
        .unwrap();
    assert!(
        matches!(batch.files[0].outcome, FileOutcome::Recorded { .. }),
        "{:?}",
        batch.files[0].outcome
    );
    assert_eq!(batch.events.len(), 1);
    db.cleanup().await;
}

async fn other_machine_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = laptop(&workshop, Some("FJBQVZ1")).await;
    let head = workshop.store().head().await.unwrap().0;
    let error = workshop
        .import_evidence(
            &code,
            vec![upload(HP_LSHW)],
            Some(Outcome::Passed),
            &context(),
        )
        .await
        .unwrap_err();
    let WorkshopError::Evidence(problems) = &error else {
        panic!("expected an evidence error, got {error}");
    };
    assert_eq!(problems.len(), 1, "{error}");
    assert!(problems[0].reason.contains("CZC0408YPV"), "{error}");
    assert!(problems[0].reason.contains("FJBQVZ1"), "{error}");
    assert_eq!(workshop.store().head().await.unwrap().0, head);
    db.cleanup().await;
}

async fn other_disks_rejected(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = laptop(&workshop, Some("FJBQVZ1")).await;
    workshop
        .import_evidence(
            &code,
            vec![upload(DELL_LSHW)],
            Some(Outcome::Passed),
            &context(),
        )
        .await
        .unwrap();
    let head = workshop.store().head().await.unwrap().0;
    let batch = workshop
        .import_evidence_files(&code, vec![upload(SHREDOS_LOG)], None, &context())
        .await
        .unwrap();
    match &batch.files[0].outcome {
        FileOutcome::Rejected(FileRejection::OtherDisks {
            report_disks,
            device_disks,
        }) => {
            assert_eq!(report_disks, &["18291D85DF09".to_string()]);
            assert!(device_disks.contains(&"164014297BCC".to_string()));
        }
        other => panic!("expected another device's disks, got {other:?}"),
    }
    assert!(batch.append.is_none());
    assert_eq!(workshop.store().head().await.unwrap().0, head);
    db.cleanup().await;
}

async fn same_file_recorded_once(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = laptop(&workshop, Some("FJBQVZ1")).await;
    let first = workshop
        .import_evidence(
            &code,
            vec![upload(DELL_LSHW)],
            Some(Outcome::Passed),
            &context(),
        )
        .await
        .unwrap();
    assert_eq!(first.events.len(), 1);
    let head = workshop.store().head().await.unwrap().0;
    let again = workshop
        .import_evidence(&code, vec![upload(DELL_LSHW)], None, &context())
        .await
        .unwrap();
    assert!(again.events.is_empty());
    assert!(again.append.is_none());
    assert_eq!(again.already_recorded.len(), 1);
    assert_eq!(again.already_recorded[0].sha256, first.files[0].sha256);
    let twice = workshop
        .import_evidence_files(
            &code,
            vec![upload(DELL_LSHW), upload(DELL_LSHW)],
            None,
            &context(),
        )
        .await
        .unwrap();
    for file in &twice.files {
        assert!(
            matches!(file.outcome, FileOutcome::AlreadyRecorded { .. }),
            "{:?}",
            file.outcome
        );
    }
    assert_eq!(workshop.store().head().await.unwrap().0, head);
    db.cleanup().await;
}

async fn good_files_of_upload_recorded(db: TestDatabase) {
    let workshop = open(&db).await;
    let code = laptop(&workshop, Some("FJBQVZ1")).await;
    let truncated = EvidenceUpload {
        file_name: "coupé.json".into(),
        bytes: upload(DELL_LSHW).bytes[..3000].to_vec(),
    };
    let batch = workshop
        .import_evidence_files(
            &code,
            vec![upload(HP_LSHW), truncated, upload(DELL_LSHW)],
            Some(Outcome::Passed),
            &context(),
        )
        .await
        .unwrap();
    assert!(batch.failure.is_none());
    assert!(matches!(
        batch.files[0].outcome,
        FileOutcome::Rejected(FileRejection::OtherMachine { .. })
    ));
    match &batch.files[1].outcome {
        FileOutcome::Rejected(FileRejection::Unreadable(error)) => {
            assert!(error.location.contains("coupé.json"), "{error}");
        }
        other => panic!("expected an unreadable file, got {other:?}"),
    }
    assert!(matches!(
        batch.files[2].outcome,
        FileOutcome::Recorded { .. }
    ));
    assert_eq!(batch.events.len(), 1);
    let device = workshop.find_device(&code).await.unwrap().unwrap();
    assert_eq!(device.storage_units.len(), 1);
    assert_eq!(device.storage_units[0].unit, "164014297BCC");

    let missing_test = laptop(&workshop, None).await;
    let head = workshop.store().head().await.unwrap().0;
    let batch = workshop
        .import_evidence_files(&missing_test, vec![upload(DELL_LSHW)], None, &context())
        .await
        .unwrap();
    assert!(matches!(
        batch.files[0].outcome,
        FileOutcome::NotRecorded { .. }
    ));
    let failure = batch.failure.expect("a rule failure").to_string();
    assert!(failure.contains("functional test"), "{failure}");
    assert_eq!(workshop.store().head().await.unwrap().0, head);
    db.cleanup().await;
}

backend_tests!(
    vm_inventory_rejected,
    erasure_of_other_disk_rejected,
    erasure_without_unit_rejected,
    erasure_without_serial_rejected,
    slot_named_units_not_compared,
    other_machine_rejected,
    other_disks_rejected,
    same_file_recorded_once,
    good_files_of_upload_recorded,
);
