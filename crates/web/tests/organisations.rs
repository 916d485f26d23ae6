//! Organisations apart: a technician of workshop A cannot read or change a
//! device or batch of workshop B (a 404, as for a missing one, and nothing recorded),
//! transfers go through the transfer step, and events record the acting
//! user or token and its organisation.

mod support;

use filiere_domain::access::{OrganisationKind, Role};
use filiere_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{device_codes, text, Agent, TestServer};

/// Records a batch of one device through the API; returns the batch id,
/// the device code and the device id.
async fn one_device_batch(api: &Agent, serial: &str) -> (String, String, String) {
    let body = json!({"donor": "Donateur", "site": "Chartres",
                      "devices": [{"category": "laptop", "brand": "Dell", "model": "E5530", "serial": serial}]});
    let response = api.post_json("/api/v1/donations", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let device = &body["devices"][0];
    (
        body["donation_id"].as_str().unwrap().to_string(),
        device["code"].as_str().unwrap().to_string(),
        device["device_id"].as_str().unwrap().to_string(),
    )
}

async fn other_workshop_hidden(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshop_b = server
        .organisation("Atelier B", OrganisationKind::Workshop)
        .await;
    let api_b = server.api_client(&workshop_b, Role::Technician).await;
    let (donation_b, code_b, _) = one_device_batch(&api_b, "B-SN-1").await;
    let tech_a = server.member_of("Atelier A", Role::Technician).await;
    let api_a = server
        .api_client(&tech_a.organisation_id, Role::Technician)
        .await;
    let head = server.log_head().await;

    let (status, page) = tech_a.page(&format!("/d/{code_b}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains(&format!("Aucun appareil avec le code {code_b}")));
    let (status, _) = tech_a.page(&format!("/scan?code={code_b}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = tech_a.page(&format!("/search?q={code_b}")).await;
    assert!(device_codes(&page).is_empty(), "search hides B's device");
    let (_, page) = tech_a.page("/stock").await;
    assert!(!page.contains(&code_b), "stock hides B's device");
    let (_, page) = tech_a.page("/donations").await;
    assert!(!page.contains(&donation_b), "batch list hides B's batch");
    for path in [
        format!("/donations/{donation_b}"),
        format!("/donations/{donation_b}/labels.pdf"),
    ] {
        let (status, page) = tech_a.page(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("Aucun lot de dons"), "{path}");
    }

    for step in ["move", "transfer", "diagnose"] {
        let fields = [
            ("site", "Dreux"),
            ("organisation", "Atelier A"),
            ("test", "passed"),
        ];
        let response = tech_a
            .post_form(&format!("/d/{code_b}/steps/{step}"), &fields)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "page step {step}");
    }
    let response = tech_a
        .post_form(
            "/bulk",
            &[
                ("step", "move"),
                ("site", "Dreux"),
                ("codes", code_b.as_str()),
            ],
        )
        .await;
    let page = text(response).await;
    assert!(page.contains("0 enregistré(s), 1 refusé(s)"), "{page}");
    assert!(page.contains("Aucun appareil avec le code"));

    let response = api_a.get(&format!("/api/v1/devices/{code_b}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "device_not_found");
    let move_body = json!({"fields": {"site": "Dreux"}});
    let response = api_a
        .post_json(&format!("/api/v1/devices/{code_b}/steps/move"), &move_body)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = api_a.get(&format!("/api/v1/donations/{donation_b}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let stock: Value = api_a.get("/api/v1/stock").await.json().await.unwrap();
    assert_eq!(stock["total"], 0);
    let list: Value = api_a.get("/api/v1/donations").await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);

    assert_eq!(server.log_head().await, head, "nothing recorded");
    let (status, _) = server
        .member(Role::Administrator)
        .await
        .page(&format!("/d/{code_b}"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an administrator sees every organisation"
    );
    server.stop().await;
}

async fn transfer_moves_device(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshop_b = server
        .organisation("Atelier B", OrganisationKind::Workshop)
        .await;
    let tech_b = server.member_of("Atelier B", Role::Technician).await;
    let api_b = server.api_client(&workshop_b, Role::Technician).await;
    let (_, code, _) = one_device_batch(&api_b, "T-SN-1").await;
    let tech_a = server.member_of("Atelier A", Role::Technician).await;

    let unknown = tech_b
        .post_form(
            &format!("/d/{code}/steps/transfer"),
            &[("organisation", "Atelier Z")],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(text(unknown)
        .await
        .contains("Organisation destinataire « Atelier Z » inconnue"));
    let response = tech_b
        .post_form(
            &format!("/d/{code}/steps/transfer"),
            &[("organisation", "Atelier A")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let (status, _) = tech_a.page(&format!("/d/{code}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the receiving workshop sees the device"
    );
    let (status, _) = tech_b.page(&format!("/d/{code}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the giving workshop no longer does"
    );
    let (_, page) = tech_a.page("/stock").await;
    assert_eq!(device_codes(&page), vec![code.clone()]);
    server.stop().await;
}

async fn events_record_principal(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let tech = server.member(Role::Technician).await;
    let api = server
        .api_client(&tech.organisation_id, Role::WorkshopCoordinator)
        .await;
    let (donation_id, code, device_id) = one_device_batch(&api, "E-SN-1").await;
    let response = tech
        .post_form(&format!("/d/{code}/steps/move"), &[("site", "Dreux")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let events = server
        .store
        .read_stream(&format!("device-{device_id}"))
        .await
        .unwrap();
    assert_eq!(events.len(), 3, "received, label assigned, moved");
    assert_eq!(events[0].metadata.actor, api.actor);
    assert!(api.actor.starts_with("token:"));
    assert_eq!(events[0].metadata.organisation, tech.organisation_id);
    assert_eq!(
        events[0].payload["holder"],
        tech.organisation_id.as_str(),
        "intake holder"
    );
    let moved = events.last().unwrap();
    assert_eq!(moved.metadata.actor, tech.actor);
    assert!(tech.actor.starts_with("user:"));
    assert_eq!(moved.metadata.organisation, tech.organisation_id);

    let donation = server
        .store
        .read_stream(&format!("donation-{donation_id}"))
        .await
        .unwrap();
    assert_eq!(donation[0].metadata.organisation, tech.organisation_id);

    let response = tech
        .post_form(
            "/donations",
            &[
                ("donor", "Par la page"),
                ("site", "Chartres"),
                ("category", "tablet"),
                ("brand", "Apple"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = support::location(&response);
    let id = target
        .trim_start_matches("/donations/")
        .split('?')
        .next()
        .unwrap();
    let donation = server
        .store
        .read_stream(&format!("donation-{id}"))
        .await
        .unwrap();
    assert_eq!(donation[0].metadata.actor, tech.actor);
    assert_eq!(donation[0].metadata.organisation, tech.organisation_id);
    server.stop().await;
}

filiere_store::backend_tests!(
    other_workshop_hidden,
    transfer_moves_device,
    events_record_principal
);
