//! Claims: the row, statuses and their transitions, and how new claims get units or
//! waitlist places.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::claim_result::{ClaimOutcome, ClaimResult, Refusal};
use super::input::Invalid;
use super::{time, ClaimId, CommentId, ShowId};

/// `claims.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClaimStatus {
    Claimed,
    Waitlisted,
    Released,
    Paid,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Claimed => "claimed",
            ClaimStatus::Waitlisted => "waitlisted",
            ClaimStatus::Released => "released",
            ClaimStatus::Paid => "paid",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "claimed" => ClaimStatus::Claimed,
            "waitlisted" => ClaimStatus::Waitlisted,
            "released" => ClaimStatus::Released,
            "paid" => ClaimStatus::Paid,
            _ => return None,
        })
    }
}

/// A `claims` row.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "9a4c1e2b-7d3f-4b6a-8c5e-1f2a3b4c5d6e", "show_id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10",
    "item_number": 101, "comment_id": "0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11",
    "buyer_id": "u1", "buyer_name": "Ann", "status": "claimed", "waitlist_position": null,
    "created_at": "2026-12-04T18:02:00.25+00:00", "updated_at": "2026-12-04T18:02:00.25+00:00"
}))]
pub struct Claim {
    pub id: ClaimId,
    pub show_id: ShowId,
    pub item_number: i32,
    /// The comment that made the claim (`None` once that comment is deleted).
    pub comment_id: Option<CommentId>,
    pub buyer_id: String,
    pub buyer_name: String,
    pub status: ClaimStatus,
    /// Place in the item's waitlist; kept after promotion, never renumbered.
    pub waitlist_position: Option<i32>,
    #[serde(serialize_with = "time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `PATCH /api/claims/{id}`, as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "paid"}))]
pub struct ClaimPatchBody {
    /// `released` or `paid`; another status is 422, a transition the claim's current
    /// status does not allow is 409.
    #[schema(value_type = SettableClaimStatus)]
    pub status: String,
}

/// A status an operator may set a claim to.
// Only the document uses it, so a generated client offers just these two; the field itself
// stays a string so another status is a 422 that names it rather than a parse error.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // never built: it describes `ClaimPatchBody::status`
enum SettableClaimStatus {
    Released,
    Paid,
}

/// What an operator may set a claim to: `Released` or `Paid` (whether the claim's current
/// status allows it is [`check_transition`]'s question, answered under the show's lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange(ClaimStatus);

impl StatusChange {
    pub fn to(self) -> ClaimStatus {
        self.0
    }
}

impl TryFrom<ClaimPatchBody> for StatusChange {
    type Error = Invalid;

    fn try_from(body: ClaimPatchBody) -> Result<Self, Invalid> {
        match ClaimStatus::parse(&body.status) {
            Some(s @ (ClaimStatus::Released | ClaimStatus::Paid)) => Ok(StatusChange(s)),
            _ => Err(Invalid(format!(
                "status must be released or paid, not {:?}",
                body.status
            ))),
        }
    }
}

/// A refused status change (the API answers 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} claim cannot become {}", from.as_str(), to.as_str())]
pub struct Transition {
    pub from: ClaimStatus,
    pub to: ClaimStatus,
}

/// claimed -> paid | released, waitlisted -> released; nothing else (paid is terminal).
pub fn check_transition(from: ClaimStatus, to: ClaimStatus) -> Result<(), Transition> {
    use ClaimStatus::*;
    match (from, to) {
        (Claimed, Paid) | (Claimed, Released) | (Waitlisted, Released) => Ok(()),
        _ => Err(Transition { from, to }),
    }
}

/// Why a release cannot be undone.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UndoRefused {
    #[error("the claim is {0}, not released")]
    NotReleased(&'static str),
    #[error("the release is {0:.0} s old; it can be undone for {1} s")]
    TooLate(f64, u64),
    #[error("the unit is taken again (the next buyer in line was promoted, or the quantity fell); undo would take it from them")]
    UnitTaken,
    #[error("the buyer has claimed the item again")]
    ClaimedAgain,
}

/// Whether a released claim may be claimed again: within `window_secs` of its release, only
/// while the item has a free unit (a release that promoted the next buyer gave its unit
/// away, and an undo never takes it back) and the buyer holds no other live claim on it.
/// The undo then gives the free unit back to this buyer, as a claim made now would.
pub fn check_undo(
    status: ClaimStatus,
    released_secs_ago: f64,
    window_secs: u64,
    buyer: &str,
    item: &ItemState,
) -> Result<(), UndoRefused> {
    if status != ClaimStatus::Released {
        return Err(UndoRefused::NotReleased(status.as_str()));
    }
    if released_secs_ago > window_secs as f64 {
        return Err(UndoRefused::TooLate(released_secs_ago, window_secs));
    }
    if item.live_buyers.contains(buyer) {
        return Err(UndoRefused::ClaimedAgain);
    }
    if item.held >= item.quantity {
        return Err(UndoRefused::UnitTaken);
    }
    Ok(())
}

/// What the rules need to know of one item, read under the show's lock.
#[derive(Debug, Clone, Default)]
pub struct ItemState {
    /// Units for sale (`items.quantity`, 1 when the item has no row).
    pub quantity: i64,
    /// Units held by claimed or paid claims.
    pub held: i64,
    /// Highest waitlist position ever given (positions are never reused).
    pub last_position: i64,
    /// Of the buyers the caller asked about, those with a claimed or waitlisted claim on
    /// the item.
    pub live_buyers: HashSet<String>,
}

/// A comment that parsed as a claim.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub comment_id: CommentId,
    pub item_number: i32,
    pub buyer_id: String,
    pub buyer_name: String,
}

/// A claim to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim {
    pub comment_id: CommentId,
    pub item_number: i32,
    pub buyer_id: String,
    pub buyer_name: String,
    pub status: ClaimStatus,
    pub waitlist_position: Option<i32>,
}

/// What allocation gave one candidate: a claim to insert, or why none.
pub type Allocation = Result<NewClaim, Refusal>;

/// Gives each candidate, in comment order, a unit while any remain, else the next
/// waitlist position. A buyer who already holds a live claim on the item gets nothing
/// (`AlreadyHolds`). One allocation per candidate, in their order.
pub fn allocate(
    states: &mut HashMap<i32, ItemState>,
    candidates: Vec<Candidate>,
) -> Vec<Allocation> {
    let mut claims = Vec::with_capacity(candidates.len());
    for c in candidates {
        let state = states.entry(c.item_number).or_insert_with(|| ItemState {
            quantity: 1,
            ..ItemState::default()
        });
        if !state.live_buyers.insert(c.buyer_id.clone()) {
            claims.push(Err(Refusal::AlreadyHolds));
            continue;
        }
        let (status, waitlist_position) = if state.held < state.quantity {
            state.held += 1;
            (ClaimStatus::Claimed, None)
        } else {
            state.last_position += 1;
            (ClaimStatus::Waitlisted, Some(state.last_position as i32))
        };
        claims.push(Ok(NewClaim {
            comment_id: c.comment_id,
            item_number: c.item_number,
            buyer_id: c.buyer_id,
            buyer_name: c.buyer_name,
            status,
            waitlist_position,
        }));
    }
    claims
}

impl ClaimResult {
    /// What a comment's claim on `item_number` came to.
    pub fn of(item_number: i32, allocation: &Allocation) -> Self {
        match allocation {
            Ok(claim) if claim.status == ClaimStatus::Waitlisted => ClaimResult {
                outcome: ClaimOutcome::Waitlisted,
                item_number,
                waitlist_position: claim.waitlist_position,
                reason: None,
            },
            Ok(_) => ClaimResult {
                outcome: ClaimOutcome::Claimed,
                item_number,
                waitlist_position: None,
                reason: None,
            },
            Err(reason) => ClaimResult::refused(item_number, *reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(buyer: &str, item: i32) -> Candidate {
        Candidate {
            comment_id: CommentId(uuid::Uuid::new_v4()),
            item_number: item,
            buyer_id: buyer.into(),
            buyer_name: buyer.into(),
        }
    }

    #[test]
    fn units_go_first_then_the_waitlist_in_comment_order() {
        let mut states = HashMap::from([(
            7,
            ItemState {
                quantity: 2,
                ..Default::default()
            },
        )]);
        let claims: Vec<NewClaim> = allocate(
            &mut states,
            ["a", "b", "c", "d"]
                .iter()
                .map(|b| candidate(b, 7))
                .collect(),
        )
        .into_iter()
        .flatten()
        .collect();
        let got: Vec<_> = claims
            .iter()
            .map(|c| (c.buyer_id.as_str(), c.status, c.waitlist_position))
            .collect();
        use ClaimStatus::*;
        assert_eq!(
            got,
            vec![
                ("a", Claimed, None),
                ("b", Claimed, None),
                ("c", Waitlisted, Some(1)),
                ("d", Waitlisted, Some(2))
            ]
        );
    }

    #[test]
    fn an_item_without_a_row_has_one_unit_and_a_buyer_claims_once() {
        let mut states = HashMap::new();
        let allocations = allocate(
            &mut states,
            vec![candidate("a", 3), candidate("a", 3), candidate("b", 3)],
        );
        assert_eq!(
            allocations[1],
            Err(Refusal::AlreadyHolds),
            "a's second claim"
        );
        let claims: Vec<NewClaim> = allocations.into_iter().flatten().collect();
        assert_eq!(claims.len(), 2);
        assert_eq!(claims[0].status, ClaimStatus::Claimed);
        assert_eq!(claims[1].waitlist_position, Some(1));
    }

    #[test]
    fn positions_continue_after_the_last_one_given() {
        let mut states = HashMap::from([(
            1,
            ItemState {
                quantity: 1,
                held: 1,
                last_position: 5,
                ..Default::default()
            },
        )]);
        let claims: Vec<NewClaim> = allocate(&mut states, vec![candidate("z", 1)])
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(claims[0].waitlist_position, Some(6));
    }

    #[test]
    fn an_undo_gives_back_only_a_free_unit_within_the_window() {
        let free = ItemState {
            quantity: 2,
            held: 1,
            ..Default::default()
        };
        assert_eq!(
            check_undo(ClaimStatus::Released, 3.0, 10, "ann", &free),
            Ok(())
        );
        assert!(matches!(
            check_undo(ClaimStatus::Released, 11.0, 10, "ann", &free),
            Err(UndoRefused::TooLate(..))
        ));
        assert_eq!(
            check_undo(ClaimStatus::Paid, 1.0, 10, "ann", &free),
            Err(UndoRefused::NotReleased("paid"))
        );
        let taken = ItemState {
            quantity: 1,
            held: 1,
            ..Default::default()
        };
        assert_eq!(
            check_undo(ClaimStatus::Released, 1.0, 10, "ann", &taken),
            Err(UndoRefused::UnitTaken)
        );
        let again = ItemState {
            live_buyers: HashSet::from(["ann".to_owned()]),
            ..free
        };
        assert_eq!(
            check_undo(ClaimStatus::Released, 1.0, 10, "ann", &again),
            Err(UndoRefused::ClaimedAgain)
        );
    }

    #[test]
    fn an_operator_may_only_release_or_mark_paid() {
        let change = |s: &str| StatusChange::try_from(ClaimPatchBody { status: s.into() });
        assert_eq!(change("released").unwrap().to(), ClaimStatus::Released);
        assert_eq!(change("paid").unwrap().to(), ClaimStatus::Paid);
        for refused in ["claimed", "waitlisted", "PAID", ""] {
            assert!(change(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn only_the_contracts_transitions_are_allowed() {
        use ClaimStatus::*;
        let all = [Claimed, Waitlisted, Released, Paid];
        let allowed: Vec<_> = all
            .iter()
            .flat_map(|&f| all.iter().map(move |&t| (f, t)))
            .filter(|&(f, t)| check_transition(f, t).is_ok())
            .collect();
        assert_eq!(
            allowed,
            vec![(Claimed, Released), (Claimed, Paid), (Waitlisted, Released)]
        );
    }
}
