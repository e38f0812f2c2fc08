//! Which comments a page holds: all of them, or those matching a search (an operator's
//! "find that buyer", "claims only", "sold comments that claimed nothing").

use serde::Deserialize;
use utoipa::ToSchema;

use super::input::{check_text, Invalid};

/// Longest search text (characters): enough for any phrase, short enough that a trigram
/// search stays cheap.
pub const MAX_QUERY: usize = 200;

/// A page's `only=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Only {
    /// Comments that made a claim (claimed or waitlisted).
    Claims,
    /// Comments that read as a claim and made none (`claim_result.outcome` = refused).
    UnclaimedSold,
}

impl Only {
    pub fn as_str(self) -> &'static str {
        match self {
            Only::Claims => "claims",
            Only::UnclaimedSold => "unclaimed_sold",
        }
    }
}

/// A checked search; every part is optional, all given parts must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentFilter {
    /// The text must contain this, literally and ignoring case.
    pub text: Option<String>,
    /// The comment's author id, exactly.
    pub buyer: Option<String>,
    pub only: Option<Only>,
}

impl CommentFilter {
    /// An empty `q` or `buyer` filters nothing (a cleared search box).
    pub fn new(q: Option<&str>, buyer: Option<&str>, only: Option<Only>) -> Result<Self, Invalid> {
        let q = q.filter(|q| !q.is_empty());
        let buyer = buyer.filter(|b| !b.is_empty());
        if let Some(q) = q {
            check_text("q", q, 1, MAX_QUERY)?;
        }
        if let Some(buyer) = buyer {
            check_text("buyer", buyer, 1, 200)?;
        }
        Ok(CommentFilter {
            text: q.map(str::to_owned),
            buyer: buyer.map(str::to_owned),
            only,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_none() && self.buyer.is_none() && self.only.is_none()
    }

    /// The ILIKE pattern for `text` (escape character `\`): `%` and `_` match only
    /// themselves.
    pub fn like_pattern(&self) -> Option<String> {
        self.text.as_ref().map(|q| {
            let mut pattern = String::with_capacity(q.len() + 8);
            pattern.push('%');
            for c in q.chars() {
                if matches!(c, '\\' | '%' | '_') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            pattern
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_the_escape_match_only_themselves() {
        let f = CommentFilter::new(Some(r"50%_off\now"), None, None).unwrap();
        assert_eq!(f.like_pattern().unwrap(), r"%50\%\_off\\now%");
    }

    #[test]
    fn empty_parts_filter_nothing_and_bad_ones_are_refused() {
        assert!(CommentFilter::new(Some(""), Some(""), None)
            .unwrap()
            .is_empty());
        assert!(CommentFilter::new(Some("a\0b"), None, None)
            .unwrap_err()
            .0
            .contains("NUL"));
        let long = "x".repeat(MAX_QUERY + 1);
        assert!(CommentFilter::new(Some(&long), None, None).is_err());
        assert!(CommentFilter::new(None, Some(&"b".repeat(201)), None).is_err());
        assert_eq!(
            CommentFilter::new(Some("Ann"), None, Some(Only::Claims))
                .unwrap()
                .text
                .as_deref(),
            Some("Ann")
        );
    }
}
