//! Every SQL statement the service runs, one file each under `sql/`. Nothing checks them at
//! compile time, so `tests/api/queries.rs` prepares each against a migrated database.

macro_rules! sql {
    ($name:ident, $path:literal) => {
        pub const $name: &str = include_str!(concat!("../../sql/", $path));
    };
}

sql!(INSERT_SHOW, "shows/insert.sql");
sql!(LIST_SHOWS, "shows/list.sql");
sql!(GET_SHOW, "shows/get.sql");
sql!(LOCK_SHOW, "shows/lock.sql");
sql!(UPDATE_SHOW, "shows/update.sql");
sql!(SHOW_LAST_SEQ, "shows/last_seq.sql");
sql!(SHOW_SNAPSHOT, "shows/snapshot.sql");
sql!(UPSERT_ITEM, "items/upsert.sql");
sql!(LIST_ITEMS, "items/list.sql");
sql!(INSERT_COMMENTS, "comments/insert_batch.sql");
sql!(PAGE_COMMENTS, "comments/page.sql");
sql!(SEARCH_COMMENTS, "comments/search.sql");
sql!(COMMENTS_BY_EXTERNAL_IDS, "comments/by_external_ids.sql");
sql!(CLAIM_ITEM_STATE, "claims/item_state.sql");
sql!(INSERT_CLAIMS, "claims/insert_batch.sql");
sql!(LOCK_CLAIM, "claims/lock.sql");
sql!(SHOW_OF_CLAIM, "claims/show_of.sql");
sql!(SET_CLAIM_STATUS, "claims/set_status.sql");
sql!(PROMOTE_WAITLIST, "claims/promote.sql");
sql!(LIST_CLAIMS, "claims/list.sql");
sql!(CLAIMS_BY_COMMENTS, "claims/by_comments.sql");
sql!(PAY_BUYER, "claims/pay_buyer.sql");
sql!(CHANGES_AFTER, "show_changes/after.sql");
sql!(PRUNE_CHANGES, "show_changes/prune.sql");
sql!(ALLOW_PRUNE, "show_changes/allow_prune.sql");
sql!(INSERT_SIGNIN_CODE, "sessions/insert_code.sql");
sql!(REDEEM_SIGNIN_CODE, "sessions/redeem_code.sql");
sql!(GET_SESSION, "sessions/get.sql");
sql!(TOUCH_SESSION, "sessions/touch.sql");
sql!(DELETE_SESSION, "sessions/delete.sql");
sql!(SWEEP_SESSIONS, "sessions/sweep.sql");
sql!(SET_ACTOR, "show_changes/set_actor.sql");
sql!(NOTIFY_QUEUE_USAGE, "listener/queue_usage.sql");
sql!(TERMINATE_STUCK_LISTENERS, "listener/terminate_stuck.sql");
sql!(RELAY_TRY_LEAD, "relay/try_lead.sql");
sql!(RELAY_LOOK, "relay/look.sql");
sql!(RELAY_RING, "relay/ring.sql");
sql!(RELAY_DEPOSE, "relay/depose.sql");
sql!(DOORBELL_MODE, "relay/mode.sql");
sql!(SET_DOORBELL_MODE, "relay/set_mode.sql");

/// All of the above, for the test that prepares each one.
pub const ALL: &[(&str, &str)] = &[
    ("INSERT_SHOW", INSERT_SHOW),
    ("LIST_SHOWS", LIST_SHOWS),
    ("GET_SHOW", GET_SHOW),
    ("LOCK_SHOW", LOCK_SHOW),
    ("UPDATE_SHOW", UPDATE_SHOW),
    ("SHOW_LAST_SEQ", SHOW_LAST_SEQ),
    ("SHOW_SNAPSHOT", SHOW_SNAPSHOT),
    ("UPSERT_ITEM", UPSERT_ITEM),
    ("LIST_ITEMS", LIST_ITEMS),
    ("INSERT_COMMENTS", INSERT_COMMENTS),
    ("PAGE_COMMENTS", PAGE_COMMENTS),
    ("SEARCH_COMMENTS", SEARCH_COMMENTS),
    ("COMMENTS_BY_EXTERNAL_IDS", COMMENTS_BY_EXTERNAL_IDS),
    ("CLAIM_ITEM_STATE", CLAIM_ITEM_STATE),
    ("INSERT_CLAIMS", INSERT_CLAIMS),
    ("LOCK_CLAIM", LOCK_CLAIM),
    ("SHOW_OF_CLAIM", SHOW_OF_CLAIM),
    ("SET_CLAIM_STATUS", SET_CLAIM_STATUS),
    ("PROMOTE_WAITLIST", PROMOTE_WAITLIST),
    ("LIST_CLAIMS", LIST_CLAIMS),
    ("CLAIMS_BY_COMMENTS", CLAIMS_BY_COMMENTS),
    ("PAY_BUYER", PAY_BUYER),
    ("CHANGES_AFTER", CHANGES_AFTER),
    ("PRUNE_CHANGES", PRUNE_CHANGES),
    ("ALLOW_PRUNE", ALLOW_PRUNE),
    ("INSERT_SIGNIN_CODE", INSERT_SIGNIN_CODE),
    ("REDEEM_SIGNIN_CODE", REDEEM_SIGNIN_CODE),
    ("GET_SESSION", GET_SESSION),
    ("TOUCH_SESSION", TOUCH_SESSION),
    ("DELETE_SESSION", DELETE_SESSION),
    ("SWEEP_SESSIONS", SWEEP_SESSIONS),
    ("SET_ACTOR", SET_ACTOR),
    ("NOTIFY_QUEUE_USAGE", NOTIFY_QUEUE_USAGE),
    ("TERMINATE_STUCK_LISTENERS", TERMINATE_STUCK_LISTENERS),
    ("RELAY_TRY_LEAD", RELAY_TRY_LEAD),
    ("RELAY_LOOK", RELAY_LOOK),
    ("RELAY_RING", RELAY_RING),
    ("RELAY_DEPOSE", RELAY_DEPOSE),
    ("DOORBELL_MODE", DOORBELL_MODE),
    ("SET_DOORBELL_MODE", SET_DOORBELL_MODE),
];
