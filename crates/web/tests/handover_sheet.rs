//! The handover sheet PDF served by the real server, read back with
//! `pdftotext` (poppler-utils): its content for a loan and for a donation,
//! the blank name line after the household's erasure, who may fetch it, and
//! the errors before the handover. Run on SQLite and on PostgreSQL.

mod support;

use std::process::Command;

use chrono::{Duration, Utc};
use filiere_domain::access::{OrganisationKind, Role};
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::event::{Diagnosis, Erasure, Grading, HandoverMode, Placement, StorageUnit};
use filiere_domain::prescription::{
    AgeBand, DigitalSkills, EligibilityRule, Evidence, HouseholdAttributes, HouseholdSize, Need,
    NewPrescription, PreferredMode, PrescriptionCommand, Purpose, Training, TrainingProvider,
};
use filiere_domain::territory::InseeCode;
use filiere_domain::types::{
    Autonomy, Category, DonorKind, ErasureMethod, ErasureTechnique, Grade, Outcome, StorageKind,
    Verdict,
};
use filiere_domain::{
    DeviceCode, DeviceCommand, DeviceId, DonationId, HouseholdId, PrescriptionId,
};
use filiere_store::backend_tests;
use filiere_store::households::HouseholdIdentity;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use reqwest::StatusCode;
use support::{text, Agent, TestServer, WORKSHOP};

const REFERRER: &str = "CCAS de Mainvilliers";
const SERIAL: &str = "5CG8411XYZ";
const DISK: &str = "S4EVNF0M123456";
const FIRST_NAME: &str = "Rosalie";
const LAST_NAME: &str = "Vandenbussche";
const TRAINER: &str = "Karim Benali";
const NWIPE_LOG: &[u8] = b"[2025/09/15 09:00:00] nwipe: notice: Wipe finished, verified\n";

/// Organisations, ids and documents of one prescription taken to its
/// handover.
struct Setup {
    workshop: Workshop,
    workshop_id: String,
    referrer_id: String,
    household: HouseholdId,
    prescription: PrescriptionId,
    code: DeviceCode,
    evidence_sha256: String,
}

fn context(organisation: &str) -> CommandContext {
    CommandContext::new("test:claude", organisation)
}

/// Records a household, a prescription for it accepted by the workshop
/// [`WORKSHOP`], and a laptop erased with a stored nwipe log and reserved
/// for it. `training` is the beginner training prescribed, if any.
async fn reserved(server: &TestServer, training: Option<Training>) -> Setup {
    let workshop = Workshop::new(server.store.clone());
    let workshop_id = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let referrer_id = server
        .organisation(REFERRER, OrganisationKind::SocialService)
        .await;
    let store = workshop.store();
    let identity = HouseholdIdentity {
        first_name: FIRST_NAME.into(),
        last_name: LAST_NAME.into(),
        phone: None,
        email: None,
        address: None,
    };
    let household = store.create_household(identity, Utc::now()).await.unwrap();
    let rule = EligibilityRule::Benefit {
        accepted: vec!["RSA".into()],
    };
    let scheme = store
        .create_scheme("Minima sociaux", rule, Utc::now())
        .await
        .unwrap();
    let new = NewPrescription {
        prescription_id: PrescriptionId::generate(),
        household_id: household,
        referrer_organisation: referrer_id.clone(),
        need: Need {
            category: Category::Laptop,
            purpose: Purpose::JobSearch,
        },
        evidence: Evidence::Benefit { name: "RSA".into() },
        preferred_mode: PreferredMode::Loan,
        skills: DigitalSkills::Autonomy {
            level: Autonomy::Beginner,
        },
        training,
        household: HouseholdAttributes {
            commune: InseeCode::parse("28229").unwrap(),
            qpv: true,
            zrr: false,
            size: HouseholdSize::One,
            age: AgeBand::Senior,
        },
    };
    let prescription = new.prescription_id;
    workshop
        .issue_prescription(new, scheme.id, &context(&referrer_id))
        .await
        .unwrap();
    let accept = PrescriptionCommand::Accept {
        workshop_organisation: workshop_id.clone(),
    };
    workshop
        .record_prescription(prescription, accept, &context(&workshop_id))
        .await
        .unwrap();

    let evidence_sha256 = store
        .put_evidence("nwipe", "nwipe-sda.log", NWIPE_LOG)
        .await
        .unwrap();
    let code = ready_laptop(&workshop, &workshop_id, &evidence_sha256).await;
    workshop
        .reserve_device(prescription, &code, &context(&workshop_id))
        .await
        .unwrap();
    Setup {
        workshop,
        workshop_id,
        referrer_id,
        household,
        prescription,
        code,
        evidence_sha256,
    }
}

async fn ready_laptop(workshop: &Workshop, holder: &str, evidence_sha256: &str) -> DeviceCode {
    let context = context(holder);
    let donation = NewDonation {
        donation_id: DonationId::generate(),
        donor_name: "Banque de Beauce".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: Utc::now().date_naive(),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let intake = Intake {
        device_id: DeviceId::generate(),
        donation_id: donation.donation_id,
        category: Category::Laptop,
        brand: "HP".into(),
        model: "ProBook 450 G5".into(),
        serial: filiere_domain::serial::SerialNumber::parse(SERIAL).unwrap(),
        asset_tag: None,
        site: "Chartres".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
    };
    let outcome = workshop
        .receive_donation(donation, vec![NewDevice { intake }], &context)
        .await
        .unwrap();
    let code = outcome.devices[0].1.clone();
    let steps = [
        DeviceCommand::Diagnose(Diagnosis {
            functional_test: Outcome::Passed,
            verdict: Verdict::Refurbish,
            storage_units: vec![StorageUnit {
                unit: DISK.into(),
                kind: StorageKind::Ssd,
                model: "Samsung 860 EVO".into(),
                size_bytes: Some(250_000_000_000),
                healthy: Some(true),
            }],
            cpu: "Intel Core i5-8250U".into(),
            memory_bytes: Some(8 << 30),
            battery_wear_percent: Some(12),
            notes: String::new(),
            evidence_sha256: vec![],
        }),
        DeviceCommand::RecordErasure(Erasure {
            unit: DISK.into(),
            method: ErasureMethod::Purge,
            technique: ErasureTechnique::BlockErase,
            tool: "nwipe".into(),
            tool_version: "0.37".into(),
            verified: true,
            result: Outcome::Passed,
            operator: "Camille".into(),
            evidence_sha256: Some(evidence_sha256.to_string()),
        }),
        DeviceCommand::Grade(Grading {
            grade: Grade::B,
            autonomy: Autonomy::Beginner,
            notes: String::new(),
        }),
        DeviceCommand::Stock(Placement {
            site: "Chartres".into(),
            location: "Étagère 2".into(),
        }),
    ];
    for step in steps {
        workshop.record(&code, step, &context).await.unwrap();
    }
    code
}

async fn hand_over(setup: &Setup, mode: HandoverMode) {
    setup
        .workshop
        .hand_over(setup.prescription, mode, &context(&setup.workshop_id))
        .await
        .unwrap();
}

fn page_path(setup: &Setup) -> String {
    format!("/prescriptions/{}/fiche-remise.pdf", setup.prescription)
}

fn api_path(setup: &Setup) -> String {
    format!(
        "/api/v1/prescriptions/{}/handover-sheet.pdf",
        setup.prescription
    )
}

/// Fetches `path` as `agent`, checks it is a PDF and returns its text laid out
/// as printed (`pdftotext -layout`), with every run of white space made one
/// space.
async fn sheet_text(agent: &Agent, path: &str) -> String {
    let response = agent.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert_eq!(content_type, "application/pdf", "GET {path}");
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "GET {path} is not a PDF");
    pdf_text(&bytes)
}

fn pdf_text(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!(
        "filiere-handover-{}.pdf",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::write(&path, pdf).unwrap();
    let output = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run pdftotext ({error}); these tests read the sheet with it: install \
                 poppler-utils"
            )
        });
    std::fs::remove_file(&path).ok();
    assert!(output.status.success(), "pdftotext rejected the sheet");
    let text = String::from_utf8(output.stdout).expect("pdftotext writes UTF-8");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn french(date: chrono::NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

async fn loan_sheet_contents(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let training_on = Utc::now().date_naive() + Duration::days(10);
    let training = Training {
        provider: TrainingProvider::Adviser,
        name: TRAINER.into(),
        scheduled_on: Some(training_on),
    };
    let setup = reserved(&server, Some(training)).await;
    let due_on = Utc::now().date_naive() + Duration::days(120);
    hand_over(&setup, HandoverMode::Loan { due_on }).await;

    let technician = server.member(Role::Technician).await;
    let sheet = sheet_text(&technician, &page_path(&setup)).await;
    let expected = [
        "Convention de prêt".to_string(),
        format!("Code Filière {}", setup.code),
        format!("N° de série {SERIAL}"),
        "Grade B : bon état".to_string(),
        "Effacement complet".to_string(),
        format!("Support {DISK} : méthode Purge"),
        "résultat : réussi".to_string(),
        format!("SHA-256 {} (empreinte vérifiée)", setup.evidence_sha256),
        format!("Retour prévu le {}", french(due_on)),
        format!("Début du prêt {}", french(Utc::now().date_naive())),
        format!("{TRAINER} — première séance le {}", french(training_on)),
        format!("Prescription {} émise par {REFERRER}", setup.prescription),
        format!("Nom du bénéficiaire : {FIRST_NAME} {LAST_NAME}"),
        "Fait à Chartres".to_string(),
        "Signature du bénéficiaire".to_string(),
        "Signature et cachet de l'atelier".to_string(),
        WORKSHOP.to_string(),
    ];
    for phrase in &expected {
        assert!(
            sheet.contains(phrase.as_str()),
            "{phrase:?} missing from:\n{sheet}"
        );
    }

    let referrer = server.member_of(REFERRER, Role::Referrer).await;
    let from_referrer = sheet_text(&referrer, &page_path(&setup)).await;
    assert!(
        from_referrer.contains("Convention de prêt"),
        "{from_referrer}"
    );

    let api = server
        .api_client(&setup.workshop_id, Role::Technician)
        .await;
    let from_api = sheet_text(&api, &api_path(&setup)).await;
    assert!(from_api.contains(setup.code.as_str()), "{from_api}");
    let referrer_api = server.api_client(&setup.referrer_id, Role::Referrer).await;
    sheet_text(&referrer_api, &api_path(&setup)).await;

    // A return clears the device's erasures, but the sheet shows the device
    // as it was handed over.
    setup
        .workshop
        .return_device(
            setup.prescription,
            "fin de prêt".into(),
            &context(&setup.workshop_id),
        )
        .await
        .unwrap();
    let after_return = sheet_text(&technician, &page_path(&setup)).await;
    assert!(
        after_return.contains("Effacement complet"),
        "{after_return}"
    );
    assert!(
        after_return.contains(&setup.evidence_sha256),
        "{after_return}"
    );
    assert!(
        after_return.contains("Convention de prêt"),
        "{after_return}"
    );
    server.stop().await;
}

async fn donation_sheet_then_erasure(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let setup = reserved(&server, None).await;
    hand_over(&setup, HandoverMode::Donation).await;
    let coordinator = server.member(Role::WorkshopCoordinator).await;

    let sheet = sheet_text(&coordinator, &page_path(&setup)).await;
    for phrase in [
        "Attestation de don",
        "Date du don",
        "Aucune formation prescrite.",
        "Grade B : bon état",
        "Effacement complet",
        SERIAL,
        "Signature du bénéficiaire",
    ] {
        assert!(sheet.contains(phrase), "{phrase:?} missing from:\n{sheet}");
    }
    assert!(sheet.contains(setup.code.as_str()), "{sheet}");
    assert!(sheet.contains(LAST_NAME), "{sheet}");
    assert!(!sheet.contains("Convention de prêt"), "{sheet}");

    setup
        .workshop
        .store()
        .erase_household(setup.household, Utc::now())
        .await
        .unwrap();
    let erased = sheet_text(&coordinator, &page_path(&setup)).await;
    assert!(erased.contains("Nom du bénéficiaire : ____"), "{erased}");
    assert!(!erased.contains(LAST_NAME), "{erased}");
    assert!(!erased.contains(FIRST_NAME), "{erased}");
    assert!(erased.contains("Attestation de don"), "{erased}");
    assert!(erased.contains(setup.code.as_str()), "{erased}");
    server.stop().await;
}

async fn sale_sheet_shows_price(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let setup = reserved(&server, None).await;
    hand_over(&setup, HandoverMode::SolidaritySale { price_cents: 4_990 }).await;
    let api = server
        .api_client(&setup.workshop_id, Role::Technician)
        .await;

    let sheet = sheet_text(&api, &api_path(&setup)).await;
    assert!(sheet.contains("Reçu de vente solidaire"), "{sheet}");
    assert!(sheet.contains("Prix payé 49,90 € TTC"), "{sheet}");
    assert!(sheet.contains("Date de la vente"), "{sheet}");
    assert!(!sheet.contains("Retour prévu"), "{sheet}");
    server.stop().await;
}

async fn sheet_access_limited(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let setup = reserved(&server, None).await;
    let due_on = Utc::now().date_naive() + Duration::days(30);
    hand_over(&setup, HandoverMode::Loan { due_on }).await;

    let other_workshop = server.member_of("Atelier voisin", Role::Technician).await;
    let (status, page) = other_workshop.page(&page_path(&setup)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
    assert!(page.contains("Aucune prescription"), "{page}");

    let other_referrer = server.member_of("CCAS voisin", Role::Referrer).await;
    let (status, _) = other_referrer.page(&page_path(&setup)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let funder = server.member_of("Département", Role::FunderViewer).await;
    let (status, _) = funder.page(&page_path(&setup)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let other_api = server
        .api_client(&other_workshop.organisation_id, Role::Technician)
        .await;
    let response = other_api.get(&api_path(&setup)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "prescription_not_found");

    let anonymous = server.anonymous();
    let response = anonymous.get(&api_path(&setup)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

async fn sheet_refused_before_handover(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let setup = reserved(&server, None).await;
    let technician = server.member(Role::Technician).await;

    let (status, page) = technician.page(&page_path(&setup)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains(&setup.prescription.to_string()), "{page}");
    assert!(page.contains("Enregistrez d'abord la remise"), "{page}");

    let api = server
        .api_client(&setup.workshop_id, Role::Technician)
        .await;
    let response = api.get(&api_path(&setup)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_handed_over");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Appareil réservé"), "{message}");

    let response = api
        .get("/api/v1/prescriptions/pas-un-identifiant/handover-sheet.pdf")
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_prescription_id");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("pas-un-identifiant"), "{message}");

    let unknown = PrescriptionId::generate();
    let response = api
        .get(&format!(
            "/api/v1/prescriptions/{unknown}/handover-sheet.pdf"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let _ = text(response).await;
    server.stop().await;
}

backend_tests!(
    loan_sheet_contents,
    donation_sheet_then_erasure,
    sale_sheet_shows_price,
    sheet_access_limited,
    sheet_refused_before_handover,
);
