//! Generator suite at small scale, run on SQLite and on PostgreSQL. The
//! generated log verifies, and its projections agree with a catch-up and
//! with the generator's own count of outcomes. A seed gives the same log,
//! and a database that already has events is rejected.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use filiere_domain::PrescriptionId;
use filiere_projections::Projector;
use filiere_store::testing::TestDatabase;
use filiere_store::{
    backend_tests, AppendBatch, EventStore, ExpectedVersion, Metadata, NewEvent, StreamAppend,
};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{generate, GenerateOptions, Scope};

fn local_scope() -> Scope {
    Scope::Local {
        workshop: "atelier-test".into(),
        social_service: "ccas-test".into(),
        departement: "28".into(),
    }
}

/// Reads every row of `table` (a table name or an aliased subquery), as
/// sorted text.
async fn rows(store: &EventStore, table: &str) -> Vec<Vec<String>> {
    let rows: Vec<AnyRow> = sqlx::query(&format!("SELECT * FROM {table}"))
        .fetch_all(store.pool())
        .await
        .unwrap();
    let mut texts: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            (0..row.columns().len())
                .map(|index| {
                    if let Ok(text) = row.try_get::<Option<String>, _>(index) {
                        format!("{text:?}")
                    } else if let Ok(number) = row.try_get::<Option<i64>, _>(index) {
                        format!("{number:?}")
                    } else {
                        panic!("column {} of {table} is neither text nor integer", index)
                    }
                })
                .collect()
        })
        .collect();
    texts.sort();
    texts
}

async fn count(store: &EventStore, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn small_national_log(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    let mut options = GenerateOptions::new(300, 7, Scope::National);
    options.events_per_transaction = 500;
    let summary = generate(&store, &options).await.unwrap();

    let (head, _) = store.head().await.unwrap();
    assert_eq!(summary.devices, 300);
    assert_eq!(summary.events, u64::try_from(head).unwrap());
    assert!(summary.transactions > 2, "{summary:?}");
    assert!(summary.events > 300 * 6, "{summary:?}");
    let report = store.verify_chain().await.unwrap();
    assert_eq!(report.first_break, None);
    assert_eq!(report.events_checked, head);

    // Plausible outcomes: each fate occurs, and none dominates.
    let statuses = &summary.device_statuses;
    assert_eq!(statuses.values().sum::<u64>(), 300, "{statuses:?}");
    for status in ["in_stock", "handed_over", "recycled"] {
        let devices = statuses.get(status).copied().unwrap_or(0);
        assert!((20..200).contains(&devices), "{status}: {statuses:?}");
    }
    let prescriptions = &summary.prescription_statuses;
    assert!(prescriptions.get("handed_over").copied().unwrap_or(0) > 20);
    assert!(
        prescriptions.get("returned").copied().unwrap_or(0) > 0,
        "{prescriptions:?}"
    );
    let closed_without_device: u64 = ["declined", "cancelled", "expired"]
        .iter()
        .filter_map(|status| prescriptions.get(status))
        .sum();
    assert!(closed_without_device > 0, "{prescriptions:?}");
    let prefix = format!("{}-%", PrescriptionId::STREAM_PREFIX);
    let streams = count(
        &store,
        &format!("SELECT COUNT(*) FROM streams WHERE stream_id LIKE '{prefix}'"),
    )
    .await;
    assert_eq!(streams, summary.prescriptions as i64);
    let households = count(&store, "SELECT COUNT(*) FROM households").await;
    assert_eq!(households, summary.households as i64);
    assert_eq!(summary.households, summary.prescriptions);

    // Events are in date order, none after the generation's `now`.
    let events = store.read_all(0, head).await.unwrap();
    for pair in events.windows(2) {
        assert!(
            pair[0].occurred_at <= pair[1].occurred_at,
            "position {} occurred before position {}",
            pair[1].position,
            pair[0].position
        );
    }
    assert!(events.last().unwrap().occurred_at <= options.now);

    // The projections agree with a catch-up, and the stock with the
    // generator's own fold of each device.
    Projector::new(store.clone()).catch_up().await.unwrap();
    // A catch-up leaves status rows whose count fell back to zero, which a
    // rebuild never writes; readers sum them, so they are left out here.
    let tables = [
        "stock_devices",
        "stock_storage_units",
        "device_timeline",
        "donation_batches",
        "prescription_views",
        "dashboard_devices",
        "dashboard_prescriptions",
        "dashboard_batches",
        "dashboard_households",
        "dashboard_counters",
        "dashboard_commune_counters",
        "dashboard_rollup",
        "(SELECT * FROM dashboard_status WHERE value <> 0 OR grams <> 0) AS status",
        "(SELECT * FROM dashboard_status_totals WHERE value <> 0 OR grams <> 0) AS totals",
    ];
    let mut caught_up = Vec::new();
    for table in tables {
        caught_up.push(rows(&store, table).await);
    }
    // Pages of 7 events split multi-stream appends, such as a reservation
    // recorded on the device and on the prescription, across pages.
    Projector::new(store.clone())
        .with_rebuild_page_size(7)
        .rebuild()
        .await
        .unwrap();
    for (table, before) in tables.iter().zip(&caught_up) {
        assert_eq!(&rows(&store, table).await, before, "rows of {table}");
    }
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM stock_devices GROUP BY status")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let by_status: BTreeMap<String, u64> = by_status
        .into_iter()
        .map(|(status, devices)| (status, devices as u64))
        .collect();
    let expected: BTreeMap<String, u64> = statuses
        .iter()
        .map(|(status, devices)| (status.to_string(), *devices))
        .collect();
    assert_eq!(by_status, expected);

    store.close().await;
    db.cleanup().await;
}

/// Event types and payloads of the whole log, in position order. Scheme ids
/// differ between databases, so each is replaced by the scheme's name.
async fn contents(store: &EventStore) -> Vec<(String, String)> {
    let schemes: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM eligibility_schemes")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let (head, _) = store.head().await.unwrap();
    store
        .read_all(0, head)
        .await
        .unwrap()
        .into_iter()
        .map(|event| {
            let mut payload = event.payload.to_string();
            for (id, name) in &schemes {
                payload = payload.replace(id.as_str(), name);
            }
            (event.event_type, payload)
        })
        .collect()
}

async fn same_seed_same_log(db: TestDatabase) {
    let other = TestDatabase::new(db.backend).await;
    let mut options = GenerateOptions::new(120, 11, local_scope());
    options.now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    options.years = 2;
    let first = EventStore::connect(&db.url).await.unwrap();
    let second = EventStore::connect(&other.url).await.unwrap();
    let first_summary = generate(&first, &options).await.unwrap();
    let second_summary = generate(&second, &options).await.unwrap();
    assert_eq!(first_summary.events, second_summary.events);
    assert_eq!(
        first_summary.device_statuses,
        second_summary.device_statuses
    );
    assert_eq!(contents(&first).await, contents(&second).await);

    options.seed = 12;
    let third_db = TestDatabase::new(db.backend).await;
    let third = EventStore::connect(&third_db.url).await.unwrap();
    generate(&third, &options).await.unwrap();
    assert_ne!(contents(&first).await, contents(&third).await);
    for store in [first, second, third] {
        store.close().await;
    }
    for database in [db, other, third_db] {
        database.cleanup().await;
    }
}

async fn non_empty_log_rejected(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    store
        .append(AppendBatch {
            command_id: None,
            metadata: Metadata::new("test", "atelier-test"),
            occurred_at: Utc::now(),
            streams: vec![StreamAppend {
                stream_id: "note-1".into(),
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent::new("noted", 1, serde_json::json!({}))],
                unique_keys: vec![],
            }],
        })
        .await
        .unwrap();
    let error = generate(&store, &GenerateOptions::new(10, 1, local_scope()))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("already contains 1 events"), "{error}");
    assert_eq!(store.head().await.unwrap().0, 1, "nothing recorded");
    let households = count(&store, "SELECT COUNT(*) FROM households").await;
    assert_eq!(households, 0);

    let empty = TestDatabase::new(db.backend).await;
    let fresh = EventStore::connect(&empty.url).await.unwrap();
    let error = generate(&fresh, &GenerateOptions::new(0, 1, local_scope()))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("at least 1"), "{error}");
    fresh.close().await;
    empty.cleanup().await;
    store.close().await;
    db.cleanup().await;
}

backend_tests!(
    small_national_log,
    same_seed_same_log,
    non_empty_log_rejected
);
