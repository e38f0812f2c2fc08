//! The client library's own unit tests (its store, vector id, SSE parser and backoff, in
//! `client/test/`), run by Node's built-in runner, so that `cargo test` is every test.

use std::process::Command;

#[test]
fn the_client_librarys_node_unit_tests_pass() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("node")
        .args(["--test", "client/test/"])
        .current_dir(root)
        .output()
        .expect("the client library's unit tests need Node.js (apt-get install nodejs; .ci/run installs it)");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node --test client/test/ failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The runner's summary: a run that found no tests would pass too.
    let passed = report
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    assert!(
        passed >= 20,
        "only {passed} client unit tests ran:\n{report}"
    );
}
