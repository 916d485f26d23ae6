//! A real server for integration tests: the router of `filiere serve` over
//! an event store on a fresh database, listening on 127.0.0.1 on a free port.
//! Its clients sign in as real users do, through the `/connexion` form for
//! pages and with an API token for the API.

#![allow(dead_code)]

use std::net::SocketAddr;

use filiere_domain::access::{OrganisationKind, Role};
use filiere_domain::DeviceCode;
use filiere_store::testing::TestDatabase;
use filiere_store::EventStore;
use filiere_web::{router, AppState};
use reqwest::redirect::Policy;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use tokio::task::JoinHandle;

/// Base URL written in QR labels by the test server. It is https, so the
/// session cookie carries the Secure attribute, and the test clients send
/// cookies themselves.
pub const PUBLIC_URL: &str = "https://atelier.example.org";
/// Password of every user made by [`TestServer::user`].
pub const PASSWORD: &str = "correct horse battery staple";
/// Name of the workshop that [`TestServer::member`] uses by default.
pub const WORKSHOP: &str = "Atelier test";

/// A running server and a client that does not follow redirects, so that
/// tests can check each 303.
pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub store: EventStore,
    database: TestDatabase,
    server: JoinHandle<()>,
}

/// A user made directly in the store.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub organisation_id: String,
}

/// A client of the test server: anonymous, signed in with a session cookie
/// (and the session's CSRF token, posted with every form), or holding an
/// API token.
#[derive(Clone, Debug)]
pub struct Agent {
    pub base: String,
    pub client: Client,
    pub session: Option<String>,
    pub csrf_token: Option<String>,
    pub bearer: Option<String>,
    /// `user:<id>` or `token:<id>`, as recorded in events.
    pub actor: String,
    /// Name shown in timelines.
    pub name: String,
    pub organisation_id: String,
}

impl TestServer {
    pub async fn start(database: TestDatabase) -> TestServer {
        let store = EventStore::connect(&database.url)
            .await
            .expect("test database opens");
        let state = AppState::new(store.clone(), PUBLIC_URL);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let address = listener.local_addr().expect("bound address");
        let server = tokio::spawn(async move {
            let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service).await.expect("server runs");
        });
        let client = Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .build()
            .expect("HTTP client");
        TestServer {
            base: format!("http://{address}"),
            client,
            store,
            database,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Returns a client with no credential.
    pub fn anonymous(&self) -> Agent {
        Agent {
            base: self.base.clone(),
            client: self.client.clone(),
            session: None,
            csrf_token: None,
            bearer: None,
            actor: String::new(),
            name: String::new(),
            organisation_id: String::new(),
        }
    }

    /// Id of the organisation `name`, created with `kind` when missing.
    pub async fn organisation(&self, name: &str, kind: OrganisationKind) -> String {
        match self.store.organisation(name).await {
            Ok(existing) => existing.id,
            Err(_) => {
                let created = self.store.create_organisation(name, kind).await;
                created.expect("organisation created").id
            }
        }
    }

    /// Creates a user with password [`PASSWORD`] and one membership.
    pub async fn user(&self, organisation_id: &str, role: Role) -> TestUser {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        let email = format!("{role}-{unique}@test.example.org");
        let name = format!("{} {}", role.label_fr(), &unique[unique.len() - 4..]);
        let user = self
            .store
            .create_user(&email, &name, Some(PASSWORD))
            .await
            .expect("user created");
        self.store
            .add_membership(&user.id, organisation_id, role)
            .await
            .expect("membership added");
        TestUser {
            id: user.id,
            email,
            name,
            organisation_id: organisation_id.to_string(),
        }
    }

    /// Signs `user` in through the `/connexion` form and returns the
    /// signed-in client; panics when the sign-in fails.
    pub async fn sign_in(&self, user: &TestUser) -> Agent {
        let response = self.sign_in_attempt(&user.email, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {}",
            user.email
        );
        let session = set_cookie(&response, "filiere_session").expect("session cookie set");
        let mut agent = Agent {
            session: Some(session),
            actor: format!("user:{}", user.id),
            name: user.name.clone(),
            organisation_id: user.organisation_id.clone(),
            ..self.anonymous()
        };
        let target = location(&response);
        let (status, page) = agent.page(&target).await;
        assert_eq!(status, StatusCode::OK, "first page after sign-in: {target}");
        agent.csrf_token = Some(csrf_field(&page).expect("page has the session's CSRF token"));
        agent
    }

    /// Posts the sign-in form as a browser does: loads the form for its
    /// cookie and hidden token, then posts both with the email and password.
    pub async fn sign_in_attempt(&self, email: &str, password: &str) -> Response {
        let form = self
            .client
            .get(self.url("/connexion"))
            .send()
            .await
            .expect("GET answered");
        assert_eq!(form.status(), StatusCode::OK);
        let cookie = set_cookie(&form, "filiere_connexion").expect("sign-in form cookie");
        let token = csrf_field(&text(form).await).expect("sign-in form token");
        self.client
            .post(self.url("/connexion"))
            .header("cookie", format!("filiere_connexion={cookie}"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .expect("POST answered")
    }

    /// Signs in a new user with `role` in the organisation `organisation`
    /// (created as a workshop when missing).
    pub async fn member_of(&self, organisation: &str, role: Role) -> Agent {
        let kind = match role {
            Role::Referrer => OrganisationKind::SocialService,
            Role::FunderViewer => OrganisationKind::Funder,
            _ => OrganisationKind::Workshop,
        };
        let organisation_id = self.organisation(organisation, kind).await;
        let user = self.user(&organisation_id, role).await;
        self.sign_in(&user).await
    }

    /// Signs in a new user with `role` in the workshop [`WORKSHOP`].
    pub async fn member(&self, role: Role) -> Agent {
        self.member_of(WORKSHOP, role).await
    }

    /// Returns a client with a new API token for `role` in `organisation_id`.
    pub async fn api_client(&self, organisation_id: &str, role: Role) -> Agent {
        let token = self
            .store
            .create_token("tests", organisation_id, role, "cli:test")
            .await
            .expect("token created");
        Agent {
            bearer: Some(token.secret),
            actor: format!("token:{}", token.id),
            name: "jeton « tests »".to_string(),
            organisation_id: organisation_id.to_string(),
            ..self.anonymous()
        }
    }

    /// Returns a technician's API client in the workshop [`WORKSHOP`].
    pub async fn workshop_api(&self) -> Agent {
        let organisation_id = self
            .organisation(WORKSHOP, OrganisationKind::Workshop)
            .await;
        self.api_client(&organisation_id, Role::Technician).await
    }

    /// Position of the last event of the log.
    pub async fn log_head(&self) -> i64 {
        self.store.head().await.expect("log head").0
    }

    /// Stops the server and removes the database.
    pub async fn stop(self) {
        self.server.abort();
        self.server.await.ok();
        self.store.close().await;
        self.database.cleanup().await;
    }
}

impl Agent {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Starts a request with this client's cookie or token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut request = self.client.request(method, self.url(path));
        if let Some(session) = &self.session {
            request = request.header("cookie", format!("filiere_session={session}"));
        }
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        request
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("GET answered")
    }

    /// GETs a page and returns its status and its unescaped text.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, text(response).await)
    }

    /// POSTs a URL-encoded form given as pairs, with the session's CSRF
    /// token added as a page's form does; names may repeat.
    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        if let Some(token) = &self.csrf_token {
            all.push(("csrf_token", token.as_str()));
        }
        self.post_form_as_is(path, &all).await
    }

    /// POSTs a form with exactly these pairs: no CSRF token is added.
    pub async fn post_form_as_is(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        self.request(Method::POST, path)
            .form(pairs)
            .send()
            .await
            .expect("POST answered")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST answered")
    }

    /// POSTs a raw body with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: String) -> Response {
        self.request(Method::POST, path)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST answered")
    }
}

/// Value of the cookie `name` set by a response.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
        .filter(|value| !value.is_empty())
}

/// Whole `Set-Cookie` line of the cookie `name`.
pub fn set_cookie_line(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|line| line.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Value of the first hidden `csrf_token` field of a page.
pub fn csrf_field(html: &str) -> Option<String> {
    hidden_field(html, "csrf_token")
}

/// Value of the first field `name` of a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].chars().take_while(|c| *c != '"').collect())
}

/// Returns the body of a page with HTML character references replaced, so
/// that tests can look for French text with apostrophes.
pub async fn text(response: Response) -> String {
    response
        .text()
        .await
        .expect("page body")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Target of a redirect response.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Converts a code to what a QWERTY scanner types on an AZERTY keyboard:
/// digits become the characters of the unshifted digit row.
pub fn azerty(code: &str) -> String {
    code.chars()
        .map(|c| match c {
            '1' => '&',
            '2' => 'é',
            '3' => '"',
            '4' => '\'',
            '5' => '(',
            '6' => '-',
            '7' => 'è',
            '8' => '_',
            '9' => 'ç',
            '0' => 'à',
            other => other,
        })
        .collect()
}

/// Returns a valid code that no device of the test has.
pub fn unused_code() -> DeviceCode {
    DeviceCode::from_random([26, 25, 24, 23, 22, 21])
}

/// Replaces the check character of `code` with another symbol.
pub fn with_wrong_check(code: &str) -> String {
    let mut chars: Vec<char> = code.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'B' { 'C' } else { 'B' };
    chars.into_iter().collect()
}

/// Codes linked as `/d/CODE` in a page, in order, without repeats.
pub fn device_codes(html: &str) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for piece in html.split("href=\"/d/").skip(1) {
        let code: String = piece.chars().take_while(|c| *c != '"').collect();
        if code.len() == 7 && !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// Value of the hidden `version` field of a device page.
pub fn version_field(html: &str) -> String {
    let marker = "name=\"version\" value=\"";
    let start = html.find(marker).expect("device page has a version field") + marker.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

/// Builds a body just over the server's limit.
pub fn oversized_body() -> String {
    "x".repeat(filiere_web::BODY_LIMIT_BYTES + 1024)
}
