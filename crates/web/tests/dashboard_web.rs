//! The funders' dashboard on a real server: a funder sees the figures of a
//! log with known counts in tables and inline SVG charts, the filters
//! narrow them, bad filters get French errors, other roles and anonymous
//! clients are refused, and the CSV and the JSON API carry the same
//! numbers as the audit replay of the log.

mod support;

#[path = "../../projections/tests/dashboard_log/mod.rs"]
mod dashboard_log;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use dashboard_log::{build_dashboard_log_for, FIRST_NAME, KNOWN, LAST_NAME, PROGRAMME};
use filiere_domain::access::{OrganisationKind, Role};
use filiere_domain::territory::{InseeCode, Territories};
use filiere_projections::audit::{compute_figures, replay, Cutoff, Figures};
use filiere_projections::Projector;
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::Workshop;
use reqwest::StatusCode;
use support::{location, text, Agent, TestServer};

/// Organisation ids of the log's two workshops.
struct Workshops {
    chartres: String,
    dreux: String,
}

/// Builds the shared log with real organisations as workshops and brings
/// the projections up to date, as the server's background projector does.
async fn log_on(server: &TestServer) -> Workshops {
    let chartres = server
        .organisation("Atelier de Chartres", OrganisationKind::Workshop)
        .await;
    let dreux = server
        .organisation("Atelier de Dreux", OrganisationKind::Workshop)
        .await;
    let workshop = Workshop::new(server.store.clone());
    build_dashboard_log_for(&workshop, &chartres, &dreux).await;
    Projector::new(server.store.clone())
        .catch_up()
        .await
        .expect("projections caught up");
    Workshops { chartres, dreux }
}

async fn funder(server: &TestServer) -> Agent {
    server
        .member_of("Conseil départemental (test)", Role::FunderViewer)
        .await
}

/// Returns the audit figures replayed from the whole log, with today as
/// the reference day, as the dashboard uses.
async fn replayed(server: &TestServer) -> Figures {
    let today = Utc::now().date_naive();
    let replayed = replay(&server.store, Cutoff::Head, today)
        .await
        .expect("log replays");
    compute_figures(&replayed.fold, today, &BTreeSet::new())
}

/// Value of the row labelled `label` in the table with id `table`.
fn table_value(html: &str, table: &str, label: &str) -> Option<String> {
    let start = html.find(&format!("<table id=\"{table}\">"))?;
    let end = start + html[start..].find("</table>")?;
    let cell = format!("<th scope=\"row\">{label}</th><td>");
    let body = &html[start..end];
    let value_start = body.find(&cell)? + cell.len();
    let value_end = value_start + body[value_start..].find("</td>")?;
    Some(body[value_start..value_end].to_string())
}

fn count(html: &str, table: &str, label: &str) -> u64 {
    let value = table_value(html, table, label)
        .unwrap_or_else(|| panic!("row « {label} » in table {table}"));
    value
        .replace('\u{202f}', "")
        .parse()
        .unwrap_or_else(|_| panic!("row « {label} »: '{value}' is not a count"))
}

/// Returns every inline `<svg>...</svg>` of the page.
fn svgs(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let Some(length) = rest[start..].find("</svg>") else {
            found.push(&rest[start..]);
            break;
        };
        let end = start + length + "</svg>".len();
        found.push(&rest[start..end]);
        rest = &rest[end..];
    }
    found
}

/// Checks that an SVG fragment is well formed: every tag closed in order,
/// attribute quotes balanced, no stray `<` or `&` outside an entity.
fn well_formed(svg: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        check_text(&rest[..start])?;
        let end = rest[start..]
            .find('>')
            .ok_or_else(|| format!("unclosed tag at '{}'", &rest[start..]))?;
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        if tag.contains('<') || !tag.matches('"').count().is_multiple_of(2) {
            return Err(format!("malformed tag <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop();
            if open.as_deref() != Some(name.trim()) {
                return Err(format!("</{name}> closes {open:?}"));
            }
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or_default();
            stack.push(name.to_string());
        }
    }
    check_text(rest)?;
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed elements {stack:?}"))
    }
}

fn check_text(text: &str) -> Result<(), String> {
    if text.contains('>') {
        return Err(format!("stray '>' in '{text}'"));
    }
    for (index, _) in text.match_indices('&') {
        let entity = &text[index..];
        let valid = [
            "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#x27;", "&#34;",
        ]
        .iter()
        .any(|e| entity.starts_with(e));
        if !valid {
            return Err(format!("unescaped '&' in '{text}'"));
        }
    }
    Ok(())
}

async fn funder_sees_figures_and_charts(database: TestDatabase) {
    let server = TestServer::start(database).await;
    log_on(&server).await;
    let expected = replayed(&server).await;
    let funder = funder(&server).await;
    let (status, html) = funder.page("/tableau-de-bord?territoire=FR").await;
    assert_eq!(status, StatusCode::OK, "{html}");

    let totals = "table-chiffres";
    assert_eq!(
        count(&html, totals, "Remises (événements)"),
        KNOWN.handovers
    );
    assert_eq!(
        count(&html, totals, "Remises (événements)"),
        expected.handovers
    );
    let devices = count(&html, totals, "Appareils distincts remis");
    assert_eq!(devices, KNOWN.devices_handed_over);
    assert_eq!(devices, expected.devices_handed_over);
    let computers = count(&html, totals, "Ordinateurs remis (portables et fixes)");
    assert_eq!(computers, expected.computers_handed_over);
    let households = count(&html, totals, "Foyers équipés");
    assert_eq!(households, KNOWN.households_equipped);
    assert_eq!(households, expected.households_equipped);
    let donated = count(&html, totals, "Appareils donnés reçus");
    assert_eq!(donated, expected.donated_devices);
    assert_eq!(
        count(&html, totals, "Lots de dons reçus"),
        expected.donation_batches
    );
    let recycled = count(&html, totals, "Appareils recyclés");
    assert_eq!(recycled, expected.outcomes.recycled);
    assert_eq!(
        table_value(&html, totals, "Poids recyclé (kg)").as_deref(),
        Some("5,0")
    );
    let returned = count(&html, totals, "Prêts rendus");
    assert_eq!(returned, expected.loans_returned);
    let active = count(&html, totals, "Prêts en cours");
    assert_eq!(active, expected.loans_active);
    let overdue = count(&html, totals, "Prêts en retard");
    assert_eq!(overdue, expected.loans_overdue);
    let training = count(&html, totals, "Formations suivies");
    assert_eq!(training, KNOWN.training_attended);
    let in_stock = count(&html, totals, "Appareils en stock");
    assert_eq!(in_stock, expected.in_stock);
    let reserved = count(&html, totals, "Appareils réservés");
    assert_eq!(reserved, expected.reserved);

    let programme = count(&html, "table-remises-programme", PROGRAMME);
    assert_eq!(programme, KNOWN.programme_handovers);
    let qpv = count(&html, "table-remises-zone", "QPV (quartier prioritaire)");
    assert_eq!(qpv, KNOWN.qpv_handovers);
    let chartres = count(&html, "table-remises-atelier", "Atelier de Chartres");
    assert_eq!(chartres, KNOWN.handovers);
    let april = count(&html, "table-remises-periode", "2025-04");
    assert_eq!(april, 3);
    let laptops = count(&html, "table-remises-categorie", "Ordinateur portable");
    assert_eq!(
        laptops,
        expected
            .handovers_by_category
            .get("laptop")
            .copied()
            .unwrap()
    );
    let measured = count(
        &html,
        "table-delais",
        "Délai don → remise : appareils mesurés",
    );
    assert_eq!(measured, expected.lead_time.count);
    let impact = expected.impact.as_ref().unwrap();
    let laptops_counted = count(&html, "table-impact", "Ordinateurs portables comptés");
    assert_eq!(laptops_counted, impact.laptops_counted);

    let charts = svgs(&html);
    assert!(charts.len() >= 10, "{} charts", charts.len());
    for svg in &charts {
        if let Err(problem) = well_formed(svg) {
            panic!("{problem} in {svg}");
        }
        assert!(svg.contains("role=\"img\""), "{svg}");
        assert!(svg.contains("<title id="), "{svg}");
        assert!(svg.contains("<desc id="), "{svg}");
    }
    assert!(!html.contains("<script"), "the page runs no script");
    assert!(!html.contains("@font-face"), "the page loads no font");
    assert!(html.contains("septembre 2022"), "ADEME source stated");
    assert!(html.contains("Unité comptée"), "unit stated");
    assert!(html.contains("/tableau-de-bord/rapport-trimestriel.pdf?trimestre="));
    assert!(html.contains("/tableau-de-bord/chiffres.csv?territoire=FR"));
    assert!(!html.contains(FIRST_NAME), "no household name");
    assert!(!html.contains(LAST_NAME), "no household name");
    server.stop().await;
}

async fn filters_narrow_figures(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let workshops = log_on(&server).await;
    let funder = funder(&server).await;
    let handovers = |html: &str| count(html, "table-chiffres", "Remises (événements)");

    let (status, html) = funder.page("/tableau-de-bord?territoire=28085").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(handovers(&html), KNOWN.chartres_handovers);
    assert!(html.contains("Chartres (28085)"), "territory named");
    assert!(html.contains("au prorata de la population"), "share method");

    let territories = Territories::embedded();
    let chartres = territories
        .commune(&InseeCode::parse("28085").unwrap())
        .unwrap();
    let epci = chartres.epci.clone().expect("Chartres belongs to an EPCI");
    let (status, html) = funder
        .page(&format!("/tableau-de-bord?territoire={epci}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(handovers(&html), KNOWN.chartres_handovers);

    let (_, html) = funder.page("/tableau-de-bord?territoire=28").await;
    assert_eq!(handovers(&html), 3);
    assert_eq!(count(&html, "table-chiffres", "Prêts rendus"), 1);

    let (_, html) = funder
        .page("/tableau-de-bord?territoire=FR&du=2025-03&au=2025-03")
        .await;
    assert_eq!(handovers(&html), 2);
    assert_eq!(count(&html, "table-chiffres", "Appareils donnés reçus"), 2);

    let (_, html) = funder
        .page("/tableau-de-bord?territoire=FR&categorie=laptop")
        .await;
    assert_eq!(
        count(&html, "table-chiffres", "Appareils distincts remis"),
        3
    );

    let dreux = format!("/tableau-de-bord?territoire=FR&atelier={}", workshops.dreux);
    let (_, html) = funder.page(&dreux).await;
    assert_eq!(handovers(&html), 0);
    assert_eq!(count(&html, "table-chiffres", "Appareils en stock"), 1);
    assert!(html.contains("Aucune donnée pour ces filtres"));
    let by_name = "/tableau-de-bord?territoire=FR&atelier=Atelier%20de%20Chartres";
    let (_, html) = funder.page(by_name).await;
    assert_eq!(handovers(&html), KNOWN.handovers);
    assert!(html.contains(&format!(
        "<option value=\"{}\" selected>",
        workshops.chartres
    )));

    let (_, html) = funder
        .page("/tableau-de-bord?territoire=FR&periode=trimestre")
        .await;
    assert_eq!(count(&html, "table-remises-periode", "2025-Q1"), 3);
    assert_eq!(count(&html, "table-remises-periode", "2025-Q2"), 3);
    let (_, html) = funder
        .page("/tableau-de-bord?territoire=FR&periode=annee")
        .await;
    assert_eq!(
        count(&html, "table-remises-periode", "2025"),
        KNOWN.handovers
    );
    server.stop().await;
}

async fn bad_filters_rejected_in_french(database: TestDatabase) {
    let server = TestServer::start(database).await;
    log_on(&server).await;
    let funder = funder(&server).await;
    let cases = [
        ("territoire=99999", "Territoire « 99999 » inconnu"),
        ("territoire=abcd", "Territoire « abcd » invalide"),
        ("du=2025-13", "Mois « 2025-13 » invalide pour « du »"),
        ("au=mars", "Mois « mars » invalide pour « au »"),
        ("du=2025-05&au=2025-03", "Période inversée"),
        ("categorie=frigo", "Catégorie « frigo » inconnue"),
        ("atelier=nulle-part", "Atelier « nulle-part » inconnu"),
        ("periode=semaine", "Période « semaine » inconnue"),
    ];
    for (query, message) in cases {
        let (status, html) = funder.page(&format!("/tableau-de-bord?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(html.contains(message), "{query}: {html}");
        let response = funder
            .get(&format!("/tableau-de-bord/chiffres.csv?{query}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "CSV {query}");
        let response = funder.get(&format!("/api/v1/dashboard?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "API {query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_parameter", "API {query}");
        let api_message = body["error"]["message"].as_str().unwrap();
        assert!(api_message.contains(message), "API {query}: {api_message}");
    }
    server.stop().await;
}

async fn other_callers_refused(database: TestDatabase) {
    let server = TestServer::start(database).await;
    log_on(&server).await;
    let technician = server.member(Role::Technician).await;
    let anonymous = server.anonymous();
    for path in [
        "/tableau-de-bord",
        "/tableau-de-bord/chiffres.csv",
        "/api/v1/dashboard",
    ] {
        let response = technician.get(path).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "technician {path}"
        );
        let response = anonymous.get(path).await;
        if path.starts_with("/api/") {
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "anonymous {path}"
            );
        } else {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "anonymous {path}");
            assert!(location(&response).starts_with("/connexion"), "{path}");
        }
    }
    let technician_token = server.workshop_api().await;
    let response = technician_token.get("/api/v1/dashboard").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let coordinator = server.member(Role::WorkshopCoordinator).await;
    let (status, _) = coordinator.page("/tableau-de-bord").await;
    assert_eq!(status, StatusCode::OK, "coordinators see aggregates");
    server.stop().await;
}

/// Parses the CSV rows `section,key,value` into a map.
fn csv_rows(body: &str) -> BTreeMap<(String, String), String> {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    reader
        .records()
        .map(|record| {
            let record = record.expect("valid CSV row");
            (
                (record[0].to_string(), record[1].to_string()),
                record[2].to_string(),
            )
        })
        .collect()
}

async fn csv_and_api_match_figures(database: TestDatabase) {
    let server = TestServer::start(database).await;
    log_on(&server).await;
    let expected = replayed(&server).await;
    let head = server.log_head().await;
    let head_hash = server.store.read_all(head - 1, 1).await.unwrap()[0]
        .hash
        .clone();
    let funder = funder(&server).await;

    let response = funder
        .get("/tableau-de-bord/chiffres.csv?territoire=FR")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let body = text(response).await;
    assert!(!body.contains(FIRST_NAME), "no household name in the CSV");
    let rows = csv_rows(&body);
    let value = |section: &str, key: &str| {
        rows.get(&(section.to_string(), key.to_string()))
            .cloned()
            .unwrap_or_else(|| panic!("CSV row {section},{key} in {body}"))
    };
    assert_eq!(value("log", "position"), head.to_string());
    assert_eq!(value("log", "hash"), head_hash);
    for (key, figure) in [
        ("handovers", expected.handovers),
        ("devices_handed_over", expected.devices_handed_over),
        ("computers_handed_over", expected.computers_handed_over),
        ("households_equipped", expected.households_equipped),
        ("donation_batches", expected.donation_batches),
        ("donated_devices", expected.donated_devices),
        ("recycled", expected.outcomes.recycled),
        ("dismantled", expected.outcomes.dismantled),
        ("written_off", expected.outcomes.written_off),
        ("loans_returned", expected.loans_returned),
        ("loans_active", expected.loans_active),
        ("loans_overdue", expected.loans_overdue),
        ("in_stock", expected.in_stock),
        ("reserved", expected.reserved),
    ] {
        assert_eq!(value("totals", key), figure.to_string(), "CSV {key}");
    }
    for (month, figure) in &expected.handovers_by_period.month {
        assert_eq!(value("handovers_by_month", month), figure.to_string());
    }
    let impact = expected.impact.as_ref().unwrap();
    assert_eq!(
        value("impact", "co2e_grams_avoided"),
        impact.co2e_grams_avoided.to_string()
    );
    assert_eq!(
        value("lead_time_days", "count"),
        expected.lead_time.count.to_string()
    );

    let funder_organisation = funder.organisation_id.clone();
    let api = server
        .api_client(&funder_organisation, Role::FunderViewer)
        .await;
    let response = api.get("/api/v1/dashboard?territoire=FR").await;
    assert_eq!(response.status(), StatusCode::OK);
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["log"]["position"], head);
    assert_eq!(json["log"]["hash"], head_hash.as_str());
    assert_eq!(json["totals"]["handovers"], expected.handovers);
    assert_eq!(
        json["totals"]["households_equipped"],
        expected.households_equipped
    );
    assert_eq!(json["totals"]["loans_overdue"], expected.loans_overdue);
    assert_eq!(
        json["handovers_by"]["programme"][PROGRAMME],
        KNOWN.programme_handovers
    );
    assert_eq!(json["target"]["share"], 2_000_000);
    assert!(!json.to_string().contains(FIRST_NAME));
    let openapi = text(api.get("/api/v1/openapi.json").await).await;
    assert!(
        openapi.contains("/api/v1/dashboard"),
        "documented in OpenAPI"
    );
    server.stop().await;
}

filiere_store::backend_tests!(
    funder_sees_figures_and_charts,
    filters_narrow_figures,
    bad_filters_rejected_in_french,
    other_callers_refused,
    csv_and_api_match_figures,
);
