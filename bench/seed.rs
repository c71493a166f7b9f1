//! Generates the benchmark dataset, reproducibly, straight through the store.
//!
//! ```text
//! cargo run --release --example bench-seed -- --scale M --database-url sqlite://bench/out/bench-m.db
//! ```
//!
//! `--parallel N` sets how many batches are in flight (default 4; more helps
//! PostgreSQL, where each batch is a transaction on its own connection).
//!
//! Scale M: 100k conversations (600k messages), 200k message feedback, 30k votes,
//! 30k CSAT answers, over the 365 days before now, 10 bots, 2 variants, 20
//! topics. Scale L is ten times M; `--scale S` is a tenth, for a quick look.
//! The same seed gives the same conversations, messages and signals. It
//! writes `bench/out/env` with the keys and sizes the load scripts read.

use std::{fmt::Write as _, sync::Arc, time::Instant};

use futures_util::StreamExt;
use plaudit::{
    config::Settings,
    domain::audit::Actor,
    domain::{
        Timestamp,
        access::Source,
        access::{NewKey, Rater, Role, Scope, Secret, hash_secret},
        account::DEFAULT_ACCOUNT_ID,
        conversation::{ConversationFields, ConversationInput, MessageFields, MessageInput, MessageRole},
        csat::{CsatInput, QuestionCode},
        feedback::{FeedbackInput, FeedbackType},
        vote::{Direction, VoteInput},
    },
    store::{self, Command, Store},
};
use rand::{Rng, SeedableRng, rngs::StdRng};

const TOPICS: [&str; 20] = [
    "billing",
    "shipping",
    "returns",
    "refunds",
    "account",
    "password",
    "delivery",
    "sizing",
    "payment",
    "invoice",
    "warranty",
    "discount",
    "stock",
    "tracking",
    "cancellation",
    "subscription",
    "gift-card",
    "store-hours",
    "exchange",
    "privacy",
];
const QUESTIONS: [&str; 8] = [
    "Where is my order? It was supposed to arrive yesterday.",
    "How do I change the delivery address on my {topic} request?",
    "Can I get a refund for an item I bought last week?",
    "Why was my card charged twice for the same {topic} order?",
    "Do you have this jacket in size M in stock?",
    "How long does {topic} usually take?",
    "I forgot my password and the reset link does not work.",
    "Can you explain the {topic} policy in simple words?",
];
const ANSWERS: [&str; 6] = [
    "Your order left our warehouse this morning and should arrive within two business days.",
    "You can change it from your account page under Orders, then Edit delivery, until the parcel ships.",
    "Refunds for unused items are accepted within 30 days; I have started one for you.",
    "I can see two pending authorisations; the duplicate will disappear within three days.",
    "Here is how {topic} works: you pick the items, print the label, and drop the parcel at any point.",
    "I am sorry, I could not find that information. A colleague will get back to you by email.",
];
const REASONS: [&str; 10] = [
    "Too slow",
    "too slow!",
    "Wrong answer",
    "wrong answer.",
    "Did not answer my question",
    "The link is broken",
    "Outdated information",
    "Too generic",
    "Great, thanks",
    "Very clear",
];

struct Args {
    scale: String,
    database_url: String,
    seed: u64,
    /// Batches in flight: one writer takes them in turn on SQLite; on
    /// PostgreSQL each is a transaction of its own on the pool.
    parallel: usize,
}

fn args() -> Args {
    let mut a = Args { scale: "M".into(), database_url: "sqlite://bench/out/bench.db".into(), seed: 42, parallel: 4 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--scale" => a.scale = value,
            "--database-url" => a.database_url = value,
            "--seed" => a.seed = value.parse().expect("--seed takes a number"),
            "--parallel" => a.parallel = value.parse().expect("--parallel takes a number"),
            other => panic!("unknown flag {other}; use --scale S|M|L --database-url URL --seed N --parallel N"),
        }
    }
    a
}

fn fill(template: &str, topic: &str) -> String {
    template.replace("{topic}", topic)
}

/// The commands of conversation `i` of `total`: the conversation, six
/// messages, and its signals. Conversations start in the order of `i`, spread
/// evenly over the year before `now` (each at a random moment of its own
/// slot): written in that order, they lie in the database as a live
/// deployment's do, in about the order they happened.
#[allow(clippy::too_many_lines)]
fn conversation(
    i: u64,
    total: u64,
    bots: &[String],
    rng: &mut StdRng,
    now: i64,
    ratio: (f64, f64, f64),
) -> Vec<Command> {
    let id = format!("bench-c{i}");
    let (first, span) = (now - 365 * 86_400_000, 365 * 86_400_000 - 60_000);
    #[allow(clippy::cast_possible_wrap)]
    let start = first + (span * i as i64 + rng.random_range(0..span)) / total as i64;
    let variant = if rng.random_bool(0.5) { "A" } else { "B" };
    let contact = format!("visitor-{}", i % 50_000);
    let at = |ms: i64| Some(Timestamp(ms).to_rfc3339());
    let body = ConversationFields {
        bot_id: Some(bots[(i % bots.len() as u64) as usize].clone()),
        contact_id: Some(contact.clone()),
        locale: Some(if i.is_multiple_of(3) { "fr-FR" } else { "en" }.into()),
        metadata: Some(serde_json::json!({"variant": variant, "channel": "web"})),
        created_at: at(start),
    };
    let now_ts = Timestamp(now);
    let mut out =
        vec![Command::UpsertConversation(ConversationInput::parse(&id, body, now_ts).expect("valid conversation"))];
    let mut answers = Vec::new();
    for k in 1..=3 {
        let topic = TOPICS[rng.random_range(0..TOPICS.len())];
        let t = start + k * 20_000;
        let q = MessageFields {
            id: format!("{id}-u{k}"),
            role: MessageRole::User,
            content: fill(QUESTIONS[rng.random_range(0..QUESTIONS.len())], topic),
            request_id: None,
            status: None,
            metadata: None,
            created_at: at(t),
        };
        let a = MessageFields {
            id: format!("{id}-a{k}"),
            role: MessageRole::Assistant,
            content: fill(ANSWERS[rng.random_range(0..ANSWERS.len())], topic),
            request_id: Some(format!("bench-r{i}-{k}")),
            status: None,
            metadata: Some(
                serde_json::json!({"topic": topic, "confidence": (rng.random_range(0..1000) as f64) / 1000.0}),
            ),
            created_at: at(t + 5_000),
        };
        answers.push((a.id.clone(), t + 5_000));
        out.push(Command::AppendMessage(MessageInput::parse(&id, q, now_ts).expect("valid message")));
        out.push(Command::AppendMessage(MessageInput::parse(&id, a, now_ts).expect("valid message")));
    }
    let rater = |user: String| Rater { user_id: user, source: Source::EndUser };
    // Feedback: `ratio.0` a conversation on average, on random answers, by distinct users.
    let mut n = ratio.0.floor() as u64;
    if rng.random_bool(ratio.0.fract()) {
        n += 1;
    }
    for u in 0..n {
        let (message, t) = &answers[rng.random_range(0..answers.len())];
        let positive = rng.random_bool(0.7);
        let reason = (!positive && rng.random_bool(0.5) || positive && rng.random_bool(0.1))
            .then(|| REASONS[rng.random_range(0..REASONS.len())].to_owned());
        out.push(Command::Feedback(FeedbackInput {
            message_id: plaudit::domain::ids::ClientId::parse("id", message).expect("valid id"),
            feedback_type: if positive { FeedbackType::Positive } else { FeedbackType::Negative },
            reason,
            rater: rater(format!("{contact}-{u}")),
            created_at: Some(Timestamp((t + 30_000 + rng.random_range(0..600_000)).min(now))),
            reason_optional: false,
        }));
    }
    if rng.random_bool(ratio.1) {
        let up = rng.random_bool(0.65);
        let direction = if up { Direction::Up } else { Direction::Down };
        out.push(Command::Vote(VoteInput {
            conversation_id: plaudit::domain::ids::ClientId::parse("id", &id).expect("valid id"),
            direction,
            value: if up { rng.random_range(50..=100) } else { -rng.random_range(50..=100) },
            reason: (!up).then(|| REASONS[rng.random_range(0..8)].to_owned()),
            rater: rater(contact.clone()),
            created_at: Some(Timestamp((start + 200_000).min(now))),
        }));
    }
    if rng.random_bool(ratio.2) {
        let up = rng.random_bool(0.75);
        out.push(Command::Csat(CsatInput {
            conversation_id: plaudit::domain::ids::ClientId::parse("id", &id).expect("valid id"),
            question_code: QuestionCode::HelpfulThumbs,
            value: if up { "up" } else { "down" }.into(),
            score: if up { 5 } else { 1 },
            negative_reason: (!up && rng.random_bool(0.5)).then(|| REASONS[rng.random_range(0..8)].to_owned()),
            rater: rater(contact),
            created_at: Some(Timestamp((start + 300_000).min(now))),
        }));
    }
    out
}

async fn key(store: &Arc<dyn Store>, role: Role) -> String {
    let now = Timestamp::now();
    let key = NewKey::parse(DEFAULT_ACCOUNT_ID.into(), Some("bench"), role, None, None, now).expect("key");
    let secret = Secret::generate();
    store
        .create_key(key, hash_secret(secret.expose()), secret.display_prefix(), &Actor::cli(), now)
        .await
        .expect("create key");
    secret.expose().to_owned()
}

#[tokio::main]
async fn main() {
    let a = args();
    let conversations: u64 = match a.scale.as_str() {
        "S" => 10_000,
        "M" => 100_000,
        "L" => 1_000_000,
        other => panic!("unknown scale {other}: S, M or L"),
    };
    std::fs::create_dir_all("bench/out").expect("bench/out");
    // A connection for every batch in flight, so that none waits for the pool.
    let defaults = Settings::default();
    let settings = Settings {
        sqlite_synchronous: plaudit::config::SqliteSynchronous::Normal,
        postgres_max_connections: defaults.postgres_max_connections.max(a.parallel),
        ..defaults
    };
    let store = store::connect(&a.database_url, &settings.connect_options()).await.expect("open the database");
    // As a server would, so that the rollups' pending changes stay few.
    store::keep_folding(&store, std::time::Duration::from_secs(1));
    let now = Timestamp::now();
    let mut bots = Vec::new();
    for b in 0..10 {
        bots.push(
            store
                .create_bot(DEFAULT_ACCOUNT_ID, format!("Bench bot {b}"), &Actor::cli(), now)
                .await
                .expect("bot")
                .id
                .to_string(),
        );
    }
    let (admin, server) = (key(&store, Role::Admin).await, key(&store, Role::Server).await);
    let started = Instant::now();
    let scope = Scope::account(DEFAULT_ACCOUNT_ID);
    // 200k feedback, 30k votes, 30k CSAT answers per 100k conversations.
    let ratio = (2.0, 0.3, 0.3);
    let chunk = 100u64;
    let batches = futures_util::stream::iter((0..conversations).step_by(chunk as usize))
        .map(|first| {
            let (store, scope, bots) = (Arc::clone(&store), scope.clone(), bots.clone());
            async move {
                let mut rng = StdRng::seed_from_u64(a.seed ^ first);
                let commands: Vec<Command> = (first..(first + chunk).min(conversations))
                    .flat_map(|i| conversation(i, conversations, &bots, &mut rng, now.0, ratio))
                    .collect();
                let n = commands.len();
                let results = store.apply(&scope, commands, now).await.expect("apply a batch");
                let failed = results.iter().filter(|r| r.is_err()).count();
                assert_eq!(failed, 0, "every generated event applies: {:?}", results.iter().find(|r| r.is_err()));
                n
            }
        })
        .buffer_unordered(a.parallel);
    let mut events = 0;
    let mut done = 0;
    futures_util::pin_mut!(batches);
    while let Some(n) = batches.next().await {
        events += n;
        done += 1;
        if done % 100 == 0 {
            eprintln!(
                "{} conversations, {events} events, {:.0} events/s",
                done * chunk,
                events as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    store.fold_rollups().await.expect("fold the last pending rollup changes");
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {conversations} conversations ({events} events) in {secs:.1} s ({:.0} events/s)",
        events as f64 / secs
    );
    let mut env = String::new();
    let _ = writeln!(env, "BENCH_ADMIN_KEY={admin}");
    let _ = writeln!(env, "BENCH_SERVER_KEY={server}");
    let _ = writeln!(env, "BENCH_CONVERSATIONS={conversations}");
    let _ = writeln!(env, "BENCH_BOT={}", bots[0]);
    let _ = writeln!(env, "BENCH_DATABASE_URL={}", a.database_url);
    std::fs::write("bench/out/env", env).expect("write bench/out/env");
    println!("bench/out/env written");
}
