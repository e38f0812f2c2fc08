//! A write's answer: its body, which carries the `seq` the write's change got, and the
//! same seq in the `X-Showfeed-Seq` header (read-your-writes: a client waits until its
//! feed has applied that seq, on whichever node its stream is).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::service::carts::CartPaid;
use crate::service::claims::ClaimChanged;
use crate::service::comments::Ingested;
use crate::service::items::PutItem;
use crate::service::shows::ShowChanged;

/// The header naming the seq a write reached.
pub const SEQ_HEADER: HeaderName = HeaderName::from_static("x-showfeed-seq");

/// An answer body that knows the seq its write reached.
pub trait Sequenced {
    fn seq(&self) -> i64;
}

/// A write's status and body; the header is set from the body's seq.
pub struct Written<T>(pub StatusCode, pub T);

impl<T: Serialize + Sequenced> IntoResponse for Written<T> {
    fn into_response(self) -> Response {
        let Written(status, body) = self;
        let seq = HeaderValue::from(body.seq());
        (status, [(SEQ_HEADER, seq)], Json(body)).into_response()
    }
}

macro_rules! sequenced {
    ($($t:ty),*) => {$(
        impl Sequenced for $t {
            fn seq(&self) -> i64 {
                self.seq
            }
        }
    )*};
}

sequenced!(Ingested, PutItem, ClaimChanged, ShowChanged, CartPaid);
