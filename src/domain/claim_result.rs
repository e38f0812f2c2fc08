//! What a comment's `sold N` did, stored with the comment (`comments.claim_result`), so the
//! POST answer, `GET .../comments`, the snapshot and the feed all tell an operator the same:
//! "claimed #N", "waitlist k", or why not.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::claim_text::NotAClaim;

/// The outcome of a comment that reads as a claim (`null` on a comment that does not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "refused", "item_number": 101, "reason": "already_holds"}))]
pub struct ClaimResult {
    pub outcome: ClaimOutcome,
    /// The number the comment named.
    pub item_number: i32,
    /// The place the claim got in the item's waitlist (only when `waitlisted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waitlist_position: Option<i32>,
    /// Why nothing was claimed (only when `refused`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Refusal>,
}

/// What the claim came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimOutcome {
    /// A unit is the buyer's (a `claimed` claim).
    Claimed,
    /// Every unit was held: a `waitlisted` claim at `waitlist_position`.
    Waitlisted,
    /// No claim was made; `reason` says why.
    Refused,
}

/// Why a `sold N` made no claim. The whole list: the domain never refuses for want of
/// stock (a full item waitlists), and a number with no items row is one unit (the
/// contract), so an item "does not exist" only when its number cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The buyer already holds or waits for this item (one live claim per buyer and item).
    AlreadyHolds,
    /// The show is not live (scheduled or ended): comments claim nothing then.
    ShowNotLive,
    /// The number is outside 1 to 999,999 (`sold 0`, `sold 1000000`).
    NoSuchItem,
}

impl ClaimResult {
    pub fn refused(item_number: i32, reason: Refusal) -> Self {
        ClaimResult {
            outcome: ClaimOutcome::Refused,
            item_number,
            waitlist_position: None,
            reason: Some(reason),
        }
    }
}

/// What a comment's text asks for, before the show's state decides: a claim on a number,
/// a number that cannot exist, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Claim(i32),
    /// Reads as `sold N` with N out of range; the number is kept (clamped into i32) so the
    /// refusal can name it.
    OutOfRange(i32),
    None,
}

impl Attempt {
    pub fn of(parsed: Result<i32, NotAClaim>) -> Self {
        match parsed {
            Ok(n) => Attempt::Claim(n),
            Err(NotAClaim::OutOfRange(n)) => Attempt::OutOfRange(n),
            Err(_) => Attempt::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::claim_text::parse_claim;

    #[test]
    fn results_serialise_with_only_the_fields_their_outcome_has() {
        let refused = ClaimResult::refused(7, Refusal::AlreadyHolds);
        assert_eq!(
            serde_json::to_value(&refused).unwrap(),
            serde_json::json!({"outcome": "refused", "item_number": 7, "reason": "already_holds"})
        );
        let waitlisted = ClaimResult {
            outcome: ClaimOutcome::Waitlisted,
            item_number: 7,
            waitlist_position: Some(2),
            reason: None,
        };
        let json = serde_json::to_value(&waitlisted).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"outcome": "waitlisted", "item_number": 7, "waitlist_position": 2})
        );
        assert_eq!(
            serde_json::from_value::<ClaimResult>(json).unwrap(),
            waitlisted
        );
    }

    #[test]
    fn only_a_sold_with_a_number_is_an_attempt() {
        assert_eq!(Attempt::of(parse_claim("sold 12")), Attempt::Claim(12));
        assert_eq!(Attempt::of(parse_claim("sold 0")), Attempt::OutOfRange(0));
        assert_eq!(
            Attempt::of(parse_claim("SOLD #1000000!")),
            Attempt::OutOfRange(1_000_000)
        );
        assert_eq!(
            Attempt::of(parse_claim("sold 99999999999")),
            Attempt::OutOfRange(i32::MAX)
        );
        for text in [
            "sold out",
            "hello",
            "sold 101 yesterday",
            "sold -5",
            "sold 1.5",
        ] {
            assert_eq!(Attempt::of(parse_claim(text)), Attempt::None, "{text}");
        }
    }
}
