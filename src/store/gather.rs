//! Gathering concurrent requests into batches.
//!
//! A [`Gather`] takes items from many tasks and runs them in batches: each
//! submitter queues its item and waits for its answer, and up to `lanes`
//! batches run at once, each taking whatever is queued (at most `max`). No
//! batch waits for more items: while the lanes are busy, items pile up, so
//! the batches grow with the load and stay single at rest.
//!
//! Only one batch at a time runs its statements: it holds the [`Turn`] until
//! only its commit is left, then passes it on, and the next lane takes
//! whatever piled up meanwhile. The lanes beyond the first are thus batches
//! waiting on their commits (PostgreSQL's flush of its log), whose waits
//! overlap the next batch's statements. Measured at L on PostgreSQL against
//! lanes that each ran their statements at once: fuller batches, a fifth less
//! of the machine a thumb or a vote, and 5-10% more of them a second.
//!
//! Written by hand: the batching crates we know gather by size or by time,
//! and none has lanes that take turns at their statements, which is what the
//! measurement above rewarded.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
};

use futures_util::{FutureExt, future::BoxFuture};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Runs a batch. Each item carries where its answer goes: an item the run
/// drops unanswered (a panic) tells its submitter so by the closed channel.
type Run<I> = dyn Fn(Vec<I>, Turn) -> BoxFuture<'static, ()> + Send + Sync;

/// Items queued for batches, and the lanes that run them.
pub struct Gather<I> {
    queue: Mutex<Vec<I>>,
    lanes: Arc<Semaphore>,
    turn: Arc<Semaphore>,
    max: usize,
    run: Box<Run<I>>,
}

impl<I: Send + 'static> Gather<I> {
    /// Batches of at most `max` items, `lanes` of them at once, each run by `run`.
    pub fn new(
        lanes: usize,
        max: usize,
        run: impl Fn(Vec<I>, Turn) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(Vec::new()),
            lanes: Arc::new(Semaphore::new(lanes.max(1))),
            turn: Arc::new(Semaphore::new(1)),
            max: max.max(1),
            run: Box::new(run),
        })
    }

    /// Queues `item`. The batch runs in a task of its own, so a submitter
    /// that goes away cuts off nobody's batch.
    pub fn submit(self: &Arc<Self>, item: I) {
        self.lock().push(item);
        // A lane that is free starts; otherwise a busy lane takes the item
        // when its batch ends (see `drain`).
        if let Ok(permit) = self.lanes.clone().try_acquire_owned() {
            tokio::spawn(self.clone().drain(permit));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<I>> {
        // The queue holds no invariant a panic could break half-way.
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs batches while items are queued. Before it stops, a lane gives its
    /// permit back and looks again: an item queued while it held the permit
    /// (whose submitter found no lane free) is then either seen here or
    /// finds the permit free itself.
    async fn drain(self: Arc<Self>, mut permit: OwnedSemaphorePermit) {
        loop {
            // The semaphore is never closed.
            let Ok(turn) = self.turn.clone().acquire_owned().await else { return };
            let batch: Vec<I> = {
                let mut queue = self.lock();
                let n = queue.len().min(self.max);
                queue.drain(..n).collect()
            };
            if batch.is_empty() {
                drop(turn);
                drop(permit);
                if self.lock().is_empty() {
                    return;
                }
                match self.lanes.clone().try_acquire_owned() {
                    Ok(again) => {
                        permit = again;
                        continue;
                    }
                    // Another lane has it, and the items.
                    Err(_) => return,
                }
            }
            if AssertUnwindSafe((self.run)(batch, Turn(Some(turn)))).catch_unwind().await.is_err() {
                tracing::error!("a batch of writes panicked; its writes are answered unavailable");
            }
        }
    }
}

/// A batch's turn at running its statements: batches run theirs one at a
/// time, and a batch passes its turn on when only its commit is left, so the
/// next batch's statements run while the last one's commit waits on the disk.
pub struct Turn(Option<OwnedSemaphorePermit>);

impl Turn {
    /// A turn that holds back no one (a batch written outside a [`Gather`]).
    pub fn alone() -> Self {
        Self(None)
    }

    /// Lets the next batch start its statements.
    pub fn pass(mut self) {
        self.0.take();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::oneshot;

    use super::*;
    use crate::store::StoreError;

    /// An item of the tests: a number, and where its answer goes.
    type Item = (u32, oneshot::Sender<Result<u32, StoreError>>);

    /// Queues `i` and waits for its answer, as the store's lanes do.
    async fn ask(gather: &Arc<Gather<Item>>, i: u32) -> Result<u32, StoreError> {
        let (tx, rx) = oneshot::channel();
        gather.submit((i, tx));
        rx.await.map_err(|_| StoreError::unavailable("the batch stopped before answering"))?
    }

    /// Answers each item with `answer`.
    fn reply(items: Vec<Item>, answer: impl Fn(u32) -> Result<u32, StoreError>) {
        for (i, tx) in items {
            let _ = tx.send(answer(i));
        }
    }

    /// Many submitters at once: each gets the answer to its own item, the
    /// items run in batches of at most `max`, some of more than one, and no
    /// more than `lanes` run at a time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn each_submitter_gets_its_own_answer_from_shared_batches() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let gather = {
            let (running, most, sizes) = (running.clone(), most.clone(), sizes.clone());
            Gather::new(2, 8, move |items: Vec<Item>, turn: Turn| {
                let (running, most, sizes) = (running.clone(), most.clone(), sizes.clone());
                Box::pin(async move {
                    turn.pass();
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    sizes.lock().unwrap().push(items.len());
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    reply(items, |i| if i % 7 == 0 { Err(StoreError::NotFound("item")) } else { Ok(i * 10) });
                })
            })
        };
        let answers = futures_util::future::join_all((0..500u32).map(|i| {
            let gather = gather.clone();
            tokio::spawn(async move { (i, ask(&gather, i).await) })
        }))
        .await;
        for answer in answers {
            let (i, answer) = answer.unwrap();
            match answer {
                Ok(v) => assert_eq!(v, i * 10),
                Err(e) => assert!(i % 7 == 0 && matches!(e, StoreError::NotFound("item"))),
            }
        }
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 500, "every item ran once");
        assert!(sizes.iter().all(|&n| (1..=8).contains(&n)), "{sizes:?}");
        assert!(sizes.iter().any(|&n| n > 1), "items were gathered: {sizes:?}");
        assert!(most.load(Ordering::SeqCst) <= 2, "at most two lanes at once");
    }

    /// One batch at a time runs its statements, and the next one starts
    /// its own as soon as the last passes its turn, while that one is still
    /// committing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn batches_take_turns_at_their_statements_and_commit_side_by_side() {
        let stating = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let (most_stating, most_running) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let gather = {
            let (stating, running) = (stating.clone(), running.clone());
            let (most_stating, most_running) = (most_stating.clone(), most_running.clone());
            Gather::new(4, 8, move |items: Vec<Item>, turn: Turn| {
                let (stating, running) = (stating.clone(), running.clone());
                let (most_stating, most_running) = (most_stating.clone(), most_running.clone());
                Box::pin(async move {
                    most_running.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    most_stating.fetch_max(stating.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    stating.fetch_sub(1, Ordering::SeqCst);
                    turn.pass();
                    // The commit.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    reply(items, Ok);
                })
            })
        };
        let answers = futures_util::future::join_all((0..300u32).map(|i| {
            let gather = gather.clone();
            tokio::spawn(async move { (i, ask(&gather, i).await) })
        }))
        .await;
        for answer in answers {
            let (i, answer) = answer.unwrap();
            assert_eq!(answer.unwrap(), i);
        }
        assert_eq!(most_stating.load(Ordering::SeqCst), 1, "statements one batch at a time");
        let most = most_running.load(Ordering::SeqCst);
        assert!((2..=4).contains(&most), "commits beside the next statements, within the lanes: {most}");
    }

    /// A batch that panics, or leaves items unanswered, answers each of them
    /// unavailable; the lanes go on with the next items.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_batch_answers_each_item_unavailable() {
        let gather = Gather::new(1, 4, |items: Vec<Item>, _turn| {
            Box::pin(async move {
                match items[0].0 {
                    0 => panic!("a broken batch"),
                    1 => drop(items),
                    _ => reply(items, Ok),
                }
            })
        });
        assert!(matches!(ask(&gather, 0).await, Err(StoreError::Unavailable(_))));
        assert!(matches!(ask(&gather, 1).await, Err(StoreError::Unavailable(_))));
        assert_eq!(ask(&gather, 2).await.unwrap(), 2);
    }
}
