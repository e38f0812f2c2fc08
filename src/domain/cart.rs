//! Buyers' carts: per buyer, the units they hold, their waitlist places as they stand now,
//! and what they owe. Built from a show's claims and items, in memory (a show has at most
//! some thousands of claims), so the JSON view and the CSV export are one computation.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Claim, ClaimId, ClaimStatus, Item};

/// One buyer's cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Cart {
    pub buyer_id: String,
    /// The name of the buyer's latest claim (names can change between comments).
    pub buyer_name: String,
    /// Units held (claimed or paid), by item number.
    pub held: Vec<HeldItem>,
    /// Places in waitlists, by item number.
    pub waitlist: Vec<WaitlistPlace>,
    /// Sum of the prices of held units not yet paid (an item without a row counts 0).
    pub total_due_cents: i64,
    /// Sum of the prices of paid units.
    pub total_paid_cents: i64,
}

/// A unit a buyer holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HeldItem {
    pub claim_id: ClaimId,
    pub item_number: i32,
    /// The item's title; empty when the number has no items row.
    pub title: String,
    /// The item's price; null when the number has no items row.
    pub price_cents: Option<i64>,
    /// `claimed` (due) or `paid`.
    pub status: ClaimStatus,
}

/// A buyer's place in an item's waitlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WaitlistPlace {
    pub claim_id: ClaimId,
    pub item_number: i32,
    /// The position the claim was given (never renumbered).
    pub waitlist_position: i32,
    /// Where the buyer stands now: 1 is next in line (those ahead who were promoted or
    /// released no longer count).
    pub place_in_line: i32,
}

/// Every buyer with a held unit or a waitlist place, by buyer id. Released claims are
/// left out (they hold nothing).
pub fn carts(claims: &[Claim], items: &[Item]) -> Vec<Cart> {
    let items: BTreeMap<i32, &Item> = items.iter().map(|i| (i.item_number, i)).collect();
    let mut line: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for c in claims
        .iter()
        .filter(|c| c.status == ClaimStatus::Waitlisted)
    {
        line.entry(c.item_number)
            .or_default()
            .extend(c.waitlist_position);
    }
    for positions in line.values_mut() {
        positions.sort_unstable();
    }

    let mut by_buyer: BTreeMap<&str, Cart> = BTreeMap::new();
    let mut latest: BTreeMap<&str, &Claim> = BTreeMap::new();
    for c in claims.iter().filter(|c| c.status != ClaimStatus::Released) {
        let cart = by_buyer.entry(&c.buyer_id).or_insert_with(|| Cart {
            buyer_id: c.buyer_id.clone(),
            buyer_name: String::new(),
            held: Vec::new(),
            waitlist: Vec::new(),
            total_due_cents: 0,
            total_paid_cents: 0,
        });
        let newer = latest
            .get(c.buyer_id.as_str())
            .is_none_or(|l| l.created_at <= c.created_at);
        if newer {
            latest.insert(&c.buyer_id, c);
            cart.buyer_name = c.buyer_name.clone();
        }
        match c.status {
            ClaimStatus::Waitlisted => {
                let position = c.waitlist_position.unwrap_or_default();
                let ahead = line
                    .get(&c.item_number)
                    .map_or(0, |p| p.partition_point(|other| *other < position));
                cart.waitlist.push(WaitlistPlace {
                    claim_id: c.id,
                    item_number: c.item_number,
                    waitlist_position: position,
                    place_in_line: ahead as i32 + 1,
                });
            }
            status => {
                let item = items.get(&c.item_number);
                let price = item.map(|i| i.price_cents);
                if status == ClaimStatus::Paid {
                    cart.total_paid_cents += price.unwrap_or(0);
                } else {
                    cart.total_due_cents += price.unwrap_or(0);
                }
                cart.held.push(HeldItem {
                    claim_id: c.id,
                    item_number: c.item_number,
                    title: item.map(|i| i.title.clone()).unwrap_or_default(),
                    price_cents: price,
                    status,
                });
            }
        }
    }
    let mut carts: Vec<Cart> = by_buyer.into_values().collect();
    for cart in &mut carts {
        cart.held.sort_by_key(|h| h.item_number);
        cart.waitlist.sort_by_key(|w| w.item_number);
    }
    carts
}

/// The carts as CSV for a spreadsheet: one row per held unit or waitlist place. Every cell
/// is quoted, and one a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading `'`: buyer names and titles are
/// strangers' text.
pub fn carts_csv(carts: &[Cart], currency: &str) -> String {
    let mut out = String::from(
        "buyer_id,buyer_name,item_number,title,status,price_cents,currency,waitlist_position,place_in_line\r\n",
    );
    for cart in carts {
        for h in &cart.held {
            let price = h.price_cents.map(|p| p.to_string()).unwrap_or_default();
            row(
                &mut out,
                &[
                    &cart.buyer_id,
                    &cart.buyer_name,
                    &h.item_number.to_string(),
                    &h.title,
                    h.status.as_str(),
                    &price,
                    currency,
                    "",
                    "",
                ],
            );
        }
        for w in &cart.waitlist {
            row(
                &mut out,
                &[
                    &cart.buyer_id,
                    &cart.buyer_name,
                    &w.item_number.to_string(),
                    "",
                    "waitlisted",
                    "",
                    currency,
                    &w.waitlist_position.to_string(),
                    &w.place_in_line.to_string(),
                ],
            );
        }
    }
    out
}

fn row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            out.push('\'');
        }
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClaimId, ShowId};
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    fn claim(
        buyer: &str,
        item: i32,
        status: ClaimStatus,
        position: Option<i32>,
        minute: u32,
    ) -> Claim {
        Claim {
            id: ClaimId(Uuid::new_v4()),
            show_id: ShowId(Uuid::nil()),
            item_number: item,
            comment_id: None,
            buyer_id: buyer.into(),
            buyer_name: format!("{buyer} at {minute}"),
            status,
            waitlist_position: position,
            created_at: Utc.with_ymd_and_hms(2026, 12, 4, 18, minute, 0).unwrap(),
            updated_at: Utc.with_ymd_and_hms(2026, 12, 4, 18, minute, 0).unwrap(),
        }
    }

    fn item(number: i32, price: i64) -> Item {
        Item {
            show_id: ShowId(Uuid::nil()),
            item_number: number,
            title: format!("Item {number}"),
            price_cents: price,
            quantity: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_cart_holds_units_owes_their_prices_and_counts_its_place_in_line_now() {
        use ClaimStatus::*;
        let claims = [
            claim("ann", 1, Claimed, None, 1),
            claim("ann", 2, Paid, None, 2),
            claim("bob", 1, Released, Some(1), 3), // was first in line, gone
            claim("cat", 1, Waitlisted, Some(2), 4),
            claim("ann", 3, Waitlisted, Some(3), 5), // item 3's line: dan (2) ahead
            claim("dan", 3, Waitlisted, Some(2), 6),
            claim("ann", 9, Claimed, None, 7), // no items row
        ];
        let carts = carts(&claims, &[item(1, 1000), item(2, 2500), item(3, 700)]);
        let ids: Vec<&str> = carts.iter().map(|c| c.buyer_id.as_str()).collect();
        assert_eq!(ids, ["ann", "cat", "dan"], "bob holds nothing");
        let ann = &carts[0];
        assert_eq!(ann.buyer_name, "ann at 7", "the latest claim's name");
        assert_eq!(
            ann.held.iter().map(|h| h.item_number).collect::<Vec<_>>(),
            [1, 2, 9]
        );
        assert_eq!(ann.held[2].price_cents, None);
        assert_eq!((ann.total_due_cents, ann.total_paid_cents), (1000, 2500));
        assert_eq!(
            (
                ann.waitlist[0].waitlist_position,
                ann.waitlist[0].place_in_line
            ),
            (3, 2)
        );
        assert_eq!(
            carts[1].waitlist[0].place_in_line, 1,
            "cat is next: bob released"
        );
        assert_eq!(carts[2].waitlist[0].place_in_line, 1);
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        let mut c = claim("=cmd|' /C calc'!A0", 1, ClaimStatus::Claimed, None, 1);
        c.buyer_name = "Ann \"the\" buyer, +1".into();
        let csv = carts_csv(&carts(&[c], &[]), "USD");
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("\"'=cmd|' /C calc'!A0\",\"Ann \"\"the\"\" buyer, +1\",\"1\""),
            "{line}"
        );
        for lead in ["+", "-", "@", "\t", "\r"] {
            let mut out = String::new();
            row(&mut out, &[&format!("{lead}x")]);
            assert_eq!(out, format!("\"'{lead}x\"\r\n"));
        }
    }
}
