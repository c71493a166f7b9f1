//! The command line: `serve`, `demo`, `migrate`, `accounts create`, `keys create|list|revoke`,
//! `users invite|list|disable|enable|set-role`, `secrets rotate`; and, in `data.rs`, `backup`,
//! `export`, `purge`.
//!
//! Commands that create something print exactly one thing on stdout (the
//! account id, the key secret) so that scripts can capture it; everything else
//! goes to stderr.

mod data;

use anyhow::Context as _;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{
    app::{
        App,
        demo::{self, DemoOptions},
    },
    config::Settings,
    domain::{
        Timestamp,
        access::{NewKey, Role, Scope},
        account::{DEFAULT_ACCOUNT_ID, account_name},
        audit::Actor,
        ids::Uuid,
        page::PageRequest,
        people::NewUser,
    },
    startup::{Application, shutdown_signal},
    store::{self, UserChange},
};

/// Plaudit: a self-hosted feedback service for AI assistants.
#[derive(Debug, Parser)]
#[command(name = "plaudit", version, about)]
pub struct Cli {
    /// A TOML settings file (also PLAUDIT_CONFIG).
    #[arg(long, global = true, env = "PLAUDIT_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Serve a demo on a fresh database of sample data, with the demo chat page at /demo.
    Demo(DemoArgs),
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the people who use the dashboard.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Write a consistent copy of the SQLite database to FILE while the server runs.
    Backup {
        /// The copy to write (it must not exist yet).
        file: PathBuf,
    },
    /// Manage the instance's signing secret.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Export conversations (with messages, feedback, votes, CSAT) to a file or stdout.
    Export(ExportArgs),
    /// Erase conversations whose last activity is older than some days.
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The demo's SQLite file; it is deleted and generated again on every run.
    #[arg(long, default_value = "plaudit-demo.db")]
    pub db: PathBuf,
    /// Address to listen on (default: the `listen` setting, 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
    /// Seed of the generator: the same seed gives the same conversations.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create an account; prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// Put the account on a plan without API access (its keys get 403).
        #[arg(long)]
        no_api_access: bool,
    },
}

/// `plaudit secrets …`
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Replace the secret that signs feedback tokens (and forms and sign-ons):
    /// every one signed before stops working, within a second on every instance.
    Rotate,
}

/// `plaudit users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Invite a person: prints their one-time sign-in link alone (valid 7 days).
    Invite {
        #[arg(long)]
        email: String,
        /// viewer, reviewer or admin.
        #[arg(long)]
        role: String,
        /// Display name (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
        /// The account (default: the default account).
        #[arg(long)]
        account: Option<String>,
    },
    /// List the users of an account.
    List {
        #[arg(long)]
        account: Option<String>,
    },
    /// Disable a user (by email) and end their sessions.
    Disable { email: String },
    /// Let a disabled user sign in again.
    Enable { email: String },
    /// Change a user's role (viewer, reviewer, admin) and end their sessions.
    SetRole { email: String, role: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; prints its secret (shown this once).
    Create(KeyCreateArgs),
    /// List an account's keys.
    List {
        /// The account (default: the default account).
        #[arg(long)]
        account: Option<String>,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// admin, server or public.
    #[arg(long)]
    pub role: String,
    /// The account (default: the default account).
    #[arg(long)]
    pub account: Option<String>,
    /// Bind the key to one bot.
    #[arg(long)]
    pub bot: Option<String>,
    /// A label for the key.
    #[arg(long)]
    pub name: Option<String>,
    /// Seconds until the key expires.
    #[arg(long)]
    pub expires_in: Option<i64>,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Demo(args) => demo(&settings, args).await,
        Command::Migrate => {
            open(&settings).await?;
            eprintln!("database schema is up to date ({})", settings.redacted_database_url());
            Ok(())
        }
        Command::Accounts(AccountsCommand::Create { name, no_api_access }) => {
            let app = open(&settings).await?;
            let account = app.create_account(account_name(&name)?, !no_api_access, &Actor::cli()).await?;
            println!("{}", account.id);
            Ok(())
        }
        Command::Keys(cmd) => keys(&settings, cmd).await,
        Command::Users(cmd) => users(&settings, cmd).await,
        Command::Backup { file } => data::backup(&settings, &file),
        Command::Secrets(SecretsCommand::Rotate) => {
            open(&settings).await?.rotate_secret().await?;
            eprintln!("rotated the signing secret: feedback tokens signed before no longer work");
            Ok(())
        }
        Command::Export(args) => data::export(&settings, args).await,
        Command::Purge(args) => data::purge(&settings, args).await,
    }
}

pub use data::{ExportArgs, PurgeArgs};

/// The application over the configured database (migrated first).
async fn open(settings: &Settings) -> anyhow::Result<App> {
    let store = store::connect(&settings.database_url, &settings.connect_options())
        .await
        .with_context(|| format!("cannot open {}", settings.redacted_database_url()))?;
    Ok(App::start(store).await?)
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    tracing::info!(
        address = %app.local_addr()?,
        database = %settings.redacted_database_url(),
        "plaudit is listening"
    );
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Regenerates the demo database, then serves it with `/demo` turned on.
async fn demo(settings: &Settings, args: DemoArgs) -> anyhow::Result<()> {
    let configured = store::sqlite::path_from_url(&settings.database_url);
    let same = |a: &std::path::Path, b: &std::path::Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if configured.as_deref().is_some_and(|c| same(c, &args.db)) {
        anyhow::bail!(
            "{} is the database of `plaudit serve`; the demo deletes its file on start, so pick another --db",
            args.db.display()
        );
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = args.db.clone().into_os_string();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot remove the old demo database {}", PathBuf::from(file).display()));
            }
        }
    }
    let url = format!("sqlite://{}", args.db.display());
    let store = store::connect(&url, &settings.connect_options())
        .await
        .with_context(|| format!("cannot create {}", args.db.display()))?;
    eprintln!("generating the demo data in {} ...", args.db.display());
    let options = DemoOptions { seed: args.seed, ..DemoOptions::default() };
    let data = demo::generate(&App::start(store.clone()).await?, &options, Timestamp::now()).await?;
    let listen = args.listen.unwrap_or_else(|| settings.listen.clone());
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let app = Application::with_demo(store, listener, settings, &data).await?;
    let mut address = app.local_addr()?;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let conversations: usize = data.bots.iter().map(|b| b.conversations).sum();
    let feedback: usize = data.bots.iter().map(|b| b.feedback).sum();
    println!(
        "Plaudit demo: {} bots, {conversations} conversations, {feedback} thumbs over the last {} days",
        data.bots.len(),
        options.days
    );
    println!();
    println!("  Demo chat:   http://{address}/demo");
    println!("  Dashboard:   http://{address}/");
    println!("  Admin key:   {}", data.admin_key);
    println!("  Public key:  {}  (the demo page's widget)", data.public_key);
    println!();
    println!("The data lives in {} and is generated again on every run. Ctrl-C stops.", args.db.display());
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn users(settings: &Settings, cmd: UsersCommand) -> anyhow::Result<()> {
    let app = open(settings).await?;
    let by = Actor::cli();
    let (email, change) = match cmd {
        UsersCommand::Invite { email, role, name, account } => {
            let account = account.unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned());
            app.account(&account).await?;
            let invited = app.invite_user(NewUser::parse(account, &email, name.as_deref(), &role)?, &by).await?;
            println!("{}", crate::domain::people::invitation_link(&settings.public_url(None), &invited.token));
            let (email, role) = (&invited.user.email, invited.user.role.as_str());
            eprintln!("invited {email} as {role} (the link works once, for 7 days)");
            return Ok(());
        }
        UsersCommand::List { account } => return list_users(&app, account).await,
        UsersCommand::Disable { email } => (email, UserChange::Disabled(true)),
        UsersCommand::Enable { email } => (email, UserChange::Disabled(false)),
        UsersCommand::SetRole { email, role } => (email, UserChange::Role(Role::parse_user("role", &role)?)),
    };
    let user = app.user_by_email(&email).await?;
    let user = app.change_any_user(&Scope::account(user.account_id), &user.id, change, &by).await?;
    let state = if user.active() { "active" } else { "disabled" };
    eprintln!("{}: {} and {state}; their sessions have ended", user.email, user.role.as_str());
    Ok(())
}

async fn list_users(app: &App, account: Option<String>) -> anyhow::Result<()> {
    let scope = Scope::account(account.unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned()));
    app.account(&scope.account_id).await?;
    println!("{:<36}  {:<8}  {:<8}  {:<24}  EMAIL (NAME)", "ID", "ROLE", "STATE", "CREATED");
    let mut page = PageRequest::first();
    loop {
        let listed = app.list_users(&scope, page).await?;
        for user in &listed.items {
            let state = match (user.active(), user.has_password) {
                (false, _) => "disabled",
                (true, false) => "invited",
                (true, true) => "active",
            };
            let (id, role, at) = (&user.id, user.role.as_str(), user.created_at.to_rfc3339());
            println!("{id:<36}  {role:<8}  {state:<8}  {at:<24}  {} ({})", user.email, user.name);
        }
        match listed.next_cursor {
            Some(cursor) => page = PageRequest::parse(Some(page.limit), Some(&cursor))?,
            None => return Ok(()),
        }
    }
}

async fn keys(settings: &Settings, cmd: KeysCommand) -> anyhow::Result<()> {
    let app = open(settings).await?;
    let now = Timestamp::now();
    match cmd {
        KeysCommand::Create(args) => {
            let role = Role::parse("--role", &args.role)?;
            let account = args.account.unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned());
            let new = NewKey::parse(account, args.name.as_deref(), role, args.bot.as_deref(), args.expires_in, now)?;
            let (_, secret) = app.mint_key(new, &Actor::cli()).await?;
            println!("{}", secret.expose());
        }
        KeysCommand::List { account } => {
            let scope = Scope::account(account.unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned()));
            app.account(&scope.account_id).await?;
            println!("{:<36}  {:<6}  {:<10}  {:<8}  {:<24}  NAME", "ID", "ROLE", "PREFIX", "STATE", "CREATED");
            let mut page = PageRequest::first();
            loop {
                let listed = app.list_keys(&scope, page).await?;
                for key in &listed.items {
                    let state = if key.revoked_at.is_some() {
                        "revoked"
                    } else if key.expires_at.is_some_and(|e| e <= now) {
                        "expired"
                    } else {
                        "active"
                    };
                    let bot = key.bot_id.as_ref().map(|b| format!(" (bot {b})")).unwrap_or_default();
                    println!(
                        "{:<36}  {:<6}  {:<10}  {:<8}  {:<24}  {}{bot}",
                        key.id,
                        key.role.as_str(),
                        key.prefix,
                        state,
                        key.created_at.to_rfc3339(),
                        key.name
                    );
                }
                match listed.next_cursor {
                    Some(cursor) => page = PageRequest::parse(Some(page.limit), Some(&cursor))?,
                    None => break,
                }
            }
        }
        KeysCommand::Revoke { id } => {
            let id = Uuid::parse("id", &id)?;
            let revoked = app.revoke_any_key(&id, &Actor::cli()).await?;
            eprintln!("revoked key {} ({})", revoked.id, revoked.name);
        }
    }
    Ok(())
}
