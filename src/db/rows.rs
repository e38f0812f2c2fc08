//! How the model's types cross into Postgres and back: ids and statuses as parameters and
//! columns (`ToSql`/`FromSql`), and each table's row as its struct ([`FromRow`]).
//!
//! Rows are read by column name, so a statement may list its columns in any order; the
//! test that prepares every statement (`tests/api/queries.rs`) and the contract test
//! (REST body = feed `data`) catch a column that is missing or renamed.

use std::error::Error;

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Json, ToSql, Type};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::domain::{
    Claim, ClaimId, ClaimResult, ClaimStatus, Comment, CommentId, Item, Show, ShowId, ShowStatus,
};

type BoxError = Box<dyn Error + Sync + Send>;

/// An id newtype is a `uuid` column.
macro_rules! uuid_column {
    ($($id:ident),*) => {$(
        impl<'a> FromSql<'a> for $id {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
                Uuid::from_sql(ty, raw).map($id)
            }
            fn accepts(ty: &Type) -> bool {
                <Uuid as FromSql>::accepts(ty)
            }
        }

        impl ToSql for $id {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                self.0.to_sql(ty, out)
            }
            fn accepts(ty: &Type) -> bool {
                <Uuid as ToSql>::accepts(ty)
            }
            to_sql_checked!();
        }
    )*};
}
uuid_column!(ShowId, CommentId, ClaimId);

/// A status enum is a `text` column holding `as_str()`, checked by the table.
macro_rules! text_enum_column {
    ($($status:ident),*) => {$(
        impl<'a> FromSql<'a> for $status {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
                let text = <&str>::from_sql(ty, raw)?;
                $status::parse(text).ok_or_else(|| {
                    format!("unknown {} {text:?}", stringify!($status)).into()
                })
            }
            fn accepts(ty: &Type) -> bool {
                <&str as FromSql>::accepts(ty)
            }
        }

        impl ToSql for $status {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                self.as_str().to_sql(ty, out)
            }
            fn accepts(ty: &Type) -> bool {
                <&str as ToSql>::accepts(ty)
            }
            to_sql_checked!();
        }
    )*};
}
text_enum_column!(ShowStatus, ClaimStatus);

/// A comment's claim result is a `jsonb` column holding its JSON.
impl<'a> FromSql<'a> for ClaimResult {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Json::<ClaimResult>::from_sql(ty, raw).map(|j| j.0)
    }
    fn accepts(ty: &Type) -> bool {
        <Json<ClaimResult> as FromSql>::accepts(ty)
    }
}

impl ToSql for ClaimResult {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        Json(self).to_sql(ty, out)
    }
    fn accepts(ty: &Type) -> bool {
        <Json<&ClaimResult> as ToSql>::accepts(ty)
    }
    to_sql_checked!();
}

/// A table's row read into its type.
pub trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error>;
}

/// Reads every row of a result.
pub fn all<T: FromRow>(rows: &[Row]) -> Result<Vec<T>, tokio_postgres::Error> {
    rows.iter().map(T::from_row).collect()
}

/// `FromRow` for a struct whose fields are read by the columns of the same name: the SQL
/// files name their columns, so the struct, not the table, is the REST shape.
macro_rules! from_row_by_name {
    ($($ty:ident { $($field:ident),* $(,)? }),* $(,)?) => {$(
        impl FromRow for $ty {
            fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
                Ok($ty { $($field: row.try_get(stringify!($field))?),* })
            }
        }
    )*};
}
from_row_by_name! {
    Show { id, title, status, started_at, ended_at, last_seq, created_at, currency },
    Item { show_id, item_number, title, price_cents, quantity, created_at, updated_at },
    Comment {
        id, show_id, external_id, author_id, author_name, text, created_at, received_at,
        claim_result,
    },
    Claim {
        id, show_id, item_number, comment_id, buyer_id, buyer_name, status, waitlist_position,
        created_at, updated_at,
    },
}
