//! Projection suite, run on SQLite and on PostgreSQL: rebuild gives the same
//! rows as incremental updates, and two projectors sharing one database apply
//! every event exactly once.

use std::time::Duration;

use chrono::Utc;
use filiere_domain::command::Step;
use filiere_domain::device::Intake;
use filiere_domain::donation::NewDonation;
use filiere_domain::fields::{command_from_fields, Fields};
use filiere_domain::types::{Category, DonorKind};
use filiere_domain::{DeviceCode, DeviceId, DonationId, HouseholdId};
use filiere_projections::{queries, Projector, StockFilter};
use filiere_store::testing::TestDatabase;
use filiere_store::workshop::{CommandContext, NewDevice, Workshop};
use filiere_store::{backend_tests, EventStore};
use sqlx::Row;

async fn donate(workshop: &Workshop, count: usize) -> Vec<DeviceCode> {
    let donation_id = DonationId::generate();
    let devices = (0..count)
        .map(|i| NewDevice {
            intake: Intake {
                device_id: DeviceId::generate(),
                donation_id,
                category: if i % 3 == 0 {
                    Category::Desktop
                } else {
                    Category::Laptop
                },
                brand: "Dell".into(),
                model: format!("Latitude E55{i:02}"),
                serial: None,
                asset_tag: None,
                site: "Chartres".into(),
                donor_kind: DonorKind::Company,
                free_transfer: false,
            },
        })
        .collect();
    let donation = NewDonation {
        donation_id,
        donor_name: "Entreprise test".into(),
        donor_kind: DonorKind::Company,
        free_transfer: false,
        received_on: Utc::now().date_naive(),
        site: "Chartres".into(),
        reference: String::new(),
    };
    let context = CommandContext::new("test", "atelier");
    let outcome = workshop
        .receive_donation(donation, devices, &context)
        .await
        .unwrap();
    outcome.devices.into_iter().map(|(_, code)| code).collect()
}

async fn step(workshop: &Workshop, code: &DeviceCode, step: Step, pairs: &[(&str, &str)]) {
    let mut fields = Fields::new();
    for (name, value) in pairs {
        fields
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }
    let command = command_from_fields(step, &fields, HouseholdId::generate()).unwrap();
    workshop
        .record(code, command, &CommandContext::new("test", "atelier"))
        .await
        .unwrap();
}

/// Takes a device through the bench to stock.
async fn refurbish(workshop: &Workshop, code: &DeviceCode) {
    let unit = format!("{code}-D");
    step(
        workshop,
        code,
        Step::Diagnose,
        &[("test", "passed"), ("storage", &unit)],
    )
    .await;
    step(
        workshop,
        code,
        Step::Erase,
        &[("unit", &unit), ("tool", "nwipe"), ("operator", "Ana")],
    )
    .await;
    step(workshop, code, Step::Grade, &[("grade", "b")]).await;
    step(
        workshop,
        code,
        Step::Stock,
        &[("site", "Dreux"), ("location", "A1")],
    )
    .await;
}

/// Every row of every projection table, as text, in a fixed order.
async fn snapshot(store: &EventStore) -> Vec<String> {
    let mut lines = Vec::new();
    for (table, order) in [
        ("stock_devices", "device_id"),
        ("device_timeline", "position"),
        ("donation_batches", "donation_id"),
    ] {
        let rows = sqlx::query(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .fetch_all(store.pool())
            .await
            .unwrap();
        for row in rows {
            let mut cells = vec![table.to_string()];
            for index in 0..row.len() {
                let text: Option<String> = row.try_get(index).ok();
                let number: Option<i64> = row.try_get(index).ok();
                cells.push(format!("{text:?}/{number:?}"));
            }
            lines.push(cells.join("|"));
        }
    }
    lines
}

async fn rebuild_matches_incremental(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    let projector = Projector::new(store.clone());
    let codes = donate(&workshop, 6).await;
    projector.catch_up().await.unwrap();
    for code in &codes[..4] {
        refurbish(&workshop, code).await;
        projector.catch_up().await.unwrap();
    }
    step(
        &workshop,
        &codes[4],
        Step::Diagnose,
        &[("test", "failed"), ("verdict", "recycle")],
    )
    .await;
    step(
        &workshop,
        &codes[4],
        Step::Recycle,
        &[("weight", "2300"), ("eco_organism", "Ecologic")],
    )
    .await;
    projector.catch_up().await.unwrap();

    let before = snapshot(&store).await;
    assert!(before.len() > 20, "projections hold rows: {}", before.len());
    projector.rebuild().await.unwrap();
    let after = snapshot(&store).await;
    assert_eq!(before, after);

    let in_stock = StockFilter {
        status: Some("in_stock".into()),
        ..StockFilter::default()
    };
    assert_eq!(
        queries::stock_list(store.pool(), &in_stock, 100)
            .await
            .unwrap()
            .len(),
        4
    );
    let recycled = StockFilter {
        status: Some("recycled".into()),
        ..StockFilter::default()
    };
    assert_eq!(
        queries::stock_list(store.pool(), &recycled, 100)
            .await
            .unwrap()
            .len(),
        1
    );
    db.cleanup().await;
}

async fn checkpoints_reach_head(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let workshop = Workshop::new(store.clone());
    donate(&workshop, 3).await;
    let projector = Projector::new(store.clone());
    projector.catch_up().await.unwrap();
    let (head, _) = store.head().await.unwrap();
    for (name, position) in projector.checkpoints().await.unwrap() {
        assert_eq!(position, head, "checkpoint of {name}");
    }
    assert_eq!(
        projector.catch_up().await.unwrap(),
        0,
        "nothing left to apply"
    );
    db.cleanup().await;
}

/// Two projectors on separate connection pools (as two server processes
/// would have) follow one log while devices are being recorded.
async fn two_projectors_apply_once(db: TestDatabase) {
    let writer_store = EventStore::connect(&db.url).await.unwrap();
    let first = Projector::new(EventStore::connect(&db.url).await.unwrap());
    let second = Projector::new(EventStore::connect(&db.url).await.unwrap());
    let workshop = Workshop::new(writer_store.clone());

    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let mut runners = Vec::new();
    for projector in [first.clone(), second.clone()] {
        let stop = stop.clone();
        runners.push(tokio::spawn(async move {
            while !*stop.borrow() {
                projector.catch_up().await.unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    for _ in 0..3 {
        let codes = donate(&workshop, 4).await;
        for code in &codes {
            refurbish(&workshop, code).await;
        }
    }
    stop_sender.send_replace(true);
    for runner in runners {
        runner.await.unwrap();
    }
    first.catch_up().await.unwrap();

    let (head, _) = writer_store.head().await.unwrap();
    let device_events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE stream_id LIKE 'device-%'")
            .fetch_one(writer_store.pool())
            .await
            .unwrap();
    let timeline_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM device_timeline")
        .fetch_one(writer_store.pool())
        .await
        .unwrap();
    let stock_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stock_devices")
        .fetch_one(writer_store.pool())
        .await
        .unwrap();
    let batches: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM donation_batches")
        .fetch_one(writer_store.pool())
        .await
        .unwrap();
    assert_eq!(timeline_rows, device_events);
    assert_eq!(stock_rows, 12);
    assert_eq!(batches, 3);
    for (name, position) in first.checkpoints().await.unwrap() {
        assert_eq!(position, head, "checkpoint of {name}");
    }
    let before = snapshot(&writer_store).await;
    first.rebuild().await.unwrap();
    assert_eq!(snapshot(&writer_store).await, before);
    db.cleanup().await;
}

backend_tests!(
    rebuild_matches_incremental,
    checkpoints_reach_head,
    two_projectors_apply_once,
);
