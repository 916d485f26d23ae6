//! A real server for integration tests: the router of `filiere serve` over
//! an event store on a fresh database, listening on 127.0.0.1 on a free port.

#![allow(dead_code)]

use filiere_domain::DeviceCode;
use filiere_store::testing::TestDatabase;
use filiere_store::EventStore;
use filiere_web::{router, AppState};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use tokio::task::JoinHandle;

/// Base URL written in QR labels by the test server.
pub const PUBLIC_URL: &str = "https://atelier.example.org";

/// A running server and a client that does not follow redirects, so that
/// tests can check each 303.
pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub store: EventStore,
    database: TestDatabase,
    server: JoinHandle<()>,
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
            axum::serve(listener, router(state))
                .await
                .expect("server runs");
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

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
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

    /// POSTs a URL-encoded form given as pairs; names may repeat.
    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(pairs)
            .send()
            .await
            .expect("POST answered")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST answered")
    }

    /// Stops the server and removes the database.
    pub async fn stop(self) {
        self.server.abort();
        self.server.await.ok();
        self.store.close().await;
        self.database.cleanup().await;
    }
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
