//! The one integration test binary (real Postgres, real HTTP on a socket, real SSE).

mod helpers;

mod smoke;
