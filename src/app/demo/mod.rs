//! The demo dataset of `plaudit demo`: three bots and a few hundred conversations over the last
//! 60 days, with thumbs (and their reasons), votes, CSAT answers, two A/B
//! variants of the first bot that visibly differ, topics, reviewed and pending
//! feedback. Written through the application's operations like any other
//! write; the same seed gives the same data (times are relative to `now`).

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::json;

pub mod content;

use crate::{
    app::{App, AppError},
    domain::{
        Timestamp,
        access::Source,
        access::{NewKey, Principal, Rater, Role, Scope},
        account::{Bot, DEFAULT_ACCOUNT_ID},
        conversation::{ConversationFields, ConversationInput, MessageFields, MessageInput, MessageRole},
        csat::{CsatInput, PromptCopy, QuestionCode, RatingConfigPatch},
        feedback::{
            BotSettingsPatch, FeedbackFilter, FeedbackInput, FeedbackStatus, FeedbackType, ReviewAction, ReviewRequest,
        },
        gaps::{GapFilter, KnowledgeGap},
        ids::{ClientId, Uuid},
        page::PageRequest,
        vote::{Direction, VoteInput},
    },
    store::Command,
};
use content::{Entry, FOLLOW_UPS, HELPDESK, PERSONAS, Persona};

/// How much to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The same seed gives the same data.
    pub seed: u64,
    /// Conversations start within this many days before now.
    pub days: i64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self { seed: 7, days: 60 }
    }
}

/// A bot of the demo and what was generated for it.
#[derive(Debug, Clone)]
pub struct DemoBot {
    pub bot: Bot,
    pub conversations: usize,
    pub messages: usize,
    pub feedback: usize,
    pub votes: usize,
    pub csat: usize,
}

/// What the generator made: bots, keys (shown once) and counts.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// The bots, the demo chat's first.
    pub bots: Vec<DemoBot>,
    /// An admin key of the default account, for the dashboard and the API.
    pub admin_key: String,
    /// A server key bound to the first bot: the demo chat's backend.
    pub server_key: String,
    /// A public key bound to the first bot: the demo page's widget.
    pub public_key: String,
    /// Feedback records approved or dismissed by the generator's reviewer.
    pub reviewed: usize,
}

/// The question codes the first bot's prompt asks (stars, to show them off).
const SHOP_CODES: [&str; 2] = ["HELPFUL_THUMBS", "SATISFACTION_STARS"];

/// How much more the first bot's variant B is liked than variant A.
const VARIANT_B_LIFT: f64 = 0.14;

/// Questions no entry answers: they get the fallback answer, and thumbs down.
/// Each is asked in several ways, so the knowledge gaps page groups the
/// paraphrases (one draw picks a phrasing, as it once picked a question).
const UNANSWERED: &[&str] = &[
    "Do you sell gift cards?",
    "Can I buy a gift card?",
    "do you have gift cards",
    "Can I pick up my order in your Lyon store?",
    "Can I collect my order from the Lyon store?",
    "Can I pick up my order from your store in Lyon?",
    "Is the Alpine parka waterproof enough for skiing?",
    "is the alpine parka waterproof?",
    "Do you have a loyalty programme?",
    "Is there a loyalty programme?",
    "Do you offer a student discount?",
    "Is there a discount for students?",
];

/// The answer the demo's admin already wrote for one knowledge gap, so the
/// page shows an answered group next to the open ones.
const GAP_ANSWER: (&str, &str) = (
    "Do you sell gift cards?",
    "Yes: gift cards from €20 to €200 are on the Gift cards page and arrive by email within minutes. They are \
     valid for two years, online and in our stores.",
);

async fn key(app: &App, role: Role, name: &str, bot: Option<&Uuid>) -> Result<String, AppError> {
    let bot = bot.map(Uuid::to_string);
    let key = NewKey::parse(DEFAULT_ACCOUNT_ID.into(), Some(name), role, bot.as_deref(), None, Timestamp::now())?;
    let (_, secret) = app.mint_key(key, &crate::domain::audit::Actor::cli()).await?;
    Ok(secret.expose().to_owned())
}

/// Fills an empty database with the demo data.
pub async fn generate(app: &App, options: &DemoOptions, now: Timestamp) -> Result<DemoData, AppError> {
    let scope = Scope::account(DEFAULT_ACCOUNT_ID);
    let mut rng = StdRng::seed_from_u64(options.seed);
    // The admin: who makes the bots and reviews, as from the dashboard.
    let admin_key = key(app, Role::Admin, "demo admin", None).await?;
    let admin = app.admit_key(&admin_key).await?;
    let mut bots = Vec::new();
    for persona in PERSONAS {
        let bot = app.create_bot(&admin, persona.name.to_owned()).await?;
        bots.push(DemoBot { bot, conversations: 0, messages: 0, feedback: 0, votes: 0, csat: 0 });
    }
    configure(app, &admin, &bots).await?;

    for (index, persona) in PERSONAS.iter().enumerate() {
        let bot_id = bots[index].bot.id.clone();
        let mut commands = Vec::new();
        for i in 0..persona.conversations {
            let generated = conversation(persona, index, i, &bot_id, options, &mut rng, now)?;
            let stats = &mut bots[index];
            stats.conversations += 1;
            for c in &generated {
                match c {
                    Command::AppendMessage(_) => stats.messages += 1,
                    Command::Feedback(_) => stats.feedback += 1,
                    Command::Vote(_) => stats.votes += 1,
                    Command::Csat(_) => stats.csat += 1,
                    _ => {}
                }
            }
            commands.extend(generated);
        }
        for chunk in commands.chunks(1_000) {
            for result in app.apply(&scope, chunk.to_vec(), now).await? {
                result?;
            }
        }
    }
    let reviewed = review(app, &admin, &bots[0].bot.id, &mut rng).await?;
    answer_a_gap(app, &admin, &bots[0].bot.id, now).await?;

    let first = bots[0].bot.id.clone();
    Ok(DemoData {
        admin_key,
        server_key: key(app, Role::Server, "demo chat backend", Some(&first)).await?,
        public_key: key(app, Role::Public, "demo widget", Some(&first)).await?,
        bots,
        reviewed,
    })
}

/// Settings that make the dashboard interesting: stars and translated copy on
/// the first bot, auto-approval on the second.
async fn configure(app: &App, admin: &Principal, bots: &[DemoBot]) -> Result<(), AppError> {
    let shop = &bots[0].bot.id;
    let codes = Some(SHOP_CODES.iter().map(|c| (*c).to_owned()).collect());
    app.update_rating_config(
        admin,
        shop,
        RatingConfigPatch { conv_rating_question_codes: codes, ..Default::default() },
    )
    .await?;
    let copies = [
        (
            "fr",
            PromptCopy {
                title: "Comment s'est passée cette conversation ?".into(),
                negative_reason: "Qu'est-ce qui n'a pas fonctionné ?".into(),
                negative_placeholder: "Dites-nous ce que nous pourrions améliorer".into(),
                negative_button: "Envoyer".into(),
                after_submission: "Merci pour votre retour !".into(),
            },
        ),
        (
            "de",
            PromptCopy {
                title: "Wie war dieses Gespräch?".into(),
                negative_reason: "Was ist schiefgelaufen?".into(),
                negative_placeholder: "Sagen Sie uns, was wir besser machen können".into(),
                negative_button: "Feedback senden".into(),
                after_submission: "Vielen Dank für Ihr Feedback!".into(),
            },
        ),
    ];
    for (locale, copy) in copies {
        app.put_prompt_copy(admin, shop, locale, copy).await?;
    }
    let helpdesk = &bots[1].bot.id;
    debug_assert_eq!(bots[1].bot.name, HELPDESK.name);
    app.update_bot_settings(
        admin,
        helpdesk,
        BotSettingsPatch { auto_approve_positive: Some(true), ..Default::default() },
    )
    .await?;
    Ok(())
}

fn at(ms: i64) -> Option<String> {
    Some(Timestamp(ms).to_rfc3339())
}

fn id(raw: &str) -> Result<ClientId, AppError> {
    Ok(ClientId::parse("id", raw)?)
}

/// The commands of one conversation: the conversation, its turns, its signals.
fn conversation(
    persona: &Persona,
    bot_index: usize,
    i: usize,
    bot_id: &Uuid,
    options: &DemoOptions,
    rng: &mut StdRng,
    now: Timestamp,
) -> Result<Vec<Command>, AppError> {
    const MINUTE: i64 = 60_000;
    let slug = ["shop", "it", "travel"][bot_index];
    let conv_id = format!("{slug}-{i:04}");
    // Twenty minutes at least, so every turn and signal is in the past.
    let start = now.0 - rng.random_range(20 * MINUTE..options.days * 1_440 * MINUTE);
    let contact = format!("{slug}-visitor-{}", rng.random_range(0..(persona.conversations * 2 / 3).max(1)));
    let locale = if bot_index == 0 {
        *["en-US", "en-US", "en-GB", "fr-FR", "de-DE", "en"].choose(rng).unwrap_or(&"en")
    } else {
        "en"
    };
    let variant = (bot_index == 0).then(|| if rng.random_bool(0.5) { "A" } else { "B" });
    let lift = if variant == Some("B") { VARIANT_B_LIFT } else { 0.0 };
    let channel = ["web", "slack", "app"][bot_index];
    let mut metadata = json!({ "channel": channel });
    if let Some(v) = variant {
        metadata["variant"] = json!(v);
    }
    let body = ConversationFields {
        bot_id: Some(bot_id.to_string()),
        contact_id: Some(contact.clone()),
        locale: Some(locale.to_owned()),
        metadata: Some(metadata),
        created_at: at(start),
    };
    let mut out = vec![Command::UpsertConversation(ConversationInput::parse(&conv_id, body, now)?)];
    let rater = Rater { user_id: contact, source: Source::EndUser };

    let turns = match rng.random_range(0..100) {
        0..50 => 1,
        50..85 => 2,
        _ => 3,
    };
    let mut liked_sum = 0.0;
    let mut t = start;
    for k in 1..=turns {
        let unanswered = bot_index == 0 && rng.random_bool(0.07);
        let entry: Option<&Entry> = if unanswered { None } else { persona.entries.choose(rng) };
        let asked = match entry {
            Some(e) => *e.questions.choose(rng).unwrap_or(&e.questions[0]),
            None => *UNANSWERED.choose(rng).unwrap_or(&UNANSWERED[0]),
        };
        let question = if k > 1 && rng.random_bool(0.4) {
            format!("{} {}", FOLLOW_UPS.choose(rng).unwrap_or(&FOLLOW_UPS[0]), lower_first(asked))
        } else {
            asked.to_owned()
        };
        let (answer, topic, confidence, liked) = match entry {
            Some(e) => (e.answer, Some(e.topic), rng.random_range(0.55..0.98) * (0.6 + e.liked * 0.4), e.liked),
            None => (content::FALLBACK, None, rng.random_range(0.05..0.3), 0.12),
        };
        let liked = (liked + lift).min(0.97);
        liked_sum += liked;
        let user_id = format!("{conv_id}-u{k}");
        let answer_id = format!("{conv_id}-a{k}");
        out.push(Command::AppendMessage(MessageInput::parse(
            &conv_id,
            MessageFields {
                id: user_id,
                role: MessageRole::User,
                content: question,
                request_id: None,
                status: None,
                metadata: None,
                created_at: at(t),
            },
            now,
        )?));
        let answered_at = t + rng.random_range(2_000..9_000);
        let mut meta = json!({ "confidence": (confidence * 100.0_f64).round() / 100.0 });
        if let Some(topic) = topic {
            meta["topic"] = json!(topic);
        }
        out.push(Command::AppendMessage(MessageInput::parse(
            &conv_id,
            MessageFields {
                id: answer_id.clone(),
                role: MessageRole::Assistant,
                content: answer.to_owned(),
                request_id: Some(format!("{conv_id}-r{k}")),
                status: None,
                metadata: Some(meta),
                created_at: at(answered_at),
            },
            now,
        )?));
        if rng.random_bool(0.5) {
            let positive = rng.random_bool(liked);
            let reason = if positive {
                rng.random_bool(0.15).then(|| persona.positive_reasons.choose(rng).copied()).flatten()
            } else {
                rng.random_bool(0.6).then(|| persona.negative_reasons.choose(rng).copied()).flatten()
            };
            out.push(Command::Feedback(FeedbackInput {
                message_id: id(&answer_id)?,
                feedback_type: if positive { FeedbackType::Positive } else { FeedbackType::Negative },
                reason: reason.map(str::to_owned),
                rater: rater.clone(),
                created_at: Some(Timestamp((answered_at + rng.random_range(5_000..90_000)).min(now.0))),
                reason_optional: false,
            }));
        }
        t = answered_at + rng.random_range(MINUTE / 2..3 * MINUTE);
    }

    // The conversation's overall mood, from how liked its answers are.
    let mood = liked_sum / f64::from(turns);
    let end = t + MINUTE;
    out.push(Command::EndConversation(id(&conv_id)?));
    if rng.random_bool(0.4) {
        let codes: Vec<QuestionCode> = if bot_index == 0 {
            vec![QuestionCode::HelpfulThumbs, QuestionCode::SatisfactionStars]
        } else {
            vec![QuestionCode::HelpfulThumbs, QuestionCode::ExperienceThumbs]
        };
        let reason = persona.negative_reasons.choose(rng).copied();
        for code in codes {
            let (value, score) = match code {
                QuestionCode::SatisfactionStars => {
                    let stars = (1.0 + 4.0 * mood + rng.random_range(-1.2..1.2)).round().clamp(1.0, 5.0) as i64;
                    (stars.to_string(), stars)
                }
                _ if rng.random_bool(mood) => ("up".to_owned(), 5),
                _ => ("down".to_owned(), 1),
            };
            out.push(Command::Csat(CsatInput {
                conversation_id: id(&conv_id)?,
                question_code: code,
                value,
                score,
                negative_reason: (score <= 2).then_some(reason).flatten().map(str::to_owned),
                rater: rater.clone(),
                created_at: Some(Timestamp((end + rng.random_range(0..MINUTE)).min(now.0))),
            }));
        }
    }
    if rng.random_bool(0.15) {
        let up = rng.random_bool(mood);
        out.push(Command::Vote(VoteInput {
            conversation_id: id(&conv_id)?,
            direction: if up { Direction::Up } else { Direction::Down },
            value: if up { rng.random_range(60..=100) } else { -rng.random_range(40..=100) },
            reason: (!up).then(|| persona.negative_reasons.choose(rng).map(|r| (*r).to_owned())).flatten(),
            rater,
            created_at: Some(Timestamp((end + 2 * MINUTE).min(now.0))),
        }));
    }
    Ok(out)
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // Keep "I" and acronyms as they are.
        Some(c) if chars.clone().next().is_some_and(char::is_lowercase) && c != 'I' => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => s.to_owned(),
    }
}

/// A reviewer's first pass on the first bot: some praise approved (golden
/// examples), a few complaints corrected or dismissed; the rest stays pending.
async fn review(app: &App, reviewer: &Principal, bot: &Uuid, rng: &mut StdRng) -> Result<usize, AppError> {
    let filter = FeedbackFilter {
        status: Some(FeedbackStatus::Pending),
        bot_id: Some(bot.clone()),
        ..FeedbackFilter::default()
    };
    let page = app.review_queue(&reviewer.scope(), &filter, PageRequest::parse(Some(500), None)?).await?;
    let mut reviewed = 0;
    let (mut approved, mut corrected, mut dismissed) = (0, 0, 0);
    // Oldest first: a reviewer works through the backlog, so recent feedback stays pending.
    for item in page.items.iter().rev() {
        let feedback = &item.feedback;
        let body = match feedback.feedback_type {
            FeedbackType::Positive if approved < 14 && rng.random_bool(0.5) => {
                approved += 1;
                ReviewRequest { action: ReviewAction::Approve, corrected_response: None, note: None }
            }
            FeedbackType::Negative if corrected < 4 && feedback.reason.is_some() && rng.random_bool(0.3) => {
                corrected += 1;
                ReviewRequest {
                    action: ReviewAction::Approve,
                    corrected_response: Some(format!(
                        "{} If this does not solve it, I can connect you with a colleague right away.",
                        item.answer
                    )),
                    note: Some("Offer a human hand-off".into()),
                }
            }
            FeedbackType::Negative if dismissed < 5 && rng.random_bool(0.2) => {
                dismissed += 1;
                ReviewRequest {
                    action: ReviewAction::Dismiss,
                    corrected_response: None,
                    note: Some("Not actionable".into()),
                }
            }
            _ => continue,
        };
        app.review(reviewer, &feedback.id, body).await?;
        reviewed += 1;
    }
    Ok(reviewed)
}

/// Answers the knowledge gap of [`GAP_ANSWER`]'s question, as an admin would
/// from the page, if the generated data has it among the last 30 days' gaps.
async fn answer_a_gap(app: &App, admin: &Principal, bot: &Uuid, now: Timestamp) -> Result<(), AppError> {
    let filter = GapFilter {
        bot: Some(bot.clone()),
        from: Timestamp(now.0 - 30 * 86_400_000),
        to: Timestamp(now.0 + 1),
        locale: None,
    };
    let answer = GAP_ANSWER.1;
    // Found by the words of one of its phrasings (perhaps within a follow-up):
    // the questions may not be represented yet. Once they are, the group that
    // holds this one keeps the answer.
    let wanted: Vec<String> = UNANSWERED[..3].iter().map(|q| q.to_lowercase()).collect();
    let asked = |g: &KnowledgeGap| {
        g.examples.iter().any(|e| wanted.iter().any(|w| e.question.to_lowercase().contains(w.as_str())))
    };
    let mut cursor: Option<String> = None;
    let gap = loop {
        let listed = app.gaps(&admin.scope(), &filter, PageRequest::parse(Some(500), cursor.as_deref())?).await?;
        if let Some(gap) = listed.items.into_iter().find(asked) {
            break gap;
        }
        match listed.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    };
    app.answer_gap(admin, &gap.id, answer).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_read_naturally() {
        assert_eq!(lower_first("Can I pay with PayPal?"), "can I pay with PayPal?");
        assert_eq!(lower_first("I forgot my password."), "I forgot my password.");
        assert_eq!(lower_first("VPN says authentication failed."), "VPN says authentication failed.");
    }

    #[test]
    fn unanswered_questions_come_in_paraphrases_the_gaps_group() {
        // Three phrasings a topic, in order: one group a topic with the built-in model.
        let model = crate::embedding::local::MiniLm::shared().unwrap();
        let texts: Vec<String> = UNANSWERED.iter().map(|q| (*q).to_owned()).collect();
        let vectors = model.embed_now(&texts).unwrap();
        let groups = crate::domain::meaning::group_vectors(&vectors, crate::domain::gaps::MEANING_THRESHOLD);
        let mut of = vec![usize::MAX; UNANSWERED.len()];
        for (g, members) in groups.iter().enumerate() {
            members.iter().for_each(|&m| of[m] = g);
        }
        for i in 0..UNANSWERED.len() {
            for j in 0..UNANSWERED.len() {
                let (a, b) = (UNANSWERED[i], UNANSWERED[j]);
                assert_eq!(of[i] == of[j], topic_of(i) == topic_of(j), "{a} / {b}");
            }
        }
        assert!(UNANSWERED[..3].contains(&GAP_ANSWER.0), "the answered gap's phrasings come first");
    }

    /// The topic of the `i`-th unanswered question: phrasings come in threes
    /// but the last two topics have two.
    fn topic_of(i: usize) -> usize {
        [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4][i]
    }

    #[test]
    fn the_first_bot_is_the_shop() {
        use super::content::SHOP;
        assert_eq!(PERSONAS[0].name, SHOP.name);
    }
}
