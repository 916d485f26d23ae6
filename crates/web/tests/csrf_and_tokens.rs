//! CSRF protection of the pages' forms, API tokens (revocation, what a
//! coordinator may create), and responses to oversized or malformed requests
//! once signed in.

mod support;

use filiere_domain::access::{OrganisationKind, Role};
use filiere_store::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{oversized_body, text, Agent, TestServer};

async fn one_device(api: &Agent) -> String {
    let body =
        json!({"donor": "Donateur", "site": "Chartres", "devices": [{"category": "laptop"}]});
    let response = api.post_json("/api/v1/donations", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["devices"][0]["code"].as_str().unwrap().to_string()
}

/// A signed-in client, a form path and its fields.
type FormCase<'a> = (&'a Agent, String, Vec<(&'a str, &'a str)>);

async fn forms_need_csrf_token(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let tech = server.member(Role::Technician).await;
    let admin = server.member(Role::Administrator).await;
    let code = one_device(&server.workshop_api().await).await;
    let head = server.log_head().await;
    let organisations = server.store.organisations().await.unwrap().len();
    let cases: [FormCase; 5] = [
        (
            &tech,
            "/donations".into(),
            vec![
                ("donor", "X"),
                ("site", "Chartres"),
                ("category", "laptop"),
                ("brand", "HP"),
            ],
        ),
        (
            &tech,
            format!("/d/{code}/steps/move"),
            vec![("site", "Dreux")],
        ),
        (
            &tech,
            "/bulk".into(),
            vec![
                ("step", "move"),
                ("site", "Dreux"),
                ("codes", code.as_str()),
            ],
        ),
        (
            &admin,
            "/admin/organisations".into(),
            vec![("name", "Intrus"), ("kind", "workshop")],
        ),
        (&tech, "/deconnexion".into(), vec![]),
    ];
    for (agent, path, pairs) in &cases {
        let without = agent.post_form_as_is(path, pairs).await;
        assert_eq!(
            without.status(),
            StatusCode::FORBIDDEN,
            "{path} without token"
        );
        assert!(
            text(without).await.contains("Ce formulaire a expiré"),
            "{path}"
        );
        let mut wrong = pairs.clone();
        let forged = "f".repeat(64);
        wrong.push(("csrf_token", forged.as_str()));
        let response = agent.post_form_as_is(path, &wrong).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
        let other_session = server.member(Role::Technician).await;
        let mut stolen = pairs.clone();
        stolen.push(("csrf_token", other_session.csrf_token.as_deref().unwrap()));
        let response = agent.post_form_as_is(path, &stolen).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{path} with another session's token"
        );
    }
    assert_eq!(server.log_head().await, head, "nothing recorded");
    assert_eq!(
        server.store.organisations().await.unwrap().len(),
        organisations
    );
    let (status, _) = tech.page("/stock").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "sign-out without token did not sign out"
    );

    let header = tech
        .request(Method::POST, &format!("/d/{code}/steps/move"))
        .header("x-csrf-token", tech.csrf_token.as_deref().unwrap())
        .form(&[("site", "Dreux")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        header.status(),
        StatusCode::SEE_OTHER,
        "token accepted in the header"
    );
    server.stop().await;
}

async fn revoked_token_rejected(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let response = api.get("/api/v1/stock").await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = api.actor.trim_start_matches("token:");
    server.store.revoke_token(id).await.unwrap();
    let response = api.get("/api/v1/stock").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");

    for header in [
        "Bearer fil_inconnu",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "fil_sans_schema",
    ] {
        let response = server
            .client
            .get(server.url("/api/v1/stock"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header}");
    }
    let tech = server.member(Role::Technician).await;
    let response = tech
        .request(Method::GET, "/api/v1/stock")
        .header("authorization", "Bearer fil_inconnu")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "an invalid token is not saved by a cookie"
    );
    server.stop().await;
}

async fn coordinator_manages_own_tokens(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let coordinator = server.member(Role::WorkshopCoordinator).await;
    let own = coordinator.organisation_id.clone();
    let other = server
        .organisation("Atelier B", OrganisationKind::Workshop)
        .await;
    let other_token = server
        .store
        .create_token("B", &other, Role::Technician, "cli:test")
        .await
        .unwrap();

    let (_, page) = coordinator.page("/admin/jetons").await;
    assert!(
        !page.contains("Administration</option>"),
        "administrator role not offered"
    );
    assert!(
        !page.contains(&other_token.id),
        "tokens of other organisations hidden"
    );
    for (organisation, role) in [
        (own.as_str(), "administrator"),
        (own.as_str(), "referrer"),
        (other.as_str(), "technician"),
    ] {
        let pairs = [
            ("name", "escalade"),
            ("organisation", organisation),
            ("role", role),
        ];
        let response = coordinator.post_form("/admin/jetons", &pairs).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{role} at {organisation}"
        );
    }
    let response = coordinator
        .post_form(&format!("/admin/jetons/{}/revoquer", other_token.id), &[])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "another organisation's token"
    );
    assert_eq!(
        server.store.tokens(None).await.unwrap().len(),
        1,
        "nothing created"
    );

    let pairs = [
        ("name", "douchette"),
        ("organisation", own.as_str()),
        ("role", "technician"),
    ];
    let response = coordinator.post_form("/admin/jetons", &pairs).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = text(response).await;
    let start = page.find("fil_").expect("secret shown once");
    let secret: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let (_, list) = coordinator.page("/admin/jetons").await;
    assert!(!list.contains(&secret), "secret never shown again");
    let token = Agent {
        bearer: Some(secret),
        ..server.anonymous()
    };
    assert_eq!(token.get("/api/v1/stock").await.status(), StatusCode::OK);
    let created = server.store.tokens(Some(&own)).await.unwrap();
    let response = coordinator
        .post_form(&format!("/admin/jetons/{}/revoquer", created[0].id), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        token.get("/api/v1/stock").await.status(),
        StatusCode::UNAUTHORIZED
    );
    server.stop().await;
}

async fn bodies_get_clear_answers(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let tech = server.member(Role::Technician).await;
    let head = server.log_head().await;
    let response = tech
        .post_raw(
            "/donations",
            "application/x-www-form-urlencoded",
            oversized_body(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(response).await.contains("trop volumineuse"));
    let response = server
        .client
        .post(server.url("/connexion"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(oversized_body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "sign-in form"
    );
    let garbage = format!(
        "csrf_token={}&%%%&=&donor",
        tech.csrf_token.as_deref().unwrap()
    );
    let response = tech
        .post_raw("/donations", "application/x-www-form-urlencoded", garbage)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "malformed form");
    assert!(text(response).await.contains("Rien n'a été enregistré"));

    let api = server.workshop_api().await;
    let response = api
        .post_raw("/api/v1/donations", "application/json", oversized_body())
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    let response = api
        .post_raw(
            "/api/v1/donations",
            "application/json",
            "{\"donor\":".into(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
    let anonymous = server.anonymous();
    let response = anonymous
        .post_raw("/api/v1/donations", "application/json", oversized_body())
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "credentials checked before the body"
    );
    assert_eq!(server.log_head().await, head, "nothing recorded");
    server.stop().await;
}

filiere_store::backend_tests!(
    forms_need_csrf_token,
    revoked_token_rejected,
    coordinator_manages_own_tokens,
    bodies_get_clear_answers,
);
