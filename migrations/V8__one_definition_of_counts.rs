//! `show_summary` gains the counts the console shows (waitlisted, paid, released) and the
//! show's currency, so both count from one definition (sql/views/show_summary.sql). V4
//! keeps including its own frozen copy (sql/views/show_summary_v4.sql): an applied
//! migration's text must never change.

pub fn migration() -> String {
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/views/show_summary.sql")).to_owned()
}
