//! The analysts' views. Their SQL lives in sql/views/ (one view per file, readable on its
//! own); this migration installs them.

pub fn migration() -> String {
    [
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/views/show_summary_v4.sql")),
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/views/item_claim_funnel.sql")),
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/views/change_log.sql")),
    ]
    .join("\n")
}
