//! The change log as an analyst sees it with plain SQL: every write to a show's rows
//! appends exactly one `show_changes` row per changed row with a gapless seq, rings the
//! `show_changes` doorbell with the show id, records who wrote it, and cannot be forged.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use showfeed::auth::Role;
use showfeed::dev_pg::SUPERUSER;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::helpers::*;

/// One `show_changes` row.
#[derive(Debug, Clone)]
struct ChangeRow {
    seq: i64,
    entity: String,
    op: String,
    row_id: String,
    data: Value,
    actor: String,
}

async fn changes(sql: &tokio_postgres::Client, show: Uuid) -> Vec<ChangeRow> {
    sql.query(
        "select seq, entity, op, row_id, data, actor from show_changes \
         where show_id = $1 order by seq",
        &[&show],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| ChangeRow {
        seq: r.get(0),
        entity: r.get(1),
        op: r.get(2),
        row_id: r.get(3),
        data: r.get(4),
        actor: r.get(5),
    })
    .collect()
}

/// Waits for exactly one doorbell for `show` (and no second one), then checks that the
/// log grew by exactly `added` rows ending at seq `last`, and returns the new rows.
async fn expect_changes(
    sql: &tokio_postgres::Client,
    listener: &mut NotificationListener,
    show: Uuid,
    added: usize,
    last: i64,
) -> Vec<ChangeRow> {
    let n = listener
        .next_within(Duration::from_secs(5))
        .await
        .unwrap_or_else(|| panic!("a notification for the write ending at seq {last}"));
    assert_eq!(n.channel(), "show_changes");
    assert_eq!(n.payload(), show.to_string(), "the payload is the show id");
    assert!(
        listener
            .next_within(Duration::from_millis(150))
            .await
            .is_none(),
        "one transaction rings once"
    );
    let all = changes(sql, show).await;
    let seqs: Vec<i64> = all.iter().map(|c| c.seq).collect();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "gapless seqs 1..={last}"
    );
    all[all.len() - added..].to_vec()
}

fn assert_change(c: &ChangeRow, entity: &str, op: &str, row_id: &str) {
    assert_eq!(
        (c.entity.as_str(), c.op.as_str(), c.row_id.as_str()),
        (entity, op, row_id),
        "change {}",
        c.seq
    );
    assert_eq!(
        c.actor, SUPERUSER,
        "a plain session is recorded as its role"
    );
}

#[tokio::test]
async fn every_plain_sql_write_appends_one_change_per_row_and_rings_with_the_show_id() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let other = app.create_show("live").await;
    let mut listener = app.listen().await;
    let sql = app.sql().await;
    // an analyst's session in another time zone still logs UTC timestamps
    sql.batch_execute("set timezone = 'Pacific/Chatham'")
        .await
        .unwrap();

    // comments: insert, update, delete
    let comment: Uuid = sql
        .query_one(
            "insert into comments (show_id, external_id, author_id, author_name, text) \
             values ($1, 'ext-1', 'ann', 'Ann', 'hello') returning id",
            &[&show],
        )
        .await
        .unwrap()
        .get(0);
    let c = &expect_changes(&sql, &mut listener, show, 1, 1).await[0];
    assert_change(c, "comment", "insert", &comment.to_string());
    assert_eq!(c.data["text"], "hello");
    assert_eq!(c.data["show_id"], show.to_string());
    let received = c.data["received_at"].as_str().unwrap();
    assert!(received.ends_with("+00:00"), "UTC in the log: {received}");

    sql.execute(
        "update comments set text = 'edited' where id = $1",
        &[&comment],
    )
    .await
    .unwrap();
    let c = &expect_changes(&sql, &mut listener, show, 1, 2).await[0];
    assert_change(c, "comment", "update", &comment.to_string());
    assert_eq!(c.data["text"], "edited", "data is the row after the change");

    // claims: insert, update, delete
    let claim: Uuid = sql
        .query_one(
            "insert into claims (show_id, item_number, comment_id, buyer_id, buyer_name, status) \
             values ($1, 7, $2, 'ann', 'Ann', 'claimed') returning id",
            &[&show, &comment],
        )
        .await
        .unwrap()
        .get(0);
    let c = &expect_changes(&sql, &mut listener, show, 1, 3).await[0];
    assert_change(c, "claim", "insert", &claim.to_string());
    assert_eq!(c.data["status"], "claimed");
    assert_eq!(c.data["item_number"], 7);

    // Then one change per statement: (statement, entity, op, row_id, fields of `data`).
    let (comment, claim) = (comment.to_string(), claim.to_string());
    let steps = [
        (
            format!("update claims set status = 'paid' where id = '{claim}'"),
            "claim",
            "update",
            claim.clone(),
            vec![("status", json!("paid"))],
        ),
        (
            format!("delete from claims where id = '{claim}'"),
            "claim",
            "delete",
            claim.clone(),
            // a delete carries the row before it
            vec![("status", json!("paid"))],
        ),
        (
            format!("delete from comments where id = '{comment}'"),
            "comment",
            "delete",
            comment.clone(),
            vec![("text", json!("edited"))],
        ),
        // items: insert, update, delete (row_id is the item number)
        (
            format!(
                "insert into items (show_id, item_number, title, quantity) \
                 values ('{show}', 42, 'Mug', 3)"
            ),
            "item",
            "insert",
            "42".into(),
            vec![("quantity", json!(3))],
        ),
        (
            format!("update items set quantity = 5 where show_id = '{show}' and item_number = 42"),
            "item",
            "update",
            "42".into(),
            vec![("quantity", json!(5))],
        ),
        (
            format!("delete from items where show_id = '{show}' and item_number = 42"),
            "item",
            "delete",
            "42".into(),
            vec![],
        ),
        // the show itself: title, then status; the row after the change, counter included
        (
            format!("update shows set title = 'Renamed' where id = '{show}'"),
            "show",
            "update",
            show.to_string(),
            vec![("title", json!("Renamed")), ("last_seq", json!(10))],
        ),
        (
            format!("update shows set status = 'ended' where id = '{show}'"),
            "show",
            "update",
            show.to_string(),
            vec![("status", json!("ended")), ("last_seq", json!(11))],
        ),
    ];
    for (seq, (statement, entity, op, row_id, fields)) in (4..).zip(steps) {
        sql.execute(statement.as_str(), &[]).await.unwrap();
        let c = &expect_changes(&sql, &mut listener, show, 1, seq).await[0];
        assert_change(c, entity, op, &row_id);
        for (field, value) in fields {
            assert_eq!(c.data[field], value, "{statement}: data.{field}");
        }
    }

    // one statement of three rows: three changes, consecutive seqs, one doorbell
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text) \
         select $1, 'multi-' || g, 'bob', 'Bob', 'row ' || g from generate_series(1, 3) g",
        &[&show],
    )
    .await
    .unwrap();
    let rows = expect_changes(&sql, &mut listener, show, 3, 14).await;
    let texts: Vec<&str> = rows
        .iter()
        .map(|c| c.data["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["row 1", "row 2", "row 3"]);

    // the counter matches, and the other show's log was never touched
    let last_seq: i64 = sql
        .query_one("select last_seq from shows where id = $1", &[&show])
        .await
        .unwrap()
        .get(0);
    assert_eq!(last_seq, 14);
    assert!(changes(&sql, other).await.is_empty());
}

#[tokio::test]
async fn a_rolled_back_write_leaves_no_change_no_gap_and_no_doorbell() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let mut listener = app.listen().await;
    let mut sql = app.sql().await;
    let insert = "insert into comments (show_id, external_id, author_id, author_name, text) \
                  values ($1, $2, 'ann', 'Ann', 'text')";

    let tx = sql.transaction().await.unwrap();
    tx.execute(insert, &[&show, &"gone"]).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(
        listener
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "nothing is announced that did not commit"
    );

    // a rolled-back savepoint inside a committed transaction leaves no trace either
    let mut tx = sql.transaction().await.unwrap();
    let sp = tx.savepoint("undo").await.unwrap();
    sp.execute(insert, &[&show, &"undone"]).await.unwrap();
    sp.rollback().await.unwrap();
    tx.execute(insert, &[&show, &"kept"]).await.unwrap();
    tx.commit().await.unwrap();

    let rows = expect_changes(&sql, &mut listener, show, 1, 1).await;
    assert_eq!(rows[0].data["external_id"], "kept", "seq 1, no gap");
}

#[tokio::test]
async fn a_transaction_touching_two_shows_rings_once_for_each_with_its_own_seqs() {
    let app = spawn_app().await;
    // One ring per transaction is the trigger doorbell's contract, whatever mode the suite
    // runs in; relay mode's batched rings are tested in relay.rs.
    set_doorbell(&app.sql().await, "trigger").await;
    let a = app.create_show("live").await;
    let b = app.create_show("live").await;
    let mut listener = app.listen().await;
    let sql = app.sql().await;
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text) \
         values ($1, 'x1', 'ann', '', 'one'), ($2, 'x2', 'ann', '', 'two'), \
                ($1, 'x3', 'ann', '', 'three')",
        &[&a, &b],
    )
    .await
    .unwrap();
    let mut payloads: Vec<String> = listener
        .drain(Duration::from_millis(500))
        .await
        .iter()
        .map(|n| n.payload().to_owned())
        .collect();
    payloads.sort();
    let mut expected = vec![a.to_string(), b.to_string()];
    expected.sort();
    assert_eq!(payloads, expected, "one doorbell per show");
    let seqs = |rows: Vec<ChangeRow>| rows.iter().map(|c| c.seq).collect::<Vec<_>>();
    assert_eq!(seqs(changes(&sql, a).await), [1, 2]);
    assert_eq!(seqs(changes(&sql, b).await), [1]);
}

#[tokio::test]
async fn a_batch_of_500_comments_in_one_request_rings_the_doorbell_once() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let mut listener = app.listen().await;
    // Every tenth comment claims an item, so the claims trigger fires in the same
    // transaction too: still one notification.
    let batch: Vec<Value> = (0..500)
        .map(|i| {
            let text = if i % 10 == 0 {
                format!("sold {}", i + 1)
            } else {
                format!("comment {i}")
            };
            json!({"external_id": format!("b-{i}"), "author_id": format!("u{i}"), "text": text})
        })
        .collect();
    let r = app.post_comments(show, &Value::Array(batch)).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["comments"].as_array().unwrap().len(), 500);
    assert_eq!(body["claims"].as_array().unwrap().len(), 50);

    let first = listener
        .next_within(Duration::from_secs(5))
        .await
        .expect("a notification for the batch");
    assert_eq!(first.payload(), show.to_string());
    let more = listener.drain(Duration::from_millis(750)).await;
    assert!(
        more.is_empty(),
        "one request is one notification, got {} more",
        more.len()
    );

    let sql = app.sql().await;
    let (count, max): (i64, Option<i64>) = {
        let r = sql
            .query_one(
                "select count(*), max(seq) from show_changes where show_id = $1",
                &[&show],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        (count, max),
        (550, Some(550)),
        "one change per row, gapless"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_gapless_seqs_in_commit_order_and_rings_in_that_order() {
    const WRITERS: usize = 8;
    const EACH: usize = 40;
    const TOTAL: usize = WRITERS * EACH;
    let app = spawn_app().await;
    // One ring per transaction is the trigger doorbell's contract, whatever mode the suite
    // runs in; relay mode's batched rings are tested in relay.rs.
    set_doorbell(&app.sql().await, "trigger").await;
    let show = app.create_show("live").await;
    let sql = app.sql().await;
    let on: String = sql
        .query_one("show track_commit_timestamp", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(on, "on", "the test cluster tracks commit timestamps");
    let mut listener = app.listen().await;

    let mut writer_of_pid = HashMap::new();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = app.sql().await;
        let pid: i32 = client
            .query_one("select pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        writer_of_pid.insert(pid, w);
        writers.push(client);
    }
    let start = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let tasks: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(w, client)| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                for i in 0..EACH {
                    // autocommit: one transaction per comment
                    client
                        .execute(
                            "insert into comments (show_id, external_id, author_id, author_name, text) \
                             values ($1, $2, $3, $3, $4)",
                            &[&show, &format!("w{w}-{i}"), &format!("writer-{w}"), &i.to_string()],
                        )
                        .await
                        .unwrap();
                }
                client
            })
        })
        .collect();

    // While the writers run: after the k-th notification, at least k changes are
    // committed and visible to another session (nothing is announced before commit).
    let reader = app.sql().await;
    let mut senders = Vec::new();
    let mut seen_max = 0i64;
    while senders.len() < TOTAL {
        let n = listener
            .next_within(Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("only {} of {TOTAL} notifications", senders.len()));
        assert_eq!(n.payload(), show.to_string());
        senders.push(n.process_id());
        let max: i64 = reader
            .query_one(
                "select coalesce(max(seq), 0) from show_changes where show_id = $1",
                &[&show],
            )
            .await
            .unwrap()
            .get(0);
        assert!(max >= seen_max, "max(seq) never goes back");
        assert!(
            max >= senders.len() as i64,
            "notification {} arrived before its change was visible (max seq {max})",
            senders.len()
        );
        seen_max = max;
    }
    let _writers: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        listener
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "exactly one notification per committed transaction"
    );

    let rows = sql
        .query(
            "select seq, data ->> 'author_id', (data ->> 'text')::int, \
                    pg_xact_commit_timestamp(xmin) \
               from show_changes where show_id = $1 order by seq",
            &[&show],
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        seqs,
        (1..=TOTAL as i64).collect::<Vec<_>>(),
        "seqs are exactly 1..N: no gap, no duplicate"
    );

    // Each writer's own commits are sequential, so its rows' seqs follow its own order.
    let mut next_of_writer: HashMap<String, i32> = HashMap::new();
    for r in &rows {
        let author: String = r.get(1);
        let i: i32 = r.get(2);
        let next = next_of_writer.entry(author.clone()).or_default();
        assert_eq!(i, *next, "{author}'s comments are in its commit order");
        *next += 1;
    }

    // Globally: seq order is commit order.
    let committed: Vec<chrono::DateTime<chrono::Utc>> = rows.iter().map(|r| r.get(3)).collect();
    for (k, pair) in committed.windows(2).enumerate() {
        assert!(
            pair[0] <= pair[1],
            "seq {} committed after seq {}",
            k + 1,
            k + 2
        );
    }

    // Notifications are queued in commit order: the writer that sent the k-th
    // notification is the writer whose row got seq k.
    let by_notification: Vec<String> = senders
        .iter()
        .map(|pid| format!("writer-{}", writer_of_pid[pid]))
        .collect();
    let by_seq: Vec<String> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(by_notification, by_seq, "notifications arrive in seq order");
}

#[tokio::test]
async fn a_100_kb_comment_is_stored_whole_and_its_doorbell_is_only_the_show_id() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let mut listener = app.listen().await;
    let sql = app.sql().await;
    // multi-byte characters: 100 KB of text, well over the 8000-byte NOTIFY limit
    let big: String = "ü€".repeat(100 * 1024 / 5);
    assert!(big.len() >= 100 * 1024 - 5);

    // through the API
    let r = app
        .post_comments(
            show,
            &json!({"external_id": "big-api", "author_id": "ann", "text": big}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let n = listener
        .next_within(Duration::from_secs(5))
        .await
        .expect("a notification for the big comment");
    assert_eq!(n.payload(), show.to_string());
    assert!(n.payload().len() < 8000);

    // and with plain SQL
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text) \
         values ($1, 'big-sql', 'bob', 'Bob', $2)",
        &[&show, &big],
    )
    .await
    .unwrap();
    let n = listener
        .next_within(Duration::from_secs(5))
        .await
        .expect("a notification for the big SQL comment");
    assert_eq!(n.payload(), show.to_string());

    let rows = changes(&sql, show).await;
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(
            row.data["text"].as_str(),
            Some(big.as_str()),
            "the full row is logged"
        );
    }
}

/// Runs each `(case, statement)` on `session` and asserts Postgres refused it for want of
/// privilege.
async fn assert_all_denied(session: &tokio_postgres::Client, cases: &[(&str, String)]) {
    for (what, statement) in cases {
        assert_denied(session.execute(statement.as_str(), &[]).await, what);
    }
}

fn assert_denied(result: Result<u64, tokio_postgres::Error>, what: &str) {
    let e = result.expect_err(what);
    assert_eq!(
        e.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{what}: {}",
        showfeed::db::pg_message(&e)
    );
}

#[tokio::test]
async fn another_roles_writes_are_logged_as_that_role_and_it_cannot_touch_the_log() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    let body = app.comment(show, "ann", "sold 3").await;
    let claim = body["claims"][0]["id"].as_str().unwrap().to_owned();
    let claim_id: Uuid = claim.parse().unwrap();

    // Roles are cluster-wide and the cluster is shared by the run: a unique name.
    let role = format!("clerk_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let admin = app.sql().await;
    admin
        .batch_execute(&format!(
            "create role {role} login; grant select, update on claims to {role};"
        ))
        .await
        .unwrap();
    let clerk = app.sql_as(&role).await;

    let updated = clerk
        .execute(
            "update claims set status = 'paid' where id = $1",
            &[&claim_id],
        )
        .await
        .expect("the clerk may update claims");
    assert_eq!(updated, 1);
    let last = changes(&admin, show).await.pop().unwrap();
    assert_eq!(
        (last.entity.as_str(), last.op.as_str(), last.row_id.as_str()),
        ("claim", "update", claim.as_str())
    );
    assert_eq!(last.data["status"], "paid");
    assert_eq!(last.actor, role, "recorded as the login role");

    // it cannot borrow another name through the service's setting
    clerk
        .batch_execute("set showfeed.actor = 'the-boss'")
        .await
        .unwrap();
    clerk
        .execute(
            "update claims set buyer_name = 'Ann B.' where id = $1",
            &[&claim_id],
        )
        .await
        .unwrap();
    let last = changes(&admin, show).await.pop().unwrap();
    assert_eq!(last.data["buyer_name"], "Ann B.");
    assert_eq!(
        last.actor, role,
        "the actor setting is not the clerk's to set"
    );

    let before = changes(&admin, show).await.len();
    let forbidden = [
        (
            "insert into show_changes",
            format!(
                "insert into show_changes (show_id, seq, entity, op, row_id, data, actor) \
                 values ('{show}', 1000, 'claim', 'update', 'x', '{{}}', 'forged')"
            ),
        ),
        (
            "update show_changes",
            "update show_changes set actor = 'forged'".into(),
        ),
        (
            "delete from show_changes",
            "delete from show_changes".into(),
        ),
        ("truncate show_changes", "truncate show_changes".into()),
        (
            "calling the append function directly",
            format!(
                "select showfeed_append_changes('claim', 'update', \
                 array[jsonb_build_object('id', 'x', 'show_id', '{show}'::uuid)])"
            ),
        ),
    ];
    assert_all_denied(&clerk, &forbidden).await;
    let after = changes(&admin, show).await;
    assert_eq!(after.len(), before, "the log is unchanged");
    assert!(after.iter().all(|c| c.actor != "forged"));

    drop(clerk);
    let _ = admin
        .batch_execute(&format!("drop owned by {role}; drop role {role}"))
        .await;
}

#[tokio::test]
async fn a_role_granted_every_table_still_cannot_forge_erase_or_renumber_the_log() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.comment(show, "ann", "sold 3").await;

    let role = format!("analyst_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let admin = app.sql().await;
    admin
        .batch_execute(&format!(
            "create role {role} login; grant all on all tables in schema public to {role};"
        ))
        .await
        .unwrap();
    let analyst = app.sql_as(&role).await;

    // its own writes work, and are logged as itself
    analyst
        .execute(
            "insert into comments (show_id, external_id, author_id, author_name, text) \
             values ($1, 'by-analyst', 'x', 'x', 'fixed a typo')",
            &[&show],
        )
        .await
        .expect("an analyst may write comments");
    let log = changes(&admin, show).await;
    assert_eq!(log.len(), 3);
    assert_eq!(log[2].actor, role);

    let forbidden = [
        (
            "insert into show_changes",
            format!(
                "insert into show_changes (show_id, seq, entity, op, row_id, data, actor) \
                 values ('{show}', 4, 'claim', 'update', 'x', '{{}}', 'forged')"
            ),
        ),
        (
            "update show_changes",
            "update show_changes set actor = 'forged'".into(),
        ),
    ];
    assert_all_denied(&analyst, &forbidden).await;
    analyst
        .batch_execute("set showfeed.prune = 'on'")
        .await
        .unwrap();
    let forbidden = [
        (
            "delete from show_changes, even claiming to prune",
            "delete from show_changes".into(),
        ),
        ("truncate show_changes", "truncate show_changes".into()),
        (
            "skipping seqs",
            format!("update shows set last_seq = last_seq + 10 where id = '{show}'"),
        ),
        (
            "reusing seqs",
            format!("update shows set last_seq = 0 where id = '{show}'"),
        ),
    ];
    assert_all_denied(&analyst, &forbidden).await;
    assert_eq!(changes(&admin, show).await.len(), 3, "the log is unchanged");

    // and the show's next change still gets the next seq
    analyst
        .execute(
            "update shows set title = 'Renamed by analyst' where id = $1",
            &[&show],
        )
        .await
        .unwrap();
    let log = changes(&admin, show).await;
    assert_eq!(log.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(
        (log[3].entity.as_str(), log[3].actor.as_str()),
        ("show", role.as_str())
    );

    drop(analyst);
    let _ = admin
        .batch_execute(&format!("drop owned by {role}; drop role {role}"))
        .await;
}

#[tokio::test]
async fn the_services_own_role_cannot_rewrite_the_log_except_by_pruning() {
    let app = spawn_app().await;
    let show = app.create_show("live").await;
    app.comment(show, "ann", "hello").await;
    app.comment(show, "bob", "hi").await;
    let sql = app.sql().await;

    let forbidden = [
        (
            "update is refused",
            "update show_changes set actor = 'someone else'".into(),
        ),
        (
            "delete is refused",
            format!("delete from show_changes where show_id = '{show}'"),
        ),
        (
            "the counter is the triggers' alone",
            format!("update shows set last_seq = 100 where id = '{show}'"),
        ),
    ];
    assert_all_denied(&sql, &forbidden).await;
    assert_eq!(changes(&sql, show).await.len(), 2);

    // pruning: a transaction that says so may delete, but still not update
    let mut sql = sql;
    let tx = sql.transaction().await.unwrap();
    tx.execute(showfeed::db::queries::ALLOW_PRUNE, &[])
        .await
        .unwrap();
    let e = tx
        .execute("update show_changes set actor = 'someone else'", &[])
        .await
        .expect_err("update is refused even while pruning");
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    tx.rollback().await.unwrap();

    let tx = sql.transaction().await.unwrap();
    tx.execute(showfeed::db::queries::ALLOW_PRUNE, &[])
        .await
        .unwrap();
    let deleted = tx
        .execute(
            "delete from show_changes where show_id = $1 and seq = 1",
            &[&show],
        )
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    tx.commit().await.unwrap();

    // the permission ended with that transaction
    let e = sql
        .execute("delete from show_changes where show_id = $1", &[&show])
        .await
        .expect_err("delete is refused again");
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    let left: Vec<i64> = changes(&sql, show).await.iter().map(|c| c.seq).collect();
    assert_eq!(left, [2]);

    // `showfeed prune` removes only what is older than asked
    let config: tokio_postgres::Config = connection_string(&app.database).parse().unwrap();
    let db = showfeed::db::Db::connect(config, 2).await.unwrap();
    assert_eq!(db.prune_changes(1).await.unwrap(), 0);
    assert_eq!(db.prune_changes(0).await.unwrap(), 1);
    assert!(changes(&sql, show).await.is_empty());
}

#[tokio::test]
async fn changes_made_through_the_api_record_the_tokens_subject_as_actor() {
    let app = spawn_app().await;
    let show = app.create_show("scheduled").await;
    let operator = app.mint("op-anna", Role::Operator, None, 600);
    let connector = app.mint("connector-7", Role::Ingest, None, 600);

    let r = app
        .request_as(
            Some(&operator),
            reqwest::Method::PATCH,
            &format!("/api/shows/{show}"),
            Some(&json!({"status": "live"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .request_as(
            Some(&operator),
            reqwest::Method::PUT,
            &format!("/api/shows/{show}/items/5"),
            Some(&json!({"title": "Vase", "quantity": 1})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .request_as(
            Some(&connector),
            reqwest::Method::POST,
            &format!("/api/shows/{show}/comments"),
            Some(&json!({"external_id": "c1", "author_id": "buyer", "text": "sold 5"})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let claim = body["claims"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .request_as(
            Some(&operator),
            reqwest::Method::PATCH,
            &format!("/api/claims/{claim}"),
            Some(&json!({"status": "released"})),
        )
        .await;
    assert_eq!(r.status(), 200);

    let r = app
        .request_as(
            Some(&operator),
            reqwest::Method::PUT,
            &format!("/api/shows/{show}/items/5"),
            Some(&json!({"title": "Vase", "quantity": 2})),
        )
        .await;
    assert_eq!(r.status(), 200);

    let sql = app.sql().await;
    // and a plain session on the same database right after is itself again
    sql.execute(
        "insert into comments (show_id, external_id, author_id, author_name, text) \
         values ($1, 'sql-1', 'x', 'x', 'by hand')",
        &[&show],
    )
    .await
    .unwrap();
    let got: Vec<(String, String, String)> = changes(&sql, show)
        .await
        .into_iter()
        .map(|c| (c.entity, c.op, c.actor))
        .collect();
    let want: Vec<(String, String, String)> = [
        ("show", "update", "op-anna"),
        ("item", "insert", "op-anna"),
        ("comment", "insert", "connector-7"),
        ("claim", "insert", "connector-7"),
        ("claim", "update", "op-anna"),
        ("item", "update", "op-anna"),
        ("comment", "insert", SUPERUSER),
    ]
    .iter()
    .map(|(e, o, a)| (e.to_string(), o.to_string(), a.to_string()))
    .collect();
    assert_eq!(got, want);
}
