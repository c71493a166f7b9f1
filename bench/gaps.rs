//! Knowledge gaps at scale: N thumbed-down questions of one bot,
//! represented, linked, grouped and listed, with the time each step takes
//! and the process's peak memory.
//!
//! ```text
//! cargo run --release --example bench-gaps -- --questions 100000 --database-url sqlite://bench/out/gaps.db
//! ```
//!
//! The dataset: the labelled questions of `tests/gaps/labelled_questions.jsonl`,
//! each in a few wordings (a greeting before, a courtesy after), make
//! `--phrasings` texts (default 2,000) that the built-in model embeds. Each
//! of the N conversations asks one of them (at random, seeded) and has its
//! answer thumbed down within the 90 days before now. Embedding 100,000
//! questions with the model takes about 25 minutes of one core, so the
//! bench stores each question's vector as its phrasing's vector plus a
//! little noise (cosine about 0.97 to it), as the worker would store it;
//! the linking, the grouping and the listings are the product's own.
//!
//! Prints: seeding; storing the vectors; linking every question to its
//! neighbours and grouping (the worker, from its first round until no
//! question waits); the first listing and a repeated one; a page of the
//! largest group's members; one more thumbs-down until it is grouped; and
//! the peak RSS.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use plaudit::{
    app::App,
    config::Settings,
    domain::{
        Timestamp,
        access::{Rater, Scope, Source},
        account::DEFAULT_ACCOUNT_ID,
        audit::Actor,
        conversation::{ConversationFields, ConversationInput, MessageFields, MessageInput, MessageRole},
        feedback::{FeedbackInput, FeedbackType},
        gaps::GapFilter,
        ids::ClientId,
        page::PageRequest,
    },
    embedding::{Embedder, local::MiniLm},
    store::{self, Command, Store},
};
use rand::{Rng, SeedableRng, rngs::StdRng};

struct Args {
    questions: u64,
    phrasings: usize,
    database_url: String,
}

fn args() -> Args {
    let mut a = Args { questions: 100_000, phrasings: 2_000, database_url: "sqlite://bench/out/gaps.db".into() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--questions" => a.questions = value.parse().expect("--questions takes a number"),
            "--phrasings" => a.phrasings = value.parse().expect("--phrasings takes a number"),
            "--database-url" => a.database_url = value,
            other => panic!("unknown flag {other}; use --questions N --phrasings N --database-url URL"),
        }
    }
    a
}

/// The phrasings: each labelled question, then with greetings and courtesies.
fn phrasings(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string("tests/gaps/labelled_questions.jsonl").expect("the labelled set");
    let base: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    let before = ["", "Hi, ", "Hello! ", "Quick question: ", "Sorry to bother you, ", "hey "];
    let after = ["", " Thanks.", " Please help.", " Any idea?", " thx"];
    let mut out = Vec::with_capacity(n);
    'all: for a in after {
        for b in before {
            for q in &base {
                if out.len() == n {
                    break 'all;
                }
                out.push(format!("{b}{q}{a}"));
            }
        }
    }
    out
}

/// `v` turned a little at random, unit length.
fn jitter(v: &[f32], rng: &mut StdRng) -> Vec<f32> {
    let noisy: Vec<f32> = v.iter().map(|x| x + (rng.random::<f32>() - 0.5) * 0.03).collect();
    let norm = noisy.iter().map(|x| x * x).sum::<f32>().sqrt();
    noisy.iter().map(|x| x / norm).collect()
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// The commands of conversation `i`: a question, an answer, a thumbs-down.
fn conversation(i: u64, bot: &str, question: &str, at: i64, now: Timestamp) -> Vec<Command> {
    let id = format!("gap-c{i}");
    let stamp = |ms: i64| Some(Timestamp(ms).to_rfc3339());
    let fields = ConversationFields {
        bot_id: Some(bot.to_owned()),
        contact_id: Some(format!("visitor-{i}")),
        locale: Some("en".into()),
        metadata: None,
        created_at: stamp(at),
    };
    let message = |suffix: &str, role, content: &str, ms| MessageFields {
        id: format!("{id}-{suffix}"),
        role,
        content: content.to_owned(),
        request_id: None,
        status: None,
        metadata: None,
        created_at: stamp(ms),
    };
    vec![
        Command::UpsertConversation(ConversationInput::parse(&id, fields, now).expect("a conversation")),
        Command::AppendMessage(
            MessageInput::parse(&id, message("q", MessageRole::User, question, at), now).expect("a message"),
        ),
        Command::AppendMessage(
            MessageInput::parse(&id, message("a", MessageRole::Assistant, "Sorry, I do not know.", at + 1_000), now)
                .expect("a message"),
        ),
        Command::Feedback(FeedbackInput {
            message_id: ClientId::parse("id", &format!("{id}-a")).expect("an id"),
            feedback_type: FeedbackType::Negative,
            reason: None,
            rater: Rater { user_id: format!("visitor-{i}"), source: Source::EndUser },
            created_at: Some(Timestamp(at + 5_000)),
            reason_optional: false,
        }),
    ]
}

/// Waits until no question waits to be represented, linked or grouped.
async fn settled(store: &Arc<dyn Store>) {
    loop {
        let waiting = store.gap_work_waiting().await.expect("read the work")
            || !store.pending_gap_questions(1).await.expect("read the queue").is_empty();
        if !waiting {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::main]
async fn main() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "plaudit=info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let a = args();
    if let Some(path) = a.database_url.strip_prefix("sqlite://") {
        std::fs::create_dir_all("bench/out").expect("bench/out");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let store = store::connect(&a.database_url, &Settings::default().connect_options()).await.expect("the database");
    let now = Timestamp::now();
    let bot = store.create_bot(DEFAULT_ACCOUNT_ID, "Gaps bench".into(), &Actor::cli(), now).await.expect("a bot");
    let bot_id = bot.id.to_string();

    let started = Instant::now();
    let texts = phrasings(a.phrasings);
    let model = MiniLm::shared().expect("the built-in model");
    let vectors = model.embed(&texts).await.expect("embed the phrasings");
    println!("embedded {} phrasings in {:.1} s", texts.len(), started.elapsed().as_secs_f64());

    let started = Instant::now();
    let scope = Scope::account(DEFAULT_ACCOUNT_ID);
    let mut rng = StdRng::seed_from_u64(7);
    let mut phrasing_of = Vec::with_capacity(usize::try_from(a.questions).unwrap_or(0));
    let span = 90 * 86_400_000;
    for first in (0..a.questions).step_by(500) {
        let mut commands = Vec::new();
        for i in first..(first + 500).min(a.questions) {
            let p = rng.random_range(0..texts.len());
            phrasing_of.push(p);
            #[allow(clippy::cast_possible_wrap)]
            let at = now.0 - span + (span / a.questions as i64) * i as i64;
            commands.extend(conversation(i, &bot_id, &texts[p], at, now));
        }
        for r in store.apply(&scope, commands, now).await.expect("apply a batch") {
            r.expect("every event applies");
        }
    }
    println!("seeded {} thumbed-down questions in {:.1} s", a.questions, started.elapsed().as_secs_f64());

    // Represented as the worker would: in queue order, a batch at a time.
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(11);
    let mut next = 0;
    loop {
        let batch = store.pending_gap_questions(1_000).await.expect("the queue");
        if batch.is_empty() {
            break;
        }
        let done = batch
            .iter()
            .map(|q| {
                let i: usize = q.message_id.trim_start_matches("gap-c").trim_end_matches("-a").parse().unwrap_or(next);
                next += 1;
                (q.seq, Some(jitter(&vectors[phrasing_of[i]], &mut rng)))
            })
            .collect();
        store.represent_gap_questions(model.model(), done, Timestamp::now()).await.expect("store the vectors");
    }
    println!("stored {next} vectors in {:.1} s", started.elapsed().as_secs_f64());

    let app = App::start(Arc::clone(&store)).await.expect("the app");
    let started = Instant::now();
    app.keep_representing(model.clone(), Duration::from_millis(200));
    settled(&store).await;
    println!(
        "linked and grouped {} questions in {:.1} s (peak RSS so far {:.0} MB)",
        a.questions,
        started.elapsed().as_secs_f64(),
        peak_rss_mb()
    );

    let filter = GapFilter::parse(Some(&bot_id), (None, None, None), None).expect("a filter");
    let page = PageRequest::parse(Some(50), None).expect("a page");
    let started = Instant::now();
    let listed = app.gaps(&scope, &filter, page).await.expect("a listing");
    let first = started.elapsed();
    let mut repeats = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        app.gaps(&scope, &filter, page).await.expect("a listing");
        repeats.push(started.elapsed());
    }
    repeats.sort();
    let counted: i64 = listed.items.iter().map(|g| g.count).sum();
    println!(
        "listing (last 30 days, 50 largest of the groups, {counted} thumbs-down in them): first {:.0} ms, repeated {:.1} ms (median of 10)",
        first.as_secs_f64() * 1e3,
        repeats[5].as_secs_f64() * 1e3
    );
    let all_time = GapFilter::parse(Some(&bot_id), (Some("2020-01-01"), Some("2030-01-01"), None), None).unwrap();
    let started = Instant::now();
    let everything = app.gaps(&scope, &all_time, page).await.expect("a listing");
    println!("listing (all time): first {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    let largest = everything.items.first().expect("a group");
    let started = Instant::now();
    let members = app.gap_members(&scope, &largest.id, page).await.expect("members");
    println!(
        "a page of 50 members of the largest group ({} answers): {:.0} ms",
        largest.count,
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(members.items.len(), 50.min(usize::try_from(largest.count).unwrap_or(0)));

    // One more thumbs-down: represented (here by the model), linked, grouped.
    let started = Instant::now();
    let more = conversation(a.questions, &bot_id, &texts[0], now.0 - 1_000, now);
    for r in store.apply(&scope, more, Timestamp::now()).await.expect("apply") {
        r.expect("applies");
    }
    settled(&store).await;
    println!("one more thumbs-down grouped {:.1} s after it was written", started.elapsed().as_secs_f64());
    println!("peak RSS {:.0} MB", peak_rss_mb());
}
