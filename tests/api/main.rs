//! The one integration test binary (real Postgres, real HTTP on a socket, real SSE).
// Helpers outside #[test] fns unwrap too: a failure there is the test failing.
#![allow(clippy::unwrap_used)]

// Shared toolboxes: each test file uses part of them.
#[allow(dead_code)]
mod child_node;
#[allow(dead_code)]
mod helpers;

mod access_log;
mod auth;
mod bad_input;
mod carts;
mod changelog;
mod claims;
mod cli;
mod client_lib;
mod client_unit;
mod comment_search;
mod connection_limits;
mod console;
mod console_assets;
mod console_ops;
mod contract;
mod csrf;
mod currency;
mod feed;
mod group_commit;
mod jwks;
mod multiplex;
mod openapi;
mod operations;
mod queries;
mod read_your_writes;
mod relay;
mod resume;
mod scale;
mod signin;
mod signin_console;
mod slow_subscriber;
mod smoke;
mod stream_wire;
