//! Contract suite of `EventStore::append_bulk`, run on SQLite and on
//! PostgreSQL: the same positions, versions, unique keys, idempotency,
//! metadata and hash chain as one `append` per batch, all or nothing, and
//! normal appends still work while a bulk append runs.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use filiere_domain::HouseholdId;
use filiere_store::households::HouseholdIdentity;
use filiere_store::testing::TestDatabase;
use filiere_store::{
    backend_tests, AppendBatch, AppendResult, EventStore, ExpectedVersion, Metadata, NewEvent,
    StoreError, StreamAppend, UniqueKey,
};
use serde_json::json;
use uuid::Uuid;

async fn open(db: &TestDatabase) -> EventStore {
    EventStore::connect(&db.url)
        .await
        .expect("test database opens")
}

fn stream(stream_id: &str, expected: ExpectedVersion, count: usize) -> StreamAppend {
    StreamAppend {
        stream_id: stream_id.to_string(),
        expected,
        events: (0..count)
            .map(|i| NewEvent::new("noted", 1, json!({ "n": i, "stream": stream_id })))
            .collect(),
        unique_keys: vec![],
    }
}

fn batch(actor: &str, minute: i64, streams: Vec<StreamAppend>) -> AppendBatch {
    AppendBatch {
        command_id: None,
        metadata: Metadata::new(actor, "workshop-a"),
        occurred_at: Utc.with_ymd_and_hms(2024, 1, 8, 9, 0, 0).unwrap() + Duration::minutes(minute),
        streams,
    }
}

/// Positions are 1..=head without a gap, each stream's versions are
/// 1..=version in position order, and `streams` contains each last version.
async fn check_log_shape(store: &EventStore) {
    let (head, _) = store.head().await.unwrap();
    let events = store.read_all(0, head + 10).await.unwrap();
    assert_eq!(events.len() as i64, head, "one event per position");
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.position, index as i64 + 1, "positions are contiguous");
        let version = versions.entry(event.stream_id.clone()).or_default();
        *version += 1;
        assert_eq!(
            event.stream_version, *version,
            "versions of {} are contiguous",
            event.stream_id
        );
    }
    for (stream_id, version) in versions {
        assert_eq!(
            store.stream_version(&stream_id).await.unwrap(),
            Some(version),
            "streams row of {stream_id}"
        );
    }
    let report = store.verify_chain().await.unwrap();
    assert_eq!(report.first_break, None);
    assert_eq!(report.events_checked, head);
}

async fn bulk_keeps_invariants(db: TestDatabase) {
    let store = open(&db).await;
    let earlier_command = Uuid::now_v7();
    let mut earlier = batch(
        "test:alice",
        0,
        vec![stream("a", ExpectedVersion::NoStream, 2)],
    );
    earlier.command_id = Some(earlier_command);
    let earlier_result = store.append(earlier.clone()).await.unwrap();

    let repeated_command = Uuid::now_v7();
    let mut keyed = stream("b", ExpectedVersion::NoStream, 1);
    keyed.unique_keys = vec![UniqueKey::new("device_code", "B-1")];
    let mut first = batch(
        "test:bob",
        5,
        vec![keyed, stream("a", ExpectedVersion::Exact(2), 3)],
    );
    first.command_id = Some(repeated_command);
    first.metadata.causation_id = Some(Uuid::now_v7());
    let mut again_earlier = earlier.clone();
    again_earlier.occurred_at += Duration::hours(1);
    let mut again_first = first.clone();
    again_first.occurred_at += Duration::hours(1);
    let batches = vec![
        first.clone(),
        batch(
            "test:carol",
            10,
            vec![stream("b", ExpectedVersion::Exact(1), 2)],
        ),
        again_earlier,
        again_first,
        batch("test:dan", 20, vec![]),
        batch(
            "test:erin",
            30,
            vec![
                stream("c", ExpectedVersion::Any, 1),
                stream("a", ExpectedVersion::Exact(5), 1),
            ],
        ),
    ];
    let results = store.append_bulk(&batches).await.unwrap();

    let expected = vec![
        AppendResult {
            first_position: 3,
            last_position: 6,
            stream_versions: vec![("b".into(), 1), ("a".into(), 5)],
            duplicate: false,
        },
        AppendResult {
            first_position: 7,
            last_position: 8,
            stream_versions: vec![("b".into(), 3)],
            duplicate: false,
        },
        AppendResult {
            duplicate: true,
            ..earlier_result
        },
        AppendResult {
            first_position: 3,
            last_position: 6,
            stream_versions: vec![("b".into(), 1), ("a".into(), 5)],
            duplicate: true,
        },
        AppendResult {
            first_position: 0,
            last_position: 0,
            stream_versions: vec![],
            duplicate: false,
        },
        AppendResult {
            first_position: 9,
            last_position: 10,
            stream_versions: vec![("c".into(), 1), ("a".into(), 6)],
            duplicate: false,
        },
    ];
    assert_eq!(results, expected);
    check_log_shape(&store).await;

    let events = store.read_all(2, 100).await.unwrap();
    assert_eq!(events[0].metadata, first.metadata, "metadata per batch");
    assert_eq!(events[0].command_id, Some(repeated_command));
    assert_eq!(events[0].occurred_at, first.occurred_at);
    assert_eq!(events[0].event_id, first.streams[0].events[0].event_id);
    assert_eq!(events[4].metadata.actor, "test:carol");
    assert_eq!(events[6].metadata.actor, "test:erin");
    assert_eq!(events[6].command_id, None);
    assert_eq!(
        store.stream_for_key("device_code", "B-1").await.unwrap(),
        Some("b".to_string())
    );

    // The repeated command stays idempotent for a later normal append.
    let replay = store.append(first).await.unwrap();
    assert_eq!(replay, expected[3]);
    assert_eq!(store.head().await.unwrap().0, 10);
    store.close().await;
    db.cleanup().await;
}

async fn bulk_is_all_or_nothing(db: TestDatabase) {
    let store = open(&db).await;
    let mut owner = stream("owner", ExpectedVersion::NoStream, 1);
    owner.unique_keys = vec![UniqueKey::new("device_serial", "SN-1")];
    store.append(batch("test", 0, vec![owner])).await.unwrap();
    let head_before = store.head().await.unwrap();

    let mut claims = stream("x", ExpectedVersion::NoStream, 1);
    claims.unique_keys = vec![UniqueKey::new("device_code", "X-1")];
    let stale = vec![
        batch("test", 1, vec![claims.clone()]),
        batch(
            "test",
            2,
            vec![stream("owner", ExpectedVersion::Exact(7), 1)],
        ),
    ];
    let error = store.append_bulk(&stale).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { stream_id, actual: 1, .. } if stream_id == "owner"),
        "{error}"
    );

    let mut taken = stream("y", ExpectedVersion::NoStream, 1);
    taken.unique_keys = vec![UniqueKey::new("device_serial", "SN-1")];
    let error = store
        .append_bulk(&[
            batch("test", 3, vec![claims.clone()]),
            batch("test", 4, vec![taken]),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::UniqueKeyTaken { owner, .. } if owner == "owner"),
        "{error}"
    );

    let mut twice = stream("z", ExpectedVersion::NoStream, 1);
    twice.unique_keys = vec![UniqueKey::new("device_code", "X-1")];
    let error = store
        .append_bulk(&[
            batch("test", 5, vec![claims]),
            batch("test", 6, vec![twice]),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::UniqueKeyTaken { owner, .. } if owner == "x"),
        "a key claimed twice in one bulk append: {error}"
    );

    assert_eq!(store.head().await.unwrap(), head_before, "nothing recorded");
    assert_eq!(store.stream_version("x").await.unwrap(), None);
    assert_eq!(
        store.stream_for_key("device_code", "X-1").await.unwrap(),
        None
    );
    check_log_shape(&store).await;
    store.close().await;
    db.cleanup().await;
}

async fn normal_append_during_bulk(db: TestDatabase) {
    let store = open(&db).await;
    let batches: Vec<AppendBatch> = (0..500)
        .map(|i| {
            batch(
                "test:bulk",
                i,
                vec![stream(&format!("bulk-{i}"), ExpectedVersion::NoStream, 10)],
            )
        })
        .collect();
    let writer = store.clone();
    let normal = async move {
        let mut results = Vec::new();
        for i in 0..20 {
            let single = batch(
                "test:scan",
                i,
                vec![stream(&format!("scan-{i}"), ExpectedVersion::NoStream, 1)],
            );
            results.push(writer.append(single).await);
        }
        results
    };
    let (bulk, singles) = tokio::join!(store.append_bulk(&batches), normal);
    bulk.unwrap();
    for result in singles {
        result.unwrap();
    }
    assert_eq!(store.head().await.unwrap().0, 500 * 10 + 20);
    check_log_shape(&store).await;
    store.close().await;
    db.cleanup().await;
}

async fn households_recorded_in_bulk(db: TestDatabase) {
    let store = open(&db).await;
    let at = Utc.with_ymd_and_hms(2023, 5, 1, 8, 0, 0).unwrap();
    let identity = |last_name: &str| HouseholdIdentity {
        first_name: "Léa".into(),
        last_name: last_name.into(),
        phone: Some("06 11 22 33 44".into()),
        email: None,
        address: None,
    };
    let ids: Vec<HouseholdId> = (0..3).map(|_| HouseholdId::generate()).collect();
    let rows = vec![
        (ids[0], identity("Martin"), at),
        (ids[1], identity(" Petit "), at + Duration::days(1)),
        (ids[2], identity("Roux"), at),
    ];
    store.insert_households(&rows).await.unwrap();
    let second = store.household(ids[1]).await.unwrap().unwrap();
    assert_eq!(second.created_at, at + Duration::days(1));
    assert_eq!(
        second.identity.unwrap().last_name,
        "Petit",
        "identities are trimmed"
    );

    let invalid = vec![
        (HouseholdId::generate(), identity("Nguyen"), at),
        (HouseholdId::generate(), identity(" "), at),
    ];
    let error = store.insert_households(&invalid).await.unwrap_err();
    assert!(error.to_string().contains("last name"), "{error}");
    assert_eq!(store.household(invalid[0].0).await.unwrap(), None);
    store.close().await;
    db.cleanup().await;
}

backend_tests!(
    bulk_keeps_invariants,
    bulk_is_all_or_nothing,
    normal_append_during_bulk,
    households_recorded_in_bulk,
);
