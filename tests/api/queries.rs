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
