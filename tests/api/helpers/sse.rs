//! The SSE side of a test: a real client for a show's stream (the wire format parsed by
//! `eventsource-stream`, as a browser's `EventSource` would) and assertions on its events.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use uuid::Uuid;

use super::TestApp;

impl TestApp {
    /// The show's stream as a raw HTTP response (to read bytes, or to never read it).
    pub async fn raw_stream(&self, show: Uuid) -> reqwest::Response {
        self.api
            .get(self.url(&format!("/api/shows/{show}/stream")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Opens the show's SSE stream with the admin token.
    pub async fn stream(&self, show: Uuid, last_event_id: Option<&str>) -> SseClient {
        self.stream_with(show, &self.token, last_event_id).await
    }

    pub async fn stream_with(
        &self,
        show: Uuid,
        token: &str,
        last_event_id: Option<&str>,
    ) -> SseClient {
        let mut req = self
            .api
            .get(self.url(&format!("/api/shows/{show}/stream")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200, "stream status");
        SseClient::new(response)
    }
}

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: String,
    pub id: String,
    pub data: Value,
    /// When the client parsed it off the wire.
    pub received: chrono::DateTime<chrono::Utc>,
}

impl Event {
    pub fn seq(&self) -> i64 {
        self.data["seq"].as_i64().expect("event data has a seq")
    }
}

/// A real SSE client: parses the wire format with `eventsource-stream`.
pub struct SseClient {
    events: std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<eventsource_stream::Event, String>> + Send>,
    >,
}

impl SseClient {
    pub fn new(response: reqwest::Response) -> Self {
        use eventsource_stream::Eventsource;
        let events = response
            .bytes_stream()
            .eventsource()
            .map(|r| r.map_err(|e| e.to_string()));
        SseClient {
            events: Box::pin(events),
        }
    }

    /// The next event, or None when the stream ends or `wait` passes.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        match tokio::time::timeout(wait, self.events.next()).await {
            Ok(Some(Ok(e))) => Some(Event {
                data: serde_json::from_str(&e.data).unwrap_or(Value::String(e.data.clone())),
                event: e.event,
                id: e.id,
                received: chrono::Utc::now(),
            }),
            _ => None,
        }
    }

    /// The next event; panics after 10 s.
    pub async fn next(&mut self) -> Event {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an SSE event within 10 s")
    }

    /// Events until one with seq `last` arrives (panics after 20 s of silence).
    pub async fn until_seq(&mut self, last: i64) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let e = self
                .next_within(Duration::from_secs(20))
                .await
                .unwrap_or_else(|| {
                    panic!(
                        "stream ended or went silent before seq {last}; got {}",
                        events.len()
                    )
                });
            let seq = e.data["seq"].as_i64();
            events.push(e);
            if seq.is_some_and(|s| s >= last) {
                return events;
            }
        }
    }
}

/// Asserts that events carry exactly the seqs `from..=to`, in order, ids matching.
pub fn assert_exact_seqs(events: &[Event], from: i64, to: i64) {
    let seqs: Vec<i64> = events.iter().map(Event::seq).collect();
    let expected: Vec<i64> = (from..=to).collect();
    assert_eq!(
        seqs, expected,
        "seqs must be exactly {from}..={to}, in order"
    );
    for e in events {
        assert_eq!(e.id, e.seq().to_string(), "SSE id is the seq");
    }
}
