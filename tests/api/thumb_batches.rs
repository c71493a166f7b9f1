//! Thumbs and votes written together in one batch (as PostgreSQL's lanes
//! write those of concurrent requests) are answered and stored exactly as if
//! each had been written alone, in the batch's order: new records, switches,
//! reasons, thumbs that change nothing, refusals, thumbs out of the key's
//! bot, golden examples on arrival, two thumbs on one record, votes that
//! count (under two window lengths), a vote inside its window, a backfilled
//! vote older than the conversation's satisfaction, and votes that find no
//! conversation.

use plaudit::{
    domain::{
        Timestamp,
        access::Source,
        access::{Rater, Scope},
        analytics::InboxFilter,
        conversation::{ConversationFields, ConversationInput, MessageFields, MessageInput, MessageRole},
        feedback::{BotSettingsPatch, FeedbackInput, FeedbackType},
        ids::{ClientId, Uuid},
        page::PageRequest,
        vote::{Direction, VoteInput},
    },
    store::{
        Applied, Command, Recorded, SqlStore, Store, StoreError, Voted, migrate,
        postgres::PgEngine,
        sql::Engine,
        sqlite::{SqliteEngine, SqliteOptions, WAL_FRAMES_BOUND},
    },
};

use crate::{
    both_backends,
    helpers::{Backend, TestDatabase},
};

both_backends!(
    a_batch_of_thumbs_and_votes_does_what_they_do_one_by_one,
    a_batch_whose_new_record_a_concurrent_writer_took_is_made_write_by_write,
);

async fn a_batch_of_thumbs_and_votes_does_what_they_do_one_by_one(backend: Backend) {
    let db = TestDatabase::new(&backend).await;
    match &backend {
        Backend::Sqlite => {
            let engine = SqliteEngine::open(SqliteOptions {
                path: db.url.trim_start_matches("sqlite://").into(),
                busy_timeout: std::time::Duration::from_secs(5),
                synchronous_full: false,
                readers: 2,
                wal_frames_bound: WAL_FRAMES_BOUND,
            })
            .expect("open SQLite");
            compare(engine).await;
        }
        Backend::Postgres(_) => compare(PgEngine::connect(&db.url, 4).expect("connect to PostgreSQL")).await,
    }
}

/// A thumb of a batch is new when the batch reads, but another transaction
/// inserts the same rater's record on the same answer before the batch's
/// insert commits (on PostgreSQL, which writes concurrent batches). The
/// batch's insert then waits for that transaction and finds the key taken:
/// the batch fails as a whole and each of its writes is made alone, and so
/// answered as if it had come after the other writer's record.
async fn a_batch_whose_new_record_a_concurrent_writer_took_is_made_write_by_write(backend: Backend) {
    let Backend::Postgres(_) = &backend else {
        return; // SQLite's one writer runs every write in turn: no other can come between.
    };
    let db = TestDatabase::new(&backend).await;
    let engine = PgEngine::connect(&db.url, 4).expect("connect to PostgreSQL");
    migrate::run(&engine).await.expect("migrate");
    let store = std::sync::Arc::new(SqlStore::new(engine, std::time::Duration::ZERO));
    let now = Timestamp::now();
    let setup = setup(&*store, "raced", now).await;
    let (other, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    // The other writer: u1's thumb up on a1, not yet committed.
    other.batch_execute("BEGIN").await.unwrap();
    other
        .execute(
            "INSERT INTO message_feedback (id, account_id, message_id, conversation_id, bot_id, user_id,
                 feedback_type, reason, status, source, created_at, updated_at, submitted_at)
             VALUES ($1, $2, 'a1', 'c1', $3, 'u1', 'positive', NULL, 'pending', 'api', $4, $4, $4)",
            &[&Uuid::new().to_string(), &setup.scope.account_id, &setup.bots[0].to_string(), &now.0],
        )
        .await
        .unwrap();
    let batch = {
        let (store, scope) = (store.clone(), setup.scope.clone());
        tokio::spawn(async move {
            let writes = vec![
                (scope.clone(), Command::Feedback(thumb("a1", "u1", FeedbackType::Negative, None)), now),
                (scope, Command::Feedback(thumb("a1", "u2", FeedbackType::Positive, None)), Timestamp(now.0 + 1)),
            ];
            store.write_together(writes).await
        })
    };
    // Only once the batch's insert waits on the other writer's key does the other commit.
    let mut waited = 0;
    loop {
        let row = other
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) > 0 {
            break;
        }
        waited += 1;
        assert!(waited < 500, "the batch never waited on the other writer's record");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    other.batch_execute("COMMIT").await.unwrap();
    let answers: Vec<String> = batch.await.unwrap().iter().map(answer).collect();
    assert_eq!(answers, ["existing negative pending -", "created positive pending -"]);
    let a1 = ClientId::parse("message_id", "a1").unwrap();
    let u1 = store.user_feedback(&setup.scope, &a1, "u1").await.unwrap().expect("u1's record");
    assert_eq!(u1.feedback_type, FeedbackType::Negative, "switched after the other writer's thumb up");
    let u2 = store.user_feedback(&setup.scope, &a1, "u2").await.unwrap().expect("u2's record");
    assert_eq!(u2.feedback_type, FeedbackType::Positive);
}

/// What an account is made of: its scope and its two bots (the second
/// approves thumbs up on arrival and wants a reason for thumbs down).
struct Setup {
    scope: Scope,
    bots: [Uuid; 2],
}

async fn compare<E: Engine>(engine: E) {
    migrate::run(&engine).await.expect("migrate");
    let store = SqlStore::new(engine, std::time::Duration::ZERO);
    let now = Timestamp::now();
    let batched = setup(&store, "batched", now).await;
    let alone = setup(&store, "alone", now).await;

    let from_batch = store.write_together(writes(&batched, now)).await;
    let mut one_by_one = Vec::new();
    for (scope, command, at) in writes(&alone, now) {
        one_by_one.push(store.apply(&scope, vec![command], at).await.unwrap().remove(0));
    }
    let answers = |results: &[Result<Applied, StoreError>]| results.iter().map(answer).collect::<Vec<_>>();
    assert_eq!(answers(&from_batch), answers(&one_by_one));
    // The answers themselves, so that both ways cannot agree on nonsense.
    assert_eq!(
        answers(&from_batch),
        [
            "created positive pending -",
            "created negative pending -",
            "existing negative pending -",
            "existing positive pending -",
            "refused: message_id: only assistant messages can be rated",
            "refused: message not found",
            "refused: message not found",
            "existing positive pending fine",
            "created positive auto_approved -",
            "refused: reason_required",
            "created negative pending wrong",
            "downvote on c2 recorded",
            "upvote on c1 recorded",
            "downvote on c1 recorded",
            "upvote on c1 not recorded",
            "refused: conversation not found",
            "refused: conversation not found",
            "upvote on c2 recorded",
        ]
        .map(String::from)
    );
    let held = state(&store, &batched).await;
    assert_eq!(held, state(&store, &alone).await);
    for line in [
        "a1 u1 positive pending Some(\"fine\") [submitted:positive:pending:u1 reason_updated:positive:pending:u1]",
        "a2 x negative pending None [submitted:positive:pending:x switched:negative:pending:x]",
        "a4 u1 positive auto_approved None [submitted:positive:auto_approved:u1]",
        "c1 up 2 down 2",
        "c2 up 1 down 1",
        "1 golden",
        "c1 Negative None votes [v2:down:-50 v1:up:100]",
        "c2 Negative Some(\"slow\") votes [v1:down:-100 v2:up:80]",
        "c1 activity [v1 upvoted the conversation (+100), v2 downvoted the conversation (-50)]",
        "c2 activity [v2 upvoted the conversation (+80), v1 downvoted the conversation (-100): slow]",
    ] {
        assert!(held.iter().any(|l| l == line), "{line} not in {held:#?}");
    }
}

async fn setup(store: &impl Store, name: &str, now: Timestamp) -> Setup {
    let account = store.create_account(name.into(), true, &plaudit::domain::audit::Actor::cli(), now).await.unwrap();
    let scope = Scope::account(account.id.as_str());
    let first =
        store.create_bot(&account.id, "first".into(), &plaudit::domain::audit::Actor::cli(), now).await.unwrap().id;
    let second =
        store.create_bot(&account.id, "second".into(), &plaudit::domain::audit::Actor::cli(), now).await.unwrap().id;
    let strict = BotSettingsPatch {
        auto_approve_positive: Some(true),
        auto_approve_negative: None,
        require_reason_positive: None,
        require_reason_negative: Some(true),
        vote_window_seconds: Some(60),
        retention_days: None,
    };
    store.update_bot_settings(&scope, &second, strict, &plaudit::domain::audit::Actor::cli(), now).await.unwrap();
    let conversation = |id: &str, bot: &Uuid| {
        let body = ConversationFields {
            bot_id: Some(bot.to_string()),
            contact_id: None,
            locale: None,
            metadata: None,
            created_at: None,
        };
        Command::UpsertConversation(ConversationInput::parse(id, body, now).unwrap())
    };
    let message = |conversation: &str, id: &str, role| {
        let body = MessageFields {
            id: id.to_owned(),
            role,
            content: format!("{id} says hello"),
            request_id: None,
            status: None,
            metadata: None,
            created_at: None,
        };
        Command::AppendMessage(MessageInput::parse(conversation, body, now).unwrap())
    };
    let mut commands = vec![conversation("c1", &first), message("c1", "q1", MessageRole::User)];
    for answer in ["a1", "a2", "a3"] {
        commands.push(message("c1", answer, MessageRole::Assistant));
    }
    commands.push(conversation("c2", &second));
    commands.push(message("c2", "q2", MessageRole::User));
    commands.push(message("c2", "a4", MessageRole::Assistant));
    for result in store.apply(&scope, commands, now).await.unwrap() {
        result.unwrap();
    }
    // Records the batch finds: one to switch, one to give again unchanged.
    for (message, user, kind) in [("a2", "x", FeedbackType::Positive), ("a3", "y", FeedbackType::Positive)] {
        let input = thumb(message, user, kind, None);
        store.apply(&scope, vec![Command::Feedback(input)], now).await.unwrap().remove(0).unwrap();
    }
    Setup { scope, bots: [first, second] }
}

fn thumb(message: &str, user: &str, feedback_type: FeedbackType, reason: Option<&str>) -> FeedbackInput {
    FeedbackInput {
        message_id: ClientId::parse("message_id", message).unwrap(),
        feedback_type,
        reason: reason.map(str::to_owned),
        rater: Rater { user_id: user.into(), source: Source::Api },
        created_at: None,
        reason_optional: false,
    }
}

fn vote(conversation: &str, user: &str, direction: Direction, value: i64, reason: Option<&str>) -> VoteInput {
    VoteInput {
        conversation_id: ClientId::parse("conversation_id", conversation).unwrap(),
        direction,
        value,
        reason: reason.map(str::to_owned),
        rater: Rater { user_id: user.into(), source: Source::Api },
        created_at: None,
    }
}

/// The batch, in order; each write a millisecond after the one before.
fn writes(setup: &Setup, now: Timestamp) -> Vec<(Scope, Command, Timestamp)> {
    use Command::{Feedback, Vote};
    use Direction::{Down, Up};
    use FeedbackType::{Negative, Positive};
    let of_first_bot = Scope { account_id: setup.scope.account_id.clone(), bot_id: Some(setup.bots[0].clone()) };
    let of_second_bot = Scope { account_id: setup.scope.account_id.clone(), bot_id: Some(setup.bots[1].clone()) };
    let all = &setup.scope;
    let backfilled = VoteInput { created_at: Some(Timestamp(now.0 - 3_600_000)), ..vote("c2", "v2", Up, 80, None) };
    [
        (all, Feedback(thumb("a1", "u1", Positive, None))), // a new record
        (&of_first_bot, Feedback(thumb("a1", "u2", Negative, None))), // another, through a bot's key
        (all, Feedback(thumb("a2", "x", Negative, None))),  // switches x's record
        (all, Feedback(thumb("a3", "y", Positive, None))),  // changes nothing
        (all, Feedback(thumb("q1", "u1", Positive, None))), // not an answer
        (all, Feedback(thumb("missing", "u1", Positive, None))), // no such message
        (&of_second_bot, Feedback(thumb("a1", "u3", Positive, None))), // out of the key's bot
        (all, Feedback(thumb("a1", "u1", Positive, Some("fine")))), // the first thumb's record, with a reason
        (all, Feedback(thumb("a4", "u1", Positive, None))), // approved on arrival: a golden example
        (all, Feedback(thumb("a4", "u2", Negative, None))), // refused: a reason is required
        (all, Feedback(thumb("a4", "u2", Negative, Some("wrong")))), // the same, with one
        (all, Vote(vote("c2", "v1", Down, -100, Some("slow")))), // counts
        (all, Vote(vote("c1", "v1", Up, 100, None))),       // counts
        (&of_first_bot, Vote(vote("c1", "v2", Down, -50, None))), // counts, through a bot's key
        (all, Vote(vote("c1", "v1", Up, 100, None))),       // inside v1's window: acknowledged only
        (all, Vote(vote("missing", "v1", Up, 100, None))),  // no such conversation
        (&of_second_bot, Vote(vote("c1", "v3", Up, 100, None))), // out of the key's bot
        (all, Vote(backfilled)),                            // counts, but older than c2's satisfaction
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (scope, command))| (scope.clone(), command, Timestamp(now.0 + i64::try_from(i).unwrap())))
    .collect()
}

/// A thumb's answer, without ids and times.
fn answer(result: &Result<Applied, StoreError>) -> String {
    match result {
        Ok(Applied::Feedback(Recorded { value: f, created })) => format!(
            "{} {} {} {}",
            if *created { "created" } else { "existing" },
            f.feedback_type.as_str(),
            f.status.as_str(),
            f.reason.as_deref().unwrap_or("-")
        ),
        Ok(Applied::Vote(Voted { ack, recorded })) => {
            format!("{} on {} {}", ack.vote, ack.conversation_id, if *recorded { "recorded" } else { "not recorded" })
        }
        Ok(other) => panic!("a thumb or a vote answered {other:?}"),
        Err(StoreError::Rule(e)) if e.to_string().contains("reason") => "refused: reason_required".into(),
        Err(e) => format!("refused: {e}"),
    }
}

/// What an account holds after its thumbs, without ids: every record with
/// its history, the conversations' counts, and the golden examples.
async fn state(store: &impl Store, setup: &Setup) -> Vec<String> {
    let scope = &setup.scope;
    let mut out = Vec::new();
    for message in ["a1", "a2", "a3", "a4"] {
        for user in ["u1", "u2", "u3", "x", "y"] {
            let id = ClientId::parse("message_id", message).unwrap();
            let Some(f) = store.user_feedback(scope, &id, user).await.unwrap() else { continue };
            let detail = store.feedback_detail(scope, &f.id).await.unwrap();
            let history: Vec<String> = detail
                .history
                .iter()
                .map(|e| format!("{}:{}:{}:{}", e.event, e.feedback_type.as_str(), e.status.as_str(), e.actor))
                .collect();
            out.push(format!(
                "{message} {user} {} {} {:?} [{}]",
                f.feedback_type.as_str(),
                f.status.as_str(),
                f.reason,
                history.join(" ")
            ));
        }
    }
    let rows = store.inbox(scope, &InboxFilter::default(), PageRequest::first()).await.unwrap();
    for row in rows.items {
        let id = &row.conversation.id;
        out.push(format!("{id} up {} down {}", row.thumbs_up, row.thumbs_down));
        let conversation = ClientId::parse("conversation_id", id).unwrap();
        let votes = store.list_votes(scope, &conversation, PageRequest::first()).await.unwrap();
        let votes: Vec<String> =
            votes.items.iter().map(|v| format!("{}:{}:{}", v.user_id, v.direction.as_str(), v.value)).collect();
        let satisfaction = &row.conversation.satisfaction;
        out.push(format!(
            "{id} {:?} {:?} votes [{}]",
            satisfaction.value,
            satisfaction.negative_reason,
            votes.join(" ")
        ));
        let transcript = store.transcript(scope, &conversation).await.unwrap();
        let activity: Vec<&str> = transcript
            .messages
            .iter()
            .filter(|m| m.message.role == MessageRole::Activity)
            .map(|m| m.message.content.as_str())
            .collect();
        out.push(format!("{id} activity [{}]", activity.join(", ")));
    }
    let golden = store.list_golden(scope, None, PageRequest::first()).await.unwrap();
    out.push(format!("{} golden", golden.items.len()));
    out
}
