//! The workshop journey through the JSON API, on a real server, with a
//! technician's API token: error statuses and codes and the OpenAPI
//! document.

mod support;

use std::collections::BTreeSet;

use filiere_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{
    azerty, oversized_body, unused_code, with_wrong_check, Agent, TestServer, PUBLIC_URL,
};

/// Records a batch from a public body under the free-transfer rule: a
/// laptop, a smartphone and a screen. Returns the batch id and the codes.
async fn create_batch(api: &Agent) -> (String, Vec<String>) {
    let response = api
        .post_json(
            "/api/v1/donations",
            &json!({
                "donor": "Conseil départemental (test)",
                "donor_kind": "public_body",
                "free_transfer": true,
                "site": "Chartres",
                "reference": "BL-API-1",
                "devices": [
                    {"category": "laptop", "brand": "Lenovo", "model": "ThinkPad T470", "serial": "API-SN-1"},
                    {"category": "smartphone", "brand": "Apple", "model": "iPhone 8", "serial": "API-SN-2"},
                    {"category": "écran", "brand": "Dell", "model": "P2419H"}
                ]
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let codes: Vec<String> = body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 3);
    assert_eq!(
        body["devices"][0]["url"],
        format!("{PUBLIC_URL}/D/{}", codes[0])
    );
    (body["donation_id"].as_str().unwrap().to_string(), codes)
}

async fn step(api: &Agent, code: &str, step: &str, body: Value) -> (StatusCode, Value) {
    let response = api
        .post_json(&format!("/api/v1/devices/{code}/steps/{step}"), &body)
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn device(api: &Agent, code: &str) -> Value {
    let response = api.get(&format!("/api/v1/devices/{code}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Records a step that must succeed and returns the device state.
async fn recorded(api: &Agent, code: &str, name: &str, fields: Value) -> Value {
    let (status, body) = step(api, code, name, json!({"fields": fields})).await;
    assert_eq!(status, StatusCode::OK, "{name} on {code}: {body}");
    assert_eq!(body["recorded"], true);
    body["device"].clone()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

async fn batch_to_handover(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let (donation_id, codes) = create_batch(&api).await;
    let laptop = &codes[0];

    let list: Value = api.get("/api/v1/donations").await.json().await.unwrap();
    assert_eq!(list[0]["donation_id"], donation_id.as_str());
    assert_eq!(list[0]["device_count"], 3);
    let detail: Value = api
        .get(&format!("/api/v1/donations/{donation_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["devices"].as_array().unwrap().len(), 3);
    assert_eq!(detail["donation"]["free_transfer"], true);
    let labels = api
        .get(&format!("/api/v1/donations/{donation_id}/labels.pdf"))
        .await;
    assert_eq!(labels.status(), StatusCode::OK);
    assert!(labels.bytes().await.unwrap().starts_with(b"%PDF"));

    let state = device(&api, &azerty(laptop)).await;
    assert_eq!(state["code"], laptop.as_str());
    assert_eq!(state["status"], "received");
    assert_eq!(state["version"], 2);
    assert!(state["allowed_steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["step"] == "diagnose"));
    assert_eq!(
        state["readiness_gaps"][0],
        "aucun diagnostic depuis l'entrée ou le retour"
    );
    assert_eq!(state["timeline"].as_array().unwrap().len(), 2);

    let command_id = uuid::Uuid::new_v4();
    let diagnose = json!({
        "fields": {"test": "passed", "storage": ["DISK-1:ssd:256"], "memory_gb": 8},
        "expected_version": 2,
        "command_id": command_id,
    });
    let (status, first) = step(&api, laptop, "diagnose", diagnose.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["recorded"], true);
    assert_eq!(first["device"]["version"], 3);
    let (status, again) = step(&api, laptop, "diagnose", diagnose).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["recorded"], false);
    assert_eq!(again["position"], first["position"]);
    assert_eq!(device(&api, laptop).await["version"], 3, "recorded once");

    let erase = json!({"unit": "DISK-1", "tool": "nwipe", "operator": "Camille", "verified": true});
    let (status, stale) = step(
        &api,
        laptop,
        "erase",
        json!({"fields": erase, "expected_version": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&stale), "version_conflict");
    assert!(error_message(&stale).contains("modifié entre-temps"));
    assert_eq!(device(&api, laptop).await["version"], 3, "nothing recorded");

    let (status, refused) = step(
        &api,
        laptop,
        "handover",
        json!({"fields": {"mode": "donation"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&refused), "step_not_allowed");
    assert!(error_message(&refused).contains("En atelier"));

    recorded(&api, laptop, "erase", erase).await;
    recorded(&api, laptop, "install", json!({"os": "Debian"})).await;
    recorded(&api, laptop, "grade", json!({"grade": "a"})).await;
    let stocked = recorded(&api, laptop, "stock", json!({"site": "Chartres"})).await;
    assert_eq!(stocked["ready"], true);

    let (status, above) = step(
        &api,
        laptop,
        "handover",
        json!({"fields": {"mode": "sale", "price": "250"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&above), "price_above_cap");
    assert!(error_message(&above).contains("180,00 €"));
    let handed = recorded(
        &api,
        laptop,
        "handover",
        json!({"mode": "sale", "price": 150}),
    )
    .await;
    assert_eq!(handed["status"], "handed_over");
    assert_eq!(handed["handover_mode"], "solidarity_sale");
    let timeline = handed["timeline"].as_array().unwrap();
    assert_eq!(timeline.last().unwrap()["actor"], api.actor.as_str());

    let stock: Value = api
        .get("/api/v1/stock?status=handed_over")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stock["total"], 1);
    assert_eq!(stock["devices"][0]["code"], laptop.as_str());
    let stock: Value = api
        .get("/api/v1/stock?site=Chartres&category=smartphone")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stock["total"], 1);
    assert_eq!(stock["counts"]["status"][0]["value"], "received");
    assert_eq!(
        stock["counts"]["status"][0]["label"],
        "Reçu, à diagnostiquer"
    );
    server.stop().await;
}

async fn api_rule_and_input_errors(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let (_, codes) = create_batch(&api).await;
    let phone = &codes[1];

    recorded(
        &api,
        phone,
        "diagnose",
        json!({"test": "passed", "storage": "FLASH-1:flash"}),
    )
    .await;
    recorded(&api, phone, "stock", json!({"site": "Chartres"})).await;
    let (status, body) = step(
        &api,
        phone,
        "handover",
        json!({"fields": {"mode": "donation"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "not_ready");
    assert!(error_message(&body).contains("le support FLASH-1 n'a pas été effacé"));

    let (status, body) = step(&api, phone, "repair", json!({"fields": {"minutes": "-3"}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_field");

    let response = api
        .get(&format!("/api/v1/devices/{}", with_wrong_check(phone)))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "invalid_code");
    assert!(error_message(&body).contains("caractère de contrôle"));

    let response = api.get(&format!("/api/v1/devices/{}", unused_code())).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "device_not_found");

    let path = format!("/api/v1/devices/{phone}/steps/move");
    let response = api
        .post_raw(&path, "application/json", oversized_body())
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "payload_too_large");

    let response = api
        .request(reqwest::Method::POST, &path)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "invalid_json");

    let (status, body) = step(&api, phone, "fly", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "unknown_step");

    let response = api
        .post_json(
            "/api/v1/donations",
            &json!({"donor": "X", "site": "Chartres", "devices": [
                {"category": "laptop", "serial": "API-SN-1"}
            ]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "duplicate_serial");
    assert!(error_message(&body).contains(codes[0].as_str()));

    let response = api.get("/api/v1/stock?grade=z").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = api.get("/api/v1/nothing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "not_found");
    server.stop().await;
}

async fn openapi_lists_every_path(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let response = api.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    let expected: BTreeSet<(&str, &str)> = [
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/devices/{code}", "get"),
        ("/api/v1/devices/{code}/steps/{step}", "post"),
        ("/api/v1/devices/{code}/evidence", "get"),
        ("/api/v1/devices/{code}/evidence", "post"),
        ("/api/v1/devices/{code}/certificate.pdf", "get"),
        ("/api/v1/evidence/{sha256}", "get"),
        ("/api/v1/stock", "get"),
        ("/api/v1/donations", "get"),
        ("/api/v1/donations", "post"),
        ("/api/v1/donations/{id}", "get"),
        ("/api/v1/donations/{id}/labels.pdf", "get"),
        ("/api/v1/donations/{id}/certificates.pdf", "get"),
        ("/api/v1/donations/{id}/reuse-report.pdf", "get"),
        ("/api/v1/donations/{id}/reuse-report.csv", "get"),
        ("/api/v1/prescriptions", "get"),
        ("/api/v1/prescriptions", "post"),
        ("/api/v1/prescriptions/incoming", "get"),
        ("/api/v1/prescriptions/overdue", "get"),
        ("/api/v1/prescriptions/{id}", "get"),
        ("/api/v1/prescriptions/{id}/matches", "get"),
        ("/api/v1/prescriptions/{id}/accept", "post"),
        ("/api/v1/prescriptions/{id}/decline", "post"),
        ("/api/v1/prescriptions/{id}/reserve", "post"),
        ("/api/v1/prescriptions/{id}/handover", "post"),
        ("/api/v1/prescriptions/{id}/extend", "post"),
        ("/api/v1/prescriptions/{id}/return", "post"),
        ("/api/v1/prescriptions/{id}/convert", "post"),
        ("/api/v1/prescriptions/{id}/training", "post"),
        ("/api/v1/prescriptions/{id}/handover-sheet.pdf", "get"),
        ("/api/v1/dashboard", "get"),
    ]
    .into_iter()
    .collect();
    let documented: BTreeSet<(&str, &str)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (path.as_str(), method.as_str()))
        })
        .collect();
    let missing: Vec<_> = expected.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "missing from the OpenAPI document: {missing:?}"
    );
    let unexpected: Vec<_> = documented.difference(&expected).collect();
    assert!(
        unexpected.is_empty(),
        "documented but not expected by this test: {unexpected:?}"
    );
    let scheme = &document["components"]["securitySchemes"]["api_token"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(document["security"][0]["api_token"], json!([]));
    server.stop().await;
}

filiere_store::backend_tests!(
    batch_to_handover,
    api_rule_and_input_errors,
    openapi_lists_every_path,
);
