//! Storage: one [`Store`] trait, two engines.
//!
//! The trait speaks domain types. Its one implementation, [`SqlStore`], holds
//! every query of the product, written once in portable SQL (`queries.rs`);
//! the engines (`sqlite.rs`, `postgres.rs`) only run statements and
//! transactions. [`connect`] picks the engine from the URL scheme and runs
//! the migrations.

pub mod migrate;
pub mod postgres;
mod queries;
pub mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use queries::SqlStore;

use crate::domain::{
    DomainError, Timestamp,
    access::{ApiKey, KeyRecord, NewKey, Scope},
    account::{Account, Bot},
    conversation::{Conversation, ConversationInput, Message, MessageInput, MessageUpdate},
    ids::{ClientId, Uuid},
    page::{Page, PageRequest},
};

/// What can go wrong in the store, independent of the engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist in the caller's scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or reference rule of the database refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A rule of the domain, checked against stored state, refused the write.
    #[error(transparent)]
    Rule(#[from] DomainError),
    /// The database cannot be reached or is overloaded; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken database.
    #[error("database error: {0}")]
    Other(String),
}

/// One write, as sent by a single endpoint or as one event of a batch.
#[derive(Debug, Clone)]
pub enum Command {
    UpsertConversation(ConversationInput),
    AppendMessage(MessageInput),
    UpdateMessage(MessageUpdate),
    EndConversation(ClientId),
}

/// What a [`Command`] did.
#[derive(Debug, Clone)]
pub enum Applied {
    Conversation { conversation: Conversation, created: bool },
    Message { message: Message, created: bool },
}

impl Applied {
    /// Whether something new was made (201) rather than found or updated (200).
    pub fn created(&self) -> bool {
        match self {
            Self::Conversation { created, .. } | Self::Message { created, .. } => *created,
        }
    }
}

/// A conversation with its messages in order.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Transcript {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

/// Everything the product keeps. Implemented once by [`SqlStore`] over both engines.
#[async_trait]
pub trait Store: Send + Sync {
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn create_account(&self, name: String, api_access: bool, now: Timestamp) -> Result<Account, StoreError>;
    async fn get_account(&self, id: &str) -> Result<Account, StoreError>;

    /// Looks a key up by the hash of its secret.
    async fn find_key(&self, secret_hash: &str) -> Result<Option<KeyRecord>, StoreError>;
    async fn create_key(
        &self,
        key: NewKey,
        secret_hash: String,
        prefix: String,
        now: Timestamp,
    ) -> Result<ApiKey, StoreError>;
    async fn list_keys(&self, scope: &Scope, page: PageRequest) -> Result<Page<ApiKey>, StoreError>;
    async fn revoke_key(&self, scope: &Scope, id: &Uuid, now: Timestamp) -> Result<ApiKey, StoreError>;
    /// A key by id in any account: for operators (the CLI), never for the API.
    async fn get_key_by_id(&self, id: &Uuid) -> Result<ApiKey, StoreError>;

    async fn create_bot(&self, account_id: &str, name: String, now: Timestamp) -> Result<Bot, StoreError>;
    async fn get_bot(&self, scope: &Scope, id: &Uuid) -> Result<Bot, StoreError>;
    async fn list_bots(&self, scope: &Scope, page: PageRequest) -> Result<Page<Bot>, StoreError>;

    /// Applies writes in order, each on its own: one failing leaves the others
    /// alone. All that succeeded are committed before this returns.
    async fn apply(
        &self,
        scope: &Scope,
        commands: Vec<Command>,
        now: Timestamp,
    ) -> Result<Vec<Result<Applied, StoreError>>, StoreError>;

    /// A conversation with its messages.
    async fn transcript(&self, scope: &Scope, id: &ClientId) -> Result<Transcript, StoreError>;
}

/// Engine settings that do not come from the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub sqlite_busy_timeout_ms: u64,
    pub sqlite_synchronous_full: bool,
    pub sqlite_readers: usize,
    pub postgres_max_connections: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            sqlite_busy_timeout_ms: 5_000,
            sqlite_synchronous_full: true,
            sqlite_readers: 4,
            postgres_max_connections: 16,
        }
    }
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and
/// brings its schema up to date.
pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let engine = postgres::PgEngine::connect(url, opts.postgres_max_connections)?;
        migrate::run(&engine).await?;
        Ok(Arc::new(SqlStore::new(engine)))
    } else if let Some(path) = sqlite::path_from_url(url) {
        let engine = sqlite::SqliteEngine::open(sqlite::SqliteOptions {
            path,
            busy_timeout: std::time::Duration::from_millis(opts.sqlite_busy_timeout_ms),
            synchronous_full: opts.sqlite_synchronous_full,
            readers: opts.sqlite_readers,
        })?;
        migrate::run(&engine).await?;
        Ok(Arc::new(SqlStore::new(engine)))
    } else {
        Err(StoreError::Other("PLAUDIT_DATABASE_URL must start with sqlite:// or postgres://".into()))
    }
}
