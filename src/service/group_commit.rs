//! Group commit of comment ingest: concurrent requests for one show (by one actor) share
//! one transaction.
//!
//! Why: every write of a show takes the show's counter row lock until its commit is
//! durable, so one show commits one transaction at a time and single-comment POSTs top out
//! near 1 / (commit latency). Here a request joins its show's queue; if no transaction of
//! that queue is running it starts one at once (a lone request waits for nothing), else it
//! waits for the running one to end and goes in the next, with everyone who arrived
//! meanwhile. So the batch grows exactly as far as the load makes commits wait.
//!
//! Each request still gets its own answer ([`Ingested`]: its rows, its claims, its
//! duplicates), as if the requests had run alone in arrival order (see
//! [`ingest_together`]): arrival order decides claims and waitlist positions. Input is
//! validated before a request joins (`CommentBatch`), so a bad comment is refused alone;
//! if the database still refuses a group, each of its requests runs again alone, in order,
//! and only the one at fault fails.
//!
//! A queue's flushing runs on its own task, so a client that hangs up does not cancel a
//! transaction its neighbours are in; what was accepted is stored.
//!
//! Requests of different actors are not combined: the change log records each change's
//! actor from the transaction's `showfeed.actor`.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::comments::{ingest_together, Ingested};
use super::{Result, ServiceError};
use crate::db::Db;
use crate::domain::{CommentBatch, ShowId};
use crate::observability::Metrics;

/// Most comments one group transaction takes (a request's own batch may be larger: it
/// then goes alone).
const MAX_GROUP_COMMENTS: usize = 1000;

/// One request waiting in its show's queue.
struct Job {
    batch: CommentBatch,
    answer: oneshot::Sender<Result<Ingested>>,
}

/// What is queued for one show and actor, and whether a flusher serves it.
#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    flushing: bool,
}

type Key = (ShowId, String);

/// The per-show queues; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    db: Db,
    metrics: Arc<Metrics>,
    queues: Arc<Mutex<HashMap<Key, Queue>>>,
}

impl GroupCommit {
    pub fn new(db: Db, metrics: Arc<Metrics>) -> Self {
        GroupCommit {
            db,
            metrics,
            queues: Arc::default(),
        }
    }

    /// Stores `batch` for `show` as `actor`, in a transaction shared with the requests
    /// for the same show and actor that arrive while the previous one commits.
    pub async fn ingest(&self, actor: &str, show: ShowId, batch: CommentBatch) -> Result<Ingested> {
        let (answer, answered) = oneshot::channel();
        let key = (show, actor.to_owned());
        let start_flusher = {
            let mut queues = self.queues.lock().expect("group commit queues");
            let queue = queues.entry(key.clone()).or_default();
            queue.jobs.push(Job { batch, answer });
            !std::mem::replace(&mut queue.flushing, true)
        };
        if start_flusher {
            let this = self.clone();
            tokio::spawn(async move { this.flush(key).await });
        }
        answered.await.unwrap_or_else(|_| {
            Err(ServiceError::Unavailable(
                "the write was interrupted (the service is stopping)".into(),
            ))
        })
    }

    /// Runs the queue's groups one after the other until it is empty, then removes it.
    async fn flush(&self, key: Key) {
        loop {
            let group = {
                let mut queues = self.queues.lock().expect("group commit queues");
                let Some(queue) = queues.get_mut(&key) else {
                    return;
                };
                if queue.jobs.is_empty() {
                    queues.remove(&key);
                    return;
                }
                take_group(&mut queue.jobs)
            };
            self.run_group(&key, group).await;
        }
    }

    /// One transaction for the group; if the database refuses it and it had more than one
    /// request, each runs again alone, in arrival order.
    async fn run_group(&self, (show, actor): &Key, group: Vec<Job>) {
        self.metrics.ingest_groups.fetch_add(1, Relaxed);
        self.metrics
            .ingest_grouped_requests
            .fetch_add(group.len() as u64, Relaxed);
        let batches: Vec<&CommentBatch> = group.iter().map(|j| &j.batch).collect();
        let result = ingest_together(&self.db, actor, *show, &batches).await;
        match result {
            Ok(answers) => {
                for (job, answer) in group.into_iter().zip(answers) {
                    let _ = job.answer.send(Ok(answer));
                }
            }
            Err(e) if group.len() == 1 => {
                let job = group.into_iter().next().expect("one job");
                let _ = job.answer.send(Err(e));
            }
            Err(e) => {
                tracing::info!(show_id = %show, requests = group.len(), error = %e,
                    "a group of ingest requests was refused; running each alone");
                self.metrics.ingest_groups_split.fetch_add(1, Relaxed);
                for job in group {
                    let alone = ingest_together(&self.db, actor, *show, &[&job.batch]).await;
                    let _ = job
                        .answer
                        .send(alone.map(|mut a| a.pop().expect("one answer per batch")));
                }
            }
        }
    }
}

/// The next group: the oldest job, then the following ones while the comments fit
/// MAX_GROUP_COMMENTS.
fn take_group(jobs: &mut Vec<Job>) -> Vec<Job> {
    let mut comments = 0;
    let mut n = 0;
    for job in jobs.iter() {
        let size = job.batch.0.len();
        if n > 0 && comments + size > MAX_GROUP_COMMENTS {
            break;
        }
        comments += size;
        n += 1;
    }
    jobs.drain(..n).collect()
}
