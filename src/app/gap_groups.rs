//! Keeping the knowledge-gap groups of each shelf (a bot and a language)
//! over all time, for the embedding worker (`representing.rs`).
//!
//! A question the worker has represented is *linked*: compared with every
//! question of its shelf, it gets the list of its nearest neighbours and
//! enters theirs ([`crate::domain::meaning::neighbours`]). A shelf whose
//! lists changed is *regrouped*: average linkage over the neighbour graph
//! ([`crate::domain::gaps::regroup`]), and the places that changed stored.
//! Both compute on the background thread. The worker holds the shelf it
//! worked on last in memory (8-bit vectors: 39 MB for 100,000 questions) and
//! reads it again only when another instance changed it.
//!
//! Regrouping a large shelf takes seconds, so a shelf is regrouped at most
//! once every [`SPACING`] times its last regrouping took: the worker spends
//! at most a third of its time regrouping, and questions linked meanwhile
//! wait, listed alone, for the next one.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use super::lease::Lease;
use crate::{
    domain::{
        gaps::{Assignment, Shelf, ShelfQuestion, ShelfRow, gap_id, regroup},
        meaning::{NEIGHBOURS, neighbours::Neighbourhood},
    },
    store::Store,
};

/// A shelf is regrouped at most once every this many times its last
/// regrouping took.
const SPACING: u32 = 3;
/// Questions linked, and their lists stored, at a time.
const LINKS_AT_A_TIME: usize = 256;
/// Questions read at a time when a shelf is read.
const SHELF_PAGE: i64 = 5_000;

/// A shelf held in memory: its questions in queue order, their vectors and
/// neighbour lists, and the shelf's counts they reflect.
struct Held {
    shelf: Shelf,
    /// The shelf's counts of changes, removals and lists stored.
    changed: i64,
    removed: i64,
    linked: i64,
    questions: Vec<ShelfQuestion>,
    /// Where each question (by seq) is held.
    index_of: HashMap<i64, usize>,
    hood: Neighbourhood,
}

impl Held {
    fn new(shelf: Shelf) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        let hood = Neighbourhood::new(NEIGHBOURS, crate::domain::gaps::MEANING_THRESHOLD as f32);
        Self { shelf, changed: -1, removed: -1, linked: -1, questions: Vec::new(), index_of: HashMap::new(), hood }
    }

    /// The last seq held.
    fn last(&self) -> i64 {
        self.questions.last().map_or(i64::MIN, |q| q.seq)
    }

    /// Takes in a page of questions read after those held; returns their
    /// stored lists, to restore once every page is in ([`Self::restore`]).
    fn absorb(&mut self, rows: Vec<ShelfRow>) -> Vec<(usize, Option<Vec<i64>>)> {
        let mut lists = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(i) = self.hood.hold_stored(&row.vector) {
                self.index_of.insert(row.question.seq, i);
                self.questions.push(row.question);
                lists.push((i, row.neighbours));
            }
        }
        lists
    }

    /// Restores stored lists. A list that names a question no longer there
    /// (an erasure) is found again.
    fn restore(&mut self, lists: Vec<(usize, Option<Vec<i64>>)>) {
        let mut lost = Vec::new();
        for (i, list) in lists {
            let Some(list) = list else { continue };
            let near: Option<Vec<usize>> = list.iter().map(|seq| self.index_of.get(seq).copied()).collect();
            if !near.is_some_and(|near| self.hood.restore(i, &near)) {
                lost.push(i);
            }
        }
        for i in lost {
            self.hood.relist(i);
        }
    }
}

/// What the worker keeps between rounds.
#[derive(Default)]
pub(super) struct Keeper {
    held: Option<Held>,
    /// When each shelf was last regrouped, and how long that took.
    regrouped: HashMap<Shelf, (Instant, Duration)>,
}

impl Keeper {
    /// Whether `shelf` may be regrouped now.
    fn due(&self, shelf: &Shelf) -> bool {
        self.regrouped.get(shelf).is_none_or(|(at, took)| at.elapsed() >= *took * SPACING)
    }
}

/// Links the questions waiting on every shelf, and regroups the shelves
/// that changed (when due), while the lease holds.
pub(super) async fn keep(store: &Arc<dyn Store>, keeper: &mut Keeper, lease: &Lease) -> anyhow::Result<()> {
    for (shelf, changed, grouped) in store.gap_shelves_with_work().await? {
        if lease.lost() {
            break;
        }
        let mut held = match keeper.held.take() {
            Some(h) if h.shelf == shelf && h.changed == changed => h,
            Some(h) if h.shelf == shelf => refresh(store, h).await?,
            _ => refresh(store, Held::new(shelf.clone())).await?,
        };
        link(store, &mut held, lease).await?;
        if held.changed < 0 {
            // Changed elsewhere meanwhile (an erasure): read again next round.
            continue;
        }
        if keeper.due(&shelf) && held.changed != grouped {
            held = regroup_held(store, held, keeper).await?;
        }
        keeper.held = Some(held);
    }
    Ok(())
}

/// Regroups a held shelf on the background thread, stores the places that
/// moved, and notes how long it took.
async fn regroup_held(store: &Arc<dyn Store>, held: Held, keeper: &mut Keeper) -> anyhow::Result<Held> {
    let (mut held, done) = tokio::task::spawn_blocking(move || {
        // Timed on the thread: waiting for it is not regrouping.
        let done = crate::background::on_idle_thread(|| {
            let started = Instant::now();
            (regroup(&held.shelf.bot_id, &held.questions, &held.hood), started.elapsed())
        });
        (held, done)
    })
    .await?;
    let (places, took) = done?;
    store.regroup_gap_shelf(&held.shelf, held.changed, places.clone()).await?;
    apply(&mut held, places);
    tracing::info!(
        bot = %held.shelf.bot_id,
        locale = %held.shelf.locale,
        questions = held.questions.len(),
        seconds = took.as_secs_f64(),
        "regrouped knowledge gaps"
    );
    keeper.regrouped.insert(held.shelf.clone(), (Instant::now(), took));
    Ok(held)
}

/// Brings a held shelf up to date: only the questions added since, while
/// nothing was taken away and no one else stored lists; else all of it. Read
/// a page at a time, so that what is read never weighs much more than what
/// is held.
async fn refresh(store: &Arc<dyn Store>, held: Held) -> anyhow::Result<Held> {
    let first = store.gap_shelf(&held.shelf, held.last(), SHELF_PAGE).await?;
    let (mut held, first) = if first.removed == held.removed && first.linked == held.linked {
        (held, first)
    } else {
        let fresh = Held::new(held.shelf.clone());
        let first = store.gap_shelf(&fresh.shelf, i64::MIN, SHELF_PAGE).await?;
        (fresh, first)
    };
    // The counts of the first page's read: a later change is seen next round.
    (held.changed, held.removed, held.linked) = (first.changed, first.removed, first.linked);
    let mut lists = Vec::new();
    let mut page = first.rows;
    loop {
        let full = page.len() >= usize::try_from(SHELF_PAGE).unwrap_or(usize::MAX);
        let (h, mut taken) = tokio::task::spawn_blocking(move || {
            let taken = held.absorb(page);
            (held, taken)
        })
        .await?;
        held = h;
        lists.append(&mut taken);
        if !full {
            break;
        }
        page = store.gap_shelf(&held.shelf, held.last(), SHELF_PAGE).await?.rows;
    }
    Ok(tokio::task::spawn_blocking(move || {
        held.restore(lists);
        held
    })
    .await?)
}

/// Links the shelf's questions not linked yet, in queue order, a few hundred
/// at a time, storing the lists that changed.
async fn link(store: &Arc<dyn Store>, held: &mut Held, lease: &Lease) -> anyhow::Result<()> {
    let waiting: Vec<usize> = (0..held.questions.len()).filter(|&i| !held.hood.is_linked(i)).collect();
    for run in waiting.chunks(LINKS_AT_A_TIME) {
        if lease.lost() {
            break;
        }
        let aliases: Vec<(i64, String)> = aliases_of(held, run);
        let run_len = run.len();
        let run = run.to_vec();
        let mut hood = std::mem::replace(&mut held.hood, Neighbourhood::new(0, 0.0));
        let (hood, changed) = tokio::task::spawn_blocking(move || {
            let changed = crate::background::on_idle_thread(|| {
                let started = Instant::now();
                let mut changed: Vec<usize> = run.clone();
                changed.extend(hood.link_all(&run));
                changed.sort_unstable();
                tracing::debug!(compute_ms = started.elapsed().as_millis(), "compared questions");
                changed
            });
            (hood, changed)
        })
        .await?;
        held.hood = hood;
        let changed = changed?;
        let seq = |i: usize| held.questions[i].seq;
        let lists: Vec<(i64, Vec<i64>)> = changed
            .iter()
            .map(|&i| (seq(i), held.hood.near(i).iter().map(|&(j, _)| seq(j as usize)).collect()))
            .collect();
        let written = lists.len();
        let started = Instant::now();
        let (changed, linked) = store.link_gap_questions(&held.shelf, lists, aliases).await?;
        tracing::debug!(
            linked = run_len,
            lists = written,
            write_ms = started.elapsed().as_millis(),
            "linked questions"
        );
        if (changed, linked) != (held.changed + 1, held.linked + 1) {
            // Someone else changed the shelf meanwhile: what is held is stale.
            held.changed = -1;
            break;
        }
        (held.changed, held.linked) = (changed, linked);
    }
    Ok(())
}

/// The gap ids of the questions at `indices`, stored as they are linked
/// (for questions queued before ids were kept with them).
fn aliases_of(held: &Held, indices: &[usize]) -> Vec<(i64, String)> {
    indices.iter().map(|&i| &held.questions[i]).map(|q| (q.seq, gap_id(&held.shelf.bot_id, &q.message_id))).collect()
}

/// Takes the places of a regrouping into the held questions.
fn apply(held: &mut Held, places: Vec<Assignment>) {
    for place in places {
        if let Some(&i) = held.index_of.get(&place.seq) {
            held.questions[i].group_id = Some(place.group_id);
            held.questions[i].central = place.central;
        }
    }
}
