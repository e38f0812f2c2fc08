//! The data model: shows, items, comments and claims as Rust types, and the pure rules
//! over them (claim text, allocation, transitions, input checks). No I/O; tested inline.
//!
//! Request bodies arrive as `*Body` types (what serde reads) and become checked types
//! through `TryFrom` (`NewShow`, `ShowPatch`, `ItemPut`, `CommentBatch`, `StatusChange`),
//! so a service function can only be handed input that passed the rules. Rows (`Show`,
//! `Item`, `Comment`, `Claim`) serialise exactly as Postgres encodes the same row in the
//! feed's `data`.

pub mod cart;
pub mod claim;
pub mod claim_result;
pub mod claim_text;
pub mod comment;
pub mod comment_filter;
pub mod currency;
pub mod ids;
pub mod input;
pub mod item;
pub mod show;
pub mod time;

pub use claim::{Claim, ClaimStatus, StatusChange, Transition};
pub use claim_result::{ClaimOutcome, ClaimResult, Refusal};
pub use comment::{Comment, CommentBatch, NewComment};
pub use comment_filter::{CommentFilter, Only};
pub use ids::{ClaimId, CommentId, ShowId};
pub use input::Invalid;
pub use item::{Item, ItemNumber, ItemPut};
pub use show::{NewShow, Show, ShowPatch, ShowStatus};
