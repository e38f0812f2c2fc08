//! Counters and gauges for `/metrics`, in the Prometheus text format.
//!
//! Plain atomics rather than a metrics registry: the hot path (one increment per batch of
//! frames) stays a single relaxed add, and the set is small and fixed.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A query kind's count and total time.
#[derive(Debug, Default)]
pub struct Timed {
    count: AtomicU64,
    micros: AtomicU64,
}

impl Timed {
    pub fn record(&self, elapsed: Duration) {
        self.count.fetch_add(1, Relaxed);
        self.micros.fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }
}

/// Everything this node counts. One per process, shared by `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Open SSE streams and long-polls on this node.
    pub subscribers: AtomicI64,
    pub notifications: AtomicU64,
    /// Notifications whose payload was not a show id (forged or foreign).
    pub notifications_ignored: AtomicU64,
    pub frames_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    /// Subscribers that found a gap in their sequence and repaired it.
    pub gap_repairs: AtomicU64,
    pub listener_reconnects: AtomicU64,
    pub listener_up: AtomicBool,
    /// Subscribers that fell behind the broadcast buffer and were cut over to catch-up.
    pub lagged_subscribers: AtomicU64,
    /// Resumes and gap repairs answered from the in-memory ring, with no query.
    pub catchups_from_ring: AtomicU64,
    /// Snapshots answered by another request's query (single-flight).
    pub snapshots_shared: AtomicU64,
    pub snapshot_queries: Timed,
    pub catchup_queries: Timed,
    /// Reads of new changes after a notification (one per batch of notifications per show).
    pub fetch_queries: Timed,
    /// pg_notification_queue_usage() * 1e6, as last sampled.
    pub notify_queue_usage_ppm: AtomicU64,
    pub http_responses: [AtomicU64; 5],
    /// Other nodes' listener sessions the watchdog terminated.
    pub stuck_listeners_terminated: AtomicU64,
}

impl Metrics {
    pub fn count_response(&self, status: u16) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.http_responses[class].fetch_add(1, Relaxed);
    }

    /// Renders every metric, with `extra` lines (pool gauges) appended.
    pub fn render(&self, extra: &[(&str, &str, f64)]) -> String {
        let mut out = String::with_capacity(4096);
        let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
            let _ = writeln!(out, "# HELP showfeed_{name} {help}");
            let _ = writeln!(out, "# TYPE showfeed_{name} {kind}");
            let _ = writeln!(out, "showfeed_{name} {value}");
        };
        let c = |a: &AtomicU64| a.load(Relaxed) as f64;
        metric(
            "subscribers",
            "gauge",
            "Open streams and long-polls on this node.",
            self.subscribers.load(Relaxed) as f64,
        );
        metric(
            "notifications_total",
            "counter",
            "NOTIFY doorbells received.",
            c(&self.notifications),
        );
        metric(
            "notifications_ignored_total",
            "counter",
            "Notifications whose payload was not a show id.",
            c(&self.notifications_ignored),
        );
        metric(
            "frames_sent_total",
            "counter",
            "SSE frames handed to subscribers.",
            c(&self.frames_sent),
        );
        metric(
            "bytes_sent_total",
            "counter",
            "SSE bytes handed to subscribers.",
            c(&self.bytes_sent),
        );
        metric(
            "gap_repairs_total",
            "counter",
            "Sequence gaps repaired for a subscriber.",
            c(&self.gap_repairs),
        );
        metric(
            "listener_reconnects_total",
            "counter",
            "Times the LISTEN connection was re-established.",
            c(&self.listener_reconnects),
        );
        metric(
            "listener_up",
            "gauge",
            "1 while the LISTEN connection is up and repaired.",
            u8::from(self.listener_up.load(Relaxed)) as f64,
        );
        metric(
            "lagged_subscribers_total",
            "counter",
            "Subscribers cut over to catch-up after falling behind.",
            c(&self.lagged_subscribers),
        );
        metric(
            "catchups_from_ring_total",
            "counter",
            "Resumes and gap repairs served from memory without a query.",
            c(&self.catchups_from_ring),
        );
        metric(
            "snapshots_shared_total",
            "counter",
            "Snapshots served from another request's query.",
            c(&self.snapshots_shared),
        );
        metric(
            "stuck_listeners_terminated_total",
            "counter",
            "Stuck listener sessions of other nodes terminated by the watchdog.",
            c(&self.stuck_listeners_terminated),
        );
        metric(
            "notify_queue_usage",
            "gauge",
            "pg_notification_queue_usage() (0..1) of the cluster.",
            self.notify_queue_usage_ppm.load(Relaxed) as f64 / 1e6,
        );
        for (name, help, t) in [
            (
                "snapshot_queries",
                "Snapshot queries run.",
                &self.snapshot_queries,
            ),
            (
                "catchup_queries",
                "Catch-up queries run for resumes and gaps.",
                &self.catchup_queries,
            ),
            (
                "fetch_queries",
                "Reads of new changes after notifications.",
                &self.fetch_queries,
            ),
        ] {
            metric(&format!("{name}_total"), "counter", help, t.count() as f64);
            metric(
                &format!("{name}_seconds_total"),
                "counter",
                "Time spent in those queries.",
                t.micros.load(Relaxed) as f64 / 1e6,
            );
        }
        for (i, n) in self.http_responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "showfeed_http_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                n.load(Relaxed)
            );
        }
        for (name, help, value) in extra {
            let _ = writeln!(out, "# HELP showfeed_{name} {help}");
            let _ = writeln!(out, "# TYPE showfeed_{name} gauge");
            let _ = writeln!(out, "showfeed_{name} {value}");
        }
        out
    }
}
