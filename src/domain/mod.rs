//! Pure types and rules: no I/O, tested inline.

pub mod claim;
pub mod claim_text;
pub mod ids;
pub mod input;

pub use claim::{ClaimStatus, Transition};
pub use ids::ShowId;
