//! Items on sale in a show, the number buyers type, and what an operator may set.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::claim_text::MAX_ITEM_NUMBER;
use super::input::{check_text, Invalid};
use super::{time, ShowId};

/// The number buyers type (`sold 101` claims item 101): 1 to 999,999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ItemNumber(i32);

impl ItemNumber {
    pub fn get(self) -> i32 {
        self.0
    }
}

impl TryFrom<i32> for ItemNumber {
    type Error = Invalid;

    fn try_from(n: i32) -> Result<Self, Invalid> {
        if (1..=MAX_ITEM_NUMBER).contains(&n) {
            Ok(ItemNumber(n))
        } else {
            Err(Invalid(format!(
                "item number must be between 1 and {MAX_ITEM_NUMBER}"
            )))
        }
    }
}

/// An `items` row. A claimed number without a row counts as one unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "show_id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10", "item_number": 101,
    "title": "Vintage jacket", "price_cents": 4500, "quantity": 2,
    "created_at": "2026-12-04T18:01:00+00:00", "updated_at": "2026-12-04T18:01:00+00:00"
}))]
pub struct Item {
    pub show_id: ShowId,
    pub item_number: i32,
    pub title: String,
    /// Price in minor currency units.
    pub price_cents: i64,
    /// Units for sale; claims beyond it are waitlisted.
    pub quantity: i32,
    #[serde(serialize_with = "time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `PUT /api/shows/{id}/items/{n}`, as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Vintage jacket", "price_cents": 4500, "quantity": 2}))]
pub struct ItemBody {
    /// Up to 500 characters, no NUL; empty by default.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub title: String,
    /// Price in minor currency units, not negative; 0 by default.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub price_cents: i64,
    /// Units for sale, 0 to 1,000,000; 1 by default.
    #[serde(default = "one")]
    #[schema(minimum = 0, maximum = 1_000_000, default = 1)]
    pub quantity: i32,
}

fn one() -> i32 {
    1
}

/// Most units one item may have.
pub const MAX_QUANTITY: i32 = 1_000_000;

/// A checked item to create or replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPut {
    pub title: String,
    pub price_cents: i64,
    pub quantity: i32,
}

impl TryFrom<ItemBody> for ItemPut {
    type Error = Invalid;

    fn try_from(body: ItemBody) -> Result<Self, Invalid> {
        check_text("title", &body.title, 0, 500)?;
        if body.price_cents < 0 {
            return Err(Invalid("price_cents must not be negative".into()));
        }
        if !(0..=MAX_QUANTITY).contains(&body.quantity) {
            return Err(Invalid(format!(
                "quantity must be between 0 and {MAX_QUANTITY}"
            )));
        }
        Ok(ItemPut {
            title: body.title,
            price_cents: body.price_cents,
            quantity: body.quantity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_numbers_are_the_ones_a_claim_can_name() {
        assert_eq!(ItemNumber::try_from(1).unwrap().get(), 1);
        assert_eq!(ItemNumber::try_from(999_999).unwrap().get(), 999_999);
        for bad in [0, -1, 1_000_000] {
            let err = ItemNumber::try_from(bad).unwrap_err();
            assert_eq!(err.0, "item number must be between 1 and 999999", "{bad}");
        }
    }

    #[test]
    fn an_item_defaults_to_one_free_untitled_unit() {
        let body: ItemBody = serde_json::from_str("{}").unwrap();
        let item = ItemPut::try_from(body).unwrap();
        assert_eq!(
            (item.title.as_str(), item.price_cents, item.quantity),
            ("", 0, 1)
        );
    }

    #[test]
    fn negative_prices_and_absurd_quantities_are_refused() {
        let put = |price_cents, quantity| {
            ItemPut::try_from(ItemBody {
                title: String::new(),
                price_cents,
                quantity,
            })
        };
        assert!(put(-1, 1).unwrap_err().0.contains("price_cents"));
        assert!(put(0, -1).unwrap_err().0.contains("quantity"));
        assert!(put(0, MAX_QUANTITY + 1).is_err());
        assert!(put(0, 0).is_ok());
    }
}
