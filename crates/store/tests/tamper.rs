//! `verify_chain` on tampered copies of a log, on SQLite and on PostgreSQL:
//! each kind of change is found at the first position it breaks.

use filiere_store::testing::tampering::{
    fill_log, tamper, tamperable_copy, tampering_cases, FILLED_EVENTS,
};
use filiere_store::testing::TestDatabase;
use filiere_store::{backend_tests, EventStore};

async fn tampering_found_at_position(db: TestDatabase) {
    let store = EventStore::connect(&db.url).await.unwrap();
    fill_log(&store).await;
    let intact = store.verify_chain().await.unwrap();
    assert_eq!(intact.first_break, None);
    assert_eq!(intact.events_checked, FILLED_EVENTS);

    for (tampering, expected) in tampering_cases() {
        let copy = tamperable_copy(&db).await;
        let untouched = EventStore::connect(&copy.url).await.unwrap();
        let report = untouched.verify_chain().await.unwrap();
        assert_eq!(report.first_break, None, "copy before {tampering:?}");

        tamper(&copy, tampering).await;
        let tampered = EventStore::connect(&copy.url).await.unwrap();
        let report = tampered.verify_chain().await.unwrap();
        let (position, reason) = report
            .first_break
            .unwrap_or_else(|| panic!("{tampering:?} was not found"));
        assert_eq!(position, expected, "{tampering:?}: {reason}");
        assert!(
            report.events_checked <= expected.max(0),
            "{tampering:?}: {} events reported intact",
            report.events_checked
        );
        copy.cleanup().await;
    }
    db.cleanup().await;
}

backend_tests!(tampering_found_at_position);
