//! One-time links: the first-run setup link and password reset links each
//! work once; administrators create users and reset links from the pages and
//! disable accounts.

mod support;

use filiere_domain::access::{OrganisationKind, Role};
use filiere_store::testing::TestDatabase;
use reqwest::StatusCode;
use support::{location, set_cookie, text, Agent, TestServer, PASSWORD, PUBLIC_URL, WORKSHOP};

const NEW_PASSWORD: &str = "un tout nouveau mot de passe";

/// Path of the first link to `prefix` in a page.
fn link_path(page: &str, prefix: &str) -> String {
    let start = page.find(prefix).expect("page shows the link");
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-".contains(*c))
        .collect()
}

fn setup_form(password: &str, confirmation: &str) -> Vec<(&'static str, String)> {
    vec![
        ("organisation", "Atelier du Faubourg".into()),
        ("name", "Camille Admin".into()),
        ("email", "camille@faubourg.example.org".into()),
        ("password", password.into()),
        ("confirmation", confirmation.into()),
    ]
}

async fn setup_link_works_once(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let link = filiere_web::announce_setup_link(&server.store, PUBLIC_URL)
        .await
        .unwrap()
        .expect("no user yet: a setup link");
    let path = link.strip_prefix(PUBLIC_URL).unwrap().to_string();
    assert!(path.starts_with("/installation/"), "{path}");
    let anonymous = server.anonymous();
    let (status, page) = anonymous.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Installation de Filière"));
    let (status, _) = anonymous.page("/installation/0000").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a guessed link");

    let response = anonymous
        .post_form_as_is(&path, &pairs(&setup_form("court", "court")))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(text(response).await.contains("12 caractères au moins"));
    let response = anonymous
        .post_form_as_is(&path, &pairs(&setup_form(PASSWORD, "autre chose encore")))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "confirmation differs"
    );
    assert_eq!(
        server.store.user_count().await.unwrap(),
        0,
        "typing mistakes keep the link"
    );

    let response = anonymous
        .post_form_as_is(&path, &pairs(&setup_form(PASSWORD, PASSWORD)))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/utilisateurs");
    let admin = Agent {
        session: set_cookie(&response, "filiere_session"),
        ..server.anonymous()
    };
    let (status, page) = admin.page("/admin/organisations").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the first administrator is signed in"
    );
    assert!(page.contains("Atelier du Faubourg"));

    let again = anonymous
        .post_form_as_is(&path, &pairs(&setup_form(PASSWORD, PASSWORD)))
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "the link works once");
    let (status, page) = anonymous.page(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Ce lien n'est plus valable"));
    assert_eq!(server.store.user_count().await.unwrap(), 1);
    let later = filiere_web::announce_setup_link(&server.store, PUBLIC_URL)
        .await
        .unwrap();
    assert!(later.is_none(), "no setup link once a user exists");
    let response = server
        .sign_in_attempt("camille@faubourg.example.org", PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    server.stop().await;
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

async fn reset_link_works_once(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let admin = server.member(Role::Administrator).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let form = [
        ("email", "nouvelle@test.example.org"),
        ("name", "Nouvelle Technicienne"),
        ("organisation", workshop.as_str()),
        ("role", "technician"),
    ];
    let response = admin.post_form("/admin/utilisateurs", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = text(response).await;
    assert!(
        page.contains(&format!("{PUBLIC_URL}/compte/mot-de-passe/")),
        "full link shown"
    );
    let path = link_path(&page, "/compte/mot-de-passe/");
    let response = server
        .sign_in_attempt("nouvelle@test.example.org", NEW_PASSWORD)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "no password before the link"
    );

    let anonymous = server.anonymous();
    let (status, _) = anonymous.page(&path).await;
    assert_eq!(status, StatusCode::OK);
    let new = [("password", NEW_PASSWORD), ("confirmation", NEW_PASSWORD)];
    let response = anonymous.post_form_as_is(&path, &new).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/connexion?mot-de-passe=1");
    let again = anonymous.post_form_as_is(&path, &new).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "the link works once");
    let response = server
        .sign_in_attempt("nouvelle@test.example.org", NEW_PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    server.stop().await;
}

async fn reset_closes_sessions(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let admin = server.member(Role::Administrator).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    let tech = server.sign_in(&user).await;
    let response = admin
        .post_form(&format!("/admin/utilisateurs/{}/lien", user.id), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let path = link_path(&text(response).await, "/compte/mot-de-passe/");
    let new = [("password", NEW_PASSWORD), ("confirmation", NEW_PASSWORD)];
    let response = server.anonymous().post_form_as_is(&path, &new).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = tech.get("/stock").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "old session closed"
    );
    let old = server.sign_in_attempt(&user.email, PASSWORD).await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "old password rejected"
    );
    server.stop().await;
}

async fn disabled_user_signed_out(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let admin = server.member(Role::Administrator).await;
    let workshop = server
        .organisation(WORKSHOP, OrganisationKind::Workshop)
        .await;
    let user = server.user(&workshop, Role::Technician).await;
    let tech = server.sign_in(&user).await;
    let response = admin
        .post_form(&format!("/admin/utilisateurs/{}/desactiver", user.id), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(tech.get("/stock").await.status(), StatusCode::SEE_OTHER);
    let response = server.sign_in_attempt(&user.email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let admin_id = admin.actor.trim_start_matches("user:");
    let response = admin
        .post_form(&format!("/admin/utilisateurs/{admin_id}/desactiver"), &[])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "not one's own account"
    );
    server.stop().await;
}

filiere_store::backend_tests!(
    setup_link_works_once,
    reset_link_works_once,
    reset_closes_sessions,
    disabled_user_signed_out,
);
