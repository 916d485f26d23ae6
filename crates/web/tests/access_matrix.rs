//! The authorization matrix: every route, pages and API, GET and POST, sent
//! by each role and anonymously, against the table of what each may do.
//! Pages are sent with a signed-in session, and the API with an API token of
//! the same role. A session on the API is checked too, for GET only.

mod support;

use filiere_domain::access::{OrganisationKind, Role};
use filiere_store::testing::TestDatabase;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use support::{location, Agent, TestServer};

/// What a caller gets from a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Served: 2xx, or a redirect elsewhere than the sign-in page.
    Allowed,
    /// Redirected to the first page of the role (the home of other roles).
    Home,
    /// 403.
    Forbidden,
    /// Redirected to the sign-in page (anonymous page request).
    SignIn,
    /// 401 with the JSON code `unauthenticated`.
    Unauthenticated,
}

use Outcome::{Allowed as A, Forbidden as F, Home as H};

/// Body sent with a request of the table.
#[derive(Clone, Copy, Debug)]
enum Body {
    Empty,
    Move,
    Bulk,
    Donation,
    Organisation,
    User,
    Membership,
    Token,
    JsonMove,
    JsonDonation,
}

/// Roles in table order.
const ROLES: [Role; 5] = [
    Role::Technician,
    Role::WorkshopCoordinator,
    Role::Referrer,
    Role::FunderViewer,
    Role::Administrator,
];

/// Pages: method, path, body, outcome per role in [`ROLES`] order.
/// Anonymous callers are redirected to the sign-in page on every one.
const PAGES: &[(&str, &str, Body, [Outcome; 5])] = &[
    ("GET", "/", Body::Empty, [A, A, H, H, A]),
    ("GET", "/scan?code={code}", Body::Empty, [A, A, F, F, A]),
    ("GET", "/search?q=Dell", Body::Empty, [A, A, F, F, A]),
    ("GET", "/d/{code}", Body::Empty, [A, A, F, F, A]),
    ("GET", "/D/{code}", Body::Empty, [A, A, F, F, A]),
    ("POST", "/d/{code}/steps/move", Body::Move, [A, A, F, F, A]),
    ("GET", "/stock", Body::Empty, [A, A, F, F, A]),
    ("GET", "/bulk", Body::Empty, [A, A, F, F, A]),
    ("POST", "/bulk", Body::Bulk, [A, A, F, F, A]),
    ("GET", "/donations", Body::Empty, [A, A, F, F, A]),
    ("GET", "/donations/new", Body::Empty, [A, A, F, F, A]),
    ("POST", "/donations", Body::Donation, [A, A, F, F, A]),
    ("GET", "/donations/{donation}", Body::Empty, [A, A, F, F, A]),
    (
        "GET",
        "/donations/{donation}/labels.pdf",
        Body::Empty,
        [A, A, F, F, A],
    ),
    (
        "GET",
        "/labels/calibration.pdf",
        Body::Empty,
        [A, A, F, F, A],
    ),
    ("GET", "/prescriptions", Body::Empty, [F, F, A, F, A]),
    ("GET", "/tableau-de-bord", Body::Empty, [F, A, F, A, A]),
    ("GET", "/admin/organisations", Body::Empty, [F, F, F, F, A]),
    (
        "POST",
        "/admin/organisations",
        Body::Organisation,
        [F, F, F, F, A],
    ),
    ("GET", "/admin/utilisateurs", Body::Empty, [F, F, F, F, A]),
    ("POST", "/admin/utilisateurs", Body::User, [F, F, F, F, A]),
    (
        "POST",
        "/admin/utilisateurs/{user}/adhesions",
        Body::Membership,
        [F, F, F, F, A],
    ),
    (
        "POST",
        "/admin/utilisateurs/{user}/lien",
        Body::Empty,
        [F, F, F, F, A],
    ),
    (
        "POST",
        "/admin/utilisateurs/{user}/desactiver",
        Body::Empty,
        [F, F, F, F, A],
    ),
    ("GET", "/admin/jetons", Body::Empty, [F, A, F, F, A]),
    ("POST", "/admin/jetons", Body::Token, [F, A, F, F, A]),
    (
        "POST",
        "/admin/jetons/{token}/revoquer",
        Body::Empty,
        [F, A, F, F, A],
    ),
];

/// API routes: method, path, body, outcome per role with an API token.
/// Anonymous callers get 401 on every one.
const API: &[(&str, &str, Body, [Outcome; 5])] = &[
    (
        "GET",
        "/api/v1/devices/{code}",
        Body::Empty,
        [A, A, F, F, A],
    ),
    (
        "POST",
        "/api/v1/devices/{code}/steps/move",
        Body::JsonMove,
        [A, A, F, F, A],
    ),
    ("GET", "/api/v1/stock", Body::Empty, [A, A, F, F, A]),
    ("GET", "/api/v1/donations", Body::Empty, [A, A, F, F, A]),
    (
        "POST",
        "/api/v1/donations",
        Body::JsonDonation,
        [A, A, F, F, A],
    ),
    (
        "GET",
        "/api/v1/donations/{donation}",
        Body::Empty,
        [A, A, F, F, A],
    ),
    (
        "GET",
        "/api/v1/donations/{donation}/labels.pdf",
        Body::Empty,
        [A, A, F, F, A],
    ),
    ("GET", "/api/v1/openapi.json", Body::Empty, [A, A, A, A, A]),
];

/// Routes anyone may use, signed in or not.
const PUBLIC: &[&str] = &["/healthz", "/connexion", "/style.css"];

/// Identifiers substituted into the paths.
struct Fixture {
    code: String,
    donation: String,
    user: String,
    token: String,
    workshop_id: String,
}

impl Fixture {
    fn path(&self, template: &str) -> String {
        template
            .replace("{code}", &self.code)
            .replace("{donation}", &self.donation)
            .replace("{user}", &self.user)
            .replace("{token}", &self.token)
    }
}

/// Creates a batch of one device in the workshop, a spare user and a spare
/// token.
async fn fixture(server: &TestServer) -> Fixture {
    let workshop_id = server
        .organisation("Atelier A", OrganisationKind::Workshop)
        .await;
    let api = server.api_client(&workshop_id, Role::Technician).await;
    let response = api.post_json("/api/v1/donations", &donation_json()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let spare = server.user(&workshop_id, Role::Technician).await;
    let token = server
        .store
        .create_token("à révoquer", &workshop_id, Role::Technician, "cli:test")
        .await
        .unwrap();
    Fixture {
        code: body["devices"][0]["code"].as_str().unwrap().to_string(),
        donation: body["donation_id"].as_str().unwrap().to_string(),
        user: spare.id,
        token: token.id,
        workshop_id,
    }
}

fn donation_json() -> Value {
    json!({"donor": "Entreprise (matrice)", "site": "Chartres",
           "devices": [{"category": "laptop", "brand": "Dell", "model": "Latitude 5490"}]})
}

/// Signs in a person and creates an API token for each role: the workshop roles
/// in "Atelier A", the referrer in a social service, the funder viewer at
/// a funder.
async fn callers(server: &TestServer, fixture: &Fixture) -> Vec<(Role, Agent, Agent)> {
    let mut callers = Vec::new();
    for role in ROLES {
        let organisation = match role {
            Role::Referrer => "CCAS test",
            Role::FunderViewer => "Département test",
            _ => "Atelier A",
        };
        let person = server.member_of(organisation, role).await;
        let token = server.api_client(&person.organisation_id, role).await;
        callers.push((role, person, token));
    }
    assert_eq!(callers[0].1.organisation_id, fixture.workshop_id);
    callers
}

fn form_body(body: Body, label: &str, fixture: &Fixture) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match body {
        Body::Move => vec![("site", "Dreux".into()), ("location", label.into())],
        Body::Bulk => vec![
            ("step", "move".into()),
            ("site", "Dreux".into()),
            ("codes", fixture.code.clone()),
        ],
        Body::Donation => vec![
            ("donor", format!("Don {label}")),
            ("site", "Chartres".into()),
            ("category", "laptop".into()),
            ("brand", "HP".into()),
        ],
        Body::Organisation => vec![
            ("name", format!("Organisation {label}")),
            ("kind", "collection_point".into()),
        ],
        Body::User => vec![
            (
                "email",
                format!("{}@matrice.example.org", label.replace(' ', "-")),
            ),
            ("name", format!("Personne {label}")),
            ("organisation", fixture.workshop_id.clone()),
            ("role", "technician".into()),
        ],
        Body::Membership => vec![
            ("organisation", fixture.workshop_id.clone()),
            ("role", "workshop_coordinator".into()),
        ],
        Body::Token => vec![
            ("name", format!("jeton {label}")),
            ("organisation", fixture.workshop_id.clone()),
            ("role", "technician".into()),
        ],
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

async fn send(
    agent: &Agent,
    method: &str,
    path: &str,
    body: Body,
    label: &str,
    fixture: &Fixture,
) -> Response {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let request = agent.request(method.clone(), path);
    let request = match body {
        Body::JsonMove => request.json(&json!({"fields": {"site": "Dreux", "location": label}})),
        Body::JsonDonation => request.json(&donation_json()),
        _ if method == Method::POST => {
            let mut pairs = form_body(body, label, fixture);
            if let Some(token) = &agent.csrf_token {
                pairs.push(("csrf_token".into(), token.clone()));
            }
            request.form(&pairs)
        }
        _ => request,
    };
    request.send().await.expect("request answered")
}

/// Checks one response against the outcome the table expects.
async fn check(response: Response, expected: Outcome, what: &str) {
    let status = response.status();
    let target = location(&response);
    match expected {
        Outcome::Allowed => {
            let served = status.is_success()
                || (status.is_redirection() && !target.starts_with("/connexion"));
            assert!(served, "{what}: expected allowed, got {status} {target}");
        }
        Outcome::Home => {
            assert_eq!(status, StatusCode::SEE_OTHER, "{what}");
            assert!(
                target == "/prescriptions" || target == "/tableau-de-bord",
                "{what}: {target}"
            );
        }
        Outcome::Forbidden => assert_eq!(status, StatusCode::FORBIDDEN, "{what}"),
        Outcome::SignIn => {
            assert_eq!(status, StatusCode::SEE_OTHER, "{what}");
            assert!(
                target.starts_with("/connexion"),
                "{what}: redirected to {target}"
            );
        }
        Outcome::Unauthenticated => {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            let body: Value = response.json().await.unwrap_or_default();
            assert_eq!(body["error"]["code"], "unauthenticated", "{what}: {body}");
        }
    }
}

async fn pages_by_role(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let fixture = fixture(&server).await;
    let callers = callers(&server, &fixture).await;
    let anonymous = server.anonymous();
    for (method, template, body, outcomes) in PAGES {
        let path = fixture.path(template);
        let response = send(&anonymous, method, &path, *body, "anonyme", &fixture).await;
        check(
            response,
            Outcome::SignIn,
            &format!("anonymous {method} {path}"),
        )
        .await;
        for ((role, person, _), expected) in callers.iter().zip(outcomes) {
            let what = format!("{role} {method} {path}");
            let response = send(person, method, &path, *body, role.as_str(), &fixture).await;
            check(response, *expected, &what).await;
        }
    }
    for path in PUBLIC {
        let response = anonymous.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "anonymous GET {path}");
    }
    server.stop().await;
}

async fn api_by_role(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let fixture = fixture(&server).await;
    let callers = callers(&server, &fixture).await;
    let anonymous = server.anonymous();
    for (method, template, body, outcomes) in API {
        let path = fixture.path(template);
        let response = send(&anonymous, method, &path, *body, "anonyme", &fixture).await;
        check(
            response,
            Outcome::Unauthenticated,
            &format!("anonymous {method} {path}"),
        )
        .await;
        for ((role, person, token), expected) in callers.iter().zip(outcomes) {
            let what = format!("{role} token {method} {path}");
            let response = send(token, method, &path, *body, role.as_str(), &fixture).await;
            check(response, *expected, &what).await;
            let what = format!("{role} session {method} {path}");
            let by_session = if *method == "GET" {
                *expected
            } else {
                Outcome::Unauthenticated
            };
            let response = send(person, method, &path, *body, role.as_str(), &fixture).await;
            check(response, by_session, &what).await;
        }
    }
    server.stop().await;
}

async fn navigation_by_role(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let fixture = fixture(&server).await;
    let callers = callers(&server, &fixture).await;
    let expected: [&[&str]; 5] = [
        &["/stock", "/donations", "/donations/new", "/bulk"],
        &[
            "/stock",
            "/donations",
            "/donations/new",
            "/bulk",
            "/admin/jetons",
            "/tableau-de-bord",
        ],
        &["/prescriptions"],
        &["/tableau-de-bord"],
        &EVERY_LINK,
    ];
    const EVERY_LINK: [&str; 9] = [
        "/stock",
        "/donations",
        "/donations/new",
        "/bulk",
        "/prescriptions",
        "/tableau-de-bord",
        "/admin/organisations",
        "/admin/utilisateurs",
        "/admin/jetons",
    ];
    for ((role, person, _), links) in callers.iter().zip(expected) {
        let home = if links == ["/prescriptions"] || links == ["/tableau-de-bord"] {
            links[0]
        } else {
            "/"
        };
        let (status, page) = person.page(home).await;
        assert_eq!(status, StatusCode::OK, "{role} home {home}");
        let nav = &page[page.find("<nav>").unwrap()..page.find("</nav>").unwrap()];
        for link in EVERY_LINK {
            let shown = nav.contains(&format!("href=\"{link}\""));
            assert_eq!(
                shown,
                links.contains(&link),
                "{role}: link {link} shown = {shown}"
            );
        }
        assert!(
            nav.contains("Se déconnecter"),
            "{role} has a sign-out button"
        );
    }
    server.stop().await;
}

filiere_store::backend_tests!(pages_by_role, api_by_role, navigation_by_role);
