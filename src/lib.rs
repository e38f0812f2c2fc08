//! showfeed turns a Postgres database into a live change feed for browsers.
//!
//! # Layout
//!
//! - [`config`]: command line and environment settings.
//! - [`startup`]: builds the service and runs it; the order of shutdown.
//! - [`shutdown`]: the tokens that drain, close streams, and stop tasks.
//! - [`demo`]: `showfeed demo`, simulated buyers commenting on a live show over HTTP.
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
pub mod config;
pub mod db;
pub mod demo;
pub mod dev_pg;
pub mod domain;
pub mod feed;
pub mod http;
pub mod observability;
pub mod service;
pub mod shutdown;
pub mod startup;
