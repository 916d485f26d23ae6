//! Tool reports and donor documents through the pages and the API, on a
//! real server: uploads with a result per file, the list of stored files,
//! byte-identical downloads, rejected reports that record nothing, erasure
//! certificates and reuse reports read back with `pdftotext`
//! (poppler-utils), and the 404 or 403 returned to another organisation.

mod support;

use std::path::PathBuf;
use std::process::Command;

use filiere_domain::access::Role;
use filiere_store::testing::TestDatabase;
use filiere_store::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{text, Agent, TestServer};

const DELL_LSHW: &str = "lshw/dell-latitude-e6440.lshw.json";
const DELL_SERIAL: &str = "FJBQVZ1";
const DELL_DISK: &str = "164014297BCC";
const FAILING_SMART: &str = "smartctl/scrutiny_smart-fail2.json";
const FAILING_DISK: &str = "MSK423Y20S3HBC";
const HP_LSHW: &str = "lshw/hp-compaq-8100-elite-sff.lshw.json";
const HP_SERIAL: &str = "CZC0408YPV";
const SHREDOS_LOG: &str = "nwipe/shredos-0.37_2024_issue213_micron1100_laptop-freeze.log";
const SHREDOS_DISK: &str = "18291D85DF09";
const SNAPSHOT: &str = "workbench/wb-legacy2018_hp-dc7900_erasure_snapshot.json";
const SNAPSHOT_SERIAL: &str = "CZC901381R";
const SNAPSHOT_DISK: &str = "6RX7AWEZ";
const QEMU_LSHW: &str = "lshw/qemu-vm-INVALID-missing-children.lshw.json";
const LOOP_LOG: &str = "nwipe/nwipe_2021_pr325_error-summary_drive-status_loop.log";
const NO_SERIAL_LOG: &str = "nwipe/nwipe-0.29_2020_issue283_3-rounds-verify.log";
/// Serial and disk of the demonstration's laptop 1V0SEGY.
const DEMO_SERIAL: &str = "G7eaN000000250";
const DEMO_DISK: &str = "S41V0SEGYD";

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../evidence/tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

/// A file of an upload: its name and bytes.
type Part = (String, Vec<u8>);

fn part(path: &str) -> Part {
    (file_name(path).to_string(), fixture(path))
}

/// Builds a `multipart/form-data` body: the CSRF token first, as the page's
/// form sends it, then `test`, then one part per file.
fn multipart(csrf: Option<&str>, test: Option<&str>, files: &[Part]) -> (String, Vec<u8>) {
    let boundary = "----filiere-test-boundary-7d9a";
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    if let Some(token) = csrf {
        field("csrf_token", token);
    }
    if let Some(test) = test {
        field("test", test);
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads files on a device page and returns the status and page text.
async fn page_upload(
    agent: &Agent,
    code: &str,
    test: Option<&str>,
    files: &[Part],
) -> (StatusCode, String) {
    let (content_type, body) = multipart(agent.csrf_token.as_deref(), test, files);
    let response = agent
        .request(Method::POST, &format!("/d/{code}/evidence"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST answered");
    let status = response.status();
    (status, text(response).await)
}

/// Uploads files through the API and returns the status and JSON body.
async fn api_upload(
    api: &Agent,
    code: &str,
    test: Option<&str>,
    files: &[Part],
) -> (StatusCode, Value) {
    let (content_type, body) = multipart(None, test, files);
    let response = api
        .request(Method::POST, &format!("/api/v1/devices/{code}/evidence"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST answered");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Records a batch of a Dell laptop, an HP desktop and a laptop without a
/// serial number; returns the batch id and the codes.
async fn create_batch(api: &Agent) -> (String, Vec<String>) {
    let response = api
        .post_json(
            "/api/v1/donations",
            &json!({
                "donor": "Mairie de Lucé",
                "donor_kind": "public_body",
                "free_transfer": true,
                "site": "Chartres",
                "devices": [
                    {"category": "laptop", "brand": "Dell", "model": "Latitude E6440", "serial": DELL_SERIAL},
                    {"category": "desktop", "brand": "HP", "model": "Compaq dc7900", "serial": SNAPSHOT_SERIAL},
                    {"category": "laptop", "brand": "Inconnue", "model": "Sans série"}
                ]
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let codes = body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    (body["donation_id"].as_str().unwrap().to_string(), codes)
}

/// Records a laptop like the demonstration's 1V0SEGY through the API: a
/// diagnosis typed by hand with its disk, then, as after a return, a failed
/// diagnosis with no storage unit. Returns its code.
async fn demo_laptop(api: &Agent) -> String {
    let response = api
        .post_json(
            "/api/v1/donations",
            &json!({
                "donor": "Mairie de Dreux",
                "donor_kind": "public_body",
                "free_transfer": true,
                "site": "Chartres",
                "devices": [
                    {"category": "laptop", "brand": "Lenovo", "model": "ThinkPad T480", "serial": DEMO_SERIAL}
                ]
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let code = body["devices"][0]["code"].as_str().unwrap().to_string();
    for fields in [
        json!({"test": "passed", "storage": [format!("{DEMO_DISK}:ssd:256")]}),
        json!({"test": "failed", "verdict": "recycle"}),
    ] {
        let response = api
            .post_json(
                &format!("/api/v1/devices/{code}/steps/diagnose"),
                &json!({ "fields": fields }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    code
}

/// Result lines of an upload page, one per file.
fn result_lines(page: &str) -> Vec<String> {
    page.split("<li class=\"evidence-")
        .skip(1)
        .map(|piece| piece.split("</li>").next().unwrap_or_default().to_string())
        .collect()
}

fn line_for<'a>(lines: &'a [String], name: &str) -> &'a str {
    lines
        .iter()
        .find(|line| line.contains(name))
        .unwrap_or_else(|| panic!("no result line for {name} in {lines:?}"))
}

async fn download(agent: &Agent, path: &str) -> (StatusCode, String, String, Vec<u8>) {
    let response = agent.get(path).await;
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let content_type = header("content-type");
    let disposition = header("content-disposition");
    let bytes = response.bytes().await.unwrap().to_vec();
    (status, content_type, disposition, bytes)
}

fn pdf_text(bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let path = std::env::temp_dir().join(format!(
        "filiere-evidence-web-{}.pdf",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run pdftotext ({error}); install poppler-utils to run these tests")
        });
    std::fs::remove_file(&path).ok();
    assert!(output.status.success(), "pdftotext rejected the PDF");
    let text = String::from_utf8(output.stdout).expect("pdftotext writes UTF-8");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// SHA-256 links listed on a device page, in order.
fn listed_hashes(page: &str, code: &str) -> Vec<String> {
    let marker = format!("href=\"/d/{code}/evidence/");
    page.split(&marker)
        .skip(1)
        .map(|piece| piece.chars().take(64).collect())
        .collect()
}

async fn page_upload_lists_and_downloads(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let technician = server.member(Role::Technician).await;
    let (_, codes) = create_batch(&api).await;
    let dell = &codes[0];

    let page = technician.page(&format!("/d/{dell}")).await.1;
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(page.contains("32 Mio au plus"), "{page}");
    assert!(page.contains("Aucun rapport enregistré."), "{page}");

    let mut truncated = fixture(HP_LSHW);
    truncated.truncate(2000);
    let files = [
        part(DELL_LSHW),
        part(FAILING_SMART),
        part(SHREDOS_LOG),
        ("coupé.lshw.json".to_string(), truncated),
        part(HP_LSHW),
    ];
    let (status, page) = page_upload(&technician, dell, Some("passed"), &files).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let lines = result_lines(&page);
    assert_eq!(lines.len(), 5, "{lines:?}");
    let lshw_line = line_for(&lines, file_name(DELL_LSHW));
    assert!(lshw_line.starts_with("recorded"), "{lshw_line}");
    assert!(lshw_line.contains("Enregistré"), "{lshw_line}");
    assert!(lshw_line.contains("diagnostic"), "{lshw_line}");
    let smart_line = line_for(&lines, file_name(FAILING_SMART));
    assert!(smart_line.contains("Enregistré"), "{smart_line}");
    let shredos_line = line_for(&lines, file_name(SHREDOS_LOG));
    assert!(shredos_line.contains("Refusé"), "{shredos_line}");
    assert!(shredos_line.contains(SHREDOS_DISK), "{shredos_line}");
    assert!(shredos_line.contains(DELL_DISK), "{shredos_line}");
    let truncated_line = line_for(&lines, "coupé.lshw.json");
    assert!(truncated_line.contains("Refusé"), "{truncated_line}");
    let hp_line = line_for(&lines, file_name(HP_LSHW));
    assert!(hp_line.contains("Refusé"), "{hp_line}");
    assert!(hp_line.contains(HP_SERIAL), "{hp_line}");
    assert!(hp_line.contains(DELL_SERIAL), "{hp_line}");
    assert!(
        page.contains(FAILING_DISK),
        "failing disk not named: {page}"
    );

    let (_, device_page) = technician.page(&format!("/d/{dell}")).await;
    let hashes = listed_hashes(&device_page, dell);
    assert_eq!(hashes.len(), 2, "{device_page}");
    assert!(device_page.contains(file_name(DELL_LSHW)), "{device_page}");
    assert!(
        device_page.contains(file_name(FAILING_SMART)),
        "{device_page}"
    );
    assert!(!device_page.contains(file_name(HP_LSHW)), "{device_page}");
    assert!(device_page.contains("lshw"), "{device_page}");
    assert!(device_page.contains("smartctl"), "{device_page}");
    for (hash, path) in hashes.iter().zip([DELL_LSHW, FAILING_SMART]) {
        let (status, content_type, disposition, bytes) =
            download(&technician, &format!("/d/{dell}/evidence/{hash}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/json");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains(file_name(path)), "{disposition}");
        assert!(bytes == fixture(path), "{path} not byte-identical");
    }

    let head = server.log_head().await;
    let (status, page) = page_upload(&technician, dell, None, &[part(DELL_LSHW)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let again = result_lines(&page);
    assert!(again[0].starts_with("already_recorded"), "{again:?}");
    assert!(again[0].contains("Déjà enregistré"), "{again:?}");
    assert_eq!(
        server.log_head().await,
        head,
        "a repeated file recorded events"
    );

    let (status, page) = page_upload(&technician, dell, None, &[part(HP_LSHW)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(result_lines(&page)[0].contains("Refusé"), "{page}");
    let (status, page) = page_upload(
        &technician,
        dell,
        None,
        &[("notes.txt".to_string(), b"bonjour".to_vec())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(result_lines(&page)[0].contains("notes.txt"), "{page}");
    assert_eq!(
        server.log_head().await,
        head,
        "a rejected file recorded events"
    );
    let (_, device_page) = technician.page(&format!("/d/{dell}")).await;
    assert_eq!(listed_hashes(&device_page, dell).len(), 2);

    server.stop().await;
}

async fn page_upload_needs_csrf_and_size(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let technician = server.member(Role::Technician).await;
    let (_, codes) = create_batch(&api).await;
    let dell = &codes[0];
    let head = server.log_head().await;

    let mut forged = technician.clone();
    forged.csrf_token = None;
    let (status, page) = page_upload(&forged, dell, Some("passed"), &[part(DELL_LSHW)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert_eq!(server.log_head().await, head);

    let oversized = ("gros.log".to_string(), vec![b'x'; 33 * 1024 * 1024]);
    let (status, page) =
        page_upload(&technician, dell, None, std::slice::from_ref(&oversized)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("32 Mio au plus"), "{page}");
    let (status, body) = api_upload(&api, dell, None, &[oversized]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
    assert_eq!(server.log_head().await, head);

    server.stop().await;
}

async fn api_upload_list_and_bytes(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let (_, codes) = create_batch(&api).await;
    let dell = &codes[0];

    let files = [part(DELL_LSHW), part(HP_LSHW), part(SHREDOS_LOG)];
    let (status, body) = api_upload(&api, dell, Some("passed"), &files).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["files"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{body}");
    assert_eq!(results[0]["status"], "recorded", "{body}");
    assert_eq!(results[0]["kind"], "lshw", "{body}");
    assert_eq!(results[1]["status"], "rejected", "{body}");
    let message = results[1]["message"].as_str().unwrap();
    assert!(message.contains(HP_SERIAL), "{message}");
    assert!(message.contains(DELL_SERIAL), "{message}");
    assert_eq!(results[2]["status"], "rejected", "{body}");
    assert!(
        body["recorded_steps"].as_array().unwrap().len() == 1,
        "{body}"
    );
    let sha256 = results[0]["sha256"].as_str().unwrap().to_string();

    let head = server.log_head().await;
    let (_, again) = api_upload(&api, dell, None, &[part(DELL_LSHW)]).await;
    assert_eq!(again["files"][0]["status"], "already_recorded", "{again}");
    let (_, bad) = api_upload(&api, dell, None, &[("vide.json".to_string(), Vec::new())]).await;
    assert_eq!(bad["files"][0]["status"], "rejected", "{bad}");
    assert_eq!(server.log_head().await, head);

    let response = api.get(&format!("/api/v1/devices/{dell}/evidence")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = response.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["sha256"], sha256.as_str());
    assert_eq!(listed[0]["kind"], "lshw");
    assert_eq!(listed[0]["file_name"], file_name(DELL_LSHW));
    assert_eq!(listed[0]["size"], fixture(DELL_LSHW).len());
    let (status, content_type, disposition, bytes) =
        download(&api, &format!("/api/v1/evidence/{sha256}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(bytes == fixture(DELL_LSHW), "downloaded bytes differ");

    let (status, _, _, _) = download(&api, &format!("/api/v1/evidence/{}", "0".repeat(64))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _, _) = download(&api, "/api/v1/evidence/pas-un-hash").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let openapi: Value = api.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/devices/{code}/evidence",
        "/api/v1/evidence/{sha256}",
        "/api/v1/devices/{code}/certificate.pdf",
        "/api/v1/donations/{id}/certificates.pdf",
        "/api/v1/donations/{id}/reuse-report.pdf",
        "/api/v1/donations/{id}/reuse-report.csv",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} not documented");
    }
    assert!(
        openapi["paths"]["/api/v1/devices/{code}/evidence"]["post"]["requestBody"]["content"]
            ["multipart/form-data"]
            .is_object(),
        "multipart body not documented"
    );

    server.stop().await;
}

/// Reports with odd content: each gets its own clear result line.
async fn odd_reports_answered(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let (_, codes) = create_batch(&api).await;
    let no_serial = &codes[2];
    let dell = String::from_utf8(fixture(DELL_LSHW)).unwrap();

    let empty_serial = dell.replacen(
        &format!("\"serial\": \"{DELL_SERIAL}\""),
        "\"serial\": \"\"",
        1,
    );
    assert_ne!(empty_serial, dell, "fixture changed: serial not found");
    let zero_disk = dell.replace("\"size\": 525112713216", "\"size\": 0");
    assert_ne!(zero_disk, dell, "fixture changed: disk size not found");
    let huge_disk = dell.replace("\"size\": 525112713216", "\"size\": 30000000000000");
    let mut latin1_model = dell
        .replace("Crucial_CT525MX3", "Crucial_@@MX3")
        .into_bytes();
    let at = latin1_model
        .windows(2)
        .position(|w| w == b"@@")
        .expect("model marker");
    latin1_model[at] = 0xE9;
    latin1_model[at + 1] = 0xFF;

    let (status, body) = api_upload(
        &api,
        no_serial,
        Some("passed"),
        &[("sans-serie.json".to_string(), empty_serial.into_bytes())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["files"][0]["status"], "recorded", "{body}");

    for (name, bytes, expected) in [
        ("disque-nul.json", zero_disk.into_bytes(), "recorded"),
        ("disque-30To.json", huge_disk.into_bytes(), "recorded"),
        ("modele-latin1.json", latin1_model, "recorded"),
        (
            "tronque.json",
            dell.as_bytes()[..dell.len() / 2].to_vec(),
            "rejected",
        ),
        ("vide.log", Vec::new(), "rejected"),
        ("photo.jpg", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16], "rejected"),
    ] {
        let (status, body) = api_upload(&api, no_serial, None, &[(name.to_string(), bytes)]).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        let result = &body["files"][0];
        assert_eq!(result["status"], expected, "{name}: {body}");
        let message = result["message"].as_str().unwrap();
        assert!(message.contains(name), "{name} not named: {message}");
    }
    let device: Value = api
        .get(&format!("/api/v1/devices/{no_serial}"))
        .await
        .json()
        .await
        .unwrap();
    let units = device["storage_units"].to_string();
    assert!(units.contains(DELL_DISK), "{units}");

    let (status, body) = api_upload(&api, no_serial, Some("peut-être"), &[part(DELL_LSHW)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_test", "{body}");

    server.stop().await;
}

async fn documents_from_pages_and_api(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let technician = server.member(Role::Technician).await;
    let (donation, codes) = create_batch(&api).await;
    let desktop = &codes[1];

    let (status, page) = page_upload(&technician, desktop, Some("passed"), &[part(SNAPSHOT)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("1 effacement"), "{page}");
    let (_, listed) = technician.page(&format!("/d/{desktop}")).await;
    let sha256 = listed_hashes(&listed, desktop)[0].clone();
    assert!(
        listed.contains(&format!("/d/{desktop}/certificate.pdf")),
        "{listed}"
    );
    let (_, batch_page) = technician.page(&format!("/donations/{donation}")).await;
    for link in ["certificates.pdf", "reuse-report.pdf", "reuse-report.csv"] {
        assert!(
            batch_page.contains(&format!("/donations/{donation}/{link}")),
            "{link} not linked: {batch_page}"
        );
    }

    for (agent, path) in [
        (&technician, format!("/d/{desktop}/certificate.pdf")),
        (&api, format!("/api/v1/devices/{desktop}/certificate.pdf")),
    ] {
        let (status, content_type, disposition, bytes) = download(agent, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(content_type, "application/pdf");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        let text = pdf_text(&bytes);
        assert!(text.contains(SNAPSHOT_SERIAL), "{text}");
        assert!(text.contains(SNAPSHOT_DISK), "{text}");
        assert!(text.contains("Clear"), "{text}");
        assert!(text.contains(&sha256), "{text}");
        assert!(text.contains("Effacement complet"), "{text}");
    }
    for (agent, path) in [
        (
            &technician,
            format!("/donations/{donation}/certificates.pdf"),
        ),
        (
            &api,
            format!("/api/v1/donations/{donation}/certificates.pdf"),
        ),
    ] {
        let (status, _, _, bytes) = download(agent, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let text = pdf_text(&bytes);
        for serial in [DELL_SERIAL, SNAPSHOT_SERIAL] {
            assert!(text.contains(serial), "{serial} missing: {text}");
        }
        assert!(text.contains(&sha256), "{text}");
    }
    for (agent, path) in [
        (
            &technician,
            format!("/donations/{donation}/reuse-report.pdf"),
        ),
        (
            &api,
            format!("/api/v1/donations/{donation}/reuse-report.pdf"),
        ),
    ] {
        let (status, content_type, _, bytes) = download(agent, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(content_type, "application/pdf");
        let text = pdf_text(&bytes);
        assert!(text.contains("Mairie de Lucé"), "{text}");
        assert!(text.contains(desktop.as_str()), "{text}");
        assert!(text.contains("En reconditionnement"), "{text}");
    }
    for (agent, path) in [
        (
            &technician,
            format!("/donations/{donation}/reuse-report.csv"),
        ),
        (
            &api,
            format!("/api/v1/donations/{donation}/reuse-report.csv"),
        ),
    ] {
        let (status, content_type, disposition, bytes) = download(agent, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(content_type, "text/csv; charset=utf-8");
        assert!(disposition.contains(".csv"), "{disposition}");
        let csv = String::from_utf8(bytes).unwrap();
        let csv = csv.trim_start_matches('\u{feff}');
        let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(';').collect()).collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert_eq!(rows[0][1], "Code appareil", "{csv}");
        let row = rows
            .iter()
            .find(|row| row[1] == desktop.as_str())
            .unwrap_or_else(|| panic!("{desktop} not in {csv}"));
        assert_eq!(row[0], donation);
        assert_eq!(row[5], SNAPSHOT_SERIAL);
        assert_eq!(row[7], "in_refurbishment");
    }

    server.stop().await;
}

async fn other_organisation_sees_nothing(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let (donation, codes) = create_batch(&api).await;
    let desktop = &codes[1];
    let (status, body) = api_upload(&api, desktop, Some("passed"), &[part(SNAPSHOT)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sha256 = body["files"][0]["sha256"].as_str().unwrap().to_string();

    let outsider = server.member_of("Autre atelier", Role::Technician).await;
    let outsider_api = server
        .api_client(&outsider.organisation_id, Role::Technician)
        .await;
    for path in [
        format!("/d/{desktop}/evidence/{sha256}"),
        format!("/d/{desktop}/certificate.pdf"),
        format!("/donations/{donation}/certificates.pdf"),
        format!("/donations/{donation}/reuse-report.pdf"),
        format!("/donations/{donation}/reuse-report.csv"),
    ] {
        let (status, _, _, bytes) = download(&outsider, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!bytes.starts_with(b"%PDF"), "{path} served a PDF");
    }
    for path in [
        format!("/api/v1/devices/{desktop}/evidence"),
        format!("/api/v1/evidence/{sha256}"),
        format!("/api/v1/devices/{desktop}/certificate.pdf"),
        format!("/api/v1/donations/{donation}/certificates.pdf"),
        format!("/api/v1/donations/{donation}/reuse-report.pdf"),
        format!("/api/v1/donations/{donation}/reuse-report.csv"),
    ] {
        let (status, _, _, _) = download(&outsider_api, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let head = server.log_head().await;
    let (status, _) = api_upload(&outsider_api, desktop, Some("passed"), &[part(DELL_LSHW)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = page_upload(&outsider, desktop, Some("passed"), &[part(DELL_LSHW)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(server.log_head().await, head);

    let funder = server
        .member_of("Département test", Role::FunderViewer)
        .await;
    for path in [
        format!("/d/{desktop}/certificate.pdf"),
        format!("/donations/{donation}/certificates.pdf"),
        format!("/donations/{donation}/reuse-report.csv"),
    ] {
        let (status, _, _, _) = download(&funder, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }

    server.stop().await;
}

/// A stored file altered after import is never served: the download is a
/// 500 and the altered bytes stay on the server.
async fn altered_evidence_not_served(database: TestDatabase) {
    let backend = database.backend;
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let (_, codes) = create_batch(&api).await;
    let (_, body) = api_upload(&api, &codes[1], Some("passed"), &[part(SNAPSHOT)]).await;
    let sha256 = body["files"][0]["sha256"].as_str().unwrap().to_string();

    let disable = match backend {
        Backend::Sqlite => "DROP TRIGGER evidence_reject_update",
        Backend::Postgres => "ALTER TABLE evidence DISABLE TRIGGER evidence_reject_change",
    };
    sqlx::query(disable)
        .execute(server.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE evidence SET content = $1 WHERE sha256 = $2")
        .bind(b"ALTERED-BYTES".to_vec())
        .bind(&sha256)
        .execute(server.store.pool())
        .await
        .unwrap();

    let (status, _, _, bytes) = download(&api, &format!("/api/v1/evidence/{sha256}")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !bytes.windows(13).any(|w| w == b"ALTERED-BYTES"),
        "altered bytes served"
    );
    server.stop().await;
}

/// Reports that are not about the device: a virtual machine's inventory, an
/// erasure log of a loop device, and a log without disk serial. Each is
/// rejected with the values on both sides, on the page and through the API,
/// and nothing is recorded.
async fn reports_of_other_machines_rejected(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let technician = server.member(Role::Technician).await;
    let laptop = demo_laptop(&api).await;
    let head = server.log_head().await;

    let (status, body) = api_upload(&api, &laptop, Some("passed"), &[part(QEMU_LSHW)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["files"][0];
    assert_eq!(result["status"], "rejected", "{body}");
    let message = result["message"].as_str().unwrap();
    assert!(message.contains("QEMU"), "{message}");
    assert!(message.contains("QM00001"), "{message}");
    assert!(message.contains(DEMO_SERIAL), "{message}");
    assert!(message.contains(DEMO_DISK), "{message}");
    assert_eq!(
        message.matches(file_name(QEMU_LSHW)).count(),
        1,
        "{message}"
    );

    let (status, body) = api_upload(&api, &laptop, None, &[part(LOOP_LOG)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["files"][0];
    assert_eq!(result["status"], "rejected", "{body}");
    let message = result["message"].as_str().unwrap();
    assert!(message.contains("/dev/loop44"), "{message}");
    assert!(message.contains(DEMO_DISK), "{message}");
    assert!(message.contains("n° de série"), "{message}");

    let (status, page) = page_upload(&technician, &laptop, None, &[part(NO_SERIAL_LOG)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let lines = result_lines(&page);
    let line = line_for(&lines, file_name(NO_SERIAL_LOG));
    assert!(line.starts_with("rejected"), "{line}");
    assert!(line.contains("/dev/sda"), "{line}");
    assert!(line.contains("ne donne pas le n° de série"), "{line}");
    assert!(line.contains("à la main"), "{line}");
    assert!(line.contains("nwipe"), "{line}");
    assert_eq!(
        server.log_head().await,
        head,
        "a report of another machine recorded events"
    );

    let device: Value = api
        .get(&format!("/api/v1/devices/{laptop}"))
        .await
        .json()
        .await
        .unwrap();
    let units = device["storage_units"].to_string();
    assert!(!units.contains("QM00001"), "{units}");
    assert_eq!(device["timeline"].as_array().unwrap().len(), 4, "{device}");

    // An erasure log on a device with no storage unit known yet.
    let (_, codes) = create_batch(&api).await;
    let (status, body) = api_upload(&api, &codes[0], None, &[part(SHREDOS_LOG)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let message = body["files"][0]["message"].as_str().unwrap();
    assert!(message.contains(SHREDOS_DISK), "{message}");
    assert!(message.contains("inventaire"), "{message}");
    server.stop().await;
}

/// Unreadable files: the page names the file once and gives the reason in
/// French with its line or field. The API's location omits the file name.
async fn unreadable_files_described_in_french(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let api = server.workshop_api().await;
    let technician = server.member(Role::Technician).await;
    let (_, codes) = create_batch(&api).await;
    let dell = &codes[0];
    let mut truncated = fixture(DELL_LSHW);
    truncated.truncate(3000);
    let files = [
        ("don.csv".to_string(), b"code;marque\n1;Dell\n".to_vec()),
        ("coupe.lshw.json".to_string(), truncated),
        ("vide.log".to_string(), Vec::new()),
        (
            "smart-a.json".to_string(),
            br#"{"smartctl": {"exit_status": 0}, "device": {"name": "/dev/sda"}}"#.to_vec(),
        ),
    ];
    let (status, page) = page_upload(&technician, dell, None, &files).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let lines = result_lines(&page);
    assert_eq!(lines.len(), 4, "{lines:?}");
    for (name, expected) in [
        ("don.csv", "n&#39;est pas un rapport que Filière sait lire"),
        ("coupe.lshw.json", "JSON invalide (ligne "),
        ("vide.log", "est vide"),
        ("smart-a.json", "champ model_name"),
    ] {
        let line = line_for(&lines, name);
        assert!(line.starts_with("rejected"), "{line}");
        assert_eq!(line.matches(name).count(), 1, "{name} named twice: {line}");
        assert!(
            line.contains(expected) || line.contains(&expected.replace("&#39;", "'")),
            "{name}: expected {expected:?} in {line}"
        );
        assert!(!line.contains("not a file"), "{line}");
    }
    assert!(
        line_for(&lines, "coupe.lshw.json").contains(", colonne "),
        "{lines:?}"
    );

    let (status, body) = api_upload(&api, dell, None, &files[..1]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["files"][0];
    assert_eq!(result["location"], "file", "{body}");
    let message = result["message"].as_str().unwrap();
    assert_eq!(message.matches("don.csv").count(), 1, "{message}");
    server.stop().await;
}

filiere_store::backend_tests!(
    reports_of_other_machines_rejected,
    unreadable_files_described_in_french,
    page_upload_lists_and_downloads,
    page_upload_needs_csrf_and_size,
    api_upload_list_and_bytes,
    odd_reports_answered,
    documents_from_pages_and_api,
    other_organisation_sees_nothing,
    altered_evidence_not_served,
);
