//! Reading a claim out of a comment: `sold 101`, `SOLD #101`, `Sold 101!`, `sold101`.
//!
//! The rule, decided with the table test below: after trimming, the comment must START
//! with the word `sold` (any case), then optional spaces, an optional `#` or `:`, optional
//! spaces, then the item number (1 to 6 ASCII digits, not 0), and after it nothing but
//! punctuation, symbols (emoji) or spaces. So "I sold 101 yesterday", "not sold 101",
//! "sold out" and "sold 101 and 102" claim nothing: a false claim costs a buyer's money
//! and an operator's time, a missed one only a retype.

/// Why a comment is not a claim; most comments are not, so this is not an error to report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAClaim {
    #[error("empty comment")]
    Empty,
    #[error("does not start with `sold`: {0:?}")]
    UnknownVerb(String),
    #[error("no valid item number: {0:?}")]
    BadItemNumber(String),
    /// `sold N` in the right shape with N outside 1 to 999,999 (clamped into i32): the
    /// buyer meant a claim, so the comment's `claim_result` says why it made none.
    #[error("item number {0} is out of range")]
    OutOfRange(i32),
}

/// Largest item number a claim can name (matches the `items.item_number` check).
pub const MAX_ITEM_NUMBER: i32 = 999_999;

/// A cursor over the comment's characters, in the manner of mini-redis `Parse`.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat_word_ci(&mut self, word: &str) -> bool {
        let matches = self
            .rest
            .get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word));
        if matches {
            self.rest = &self.rest[word.len()..];
        }
        matches
    }

    fn eat_char(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn take_digits(&mut self) -> &'a str {
        let end = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at(end);
        self.rest = rest;
        digits
    }
}

/// The item number a comment claims, or why it claims nothing.
pub fn parse_claim(text: &str) -> Result<i32, NotAClaim> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NotAClaim::Empty);
    }
    let mut cursor = Cursor { rest: text };
    if !cursor.eat_word_ci("sold") {
        return Err(NotAClaim::UnknownVerb(first_word(text)));
    }
    cursor.skip_spaces();
    if !cursor.eat_char('#') {
        cursor.eat_char(':');
    }
    cursor.skip_spaces();
    cursor.eat_char('#');
    let digits = cursor.take_digits();
    let bad = || NotAClaim::BadItemNumber(text.to_owned());
    if digits.is_empty() {
        return Err(bad());
    }
    // After the number: only punctuation, symbols and spaces ("101!", "101 🙏"), never
    // another word or number ("101 yesterday", "101abc", "101 and 102", "101.5").
    let rest = cursor.rest;
    let decimal =
        rest.starts_with(['.', ',']) && rest[1..].starts_with(|c: char| c.is_ascii_digit());
    if decimal || rest.chars().any(char::is_alphanumeric) {
        return Err(bad());
    }
    // All digits: it parses, or is too large for i32.
    let number: i32 = digits.parse().unwrap_or(i32::MAX);
    if number == 0 || number > MAX_ITEM_NUMBER {
        return Err(NotAClaim::OutOfRange(number));
    }
    Ok(number)
}

fn first_word(text: &str) -> String {
    text.split_whitespace().next().unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_table_holds() {
        let cases: &[(&str, Option<i32>)] = &[
            ("sold 101", Some(101)),
            ("SOLD #101", Some(101)),
            ("Sold 101!", Some(101)),
            ("sold101", Some(101)),
            ("  sold 7  ", Some(7)),
            ("sold #7", Some(7)),
            ("sold# 7", Some(7)),
            ("sold: 12", Some(12)),
            ("sold 007", Some(7)),
            ("sold 101!!!", Some(101)),
            ("sold 101.", Some(101)),
            ("sold 101 🙏", Some(101)),
            ("sOlD 55?", Some(55)),
            ("sold\t42", Some(42)),
            ("sold 999999", Some(999_999)),
            ("sold out", None),
            ("not sold 101", None),
            ("I sold 101 yesterday", None),
            ("sold 101 yesterday", None),
            ("sold 101 and 102", None),
            ("sold 0", None),
            ("sold 1000000", None),
            ("sold -5", None),
            ("sold 101.5", None),
            ("sold 101,2", None),
            ("sold 101abc", None),
            ("soldier 5", None),
            ("sold", None),
            ("", None),
            ("   ", None),
            ("101", None),
            ("sell 101", None),
            ("sold ١٠١", None),
            ("is 101 sold?", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_claim(text).ok(), *expected, "comment {text:?}");
        }
    }

    #[test]
    fn a_non_claim_says_why() {
        assert_eq!(parse_claim(""), Err(NotAClaim::Empty));
        assert_eq!(
            parse_claim("hello there"),
            Err(NotAClaim::UnknownVerb("hello".into()))
        );
        assert!(matches!(
            parse_claim("sold out"),
            Err(NotAClaim::BadItemNumber(_))
        ));
    }
}
