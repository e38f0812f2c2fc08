//! Graceful shutdown in three steps, each a token cloned into whoever must react:
//!
//! 1. `draining`: cancelled at SIGTERM / Ctrl-C. `/readyz` answers 503 at once, so the
//!    load balancer stops sending new clients; everything else keeps working.
//! 2. `streams`: cancelled after the grace period. Every open SSE stream sends a `retry:`
//!    hint and ends, so its browser resumes (with Last-Event-ID) on another node. Open
//!    streams would otherwise block the server's graceful shutdown forever (axum #2673).
//! 3. `stop`: cancelled when the server has finished; background tasks (the listener) end.
//!
//! The two small tasks behind these steps, the signal watcher and the grace timer, are not
//! detached: they run on the tokens' own [`TaskTracker`], both end at the latest when
//! `stop` is cancelled, and [`Shutdown::finish`] waits for them.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long [`Shutdown::finish`] waits for the watcher and the timer (both end on `stop`,
/// so only a stuck runtime would use it up).
const FINISH_LIMIT: Duration = Duration::from_secs(1);

/// The shutdown tokens; cheap to clone (clones share the tokens and the tracker).
#[derive(Clone, Default)]
pub struct Shutdown {
    /// Cancelled when a shutdown begins; read by `/readyz`.
    pub draining: CancellationToken,
    /// Cancelled by the grace timer; every SSE stream ends on it, then the server stops.
    pub streams: CancellationToken,
    /// Cancelled by `startup` once the server has stopped; background tasks end on it.
    pub stop: CancellationToken,
    /// The signal watcher and the grace timer. Spawned onto by [`Shutdown::on_signal`] and
    /// [`Shutdown::begin`]; closed and waited for by [`Shutdown::finish`].
    tasks: TaskTracker,
}

impl Shutdown {
    /// Starts a shutdown (as a signal would): drain now, close streams after `grace`.
    pub fn begin(&self, grace: Duration) {
        if self.draining.is_cancelled() {
            return;
        }
        self.draining.cancel();
        let streams = self.streams.clone();
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            // Stopped early (the server failed): nothing is left to wait the grace for.
            tokio::select! {
                _ = tokio::time::sleep(grace) => {}
                _ = stop.cancelled() => {}
            }
            streams.cancel();
        });
    }

    /// Begins a shutdown with `grace` on SIGTERM or Ctrl-C; the watcher ends on `stop`.
    pub fn on_signal(&self, grace: Duration) {
        let shutdown = self.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                _ = signal() => {
                    tracing::info!(grace_secs = grace.as_secs(), "shutdown requested: draining");
                    shutdown.begin(grace);
                }
                _ = shutdown.stop.cancelled() => {}
            }
        });
    }

    /// Waits for the watcher and the timer, at most `FINISH_LIMIT`; call after `stop`.
    pub async fn finish(&self) {
        self.tasks.close();
        if tokio::time::timeout(FINISH_LIMIT, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.tasks.len(),
                "shutdown tasks still running after the limit"
            );
        }
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
