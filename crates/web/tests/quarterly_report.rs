//! The quarterly report PDF on a real server: a funder downloads the same
//! bytes twice, other roles are refused, and a missing or bad quarter gets
//! a French error.

mod support;

use chrono::{TimeZone, Utc};
use filiere_domain::access::Role;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::types::{Category, DonorKind};
use filiere_domain::{DeviceId, DonationId};
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use reqwest::StatusCode;
use support::{text, TestServer};

const PATH: &str = "/tableau-de-bord/rapport-trimestriel.pdf";

/// Records one donation batch of one laptop on 2025-07-02.
async fn donation_in_july(server: &TestServer) {
    let mut context = CommandContext::new("test", "atelier-test");
    context.now = Utc.with_ymd_and_hms(2025, 7, 2, 12, 0, 0).unwrap();
    let donation = NewDonation {
        donation_id: DonationId::generate(),
        donor_name: "Entreprise test".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: context.now.date_naive(),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let intake = Intake {
        device_id: DeviceId::generate(),
        donation_id: donation.donation_id,
        category: Category::Laptop,
        brand: "Dell".into(),
        model: "Latitude".into(),
        serial: None,
        asset_tag: None,
        site: "Chartres".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
    };
    Workshop::new(server.store.clone())
        .receive_donation(donation, vec![NewDevice { intake }], &context)
        .await
        .expect("donation recorded");
}

async fn quarterly_pdf_served(db: TestDatabase) {
    let server = TestServer::start(db).await;
    donation_in_july(&server).await;
    let funder = server
        .member_of("Département test", Role::FunderViewer)
        .await;

    let path = format!("{PATH}?trimestre=2025-Q3");
    let first = funder.get(&path).await;
    assert_eq!(first.status(), StatusCode::OK);
    let content_type = first.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(content_type, "application/pdf");
    let first = first.bytes().await.unwrap();
    assert!(first.starts_with(b"%PDF-"));
    let second = funder.get(&path).await.bytes().await.unwrap();
    assert_eq!(first, second, "two computations give the same bytes");

    let technician = server.member(Role::Technician).await;
    let refused = technician.get(&path).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let missing = funder.get(PATH).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body = text(missing).await;
    assert!(body.contains("?trimestre=2026-Q3"), "{body}");
    for (quarter, expected) in [
        ("2025-Q9", "Trimestre « 2025-Q9 » invalide"),
        ("2099-Q1", "n'a pas encore commencé"),
        ("2024-Q4", "Aucun chiffre n'existe pour ce trimestre"),
    ] {
        let response = funder.get(&format!("{PATH}?trimestre={quarter}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{quarter}");
        let body = text(response).await;
        assert!(body.contains(expected), "{quarter}: {body}");
    }
    server.stop().await;
}

filiere_store::backend_tests!(quarterly_pdf_served);
