//! Downloads, streamed a page at a time so that memory stays flat whatever
//! the size: conversations (with their messages, feedback, votes, CSAT and
//! satisfaction) for `GET /v1/exports/conversations` and `plaudit export`,
//! and golden examples for `GET /v1/golden-examples/export` and the
//! dashboard's downloads.

use std::pin::Pin;

use futures_util::Stream;

use super::{App, AppError};
use crate::{
    domain::{
        access::Scope,
        analytics::InboxFilter,
        conversation::ConversationRow,
        golden::ExportFormat,
        ids::Uuid,
        page::{MAX_LIMIT, Page, PageRequest},
        transcript::{ConversationFormat, TranscriptWriter},
    },
    store::{Store, StoreError, because},
};

/// Conversations fetched per page of an export.
pub const EXPORT_PAGE: i64 = 200;

/// A download's body: chunks of bytes, each with the number of items it
/// holds. A failure mid-way ends it with an error, which cuts a streamed
/// answer short.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<(Vec<u8>, usize), std::io::Error>> + Send>>;

/// A download: what it holds, under which file name, and its body.
pub struct Export {
    pub content_type: &'static str,
    pub file_name: String,
    pub chunks: Chunks,
}

impl App {
    /// Every conversation of `filter` in scope, in `format`. The first page
    /// is read before this returns, so that errors come before the body.
    pub async fn export_conversations(
        &self,
        scope: Scope,
        filter: InboxFilter,
        format: ConversationFormat,
    ) -> Result<Export, AppError> {
        let first = self.store.inbox(&scope, &filter, PageRequest::parse(Some(EXPORT_PAGE), None)?).await?;
        let name = if format == ConversationFormat::Csv { "conversations.csv" } else { "conversations.jsonl" };
        Ok(Export {
            content_type: format.content_type(),
            file_name: name.to_owned(),
            chunks: Box::pin(conversations(self.store.clone(), scope, filter, format, first)),
        })
    }

    /// The golden examples in scope (of one bot, if given), in `format`.
    pub async fn export_golden(
        &self,
        scope: Scope,
        bot: Option<Uuid>,
        format: ExportFormat,
    ) -> Result<Export, AppError> {
        let first = self.store.list_golden(&scope, bot.as_ref(), PageRequest::parse(Some(MAX_LIMIT), None)?).await?;
        let store = self.store.clone();
        let fetch = move |cursor: String| {
            let (store, scope, bot) = (store.clone(), scope.clone(), bot.clone());
            async move {
                let request = PageRequest::parse(Some(MAX_LIMIT), Some(&cursor))?;
                store.list_golden(&scope, bot.as_ref(), request).await
            }
        };
        let whole = |examples| vec![examples];
        let load = move |examples: Vec<_>| {
            std::future::ready(Ok(chunk_of(&examples, |e, out| out.extend_from_slice(format.line(e).as_bytes()))))
        };
        Ok(Export {
            content_type: format.content_type(),
            file_name: format!("golden-examples.{}", format.extension()),
            chunks: Box::pin(paged(format.header(), first, fetch, whole, load)),
        })
    }
}

/// A paged listing as a stream of byte chunks: `header`, then one chunk a
/// group of items. Pages are fetched one after the other (each starts at the
/// last one's cursor), `split` cuts each into groups (the whole page, or
/// fewer items where each is large), and `load` turns each group into its
/// chunk (completing each item, a transcript's messages say, and writing it)
/// in a task of its own, [`AHEAD`] groups at a time: so reading overlaps
/// sending, the engines' readers work side by side, and memory stays flat
/// whatever the size. Each chunk comes with the number of items it holds. A
/// failure mid-way cuts the body short, which is how a streamed answer
/// reports one.
fn paged<T, F, Fut, L, LFut>(
    header: &'static str,
    first: Page<T>,
    fetch: F,
    split: impl Fn(Vec<T>) -> Vec<Vec<T>> + Send + 'static,
    load: L,
) -> impl Stream<Item = Result<(Vec<u8>, usize), std::io::Error>> + Send
where
    T: Send + 'static,
    F: Fn(String) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = Result<Page<T>, StoreError>> + Send + 'static,
    L: Fn(Vec<T>) -> LFut + Send + 'static,
    LFut: Future<Output = Result<Vec<u8>, StoreError>> + Send + 'static,
{
    use futures_util::{StreamExt, TryStreamExt, stream};

    enum Next<T> {
        Page(Page<T>),
        Cursor(String),
        Done,
    }
    let pages = stream::try_unfold(Next::Page(first), move |next| {
        let fetch = fetch.clone();
        async move {
            let page = match next {
                Next::Done => return Ok::<_, StoreError>(None),
                Next::Page(page) => page,
                Next::Cursor(cursor) => fetch(cursor).await?,
            };
            let next = page.next_cursor.map_or(Next::Done, Next::Cursor);
            Ok(Some((page.items, next)))
        }
    });
    let groups =
        pages.map_ok(move |items| stream::iter(split(items).into_iter().map(Ok::<_, StoreError>))).try_flatten();
    let body = groups
        .map_ok(move |items| {
            let count = items.len();
            let task = tokio::spawn(load(items));
            async move {
                let chunk = task.await.map_err(|e| StoreError::other(because("an export task failed", e)))??;
                Ok((chunk, count))
            }
        })
        .try_buffered(AHEAD)
        .map_err(std::io::Error::other);
    stream::once(std::future::ready(Ok((header.as_bytes().to_vec(), 0)))).chain(body)
}

/// `items` written one after the other by `write`, as one chunk.
fn chunk_of<T>(items: &[T], write: impl Fn(&T, &mut Vec<u8>)) -> Vec<u8> {
    let mut chunk = Vec::with_capacity(CHUNK_CAPACITY);
    for item in items {
        write(item, &mut chunk);
    }
    chunk
}

/// Groups loaded at once, ahead of the one being written, which bounds what
/// an export holds in memory (at most this many groups of
/// [`GROUP_MESSAGES`]). With two, a group's reads waited on each other's
/// steps and round trips and the cores were 75-87% busy; four keep a 2-core
/// machine busy (an export of L: 19-24k -> 25k conversations/s on SQLite,
/// 10.6-12.9k -> 14.3-15.4k on PostgreSQL; peak 89 MB after other work).
const AHEAD: usize = 4;

/// Room a page's chunk starts with (a page of transcripts is about a megabyte).
const CHUNK_CAPACITY: usize = 1 << 20;

/// The conversation export of `filter` as a stream of chunks, each with the
/// number of conversations it holds, starting from the first page of the inbox.
fn conversations(
    store: std::sync::Arc<dyn Store>,
    scope: Scope,
    filter: InboxFilter,
    format: ConversationFormat,
    first: Page<ConversationRow>,
) -> impl Stream<Item = Result<(Vec<u8>, usize), std::io::Error>> + Send {
    let (fetch_store, fetch_scope) = (store.clone(), scope.clone());
    let fetch = move |cursor: String| {
        let (store, scope, filter) = (fetch_store.clone(), fetch_scope.clone(), filter.clone());
        async move {
            let request = PageRequest::parse(Some(EXPORT_PAGE), Some(&cursor))?;
            store.inbox(&scope, &filter, request).await
        }
    };
    let write: TranscriptWriter = std::sync::Arc::new(move |t, out| format.write(t, out));
    let load = move |rows: Vec<ConversationRow>| {
        let (store, scope, write) = (store.clone(), scope.clone(), write.clone());
        async move { store.write_transcripts(&scope, rows, write, Vec::with_capacity(CHUNK_CAPACITY)).await }
    };
    paged(format.header(), first, fetch, by_messages, load)
}

/// Messages an export loads at once, at most, unless one conversation alone
/// has more: a page of ordinary conversations is one group, while a page of
/// conversations of hundreds of messages each is loaded a few at a time.
/// With 5,000, an export after a burst of ingest peaked at 105-109 MB; with
/// 2,000 at 88-89 MB, at the same speed on ordinary conversations.
const GROUP_MESSAGES: i64 = 2_000;

/// Cuts a page of conversations, in order, into groups of at most
/// [`GROUP_MESSAGES`] messages (a longer conversation makes a group alone),
/// so that what an export holds follows the number of messages, not of
/// conversations.
fn by_messages(rows: Vec<ConversationRow>) -> Vec<Vec<ConversationRow>> {
    groups(rows, |row| row.message_count, GROUP_MESSAGES)
}

/// Cuts `items`, in order, into groups whose sizes add up to at most
/// `budget`; an item larger than that makes a group alone, and every item
/// counts as at least one.
fn groups<T>(items: Vec<T>, size: impl Fn(&T) -> i64, budget: i64) -> Vec<Vec<T>> {
    let mut groups: Vec<Vec<T>> = Vec::new();
    let mut total = 0;
    for item in items {
        let n = size(&item).max(1);
        match groups.last_mut() {
            Some(group) if total + n <= budget => {
                total += n;
                group.push(item);
            }
            _ => {
                total = n;
                groups.push(vec![item]);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::groups;

    #[test]
    fn groups_keep_the_order_and_stay_within_the_budget() {
        let cut = |items: Vec<i64>| groups(items, |n| *n, 10);
        assert_eq!(cut(vec![]), Vec::<Vec<i64>>::new());
        // Ordinary items: one group.
        assert_eq!(cut(vec![1, 2, 3, 4]), [vec![1, 2, 3, 4]]);
        // Cut where the next would pass the budget; a large item alone.
        assert_eq!(cut(vec![6, 4, 1, 25, 9, 2]), [vec![6, 4], vec![1], vec![25], vec![9], vec![2]]);
        // Empty items count as one each, so a group is never unbounded.
        assert_eq!(cut(vec![0; 12]), [vec![0; 10], vec![0; 2]]);
    }
}
