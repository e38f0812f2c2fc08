//! Id newtypes, so a claim id is never passed where a show id belongs.
//!
//! Each is a UUID on the wire (`#[serde(transparent)]`) and in Postgres (the `db` module
//! gives them `ToSql`/`FromSql`), so handlers extract `Path<ShowId>` directly and queries
//! take them as parameters without unwrapping.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        #[schema(example = "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10")]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }
    };
}

uuid_id!(
    /// The id of a show (`shows.id`).
    ShowId
);
uuid_id!(
    /// The id of a comment (`comments.id`).
    CommentId
);
uuid_id!(
    /// The id of a claim (`claims.id`).
    ClaimId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_plain_uuid_string_on_the_wire() {
        let uuid = Uuid::new_v4();
        let json = serde_json::to_string(&ShowId(uuid)).unwrap();
        assert_eq!(json, format!("\"{uuid}\""));
        let back: ClaimId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ClaimId(uuid));
        assert_eq!(
            uuid.to_string().parse::<CommentId>().unwrap(),
            CommentId(uuid)
        );
    }
}
