//! Prescriptions on a real server. A referrer issues, and a workshop
//! accepts, matches, reserves, hands over and follows the loan until its
//! return, through the pages and through the API. Other tests cover
//! concurrent reservations, rejected inputs that record nothing, and what
//! other organisations may see.

mod support;

use chrono::{Duration, Utc};
use filiere_domain::access::{OrganisationKind, Role};
use filiere_domain::prescription::EligibilityRule;
use filiere_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{location, text, Agent, TestServer, WORKSHOP};

const REFERRER_ORG: &str = "CCAS test";
const QUOTIENT_SCHEME: &str = "Quotient familial CAF";

/// Day `days` from today, as YYYY-MM-DD.
fn day(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

/// Creates the family quotient scheme (below 700 EUR) and returns its id.
async fn quotient_scheme(server: &TestServer) -> String {
    let rule = EligibilityRule::FamilyQuotientBelow {
        threshold_euros: 700,
    };
    let scheme = server
        .store
        .create_scheme(QUOTIENT_SCHEME, rule, Utc::now())
        .await
        .expect("scheme created");
    scheme.id.to_string()
}

async fn step(api: &Agent, code: &str, name: &str, fields: Value) {
    let response = api
        .post_json(
            &format!("/api/v1/devices/{code}/steps/{name}"),
            &json!({ "fields": fields }),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{name} on {code}: {body}");
}

/// Receives one laptop from a company, or from a public body under the
/// free-transfer rule, and returns its code.
async fn received_laptop(api: &Agent, free_transfer: bool) -> String {
    let donor_kind = if free_transfer {
        "public_body"
    } else {
        "company"
    };
    let response = api
        .post_json(
            "/api/v1/donations",
            &json!({
                "donor": "Donateur test",
                "donor_kind": donor_kind,
                "free_transfer": free_transfer,
                "site": "Chartres",
                "devices": [{"category": "laptop", "brand": "Lenovo", "model": "ThinkPad T480"}]
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["devices"][0]["code"].as_str().unwrap().to_string()
}

/// Receives a laptop and diagnoses it with one disk, left unerased.
async fn diagnosed_laptop(api: &Agent, free_transfer: bool) -> String {
    let code = received_laptop(api, free_transfer).await;
    let disk = format!("{code}-DISK:ssd:256");
    step(
        api,
        &code,
        "diagnose",
        json!({"test": "passed", "storage": [disk]}),
    )
    .await;
    code
}

/// Receives a laptop and diagnoses, erases, grades and stocks it, so that
/// it is ready for a household.
async fn ready_laptop(api: &Agent, free_transfer: bool) -> String {
    let code = diagnosed_laptop(api, free_transfer).await;
    let disk = format!("{code}-DISK");
    let erase = json!({"unit": disk, "tool": "nwipe", "operator": "Camille", "verified": true});
    step(api, &code, "erase", erase).await;
    step(
        api,
        &code,
        "grade",
        json!({"grade": "a", "autonomy": "beginner"}),
    )
    .await;
    step(api, &code, "stock", json!({"site": "Chartres"})).await;
    code
}

/// Builds the issue form of a new household with family quotient
/// `quotient`.
fn issue_form<'a>(scheme: &'a str, quotient: &'a str, commune: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("household_id", ""),
        ("first_name", "Ana"),
        ("last_name", "Martinez"),
        ("phone", "06 12 34 56 78"),
        ("commune", commune),
        ("qpv", "yes"),
        ("household_size", "three_to_four"),
        ("age", "adult"),
        ("category", "laptop"),
        ("purpose", "job_search"),
        ("preferred_mode", "loan"),
        ("scheme", scheme),
        ("evidence_kind", "family_quotient"),
        ("evidence_value", quotient),
        ("autonomy", "beginner"),
        ("training_provider", "adviser"),
        ("training_name", "Camille, conseillère numérique"),
    ]
}

/// Builds the API body of a new prescription for a new household.
fn issue_body(scheme: &str, quotient: u32, commune: &str) -> Value {
    json!({
        "household": {"first_name": "Bruno", "last_name": "Lefort", "phone": "0611223344"},
        "commune": commune,
        "qpv": false,
        "zrr": true,
        "household_size": "one",
        "age": "senior",
        "category": "laptop",
        "purpose": "administrative_procedures",
        "scheme": scheme,
        "evidence_kind": "family_quotient",
        "evidence_value": quotient,
        "pix": 1,
        "training_provider": "venue",
        "training_name": "Médiathèque du centre"
    })
}

async fn households(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM households")
        .fetch_one(server.store.pool())
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

/// Issues a prescription through the API and returns its id.
async fn api_issue(referrer: &Agent, scheme: &str) -> String {
    let (status, body) = json_of(
        referrer
            .post_json("/api/v1/prescriptions", &issue_body(scheme, 650, "28085"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["prescription_id"].as_str().unwrap().to_string()
}

/// Posts a workshop step through the API.
async fn api_step(api: &Agent, id: &str, name: &str, body: Value) -> (StatusCode, Value) {
    json_of(
        api.post_json(&format!("/api/v1/prescriptions/{id}/{name}"), &body)
            .await,
    )
    .await
}

async fn pages_flow(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let scheme = quotient_scheme(&server).await;
    let referrer = server.member_of(REFERRER_ORG, Role::Referrer).await;
    let technician = server.member(Role::Technician).await;
    let api = server.workshop_api().await;
    let code = ready_laptop(&api, false).await;

    let (status, form) = referrer.page("/prescriptions/nouvelle").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(QUOTIENT_SCHEME), "scheme offered");
    let response = referrer
        .post_form(
            "/prescriptions/nouvelle",
            &issue_form(&scheme, "650", "28085"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    let id = target
        .strip_prefix("/prescriptions?emise=")
        .expect("redirect to the list")
        .to_string();
    let (_, list) = referrer.page(&target).await;
    assert!(list.contains("Ana Martinez"), "referrer sees the household");
    assert!(list.contains("Émise, en attente de l'atelier"));

    let (status, desk) = technician.page("/prescriptions/atelier").await;
    assert_eq!(status, StatusCode::OK);
    assert!(desk.contains(&format!("/prescriptions/{id}")), "incoming");
    assert!(!desk.contains("Martinez"), "no identity before acceptance");
    let (_, before) = technician.page(&format!("/prescriptions/{id}")).await;
    assert!(
        !before.contains("Martinez"),
        "no identity before acceptance"
    );

    let accept = technician
        .post_form(&format!("/prescriptions/{id}/etapes/accept"), &[])
        .await;
    assert_eq!(accept.status(), StatusCode::SEE_OTHER);
    let (_, page) = technician.page(&format!("/prescriptions/{id}")).await;
    assert!(page.contains("Acceptée par l'atelier"));
    assert!(page.contains("Ana Martinez"), "identity after acceptance");
    assert!(
        page.contains(&format!("value=\"{code}\"")),
        "ready laptop matched"
    );

    let reserve = technician
        .post_form(
            &format!("/prescriptions/{id}/etapes/reserve"),
            &[("code", &code)],
        )
        .await;
    assert_eq!(reserve.status(), StatusCode::SEE_OTHER);
    let due = day(30);
    let handover = technician
        .post_form(
            &format!("/prescriptions/{id}/etapes/handover"),
            &[("mode", "loan"), ("due", &due)],
        )
        .await;
    assert_eq!(handover.status(), StatusCode::SEE_OTHER);
    let (_, page) = technician.page(&format!("/prescriptions/{id}")).await;
    assert!(page.contains("Appareil remis"));
    assert!(page.contains(&format!("/prescriptions/{id}/fiche-remise.pdf")));
    let sheet = technician
        .get(&format!("/prescriptions/{id}/fiche-remise.pdf"))
        .await;
    assert_eq!(sheet.status(), StatusCode::OK, "the linked sheet is served");
    assert!(sheet.bytes().await.unwrap().starts_with(b"%PDF"));

    let late = day(31);
    let (status, loans) = technician
        .page(&format!("/prescriptions/prets?date={late}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(loans.contains("En retard (1)"), "{loans}");
    assert!(loans.contains(&code));
    let (_, referrer_loans) = referrer
        .page(&format!("/prescriptions/prets?date={late}"))
        .await;
    assert!(referrer_loans.contains("En retard (1)"), "referrer follows");

    let later = day(60);
    let extend = technician
        .post_form(
            &format!("/prescriptions/{id}/etapes/extend_loan"),
            &[("due", &later)],
        )
        .await;
    assert_eq!(extend.status(), StatusCode::SEE_OTHER);
    let (_, loans) = technician
        .page(&format!("/prescriptions/prets?date={late}"))
        .await;
    assert!(loans.contains("En retard (0)"), "extended loan not overdue");

    let returned = technician
        .post_form(
            &format!("/prescriptions/{id}/etapes/return"),
            &[("notes", "rendu complet")],
        )
        .await;
    assert_eq!(returned.status(), StatusCode::SEE_OTHER);
    let (_, list) = referrer.page("/prescriptions").await;
    assert!(list.contains("Prêt terminé, appareil restitué"));
    assert!(list.contains(&code), "device shown to the referrer");
    let device: Value = api
        .get(&format!("/api/v1/devices/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(device["status"], "returned");
    server.stop().await;
}

async fn api_flow(database: TestDatabase) {
    let server = TestServer::start(database).await;
    quotient_scheme(&server).await;
    let referrer_org = server
        .organisation(REFERRER_ORG, OrganisationKind::SocialService)
        .await;
    let referrer = server.api_client(&referrer_org, Role::Referrer).await;
    let api = server.workshop_api().await;
    let code = ready_laptop(&api, false).await;

    let id = api_issue(&referrer, QUOTIENT_SCHEME).await;
    let (status, mine) = json_of(referrer.get("/api/v1/prescriptions").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine[0]["prescription_id"], id.as_str());
    assert!(
        !mine.to_string().contains("Lefort"),
        "no identity in the API"
    );
    let (_, incoming) = json_of(api.get("/api/v1/prescriptions/incoming").await).await;
    assert_eq!(incoming[0]["prescription_id"], id.as_str());

    let (status, body) = api_step(&api, &id, "accept", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["prescription"]["status"], "accepted");
    let (status, matches) = json_of(
        api.get(&format!("/api/v1/prescriptions/{id}/matches"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(matches[0]["code"], code.as_str());

    let (status, body) = api_step(&api, &id, "reserve", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["device_status"], "reserved");
    let (status, body) = api_step(
        &api,
        &id,
        "handover",
        json!({"mode": "loan", "due": day(20)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["prescription"]["due_on"], day(20));

    let path = format!("/api/v1/prescriptions/overdue?as_of={}", day(21));
    let (status, loans) = json_of(api.get(&path).await).await;
    assert_eq!(status, StatusCode::OK, "{loans}");
    assert_eq!(loans["overdue"][0]["prescription_id"], id.as_str());
    assert_eq!(loans["overdue"][0]["device_code"], code.as_str());
    let (_, referrer_loans) = json_of(referrer.get(&path).await).await;
    assert_eq!(referrer_loans["overdue"][0]["prescription_id"], id.as_str());

    let (status, body) = api_step(&api, &id, "extend", json!({"due": day(45)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, loans) = json_of(api.get(&path).await).await;
    assert_eq!(loans["overdue"], json!([]), "extended");
    let (status, body) = api_step(&api, &id, "training", json!({"attended": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api_step(&api, &id, "return", json!({"notes": "ok"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["prescription"]["status"], "returned");
    assert_eq!(body["device_status"], "returned");

    let (status, state) = json_of(referrer.get(&format!("/api/v1/prescriptions/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["status"], "returned");
    assert_eq!(state["closed"], true);

    let spec: Value = api.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/prescriptions",
        "/api/v1/prescriptions/incoming",
        "/api/v1/prescriptions/overdue",
        "/api/v1/prescriptions/{id}/reserve",
        "/api/v1/prescriptions/{id}/handover",
        "/api/v1/prescriptions/{id}/extend",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} documented");
    }
    server.stop().await;
}

async fn concurrent_reservations(database: TestDatabase) {
    let server = TestServer::start(database).await;
    quotient_scheme(&server).await;
    let referrer_org = server
        .organisation(REFERRER_ORG, OrganisationKind::SocialService)
        .await;
    let referrer = server.api_client(&referrer_org, Role::Referrer).await;
    let api = server.workshop_api().await;
    let other = server.workshop_api().await;
    let code = ready_laptop(&api, false).await;
    let first = api_issue(&referrer, QUOTIENT_SCHEME).await;
    let second = api_issue(&referrer, QUOTIENT_SCHEME).await;
    for id in [&first, &second] {
        let (status, body) = api_step(&api, id, "accept", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let head = server.log_head().await;

    let (one, two) = tokio::join!(
        api_step(&api, &first, "reserve", json!({"code": code})),
        api_step(&other, &second, "reserve", json!({"code": code})),
    );
    let outcomes = [one, two];
    let winners = outcomes
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(winners, 1, "{outcomes:?}");
    let (status, loser) = outcomes
        .iter()
        .find(|(status, _)| *status != StatusCode::OK)
        .unwrap();
    assert_eq!(*status, StatusCode::CONFLICT, "{loser}");
    assert_eq!(error_code(loser), "already_reserved", "{loser}");
    assert!(error_message(loser).contains(&code), "{loser}");
    assert_eq!(
        server.log_head().await,
        head + 2,
        "one reservation recorded"
    );
    let mut statuses = Vec::new();
    for id in [&first, &second] {
        let (_, state) = json_of(api.get(&format!("/api/v1/prescriptions/{id}")).await).await;
        statuses.push(state["status"].as_str().unwrap().to_string());
    }
    statuses.sort();
    assert_eq!(statuses, ["accepted", "reserved"]);
    server.stop().await;
}

async fn bad_inputs_record_nothing(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let scheme = quotient_scheme(&server).await;
    let referrer = server.member_of(REFERRER_ORG, Role::Referrer).await;
    let referrer_api = server
        .api_client(&referrer.organisation_id, Role::Referrer)
        .await;
    let technician = server.member(Role::Technician).await;
    let api = server.workshop_api().await;
    let head = server.log_head().await;
    let household_count = households(&server).await;

    // Ineligible household: scheme, value and threshold, typed values kept.
    let response = referrer
        .post_form(
            "/prescriptions/nouvelle",
            &issue_form(&scheme, "900", "28085"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(response).await;
    assert!(
        page.contains(&format!("dispositif « {QUOTIENT_SCHEME} »")),
        "{page}"
    );
    assert!(page.contains("900 €"), "{page}");
    assert!(page.contains("700 €"), "{page}");
    assert!(page.contains("value=\"Martinez\""), "typed name kept");
    assert!(page.contains("value=\"900\""), "typed value kept");
    let (status, body) = json_of(
        referrer_api
            .post_json(
                "/api/v1/prescriptions",
                &issue_body(QUOTIENT_SCHEME, 700, "28085"),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "not_eligible");
    assert!(error_message(&body).contains("700 €"), "{body}");

    // Unknown commune.
    let response = referrer
        .post_form(
            "/prescriptions/nouvelle",
            &issue_form(&scheme, "650", "99999"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = text(response).await;
    assert!(page.contains("« 99999 »"), "{page}");
    assert!(page.contains("value=\"99999\""), "typed commune kept");
    let (status, body) = json_of(
        referrer_api
            .post_json(
                "/api/v1/prescriptions",
                &issue_body(QUOTIENT_SCHEME, 650, "99999"),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "unknown_commune");
    assert_eq!(server.log_head().await, head, "nothing recorded");
    assert_eq!(households(&server).await, household_count, "no household");

    let first = api_issue(&referrer_api, QUOTIENT_SCHEME).await;
    let second = api_issue(&referrer_api, QUOTIENT_SCHEME).await;
    for id in [&first, &second] {
        let (status, body) = api_step(&api, id, "accept", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // A device not erased cannot be reserved, so it cannot be handed over.
    let unerased = diagnosed_laptop(&api, false).await;
    step(&api, &unerased, "grade", json!({"grade": "b"})).await;
    step(&api, &unerased, "stock", json!({"site": "Chartres"})).await;
    let head = server.log_head().await;
    let (status, body) = api_step(&api, &first, "reserve", json!({"code": unerased})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "not_ready");
    assert!(
        error_message(&body).contains(&format!("{unerased}-DISK")),
        "{body}"
    );
    let (status, body) = api_step(&api, &first, "handover", json!({"mode": "donation"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "step_not_allowed");
    assert_eq!(server.log_head().await, head, "nothing recorded");

    // A device reserved for one household cannot be reserved for another.
    let capped = ready_laptop(&api, true).await;
    let (status, body) = api_step(&api, &first, "reserve", json!({"code": capped})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let head = server.log_head().await;
    let (status, body) = api_step(&api, &second, "reserve", json!({"code": capped})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "already_reserved");

    // A loan due in the past, through the page: French reason, date kept.
    let yesterday = day(-1);
    let response = technician
        .post_form(
            &format!("/prescriptions/{first}/etapes/handover"),
            &[("mode", "loan"), ("due", &yesterday)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = text(response).await;
    assert!(page.contains(&yesterday), "{page}");
    assert!(
        page.contains("un prêt doit finir après aujourd'hui"),
        "{page}"
    );
    assert!(
        page.contains(&format!("value=\"{yesterday}\"")),
        "typed date kept"
    );

    // A solidarity sale above the cap of a public body's laptop.
    let (status, body) = api_step(
        &api,
        &first,
        "handover",
        json!({"mode": "sale", "price": "250"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "price_above_cap");
    assert!(error_message(&body).contains("180"), "{body}");
    assert!(error_message(&body).contains("250"), "{body}");
    assert_eq!(server.log_head().await, head, "nothing recorded");

    // A donated device is not returned.
    let (status, body) = api_step(&api, &first, "handover", json!({"mode": "donation"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let head = server.log_head().await;
    let (status, body) = api_step(&api, &first, "return", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "step_not_allowed");
    assert!(error_message(&body).contains("Appareil remis"), "{body}");
    let (status, body) = api_step(&api, &first, "extend", json!({"due": "demain"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_message(&body).contains("« demain »"), "{body}");
    assert_eq!(server.log_head().await, head, "nothing recorded");
    server.stop().await;
}

async fn other_organisations_see_nothing(database: TestDatabase) {
    let server = TestServer::start(database).await;
    quotient_scheme(&server).await;
    let referrer_org = server
        .organisation(REFERRER_ORG, OrganisationKind::SocialService)
        .await;
    let referrer = server.api_client(&referrer_org, Role::Referrer).await;
    let api = server.workshop_api().await;
    let id = api_issue(&referrer, QUOTIENT_SCHEME).await;
    let page_path = format!("/prescriptions/{id}");
    let api_path = format!("/api/v1/prescriptions/{id}");

    let stranger = server.member_of("CCAS voisin", Role::Referrer).await;
    let (status, _) = stranger.page(&page_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = stranger.page("/prescriptions").await;
    assert!(list.contains("href=\"/prescriptions/nouvelle\""));
    assert!(!list.contains("href=\"/prescriptions/atelier\""));
    assert!(!list.contains(&id), "not in another referrer's list");
    let stranger_api = server
        .api_client(&stranger.organisation_id, Role::Referrer)
        .await;
    let (status, body) = json_of(stranger_api.get(&api_path).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "prescription_not_found");
    let (_, mine) = json_of(stranger_api.get("/api/v1/prescriptions").await).await;
    assert_eq!(mine, json!([]));
    let (status, _) = api_step(&stranger_api, &id, "accept", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "referrers do not accept");

    let funder = server
        .member_of("Département test", Role::FunderViewer)
        .await;
    let (_, funder_home) = funder.page("/tableau-de-bord").await;
    assert!(
        !funder_home.contains("href=\"/prescriptions"),
        "no link for funders"
    );
    let (status, page) = funder.page(&page_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("Lefort"));
    let (status, _) = funder.page("/prescriptions/atelier").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = funder.page("/prescriptions/prets").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = api_step(&api, &id, "accept", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other_workshop = server.member_of("Atelier voisin", Role::Technician).await;
    let (_, scan) = other_workshop.page("/").await;
    assert!(scan.contains("href=\"/prescriptions/atelier\""));
    assert!(scan.contains("href=\"/prescriptions/prets\""));
    assert!(!scan.contains("href=\"/prescriptions/nouvelle\""));
    let (status, _) = other_workshop.page(&page_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "accepted by {WORKSHOP}");
    let (_, desk) = other_workshop.page("/prescriptions/atelier").await;
    assert!(!desk.contains(&id));
    server.stop().await;
}

async fn resubmitted_form_issues_once(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let scheme = quotient_scheme(&server).await;
    let referrer = server.member_of(REFERRER_ORG, Role::Referrer).await;
    let (_, form) = referrer.page("/prescriptions/nouvelle").await;
    let command_id = support::hidden_field(&form, "command_id").expect("form has a command id");
    let mut pairs = issue_form(&scheme, "650", "28085");
    pairs.push(("command_id", &command_id));

    let first = referrer.post_form("/prescriptions/nouvelle", &pairs).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let id = location(&first)
        .strip_prefix("/prescriptions?emise=")
        .expect("redirect to the list")
        .to_string();
    let head = server.log_head().await;
    let household_count = households(&server).await;

    let second = referrer.post_form("/prescriptions/nouvelle", &pairs).await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let target = location(&second);
    assert_eq!(target, format!("/prescriptions/{id}?deja=1"));
    assert_eq!(server.log_head().await, head, "nothing new in the log");
    assert_eq!(
        households(&server).await,
        household_count,
        "no new household"
    );
    let (status, page) = referrer.page(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("déjà été envoyé"), "{page}");
    assert!(page.contains(&id[..8]), "{page}");

    let (_, fresh) = referrer.page("/prescriptions/nouvelle").await;
    let other_id = support::hidden_field(&fresh, "command_id").unwrap();
    assert_ne!(other_id, command_id, "each form gets its own key");

    let mut bad = issue_form(&scheme, "650", "28085");
    bad.push(("command_id", "pas-un-uuid"));
    let response = referrer.post_form("/prescriptions/nouvelle", &bad).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(text(response).await.contains("« pas-un-uuid »"));
    assert_eq!(server.log_head().await, head);
    server.stop().await;
}

async fn form_bytes_not_utf8_rejected(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let scheme = quotient_scheme(&server).await;
    let referrer = server.member_of(REFERRER_ORG, Role::Referrer).await;
    let head = server.log_head().await;
    let household_count = households(&server).await;
    let (_, form) = referrer.page("/prescriptions/nouvelle").await;
    let csrf = support::csrf_field(&form).expect("form has a CSRF token");
    let mut body: String = issue_form(&scheme, "650", "28085")
        .into_iter()
        .filter(|(name, _)| *name != "last_name")
        .map(|(name, value)| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair(name, value)
                .finish()
        })
        .collect::<Vec<_>>()
        .join("&");
    // 0xE9 is "é" in Latin-1 and is not UTF-8 on its own.
    body.push_str(&format!("&last_name=QA-Caf%E9&csrf_token={csrf}"));

    let response = referrer
        .post_raw(
            "/prescriptions/nouvelle",
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = text(response).await;
    assert!(page.contains("Champ « last_name »"), "{page}");
    assert!(page.contains("UTF-8"), "{page}");
    assert_eq!(server.log_head().await, head, "nothing recorded");
    assert_eq!(households(&server).await, household_count, "no household");
    server.stop().await;
}

async fn messages_name_typed_values(database: TestDatabase) {
    let server = TestServer::start(database).await;
    quotient_scheme(&server).await;
    let referrer_org = server
        .organisation(REFERRER_ORG, OrganisationKind::SocialService)
        .await;
    let referrer = server.api_client(&referrer_org, Role::Referrer).await;
    let api = server.workshop_api().await;
    let code = ready_laptop(&api, false).await;

    // A commune code of five digits that no commune has.
    for commune in ["99999", "28000"] {
        let (status, body) = json_of(
            referrer
                .post_json(
                    "/api/v1/prescriptions",
                    &issue_body(QUOTIENT_SCHEME, 650, commune),
                )
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&body), "unknown_commune", "{body}");
        let message = error_message(&body);
        assert!(message.contains(&format!("« {commune} »")), "{message}");
        assert!(message.contains("aucune commune actuelle"), "{message}");
        assert!(!message.contains("5 caractères"), "{message}");
    }

    // A negative solidarity price, shown in euros as typed.
    let id = api_issue(&referrer, QUOTIENT_SCHEME).await;
    api_step(&api, &id, "accept", json!({})).await;
    let (status, body) = api_step(&api, &id, "reserve", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other = received_laptop(&api, false).await;
    let head = server.log_head().await;
    let (status, body) = api_step(
        &api,
        &id,
        "handover",
        json!({"mode": "sale", "price": "-5"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = error_message(&body);
    assert!(message.contains("« -5 »"), "{message}");
    assert!(!message.contains("-500"), "{message}");
    assert_eq!(server.log_head().await, head, "nothing recorded");

    // A device step field sent without the `fields` wrapper.
    let (status, body) = json_of(
        api.post_json(
            &format!("/api/v1/devices/{other}/steps/grade"),
            &json!({"grade": "b"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = error_message(&body);
    assert!(message.contains("« grade »"), "{message}");
    assert!(message.contains("\"fields\""), "{message}");
    assert!(!message.contains("absent"), "{message}");
    assert_eq!(server.log_head().await, head, "nothing recorded");
    server.stop().await;
}

filiere_store::backend_tests!(
    pages_flow,
    api_flow,
    concurrent_reservations,
    bad_inputs_record_nothing,
    other_organisations_see_nothing,
    resubmitted_form_issues_once,
    form_bytes_not_utf8_rejected,
    messages_name_typed_values,
);
