//! Every SQL statement the service runs is valid against the migrated schema.

use crate::helpers::*;

#[tokio::test]
async fn every_statement_the_service_runs_prepares_against_the_migrated_schema() {
    let database = fresh_database().await;
    let client = connect(&connection_string(&database)).await;
    let mut failures = Vec::new();
    for (name, sql) in showfeed::db::queries::ALL {
        if let Err(e) = client.prepare(sql).await {
            failures.push(format!("{name}: {}", showfeed::db::pg_message(&e)));
        }
    }
    assert!(
        failures.is_empty(),
        "statements that do not prepare:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_statement_constant_is_in_the_list_the_test_prepares() {
    let source = include_str!("../../src/db/queries.rs");
    let declared: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("sql!("))
        .filter_map(|l| l.split(',').next())
        .map(str::trim)
        .collect();
    assert!(!declared.is_empty(), "found the sql! declarations");
    let listed: Vec<&str> = showfeed::db::queries::ALL.iter().map(|(n, _)| *n).collect();
    let missing: Vec<&&str> = declared.iter().filter(|n| !listed.contains(n)).collect();
    assert!(missing.is_empty(), "not in queries::ALL: {missing:?}");
}

/// The generic plan (the one a pooled connection caches after five runs) of `sql` on a
/// database whose tables are still empty, as on a fresh deployment's first show.
async fn generic_plan(sql: &str, params: &str) -> String {
    let database = fresh_database().await;
    let client = connect(&connection_string(&database)).await;
    client
        .batch_execute("set plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    client
        .batch_execute(&format!("prepare q as {sql}"))
        .await
        .unwrap();
    let rows = client
        .query(&format!("explain execute q({params})"), &[])
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_ingest_lookups_probe_by_key_even_in_a_plan_made_on_empty_tables() {
    // A plan that reads a show's comments (or an item's live claims) by show alone and
    // filters the rest is cheap on an empty table and ruinous on a hot show: ingest of a
    // viral show fell to a few hundred comments a second with it.
    let show = "'00000000-0000-4000-8000-000000000001'";
    let plan = generic_plan(
        showfeed::db::queries::COMMENTS_BY_EXTERNAL_IDS,
        &format!("{show}, array['a', 'b']"),
    )
    .await;
    assert!(!plan.contains("Filter"), "re-post lookup filters:\n{plan}");
    assert!(
        plan.contains("external_id = e.external_id"),
        "not a key probe:\n{plan}"
    );

    let plan = generic_plan(
        showfeed::db::queries::CLAIM_ITEM_STATE,
        &format!("{show}, array[1, 2], array['ann', 'bob']"),
    )
    .await;
    assert!(
        !plan.contains("Filter: (buyer_id") && !plan.contains("Filter: (k.buyer_id"),
        "live-buyer lookup filters:\n{plan}"
    );
    assert!(
        plan.contains("claims_held_idx"),
        "held units not counted by their index:\n{plan}"
    );
}
