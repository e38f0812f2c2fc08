//! Counters and gauges for `/metrics`, encoded by `prometheus-client` in the Prometheus
//! text format (0.0.4).
//!
//! Each field is a `prometheus-client` metric: a handle on one shared atomic. Call sites
//! keep the plain atomic API (`fetch_add(1, Relaxed)`, `store`, `load`) through `Deref`, so
//! the hot path (one increment per batch of frames) stays a single relaxed add. A scrape
//! registers clones of those handles into a fresh [`Registry`] (a few pointer copies) next to
//! the pool gauges read for it, and lets the crate write the text: names, `# HELP`/`# TYPE`
//! lines, label escaping and number formatting are its job, not ours.
//!
//! Names are registered without `_total`: the encoder appends it to counters, so the exposed
//! names (`showfeed_notifications_total`, ...) are the ones dashboards already use.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{prometheus_text, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::{counter, gauge, MetricType, TypedMetric};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Prefix of every exposed name.
const PREFIX: &str = "showfeed";

/// A counter. Derefs to its atomic: `fetch_add(n, Relaxed)` counts.
#[derive(Debug, Clone, Default)]
pub struct Counter(counter::Counter<u64, AtomicU64>);

/// A gauge of whole numbers. Derefs to its atomic: `fetch_add`/`fetch_sub`/`store`.
#[derive(Debug, Clone, Default)]
pub struct Gauge(gauge::Gauge<i64, AtomicI64>);

/// A yes/no gauge, exposed as 1 or 0. Derefs to its `AtomicBool`.
#[derive(Debug, Clone, Default)]
pub struct Flag(Arc<AtomicBool>);

/// A fraction stored in parts per million (an integer `store`), exposed as 0..1.
/// Derefs to the `AtomicU64` holding the ppm.
#[derive(Debug, Clone, Default)]
pub struct Ppm(Arc<AtomicU64>);

/// A duration in seconds, stored in microseconds, exposed as seconds.
#[derive(Debug, Clone, Default)]
pub struct Seconds(Arc<AtomicU64>);

impl Seconds {
    /// Stores `seconds` (negative counts as 0).
    pub fn set_seconds(&self, seconds: f64) {
        self.0.store((seconds.max(0.0) * 1e6) as u64, Relaxed);
    }
}

/// `Deref` to the atomic each handle wraps, so call sites keep the plain atomic API.
macro_rules! deref_to_atomic {
    ($($ty:ident => $atomic:ty, |$s:ident| $inner:expr;)*) => {$(
        impl Deref for $ty {
            type Target = $atomic;

            fn deref(&$s) -> &$atomic {
                $inner
            }
        }
    )*};
}
deref_to_atomic! {
    Counter => AtomicU64, |self| self.0.inner();
    Gauge => AtomicI64, |self| self.0.inner();
    Flag => AtomicBool, |self| &self.0;
    Ppm => AtomicU64, |self| &self.0;
}

/// A gauge of our own type: its value at scrape time, computed from the atomic.
macro_rules! gauge_from {
    ($($ty:ident => |$s:ident| $value:expr;)*) => {$(
        impl TypedMetric for $ty {
            const TYPE: MetricType = MetricType::Gauge;
        }

        impl EncodeMetric for $ty {
            fn encode(&$s, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
                encoder.encode_gauge(&$value)
            }

            fn metric_type(&self) -> MetricType {
                Self::TYPE
            }
        }
    )*};
}
gauge_from! {
    Flag => |self| i64::from(self.load(Relaxed));
    Ppm => |self| (self.load(Relaxed) as f64 / 1e6);
    Seconds => |self| (self.0.load(Relaxed) as f64 / 1e6);
}

/// A query kind's count and total time: `<name>_total` and `<name>_seconds_total`.
#[derive(Debug, Default)]
pub struct Timed {
    count: counter::Counter<u64, AtomicU64>,
    seconds: counter::Counter<f64, AtomicU64>,
}

impl Timed {
    /// Counts one query that took `elapsed`.
    pub fn record(&self, elapsed: Duration) {
        self.count.inc();
        self.seconds.inc_by(elapsed.as_secs_f64());
    }

    /// Queries recorded so far.
    pub fn count(&self) -> u64 {
        self.count.get()
    }

    fn register(&self, registry: &mut Registry, name: &str, help: &str) {
        registry.register(name, help, self.count.clone());
        registry.register(
            format!("{name}_seconds"),
            "Time spent in those queries",
            self.seconds.clone(),
        );
    }
}

/// Counters told apart by one label with a fixed set of values, all always exposed, in
/// that order.
#[derive(Debug, Clone)]
pub struct Labelled<const N: usize> {
    label: &'static str,
    values: [&'static str; N],
    counters: [Counter; N],
}

impl<const N: usize> Labelled<N> {
    fn new(label: &'static str, values: [&'static str; N]) -> Self {
        Labelled {
            label,
            values,
            counters: std::array::from_fn(|_| Counter::default()),
        }
    }

    /// Counts one under `values[index]` (an index past the end counts under the last).
    fn count(&self, index: usize) {
        self.counters[index.min(N - 1)].fetch_add(1, Relaxed);
    }
}

impl<const N: usize> TypedMetric for Labelled<N> {
    const TYPE: MetricType = MetricType::Counter;
}

impl<const N: usize> EncodeMetric for Labelled<N> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (value, counter) in self.values.iter().zip(&self.counters) {
            counter
                .0
                .encode(encoder.encode_family(&[(self.label, *value)])?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// HTTP responses by status class (`class` = 1xx..5xx).
#[derive(Debug, Clone)]
pub struct ByStatusClass(Labelled<5>);

impl Default for ByStatusClass {
    fn default() -> Self {
        ByStatusClass(Labelled::new("class", ["1xx", "2xx", "3xx", "4xx", "5xx"]))
    }
}

impl ByStatusClass {
    /// Counts one response with `status` (below 100 counts as 1xx, above 599 as 5xx).
    pub fn count(&self, status: u16) {
        self.0.count((status / 100).clamp(1, 5) as usize - 1);
    }
}

/// Failed accepts by cause (`kind`): the process's descriptors (`emfile`), the system's
/// (`enfile`), kernel memory (`enobufs`, `enomem`), anything else (`other`).
#[derive(Debug, Clone)]
pub struct AcceptErrors(Labelled<5>);

impl Default for AcceptErrors {
    fn default() -> Self {
        AcceptErrors(Labelled::new(
            "kind",
            ["emfile", "enfile", "enobufs", "enomem", "other"],
        ))
    }
}

impl AcceptErrors {
    /// Counts one failed accept.
    pub fn count(&self, e: &std::io::Error) {
        let index = match e.raw_os_error() {
            Some(libc::EMFILE) => 0,
            Some(libc::ENFILE) => 1,
            Some(libc::ENOBUFS) => 2,
            Some(libc::ENOMEM) => 3,
            _ => 4,
        };
        self.0.count(index);
    }
}

/// The query pool's state at scrape time (deadpool's `Status`, without the dependency).
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolGauges {
    /// Connections in the pool, busy or idle.
    pub size: usize,
    /// Idle connections.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// Everything this node counts. One per process, shared by `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Open SSE streams and long-polls on this node.
    pub subscribers: Gauge,
    pub notifications: Counter,
    /// Notifications whose payload was not a show id (forged or foreign).
    pub notifications_ignored: Counter,
    pub frames_sent: Counter,
    pub bytes_sent: Counter,
    /// Subscribers that found a gap in their sequence and repaired it.
    pub gap_repairs: Counter,
    pub listener_reconnects: Counter,
    pub listener_up: Flag,
    /// Subscribers that fell behind the broadcast buffer and were cut over to catch-up.
    pub lagged_subscribers: Counter,
    /// Resumes and gap repairs answered from the in-memory ring, with no query.
    pub catchups_from_ring: Counter,
    /// Snapshots answered by another request's query (single-flight).
    pub snapshots_shared: Counter,
    pub snapshot_queries: Timed,
    pub catchup_queries: Timed,
    /// Reads of new changes after a notification (one per batch of notifications per show).
    pub fetch_queries: Timed,
    /// pg_notification_queue_usage() * 1e6, as last sampled.
    pub notify_queue_usage_ppm: Ppm,
    pub http_responses: ByStatusClass,
    /// Whether this database is in relay mode, as the listener's last ping read it.
    pub doorbell_relay: Flag,
    /// Whether this node's session holds the relay lock.
    pub relay_holder: Flag,
    /// The relay's looks for rows written without a doorbell.
    pub relay_looks: Timed,
    /// NOTIFY payloads the relay sent.
    pub relay_notifies: Counter,
    /// Shows the relay rang for (one per show per look that found it advanced).
    pub relay_shows_rung: Counter,
    /// Frozen relays whose sessions this node ended (`sql/relay/depose.sql`).
    pub relay_deposed: Counter,
    /// From the oldest unrung row's transaction start to the look that found it, last look.
    pub relay_lag: Seconds,
    /// Group transactions of comment ingest (one per group of concurrent requests).
    pub ingest_groups: Counter,
    /// Ingest requests those transactions carried (divided by the above: the group size).
    pub ingest_grouped_requests: Counter,
    /// Groups the database refused, whose requests then ran alone.
    pub ingest_groups_split: Counter,
    /// Other nodes' listener sessions the watchdog terminated.
    pub stuck_listeners_terminated: Counter,
    /// Failed `accept()` calls by cause, backed off instead of logged each time.
    pub accept_errors: AcceptErrors,
    /// New sockets closed at once because MAX_CONNECTIONS were open and all busy.
    pub connections_refused: Counter,
    /// Connections waiting for a request head that were closed to make room for new ones.
    pub connections_evicted: Counter,
}

impl Metrics {
    /// Counts one HTTP response with `status`.
    pub fn count_response(&self, status: u16) {
        self.http_responses.count(status);
    }

    /// Renders every metric, then the pool gauges, in the Prometheus text format
    /// ([`CONTENT_TYPE`]).
    pub fn render(&self, pool: PoolGauges) -> String {
        let mut out = String::with_capacity(4096);
        // Writing to a String fails only if a metric's encoder does, and ours never do.
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry(pool)) {
            tracing::error!(error = %e, "encoding /metrics");
        }
        out
    }

    /// A registry holding handles on every metric (help texts get their final `.` from the
    /// crate). The order here is the order of the output.
    fn registry(&self, pool: PoolGauges) -> Registry {
        let mut r = Registry::with_prefix(PREFIX);
        r.register(
            "subscribers",
            "Open streams and long-polls on this node",
            self.subscribers.0.clone(),
        );
        let counters = [
            (
                "notifications",
                "NOTIFY doorbells received",
                &self.notifications,
            ),
            (
                "notifications_ignored",
                "Notifications whose payload was not a show id",
                &self.notifications_ignored,
            ),
            (
                "frames_sent",
                "SSE frames handed to subscribers",
                &self.frames_sent,
            ),
            (
                "bytes_sent",
                "SSE bytes handed to subscribers",
                &self.bytes_sent,
            ),
            (
                "gap_repairs",
                "Sequence gaps repaired for a subscriber",
                &self.gap_repairs,
            ),
            (
                "listener_reconnects",
                "Times the LISTEN connection was re-established",
                &self.listener_reconnects,
            ),
        ];
        for (name, help, counter) in counters {
            r.register(name, help, counter.0.clone());
        }
        r.register(
            "listener_up",
            "1 while the LISTEN connection is up and repaired",
            self.listener_up.clone(),
        );
        let counters = [
            (
                "lagged_subscribers",
                "Subscribers cut over to catch-up after falling behind",
                &self.lagged_subscribers,
            ),
            (
                "catchups_from_ring",
                "Resumes and gap repairs served from memory without a query",
                &self.catchups_from_ring,
            ),
            (
                "snapshots_shared",
                "Snapshots served from another request's query",
                &self.snapshots_shared,
            ),
            (
                "stuck_listeners_terminated",
                "Stuck listener sessions of other nodes terminated by the watchdog",
                &self.stuck_listeners_terminated,
            ),
            (
                "connections_refused",
                "New connections closed at once: MAX_CONNECTIONS open, all busy",
                &self.connections_refused,
            ),
            (
                "connections_evicted",
                "Connections waiting for a request head closed to make room for new ones",
                &self.connections_evicted,
            ),
        ];
        for (name, help, counter) in counters {
            r.register(name, help, counter.0.clone());
        }
        r.register(
            "accept_errors",
            "Failed accepts of new connections, by cause",
            self.accept_errors.0.clone(),
        );
        r.register(
            "notify_queue_usage",
            "pg_notification_queue_usage() (0..1) of the cluster",
            self.notify_queue_usage_ppm.clone(),
        );
        r.register(
            "doorbell_relay",
            "1 while the database is in relay mode (writers ring no doorbell)",
            self.doorbell_relay.clone(),
        );
        r.register(
            "relay_holder",
            "1 while this node holds the relay lock and rings for relay-mode writers",
            self.relay_holder.clone(),
        );
        self.relay_looks.register(
            &mut r,
            "relay_looks",
            "The relay's looks for rows written without a doorbell",
        );
        let counters = [
            (
                "relay_notifies",
                "NOTIFY payloads sent by the relay",
                &self.relay_notifies,
            ),
            (
                "relay_shows_rung",
                "Shows the relay rang for, one per show per look",
                &self.relay_shows_rung,
            ),
            (
                "relay_deposed",
                "Frozen relays (holders idle far past any look interval) whose sessions this node ended",
                &self.relay_deposed,
            ),
            (
                "ingest_groups",
                "Group transactions of comment ingest",
                &self.ingest_groups,
            ),
            (
                "ingest_grouped_requests",
                "Comment ingest requests carried by group transactions",
                &self.ingest_grouped_requests,
            ),
            (
                "ingest_groups_split",
                "Ingest groups the database refused, whose requests then ran alone",
                &self.ingest_groups_split,
            ),
        ];
        for (name, help, counter) in counters {
            r.register(name, help, counter.0.clone());
        }
        r.register(
            "relay_lag_seconds",
            "Last look: from the oldest unrung change's transaction start to the relay finding it",
            self.relay_lag.clone(),
        );
        self.snapshot_queries
            .register(&mut r, "snapshot_queries", "Snapshot queries run");
        self.catchup_queries.register(
            &mut r,
            "catchup_queries",
            "Catch-up queries run for resumes and gaps",
        );
        self.fetch_queries.register(
            &mut r,
            "fetch_queries",
            "Reads of new changes after notifications",
        );
        r.register(
            "http_responses",
            "HTTP responses by status class",
            self.http_responses.0.clone(),
        );
        let gauges = [
            ("pool_size", "Connections in the query pool", pool.size),
            (
                "pool_available",
                "Idle connections in the query pool",
                pool.available,
            ),
            (
                "pool_waiting",
                "Requests waiting for a pooled connection",
                pool.waiting,
            ),
        ];
        for (name, help, value) in gauges {
            r.register(name, help, ConstGauge::new(value as i64));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(text: &'a str, series: &str) -> &'a str {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} missing in:\n{text}"))
    }

    #[test]
    fn counters_keep_their_total_names_in_help_type_and_sample() {
        let m = Metrics::default();
        m.notifications.fetch_add(3, Relaxed);
        let text = m.render(PoolGauges::default());
        assert!(text.contains(
            "# HELP showfeed_notifications_total NOTIFY doorbells received.\n\
             # TYPE showfeed_notifications_total counter\n\
             showfeed_notifications_total 3\n"
        ));
    }

    #[test]
    fn gauges_flags_and_ratios_render_their_values() {
        let m = Metrics::default();
        m.subscribers.fetch_add(2, Relaxed);
        m.subscribers.fetch_sub(1, Relaxed);
        m.listener_up.store(true, Relaxed);
        m.notify_queue_usage_ppm.store(250_000, Relaxed);
        let text = m.render(PoolGauges {
            size: 4,
            available: 3,
            waiting: 0,
        });
        assert_eq!(sample(&text, "showfeed_subscribers"), "1");
        assert_eq!(sample(&text, "showfeed_listener_up"), "1");
        assert_eq!(sample(&text, "showfeed_notify_queue_usage"), "0.25");
        assert_eq!(sample(&text, "showfeed_pool_size"), "4");
        assert_eq!(sample(&text, "showfeed_pool_available"), "3");
        assert!(text.contains("# TYPE showfeed_listener_up gauge\n"));
    }

    #[test]
    fn timed_queries_expose_a_count_and_seconds() {
        let m = Metrics::default();
        m.fetch_queries.record(Duration::from_millis(1500));
        m.fetch_queries.record(Duration::from_millis(500));
        let text = m.render(PoolGauges::default());
        assert_eq!(m.fetch_queries.count(), 2);
        assert_eq!(sample(&text, "showfeed_fetch_queries_total"), "2");
        assert_eq!(sample(&text, "showfeed_fetch_queries_seconds_total"), "2.0");
        assert!(text.contains("# TYPE showfeed_fetch_queries_seconds_total counter\n"));
    }

    #[test]
    fn responses_are_counted_by_class_and_all_five_classes_are_shown_in_order() {
        let m = Metrics::default();
        for status in [200, 204, 404, 503, 42, 700] {
            m.count_response(status);
        }
        let text = m.render(PoolGauges::default());
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("showfeed_http_responses_total"))
            .collect();
        assert_eq!(
            series,
            [
                r#"showfeed_http_responses_total{class="1xx"} 1"#,
                r#"showfeed_http_responses_total{class="2xx"} 2"#,
                r#"showfeed_http_responses_total{class="3xx"} 0"#,
                r#"showfeed_http_responses_total{class="4xx"} 1"#,
                r#"showfeed_http_responses_total{class="5xx"} 2"#,
            ]
        );
    }
}
