//! The commands about the data itself: `backup`, `export`, `purge`.

use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;

use super::open;
use crate::{
    config::Settings,
    domain::{
        Timestamp,
        access::Scope,
        account::DEFAULT_ACCOUNT_ID,
        analytics::{InboxFilter, SatisfactionFilter, ThumbsFilter},
        audit::Actor,
        erasure::Erased,
        ids::{LocaleFilter, Uuid},
        transcript::ConversationFormat,
    },
    store,
};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// jsonl (one transcript a line) or csv.
    #[arg(long, default_value = "jsonl")]
    pub format: String,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The account (default: the default account).
    #[arg(long)]
    pub account: Option<String>,
    /// Only this bot's conversations.
    #[arg(long)]
    pub bot: Option<String>,
    /// The conversation's satisfaction: upvote, downvote or unknown.
    #[arg(long)]
    pub feedback: Option<String>,
    /// up or down: at least one current thumb of that kind on an answer.
    #[arg(long)]
    pub thumbs: Option<String>,
    /// The conversation's language (fr matches fr and fr-CA).
    #[arg(long)]
    pub locale: Option<String>,
    /// Started at or after (RFC 3339 or a date).
    #[arg(long)]
    pub from: Option<String>,
    /// Started before (RFC 3339 or a date).
    #[arg(long)]
    pub to: Option<String>,
    /// Text to find in the conversations.
    #[arg(long)]
    pub q: Option<String>,
    /// Exactly this contact's conversations.
    #[arg(long)]
    pub contact: Option<String>,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Erase conversations whose last activity is more than this many days old.
    #[arg(long, value_name = "DAYS")]
    pub older_than: i64,
    /// Only this bot's conversations (default: every bot of the account).
    #[arg(long)]
    pub bot: Option<String>,
    /// The account (default: the default account).
    #[arg(long)]
    pub account: Option<String>,
    /// Count what would be erased, and erase nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Writes the export a page at a time; a progress line on stderr when it is a terminal.
pub async fn export(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    use std::io::Write;

    let format = ConversationFormat::parse(Some(&args.format))?;
    let filter = InboxFilter {
        bot_id: args.bot.as_deref().map(|b| Uuid::parse("--bot", b)).transpose()?,
        feedback: args.feedback.as_deref().map(|f| SatisfactionFilter::parse("--feedback", f)).transpose()?,
        thumbs: args.thumbs.as_deref().map(|t| ThumbsFilter::parse("--thumbs", t)).transpose()?,
        locale: args.locale.as_deref().map(|l| LocaleFilter::parse("--locale", l)).transpose()?,
        from: args.from.as_deref().map(|t| Timestamp::parse_instant("--from", t)).transpose()?,
        to: args.to.as_deref().map(|t| Timestamp::parse_instant("--to", t)).transpose()?,
        q: args.q,
        contact_id: args.contact,
    };
    let app = open(settings).await?;
    let scope = Scope::account(args.account.unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned()));
    app.account(&scope.account_id).await?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let progress = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    progress.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {human_pos} conversations exported ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let mut chunks = app.export_conversations(scope, filter, format).await?.chunks;
    while let Some((chunk, conversations)) = futures_util::TryStreamExt::try_next(&mut chunks).await? {
        out.write_all(&chunk)?;
        progress.inc(conversations as u64);
    }
    out.flush()?;
    progress.finish_and_clear();
    eprintln!("exported {} conversations", progress.position());
    Ok(())
}

/// `plaudit backup FILE`: SQLite's online backup, with progress on a terminal.
pub fn backup(settings: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let Some(source) = store::sqlite::path_from_url(&settings.database_url) else {
        anyhow::bail!(
            "plaudit backup copies a SQLite database; for PostgreSQL use pg_dump (see docs/operations.md): \
             pg_dump --format=custom --file=plaudit.dump \"$PLAUDIT_DATABASE_URL\""
        );
    };
    if !source.is_file() {
        anyhow::bail!("{} does not exist", source.display());
    }
    let progress = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} pages ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let bytes = store::sqlite::backup(&source, file, |copied, total| {
        progress.set_length(total);
        progress.set_position(copied);
    })?;
    progress.finish_and_clear();
    eprintln!("wrote {} ({} bytes), a consistent copy of {}", file.display(), bytes, source.display());
    Ok(())
}

/// `plaudit purge`: erases (or, with `--dry-run`, counts) expired
/// conversations, bot by bot, with progress on a terminal. Past periods'
/// figures stay; the audit log records the counts.
pub async fn purge(settings: &Settings, args: PurgeArgs) -> anyhow::Result<()> {
    let bot = args.bot.as_deref().map(|b| Uuid::parse("--bot", b)).transpose()?;
    let app = open(settings).await?;
    let scope = Scope::account(args.account.unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned()));
    app.account(&scope.account_id).await?;
    let progress = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    let verb = if args.dry_run { "would be erased" } else { "erased" };
    progress.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{spinner}} {{pos}} conversations {verb} ({{elapsed}})"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let show = |e: &Erased| progress.set_position(e.conversations);
    let purged = app.purge(&scope, bot.as_ref(), args.older_than, args.dry_run, &Actor::cli(), &show).await?;
    progress.finish_and_clear();
    for p in &purged {
        let e = &p.erased;
        eprintln!(
            "bot {}: {} conversations {verb} (last activity before {}): {} messages, {} feedback, {} votes, {} CSAT answers, {} golden examples",
            p.bot_id,
            e.conversations,
            p.cut.to_rfc3339(),
            e.messages,
            e.feedback,
            e.votes,
            e.csat,
            e.golden_examples
        );
    }
    Ok(())
}
