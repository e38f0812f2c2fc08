//! Comments: the row, and the batch a platform connector posts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{check_text, Invalid};
use super::{time, ClaimResult, CommentId, ShowId};

/// A `comments` row.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11", "show_id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10",
    "external_id": "c1", "author_id": "u1", "author_name": "Ann", "text": "sold 101",
    "created_at": "2026-12-04T18:02:00+00:00", "received_at": "2026-12-04T18:02:00.25+00:00",
    "claim_result": {"outcome": "claimed", "item_number": 101}
}))]
pub struct Comment {
    pub id: CommentId,
    pub show_id: ShowId,
    /// The platform's id; unique per show, so a re-post is a no-op.
    pub external_id: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    /// Platform time.
    #[serde(serialize_with = "time::serialize")]
    pub created_at: DateTime<Utc>,
    /// When showfeed stored it.
    #[serde(serialize_with = "time::serialize")]
    pub received_at: DateTime<Utc>,
    /// What its `sold N` did; null when the text is not a claim (or the comment was
    /// written with SQL, which claims nothing).
    pub claim_result: Option<ClaimResult>,
}

/// Longest comment text accepted (characters).
pub const MAX_COMMENT_TEXT: usize = 200_000;

/// Most comments one request may carry.
pub const MAX_BATCH: usize = 10_000;

/// A comment as the platform connector posts it, checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"external_id": "c1", "author_id": "u1", "author_name": "Ann", "text": "sold 101"}))]
pub struct NewComment {
    /// The platform's id: re-posting the same one is a no-op.
    #[schema(min_length = 1, max_length = 200)]
    pub external_id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub author_id: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub author_name: String,
    /// Up to 200,000 characters; `sold 101` claims item 101 on a live show.
    #[schema(max_length = 200_000)]
    pub text: String,
    /// Platform time (RFC 3339); defaults to now.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

impl NewComment {
    fn check(&self) -> Result<(), Invalid> {
        check_text("external_id", &self.external_id, 1, 200)?;
        check_text("author_id", &self.author_id, 1, 200)?;
        check_text("author_name", &self.author_name, 0, 200)?;
        check_text("text", &self.text, 0, MAX_COMMENT_TEXT)
    }
}

/// The body of `POST /api/shows/{id}/comments`: one comment object or a non-empty array
/// of at most [`MAX_BATCH`], stored in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBatch(pub Vec<NewComment>);

impl TryFrom<Value> for CommentBatch {
    type Error = Invalid;

    /// Every element is checked before anything is stored, and the first bad one is
    /// named by its index.
    fn try_from(body: Value) -> Result<Self, Invalid> {
        let (values, single) = match body {
            Value::Array(values) => (values, false),
            other => (vec![other], true),
        };
        if values.is_empty() {
            return Err(Invalid("the batch is empty".into()));
        }
        if values.len() > MAX_BATCH {
            return Err(Invalid(format!(
                "a batch holds at most {MAX_BATCH} comments"
            )));
        }
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let at = |m: String| {
                    if single {
                        Invalid(m)
                    } else {
                        Invalid(format!("comment [{i}]: {m}"))
                    }
                };
                let comment: NewComment =
                    serde_json::from_value(v).map_err(|e| at(e.to_string()))?;
                comment.check().map_err(|e| at(e.0))?;
                Ok(comment)
            })
            .collect::<Result<_, _>>()
            .map(CommentBatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_object_or_an_array_is_a_batch() {
        let one = json!({"external_id": "c1", "author_id": "u1", "text": "hi"});
        assert_eq!(CommentBatch::try_from(one.clone()).unwrap().0.len(), 1);
        let two = json!([one, {"external_id": "c2", "author_id": "u1", "text": "sold 3"}]);
        let batch = CommentBatch::try_from(two).unwrap();
        assert_eq!(batch.0[1].external_id, "c2");
        assert_eq!(batch.0[1].author_name, "");
    }

    #[test]
    fn the_first_bad_comment_of_a_batch_is_named_by_its_index() {
        let body = json!([
            {"external_id": "c1", "author_id": "u1", "text": "ok"},
            {"external_id": "c2", "author_id": "", "text": "no author"}
        ]);
        let err = CommentBatch::try_from(body).unwrap_err();
        assert_eq!(err.0, "comment [1]: author_id must not be empty");
        let err = CommentBatch::try_from(json!({"external_id": "c1", "text": "x"})).unwrap_err();
        assert!(err.0.starts_with("missing field `author_id`"), "{err}");
    }

    #[test]
    fn empty_and_oversized_batches_are_refused() {
        assert_eq!(
            CommentBatch::try_from(json!([])).unwrap_err().0,
            "the batch is empty"
        );
        let many: Vec<Value> = (0..=MAX_BATCH)
            .map(|i| json!({"external_id": i.to_string(), "author_id": "u", "text": ""}))
            .collect();
        assert!(CommentBatch::try_from(Value::Array(many)).is_err());
    }
}
