//! Graceful shutdown in three steps, each a token cloned into whoever must react:
//!
//! 1. `draining`: cancelled at SIGTERM / Ctrl-C. `/readyz` answers 503 at once, so the
//!    load balancer stops sending new clients; everything else keeps working.
//! 2. `streams`: cancelled after the grace period. Every open SSE stream sends a `retry:`
//!    hint and ends, so its browser resumes (with Last-Event-ID) on another node. Open
//!    streams would otherwise block the server's graceful shutdown forever (axum #2673).
//! 3. `stop`: cancelled when the server has finished; background tasks (the listener) end.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The shutdown tokens; cheap to clone.
#[derive(Clone, Default)]
pub struct Shutdown {
    pub draining: CancellationToken,
    pub streams: CancellationToken,
    pub stop: CancellationToken,
}

impl Shutdown {
    /// Starts a shutdown (as a signal would): drain now, close streams after `grace`.
    pub fn begin(&self, grace: Duration) {
        if self.draining.is_cancelled() {
            return;
        }
        self.draining.cancel();
        let streams = self.streams.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            streams.cancel();
        });
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
