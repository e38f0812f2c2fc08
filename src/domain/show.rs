//! Shows: their status, their row, and what clients may ask to create or change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::currency::check_currency;
use super::input::{check_text, Invalid};
use super::{time, ShowId};

/// `shows.status`. Only comments on a `Live` show make claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShowStatus {
    Scheduled,
    Live,
    Ended,
}

impl ShowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShowStatus::Scheduled => "scheduled",
            ShowStatus::Live => "live",
            ShowStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => ShowStatus::Scheduled,
            "live" => ShowStatus::Live,
            "ended" => ShowStatus::Ended,
            _ => return None,
        })
    }

    /// Parses a status a client asked for, allowing only `allowed`.
    fn requested(s: &str, allowed: &[ShowStatus]) -> Result<Self, Invalid> {
        match Self::parse(s) {
            Some(status) if allowed.contains(&status) => Ok(status),
            _ => {
                let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                Err(Invalid(format!(
                    "status must be one of {}, not {s:?}",
                    names.join(", ")
                )))
            }
        }
    }
}

/// A `shows` row, as the REST API and the feed's `data` show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10", "title": "Friday drop", "status": "live",
    "started_at": "2026-12-04T18:00:00.123456+00:00", "ended_at": null, "last_seq": 42,
    "created_at": "2026-12-04T17:55:01.5+00:00", "currency": "USD"
}))]
pub struct Show {
    pub id: ShowId,
    pub title: String,
    pub status: ShowStatus,
    /// When the show went live.
    #[serde(serialize_with = "time::serialize_option")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the show ended.
    #[serde(serialize_with = "time::serialize_option")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The seq of the show's latest change.
    pub last_seq: i64,
    #[serde(serialize_with = "time::serialize")]
    pub created_at: DateTime<Utc>,
    /// ISO 4217 code of the show's prices (`price_cents` are its minor units).
    #[schema(example = "USD")]
    pub currency: String,
}

const MAX_TITLE: usize = 500;

/// The body of `POST /api/shows`, as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Friday drop", "status": "live"}))]
pub struct NewShowBody {
    /// 1 to 500 characters, no NUL.
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// `scheduled` (the default) or `live`; `ended` is refused with 422.
    #[serde(default)]
    #[schema(value_type = Option<ShowStatus>)]
    pub status: Option<String>,
    /// ISO 4217 code of its prices; default `DEFAULT_CURRENCY` (USD).
    #[serde(default)]
    #[schema(example = "EUR")]
    pub currency: Option<String>,
}

/// A checked new show: a title, `Scheduled` or `Live`, and a currency (None: the
/// service's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShow {
    pub title: String,
    pub status: ShowStatus,
    pub currency: Option<String>,
}

impl TryFrom<NewShowBody> for NewShow {
    type Error = Invalid;

    fn try_from(body: NewShowBody) -> Result<Self, Invalid> {
        check_text("title", &body.title, 1, MAX_TITLE)?;
        let status = match body.status.as_deref() {
            None => ShowStatus::Scheduled,
            Some(s) => ShowStatus::requested(s, &[ShowStatus::Scheduled, ShowStatus::Live])?,
        };
        let currency = body.currency.as_deref().map(check_currency).transpose()?;
        Ok(NewShow {
            title: body.title,
            status,
            currency,
        })
    }
}

/// The body of `PATCH /api/shows/{id}`, as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "ended"}))]
pub struct ShowPatchBody {
    /// A new title: 1 to 500 characters, no NUL.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub title: Option<String>,
    /// `live` or `ended`; `scheduled` is refused with 422.
    #[serde(default)]
    #[schema(value_type = Option<ShowStatus>)]
    pub status: Option<String>,
    /// A new ISO 4217 code for its prices.
    #[serde(default)]
    pub currency: Option<String>,
}

/// A checked change of a show: a new title, going `Live` or `Ended`, a new currency.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShowPatch {
    pub title: Option<String>,
    pub status: Option<ShowStatus>,
    pub currency: Option<String>,
}

impl TryFrom<ShowPatchBody> for ShowPatch {
    type Error = Invalid;

    fn try_from(body: ShowPatchBody) -> Result<Self, Invalid> {
        if let Some(title) = &body.title {
            check_text("title", title, 1, MAX_TITLE)?;
        }
        let status = body
            .status
            .as_deref()
            .map(|s| ShowStatus::requested(s, &[ShowStatus::Live, ShowStatus::Ended]))
            .transpose()?;
        let currency = body.currency.as_deref().map(check_currency).transpose()?;
        Ok(ShowPatch {
            title: body.title,
            status,
            currency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_show(title: &str, status: Option<&str>) -> Result<NewShow, Invalid> {
        NewShow::try_from(NewShowBody {
            title: title.into(),
            status: status.map(Into::into),
            currency: None,
        })
    }

    #[test]
    fn a_new_show_is_scheduled_unless_it_starts_live() {
        assert_eq!(
            new_show("Drop", None).unwrap().status,
            ShowStatus::Scheduled
        );
        assert_eq!(
            new_show("Drop", Some("live")).unwrap().status,
            ShowStatus::Live
        );
    }

    #[test]
    fn a_new_show_cannot_start_ended_or_untitled() {
        let err = new_show("Drop", Some("ended")).unwrap_err();
        assert_eq!(
            err.0,
            "status must be one of scheduled, live, not \"ended\""
        );
        assert!(new_show("", None).unwrap_err().0.contains("title"));
        assert!(new_show(&"x".repeat(501), None).is_err());
    }

    #[test]
    fn a_patch_may_only_go_live_or_end() {
        let patch = |status: &str| {
            ShowPatch::try_from(ShowPatchBody {
                title: None,
                status: Some(status.into()),
                currency: None,
            })
        };
        assert_eq!(patch("live").unwrap().status, Some(ShowStatus::Live));
        assert_eq!(patch("ended").unwrap().status, Some(ShowStatus::Ended));
        assert!(patch("scheduled").is_err());
        assert!(patch("LIVE").is_err());
    }

    #[test]
    fn statuses_read_and_write_as_the_columns_values() {
        for status in [ShowStatus::Scheduled, ShowStatus::Live, ShowStatus::Ended] {
            assert_eq!(ShowStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::String(status.as_str().into())
            );
        }
    }
}
