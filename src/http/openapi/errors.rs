//! The error responses of the document: each refusal a status can carry, written once as
//! a component (`#/components/responses/NotFound`, ...) with the `ErrorBody` schema, and
//! sets of them per kind of operation, so every operation lists exactly the 4xx/5xx its
//! extractors and handler can answer (Schemathesis's `status_code_conformance` holds the
//! server to that list).

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Ref, RefOr};
use utoipa::IntoResponses;

/// A refusal: its status, the component's name, what it means, and an example body.
struct Refusal {
    status: u16,
    name: &'static str,
    description: &'static str,
    code: &'static str,
    message: &'static str,
}

const REFUSALS: &[Refusal] = &[
    Refusal {
        status: 400,
        name: "BadRequest",
        description: "Malformed input: a path id that is not a UUID, a query value of the \
            wrong type, or a body that is not JSON.",
        code: "bad_request",
        message: "Invalid URL: UUID parsing failed",
    },
    Refusal {
        status: 401,
        name: "Unauthorized",
        description: "No token, or one that is invalid or expired (with \
            `WWW-Authenticate: Bearer`).",
        code: "unauthorized",
        message: "missing bearer token",
    },
    Refusal {
        status: 403,
        name: "Forbidden",
        description: "A valid token whose role may not do this, or whose `shows` claim \
            does not include this show.",
        code: "forbidden",
        message: "this token's role may not do that",
    },
    Refusal {
        status: 404,
        name: "NotFound",
        description: "No such show (or claim).",
        code: "not_found",
        message: "show not found",
    },
    Refusal {
        status: 409,
        name: "Conflict",
        description: "The claim's current status does not allow this transition.",
        code: "conflict",
        message: "a paid claim cannot become released",
    },
    Refusal {
        status: 413,
        name: "TooLarge",
        description: "The body is larger than `MAX_BODY_BYTES`.",
        code: "too_large",
        message: "Failed to buffer the request body: length limit exceeded",
    },
    Refusal {
        status: 415,
        name: "UnsupportedMediaType",
        description: "The body is not sent as `application/json`.",
        code: "unsupported_media_type",
        message: "Expected request with `Content-Type: application/json`",
    },
    Refusal {
        status: 422,
        name: "Invalid",
        description: "JSON of the wrong shape, or a value the rules refuse (an empty \
            title, a negative price, an unknown status, an item number out of range).",
        code: "invalid",
        message: "title must not be empty",
    },
    Refusal {
        status: 500,
        name: "Internal",
        description: "Our failure; the body is opaque and the cause is in the node's log.",
        code: "internal",
        message: "internal error",
    },
    Refusal {
        status: 503,
        name: "Unavailable",
        description: "Temporary trouble (the database is unreachable or busy): retry.",
        code: "unavailable",
        message: "the database is busy, retry",
    },
];

/// Every refusal as a component response, for the document's `components.responses`.
pub(super) fn components() -> impl Iterator<Item = (String, RefOr<Response>)> {
    REFUSALS.iter().map(|r| {
        let body = json!({"error": {"code": r.code, "message": r.message}});
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .example(Some(body))
            .build();
        let response = ResponseBuilder::new()
            .description(r.description)
            .content("application/json", content)
            .build();
        (r.name.to_owned(), RefOr::T(response))
    })
}

/// References to the refusals with these statuses.
fn refs(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|&status| {
            let refusal = REFUSALS
                .iter()
                .find(|r| r.status == status)
                .unwrap_or_else(|| panic!("no refusal is written for {status}"));
            (
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(refusal.name)),
            )
        })
        .collect()
}

macro_rules! refusal_set {
    ($(#[$doc:meta])* $name:ident: $($status:literal),+) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                refs(&[$($status),+])
            }
        }
    };
}

refusal_set!(
    /// A read of one show's data: path id, token, role and show checks, the database.
    ShowRead: 400, 401, 403, 404, 500, 503
);
refusal_set!(
    /// A read of a show's data with query parameters (which may be of the wrong type).
    ShowQuery: 400, 401, 403, 404, 500, 503
);
refusal_set!(
    /// A read of many shows whose list comes in a JSON body.
    ShowsBody: 400, 401, 403, 404, 413, 415, 422, 500, 503
);
refusal_set!(
    /// A list across shows: token and role, query parameters, the database.
    ListRead: 400, 401, 403, 500, 503
);
refusal_set!(
    /// A write with a JSON body to a new resource (no path id).
    CreateWrite: 400, 401, 403, 413, 415, 422, 500, 503
);
refusal_set!(
    /// A write with a JSON body to an existing show (or claim).
    ShowWrite: 400, 401, 403, 404, 413, 415, 422, 500, 503
);
refusal_set!(
    /// A claim's status change: a [`ShowWrite`] that may also conflict.
    ClaimWrite: 400, 401, 403, 404, 409, 413, 415, 422, 500, 503
);
refusal_set!(
    /// Who is signed in: the cookie (missing, garbage or ended), the database.
    SessionRead: 401, 500, 503
);
refusal_set!(
    /// Sign-out: the CSRF checks when a cookie is sent, the database.
    SessionEnd: 403, 500, 503
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_own_status_and_name() {
        let mut statuses: Vec<u16> = REFUSALS.iter().map(|r| r.status).collect();
        statuses.dedup();
        assert_eq!(statuses.len(), REFUSALS.len());
        assert_eq!(ClaimWrite::responses().len(), 10);
    }
}
