//! showfeed turns a Postgres database into a live change feed for browsers.
//!
//! # Layout
//!
//! - [`cli`]: the commands (`serve`, `migrate`, `token`, `demo`, `prune`), one module each.
//! - [`config`]: settings shared by every command (flags and environment), in groups.
//! - [`startup`]: builds the service and runs it; the order of shutdown.
//! - [`server`]: the accept loop: header timeout, head size and connection limits.
//! - [`shutdown`]: the tokens that drain, close streams, and stop tasks.
//! - [`database`]: which Postgres (DATABASE_URL or embedded), migrated, and its JWT secret.
//! - [`dev_pg`]: the embedded Postgres for development and tests.
//! - [`db`]: the pool, migrations, and one-statement functions over `sql/` returning typed rows.
//! - [`domain`]: the data model as types (shows, items, comments, claims, ids) and its
//!   pure rules: claim text, allocation, transitions, input checks.
//! - [`service`]: the business transactions: locks, retries, `ServiceError`.
//! - [`feed`]: the LISTEN task, per-show readers, the hub and subscriptions.
//! - [`http`]: REST routes, the SSE stream, long-poll, health and metrics.
//! - [`auth`]: JWTs and the `Auth` extractor.
//! - [`observability`]: logs and metrics.

pub mod auth;
pub mod cli;
pub mod config;
pub mod database;
pub mod db;
pub mod dev_pg;
pub mod domain;
pub mod feed;
pub mod http;
pub mod observability;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod startup;
