//! Sign-in, sign-out and the rate limit of failed sign-ins, through the real
//! `/connexion` form.

mod support;

use filiere_domain::access::{OrganisationKind, Role};
use filiere_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::Value;
use support::{
    hidden_field, location, set_cookie, set_cookie_line, text, TestServer, PASSWORD, WORKSHOP,
};

async fn session_cookie_attributes(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    let response = server.sign_in_attempt(&user.email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let line = set_cookie_line(&response, "filiere_session").expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(line.contains(attribute), "{line} lacks {attribute}");
    }
    let first = set_cookie(&response, "filiere_session").unwrap();
    let again = server.sign_in_attempt(&user.email, PASSWORD).await;
    let second = set_cookie(&again, "filiere_session").unwrap();
    assert_ne!(first, second, "a new session id at every sign-in");
    server.stop().await;
}

async fn cookie_rejected_after_sign_out(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let user = server.member(Role::Technician).await;
    let (status, _) = user.page("/stock").await;
    assert_eq!(status, StatusCode::OK);
    let response = user.post_form("/deconnexion", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/connexion?sortie=1");
    let cleared = set_cookie_line(&response, "filiere_session").unwrap_or_default();
    assert!(
        cleared.contains("Max-Age=0"),
        "the browser's cookie is cleared: {cleared}"
    );

    let response = user.get("/stock").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "old cookie signs no one in"
    );
    assert!(location(&response).starts_with("/connexion"));
    let response = user.get("/api/v1/stock").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    let response = user.post_form("/deconnexion", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/connexion"));
    server.stop().await;
}

async fn sign_in_returns_to_page(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let anonymous = server.anonymous();
    let response = anonymous.get("/stock?site=Dreux").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/connexion?suite=%2Fstock%3Fsite%3DDreux"
    );
    let (_, page) = anonymous
        .page("/connexion?suite=%2Fstock%3Fsite%3DDreux")
        .await;
    assert_eq!(
        hidden_field(&page, "suite").as_deref(),
        Some("/stock?site=Dreux")
    );
    let (_, page) = anonymous
        .page("/connexion?suite=https%3A%2F%2Fevil.example")
        .await;
    assert_eq!(
        hidden_field(&page, "suite").as_deref(),
        Some(""),
        "other sites dropped"
    );

    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    let form = server
        .client
        .get(server.url("/connexion"))
        .send()
        .await
        .unwrap();
    let cookie = set_cookie(&form, "filiere_connexion").unwrap();
    let response = server
        .client
        .post(server.url("/connexion"))
        .header("cookie", format!("filiere_connexion={cookie}"))
        .form(&[
            ("csrf_token", cookie.as_str()),
            ("email", user.email.as_str()),
            ("password", PASSWORD),
            ("suite", "/stock?site=Dreux"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/stock?site=Dreux");
    server.stop().await;
}

async fn sign_in_form_needs_its_cookie(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    let response = server
        .client
        .post(server.url("/connexion"))
        .form(&[
            ("csrf_token", "0".repeat(64).as_str()),
            ("email", user.email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "filiere_session").is_none());
    assert!(text(response).await.contains("Ce formulaire a expiré"));
    server.stop().await;
}

async fn wrong_password_is_generic(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    let wrong = server
        .sign_in_attempt(&user.email, "pas le bon mot de passe")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong, "filiere_session").is_none());
    let wrong = text(wrong).await;
    let unknown = server
        .sign_in_attempt("personne@test.example.org", PASSWORD)
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = text(unknown).await;
    let message = "Adresse électronique ou mot de passe incorrect.";
    assert!(wrong.contains(message));
    assert!(unknown.contains(message));
    server.stop().await;
}

async fn rate_limit_per_account(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    for attempt in 1..=5 {
        let response = server
            .sign_in_attempt(&user.email, "mauvais mot de passe")
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let response = server.sign_in_attempt(&user.email, PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "right password, too late"
    );
    assert!(set_cookie(&response, "filiere_session").is_none());
    let page = text(response).await;
    assert!(page.contains("Trop de tentatives"), "{page}");

    let unknown = "inconnu@test.example.org";
    for _ in 1..=5 {
        server
            .sign_in_attempt(unknown, "mauvais mot de passe")
            .await;
    }
    let response = server
        .sign_in_attempt(unknown, "mauvais mot de passe")
        .await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown account is limited the same way"
    );
    let other = server.user(&workshop, Role::Technician).await;
    let response = server.sign_in_attempt(&other.email, PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "other accounts unaffected"
    );
    server.stop().await;
}

async fn rate_limit_per_address(database: TestDatabase) {
    let server = TestServer::start(database).await;
    for attempt in 0..20 {
        let email = format!("devine-{attempt}@test.example.org");
        let response = server.sign_in_attempt(&email, "mauvais mot de passe").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    let response = server.sign_in_attempt(&user.email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    server.stop().await;
}

async fn several_memberships_choose_one(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let other = server
        .organisation("Atelier B", OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    server
        .store
        .add_membership(&user.id, &other, Role::WorkshopCoordinator)
        .await
        .unwrap();
    let response = server.sign_in_attempt(&user.email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookie(&response, "filiere_session").is_none());
    let page = text(response).await;
    assert!(page.contains("Choisir l'organisation"));
    let ticket = hidden_field(&page, "ticket").unwrap();
    let choice = format!("{other}/workshop_coordinator");
    let pairs = [("ticket", ticket.as_str()), ("membership", choice.as_str())];
    let response = server
        .anonymous()
        .post_form_as_is("/connexion/organisation", &pairs)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&response, "filiere_session").expect("session opened");
    let agent = support::Agent {
        session: Some(session),
        ..server.anonymous()
    };
    let (status, page) = agent.page("/admin/jetons").await;
    assert_eq!(status, StatusCode::OK, "acting as coordinator of Atelier B");
    assert!(page.contains("Atelier B"));

    let reused = server
        .anonymous()
        .post_form_as_is("/connexion/organisation", &pairs)
        .await;
    assert_eq!(reused.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&reused),
        "/connexion?expire=1",
        "a ticket works once"
    );
    assert!(set_cookie(&reused, "filiere_session").is_none());
    server.stop().await;
}

async fn no_membership_no_session(database: TestDatabase) {
    let server = TestServer::start(database).await;
    server
        .store
        .create_user("seul@test.example.org", "Sans rôle", Some(PASSWORD))
        .await
        .unwrap();
    let response = server
        .sign_in_attempt("seul@test.example.org", PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "filiere_session").is_none());
    assert!(text(response).await.contains("aucune organisation"));
    server.stop().await;
}

filiere_store::backend_tests!(
    session_cookie_attributes,
    cookie_rejected_after_sign_out,
    sign_in_returns_to_page,
    sign_in_form_needs_its_cookie,
    wrong_password_is_generic,
    rate_limit_per_account,
    rate_limit_per_address,
    several_memberships_choose_one,
    no_membership_no_session,
);
