//! The workshop journey through the French pages, on a real server, signed
//! in as a technician: a new donation batch by the form, its labels, scans,
//! each bench step up to the handover, bulk mode and the stock filters.

mod support;

use filiere_domain::access::Role;
use filiere_store::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use support::{
    azerty, device_codes, location, oversized_body, text, unused_code, version_field,
    with_wrong_check, Agent, TestServer,
};

/// Records a batch of four devices by the form and returns the batch page
/// path.
async fn create_batch(user: &Agent) -> String {
    let response = user
        .post_form(
            "/donations",
            &[
                ("donor", "Mairie de Lucé (test)"),
                ("donor_kind", "public_body"),
                ("free_transfer", "yes"),
                ("site", "Chartres"),
                ("received_on", ""),
                ("reference", "BL-0042"),
                ("category", "laptop"),
                ("brand", "Dell"),
                ("model", "Latitude 5490"),
                ("serial", "PAGE-SN-1"),
                ("category", "smartphone"),
                ("brand", "Samsung"),
                ("model", "Galaxy A52"),
                ("serial", "PAGE-SN-2"),
                ("category", "laptop"),
                ("brand", ""),
                ("model", ""),
                ("serial", ""),
                (
                    "lines",
                    "tablette;Samsung;Galaxy Tab A;PAGE-SN-3\n\nécran;Dell;P2419H;PAGE-SN-4\n",
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    assert!(target.starts_with("/donations/"), "{target}");
    assert!(target.ends_with("?created=4"), "{target}");
    target
}

/// Code of the only device of `category` in the stock.
async fn code_of_category(user: &Agent, category: &str) -> String {
    let (status, html) = user.page(&format!("/stock?category={category}")).await;
    assert_eq!(status, StatusCode::OK);
    let codes = device_codes(&html);
    assert_eq!(codes.len(), 1, "one {category} expected: {codes:?}");
    codes[0].clone()
}

/// Posts one step form as the device page would, with the page's version,
/// and checks the redirect and the message after it.
async fn post_step(user: &Agent, code: &str, step: &str, fields: &[(&str, &str)]) {
    let (status, page) = user.page(&format!("/d/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("action=\"/d/{code}/steps/{step}\"")),
        "step {step} is offered on {code}"
    );
    let version = version_field(&page);
    let mut pairs = vec![("version", version.as_str())];
    pairs.extend_from_slice(fields);
    let response = user
        .post_form(&format!("/d/{code}/steps/{step}"), &pairs)
        .await;
    let status = response.status();
    let target = location(&response);
    let body = text(response).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{step} on {code}: {body}");
    assert_eq!(target, format!("/d/{code}?recorded={step}"));
    let (status, page) = user.page(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("enregistrée"), "flash message after {step}");
}

async fn batch_labels_and_scans(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let user = server.member(Role::Technician).await;
    let (status, home) = user.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("<meta name=\"viewport\""));
    assert!(home.contains("autofocus"));
    assert!(home.contains("/style.css"));
    let (status, css) = user.page("/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("body"));

    let (status, form) = user.page("/donations/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"donor\""));
    let batch_path = create_batch(&user).await;
    let (status, batch) = user.page(&batch_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(batch.contains("Mairie de Lucé (test)"));
    assert!(batch.contains("Lot enregistré : 4 appareil(s)"));
    assert!(batch.contains("avery-l7160"));
    let codes = device_codes(&batch);
    assert_eq!(codes.len(), 4, "{codes:?}");
    let (status, list) = user.page("/donations").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Mairie de Lucé (test)"));

    let id = batch_path
        .trim_start_matches("/donations/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let labels = user
        .get(&format!(
            "/donations/{id}/labels.pdf?template=avery-l7160&start=1&offset_x=0&offset_y=0"
        ))
        .await;
    assert_eq!(labels.status(), StatusCode::OK);
    assert_eq!(labels.headers()["content-type"], "application/pdf");
    assert!(labels.bytes().await.unwrap().starts_with(b"%PDF"));
    let calibration = user
        .get("/labels/calibration.pdf?template=avery-l7651")
        .await;
    assert_eq!(calibration.status(), StatusCode::OK);
    assert!(calibration.bytes().await.unwrap().starts_with(b"%PDF"));
    let (status, page) = user
        .page(&format!("/donations/{id}/labels.pdf?template=avery-9999"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Modèle d'étiquettes « avery-9999 » inconnu"));
    let (status, page) = user
        .page(&format!("/donations/{id}/labels.pdf?start=99"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Première étiquette 99 invalide"));

    let code = &codes[0];
    let typed = azerty(code);
    let scanned = user
        .request(Method::GET, "/scan")
        .query(&[("code", typed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(scanned.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&scanned), format!("/d/{code}"));
    let mangled_url = format!("httpsM!!atelier:example:org!D!{typed}");
    let scanned = user
        .request(Method::GET, "/scan")
        .query(&[("code", mangled_url.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(scanned.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&scanned), format!("/d/{code}"));
    let (status, page) = user.page(&format!("/D/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Reçu, à diagnostiquer"));
    assert!(page.contains("aucun diagnostic depuis l'entrée ou le retour"));
    let (status, _) = user.page(&format!("/d/{}", code.to_lowercase())).await;
    assert_eq!(status, StatusCode::OK);

    let unknown = unused_code();
    let (status, page) = user.page(&format!("/scan?code={unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains(&format!("Aucun appareil avec le code {unknown}")));
    assert!(page.contains("name=\"q\""), "search form offered");
    let (status, page) = user
        .page(&format!("/scan?code={}", with_wrong_check(code)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("le caractère de contrôle ne correspond pas"));
    let (status, page) = user.page("/search?q=PAGE-SN-2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(device_codes(&page).len(), 1);
    server.stop().await;
}

async fn bench_steps_to_handover(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let user = server.member(Role::Technician).await;
    create_batch(&user).await;
    let laptop = code_of_category(&user, "laptop").await;
    post_step(
        &user,
        &laptop,
        "diagnose",
        &[
            ("test", "passed"),
            ("verdict", "refurbish"),
            ("storage", "DISK-1:ssd:256"),
            ("memory_gb", "8"),
        ],
    )
    .await;
    let (_, page) = user.page(&format!("/d/{laptop}")).await;
    assert!(page.contains("le support DISK-1 n'a pas été effacé"));
    post_step(
        &user,
        &laptop,
        "erase",
        &[
            ("unit", "DISK-1"),
            ("method", "clear"),
            ("technique", "overwrite"),
            ("tool", "nwipe"),
            ("verified", "yes"),
            ("result", "passed"),
            ("operator", "Camille"),
        ],
    )
    .await;
    post_step(
        &user,
        &laptop,
        "repair",
        &[("part", "clavier"), ("cost", "12,50")],
    )
    .await;
    post_step(
        &user,
        &laptop,
        "install",
        &[("os", "Debian"), ("os_version", "12")],
    )
    .await;
    post_step(
        &user,
        &laptop,
        "grade",
        &[("grade", "b"), ("autonomy", "beginner")],
    )
    .await;
    post_step(
        &user,
        &laptop,
        "stock",
        &[("site", "Chartres"), ("location", "Étagère 2")],
    )
    .await;
    let (_, page) = user.page(&format!("/d/{laptop}")).await;
    assert!(page.contains("Prêt pour un foyer."));
    post_step(&user, &laptop, "reserve", &[]).await;
    post_step(&user, &laptop, "handover", &[("mode", "donation")]).await;
    let (status, page) = user.page(&format!("/d/{laptop}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Remis à un foyer"));
    assert!(page.contains("Remis en don"), "timeline shows the handover");
    assert!(
        page.contains(&format!("({})", user.name)),
        "the timeline names the technician"
    );

    let version: u64 = version_field(&page).parse().unwrap();
    let stale = (version - 1).to_string();
    let response = user
        .post_form(
            &format!("/d/{laptop}/steps/return"),
            &[("version", stale.as_str()), ("notes", "retour")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let message = text(response).await;
    assert!(message.contains("Cet appareil a été modifié entre-temps"));
    let (_, page) = user.page(&format!("/d/{laptop}")).await;
    assert_eq!(
        version_field(&page),
        version.to_string(),
        "nothing recorded"
    );

    let current = version.to_string();
    let response = user
        .post_form(
            &format!("/d/{laptop}/steps/stock"),
            &[("version", current.as_str()), ("site", "Chartres")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let message = text(response).await;
    assert!(
        message.contains("n'est pas possible maintenant"),
        "{message}"
    );
    assert!(message.contains("Remis à un foyer"), "{message}");

    let phone = code_of_category(&user, "smartphone").await;
    post_step(&user, &phone, "diagnose", &[("test", "passed")]).await;
    let response = user
        .post_form(&format!("/d/{phone}/steps/repair"), &[("cost", "99999")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = text(response).await;
    assert!(
        message.contains("un nombre de 0 à 10000 est attendu"),
        "{message}"
    );
    let response = user
        .post_form(&format!("/d/{phone}/steps/teleport"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(text(response).await.contains("Étape « teleport » inconnue"));
    server.stop().await;
}

async fn bulk_mode_and_stock(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let user = server.member(Role::Technician).await;
    create_batch(&user).await;
    let laptop = code_of_category(&user, "laptop").await;
    let phone = code_of_category(&user, "smartphone").await;
    let tablet = code_of_category(&user, "tablet").await;
    let screen = code_of_category(&user, "screen").await;
    let (status, page) = user.page("/bulk?step=move").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"site\""));

    let codes = format!(
        "{laptop}\n{}\n{tablet}\n{tablet}\n{}\n{}\n",
        phone.to_lowercase(),
        with_wrong_check(&screen),
        unused_code()
    );
    let response = user
        .post_form(
            "/bulk",
            &[
                ("step", "move"),
                ("site", "Dreux"),
                ("location", "Bac 1"),
                ("codes", codes.as_str()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = text(response).await;
    assert!(page.contains("3 enregistré(s), 3 refusé(s)"), "{page}");
    assert!(page.contains("Déjà dans la liste"));
    assert!(page.contains("le caractère de contrôle ne correspond pas"));
    assert!(page.contains("Aucun appareil avec le code"));

    post_step(&user, &phone, "diagnose", &[("test", "passed")]).await;
    let codes = format!("{phone}\n{tablet}");
    let response = user
        .post_form(
            "/bulk",
            &[
                ("step", "stock"),
                ("site", "Dreux"),
                ("codes", codes.as_str()),
            ],
        )
        .await;
    let page = text(response).await;
    assert!(page.contains("1 enregistré(s), 1 refusé(s)"), "{page}");
    assert!(page.contains("Enregistré : En stock"));
    assert!(page.contains("n'est pas possible maintenant"));

    let (status, page) = user.page("/stock?site=Dreux").await;
    assert_eq!(status, StatusCode::OK);
    let mut at_dreux = device_codes(&page);
    at_dreux.sort();
    let mut expected = vec![laptop.clone(), phone.clone(), tablet.clone()];
    expected.sort();
    assert_eq!(at_dreux, expected);
    let (_, page) = user.page("/stock?status=in_stock").await;
    assert_eq!(device_codes(&page), vec![phone.clone()]);
    let (_, page) = user.page("/stock?site=Chartres&category=screen").await;
    assert_eq!(device_codes(&page), vec![screen.clone()]);
    let (_, page) = user.page("/stock?grade=a").await;
    assert!(device_codes(&page).is_empty());
    assert!(page.contains("Par état"));
    let (status, page) = user.page("/stock?status=broken").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Filtre « état » invalide"));
    server.stop().await;
}

async fn page_errors_in_french(database: TestDatabase) {
    let server = TestServer::start(database).await;
    let user = server.member(Role::Technician).await;
    let (status, page) = user.page("/nulle-part").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Cette page n'existe pas"));
    let (status, page) = user.page(&format!("/d/{}", unused_code())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Aucun appareil avec le code"));
    let (status, page) = user.page("/d/ABC").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("un code d'appareil a 7 caractères"));

    let response = user
        .post_raw(
            "/bulk",
            "application/x-www-form-urlencoded",
            oversized_body(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(response).await.contains("trop volumineuse"));

    let response = user
        .post_form(
            "/donations",
            &[
                ("donor", ""),
                ("site", "Chartres"),
                (
                    "lines",
                    "frigo;Brandt;X;1\nportable;Dell;E5530;SAME\nportable;Dell;E5530;same",
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = text(response).await;
    assert!(page.contains("catégorie « frigo » inconnue"), "{page}");
    assert!(page.contains("est en double"), "{page}");
    assert!(page.contains("frigo;Brandt"), "typed lines are kept");

    let (status, page) = user.page("/donations/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Aucun lot de dons"));
    server.stop().await;
}

filiere_store::backend_tests!(
    batch_labels_and_scans,
    bench_steps_to_handover,
    bulk_mode_and_stock,
    page_errors_in_french,
);
