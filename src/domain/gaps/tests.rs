//! Grouping, checked on paraphrases and on questions that only look alike.

use super::*;

fn fp(text: &str) -> Fingerprint {
    Fingerprint::of(text)
}

fn sim(a: &str, b: &str) -> f64 {
    similarity(&fp(a), &fp(b))
}

fn row(message: &str, bot: &str, question: &str, at: i64) -> RatedQuestion {
    RatedQuestion {
        message_id: message.into(),
        conversation_id: format!("c-{message}"),
        bot_id: Uuid::from_db(bot.into()),
        question: question.into(),
        rated_at: Timestamp(at),
    }
}

#[test]
fn normalizing_folds_case_punctuation_accents_and_stop_words() {
    assert_eq!(fp("Where is my order?").key, "order where");
    assert_eq!(fp("where's my order??").key, "order where");
    assert_eq!(fp("WHERE IS MY ORDER").key, "order where");
    assert_eq!(fp("My order hasn’t arrived, where is it").key, "arriv order where");
    assert_eq!(fp("Café décaféiné ?").key, fp("cafe decafeine").key);
    assert_eq!(fp("How do I reset my password").key, "how password reset");
    // Only stop words: they are kept rather than make the question empty.
    assert_eq!(fp("Can you help me?").key, "can help me you");
    assert_eq!(fp("🙂").key, "🙂");
    assert_eq!(fp("").key, "");
}

#[test]
fn the_stemmer_folds_plurals_ing_and_ed() {
    for (word, expected) in [
        ("orders", "order"),
        ("deliveries", "delivery"),
        ("addresses", "address"),
        ("boxes", "box"),
        ("arrived", "arriv"),
        ("arrive", "arriv"),
        ("arriving", "arriv"),
        ("shipping", "ship"),
        ("shipped", "ship"),
        ("ships", "ship"),
        ("refunded", "refund"),
        ("installed", "install"),
        ("status", "status"),
        ("class", "class"),
        ("bus", "bus"),
        ("red", "red"),
        ("thing", "thing"),
        ("resetting", "reset"),
        ("packages", "packag"),
    ] {
        assert_eq!(stem(word), expected, "{word}");
    }
}

#[test]
fn paraphrases_are_alike_and_other_questions_are_not() {
    let order = ["Where is my order?", "where's my order??", "My order hasn't arrived, where is it"];
    for a in order {
        for b in order {
            assert!(alike(a, b), "{a} ~ {b}: {}", sim(a, b));
        }
    }
    for (a, b) in [
        ("How do I reset my password", "how can I reset my password?"),
        ("How do I reset my password", "How do I change my password"),
        ("How do I reset my password", "Resetting passwords: how?"),
        ("What are your opening hours?", "what are the opening hours"),
        ("Do you ship to Canada?", "Can you ship my order to Canada?"),
        ("How long does shipping take", "how long does shipping take to France?"),
        ("Can I return an item?", "How can I return items"),
    ] {
        assert!(alike(a, b), "{a} ~ {b}: {}", sim(a, b));
    }
    for (a, b) in [
        ("Where is my order?", "How do I reset my password"),
        ("Where is my order?", "How do I cancel my order?"),
        ("Where is my order?", "Where is your store?"),
        ("Do you ship to Canada?", "What are your opening hours?"),
        ("How do I reset my password", "How do I cancel my order?"),
        ("Can I return an item?", "Where is my refund?"),
        ("Do you ship to Canada?", "Do you ship to France?"),
        ("When will my refund arrive?", "Where is my refund?"),
    ] {
        assert!(!alike(a, b), "{a} !~ {b}: {}", sim(a, b));
    }
}

#[test]
fn similarity_is_symmetric_and_bounded() {
    let texts = ["Where is my order?", "How do I reset my password", "order", "🙂", "", "where where where"];
    for a in texts {
        for b in texts {
            let (x, y) = (sim(a, b), sim(b, a));
            assert!((x - y).abs() < 1e-12, "{a} / {b}");
            assert!((0.0..=1.0).contains(&x), "{a} / {b}: {x}");
        }
    }
    assert_eq!(sim("", ""), 0.0, "nothing is like nothing");
}

#[test]
fn paraphrases_land_in_one_group_largest_first() {
    let rows = vec![
        row("m1", "b1", "Where is my order?", 10),
        row("m2", "b1", "where's my order??", 20),
        row("m3", "b1", "My order hasn't arrived, where is it", 30),
        row("m4", "b1", "How do I reset my password", 40),
        row("m5", "b1", "how can I reset my password?", 50),
        row("m6", "b1", "Where is my order?", 5),
        row("m7", "b1", "Do you ship to Canada?", 60),
    ];
    let gaps = group(rows, &[]);
    assert_eq!(gaps.len(), 3, "{gaps:#?}");
    assert_eq!(gaps[0].count, 4);
    assert_eq!(gaps[0].question, "Where is my order?", "the most frequent wording");
    assert_eq!(gaps[0].example_message_ids, ["m3", "m2", "m1", "m6"], "newest first");
    assert_eq!((gaps[0].first_seen, gaps[0].last_seen), (Timestamp(5), Timestamp(30)));
    assert_eq!(gaps[0].examples[0].conversation_id, "c-m3");
    assert_eq!(gaps[1].count, 2);
    assert!(gaps[1].question.contains("reset my password"));
    assert_eq!(gaps[2].count, 1);
    assert_eq!(gaps[2].question, "Do you ship to Canada?");
    assert!(gaps.iter().all(|g| !g.answered && g.golden_example_id.is_none()));
    assert!(gaps.iter().all(|g| is_gap_id(&g.id)));
}

#[test]
fn the_representative_is_the_plain_question_not_a_follow_up() {
    let rows = vec![
        row("m1", "b1", "The tracking link says delivered but I have nothing.", 10),
        row(
            "m2",
            "b1",
            "Hmm, that doesn't help. Another question: the tracking link says delivered but I have nothing.",
            20,
        ),
    ];
    let gaps = group(rows, &[]);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].question, "The tracking link says delivered but I have nothing.");
    assert_eq!(gaps[0].example_message_ids, ["m2", "m1"]);
}

#[test]
fn ids_are_stable_and_differ_by_bot() {
    let rows = || {
        vec![
            row("m1", "b1", "Where is my order?", 10),
            row("m2", "b1", "where's my order??", 20),
            row("m3", "b2", "Where is my order?", 30),
        ]
    };
    let first = group(rows(), &[]);
    let again = group(rows(), &[]);
    assert_eq!(first.len(), 2, "a gap is a gap of one bot");
    assert_eq!(first.iter().map(|g| &g.id).collect::<Vec<_>>(), again.iter().map(|g| &g.id).collect::<Vec<_>>());
    assert_ne!(first[0].id, first[1].id);
    // More paraphrases arriving keep the id while the representative stays.
    let mut more = rows();
    more.push(row("m4", "b1", "My order hasn't arrived, where is it", 40));
    let grown = group(more, &[]);
    let b1 = grown.iter().find(|g| g.bot_id.as_str() == "b1").unwrap();
    assert_eq!(b1.count, 3);
    assert!(first.iter().any(|g| g.id == b1.id));
    // The id of any phrasing of the group still names it.
    let alias = gap_id(&Uuid::from_db("b1".into()), &fp("My order hasn't arrived, where is it").key);
    assert!(b1.is_named(&alias));
    assert!(!b1.is_named("0000000000000000"));
}

#[test]
fn an_answer_thumbed_down_twice_counts_once_and_empty_questions_count_for_nothing() {
    let rows = vec![
        row("m1", "b1", "Where is my order?", 10),
        row("m1", "b1", "Where is my order?", 50),
        row("m2", "b1", "   ", 20),
    ];
    let gaps = group(rows, &[]);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].count, 1);
    assert_eq!((gaps[0].first_seen, gaps[0].last_seen), (Timestamp(10), Timestamp(50)));
}

#[test]
fn answered_groups_are_marked_by_id_or_by_a_paraphrase() {
    let rows = vec![
        row("m1", "b1", "Where is my order?", 10),
        row("m2", "b1", "How do I reset my password", 20),
        row("m3", "b1", "Do you ship to Canada?", 30),
    ];
    let id = group(rows.clone(), &[]).iter().find(|g| g.question == "Where is my order?").unwrap().id.clone();
    let answers = [
        GapAnswer {
            gap_id: "ffffffffffffffff".into(),
            bot_id: Uuid::from_db("b1".into()),
            question: "how can I reset my password?".into(),
            golden_example_id: Uuid::from_db("g2".into()),
        },
        GapAnswer {
            gap_id: id.clone(),
            bot_id: Uuid::from_db("b1".into()),
            question: "something else entirely".into(),
            golden_example_id: Uuid::from_db("g1".into()),
        },
        GapAnswer {
            gap_id: "eeeeeeeeeeeeeeee".into(),
            bot_id: Uuid::from_db("b2".into()),
            question: "Do you ship to Canada?".into(),
            golden_example_id: Uuid::from_db("g3".into()),
        },
    ];
    let gaps = group(rows, &answers);
    let of = |q: &str| gaps.iter().find(|g| g.question == q).unwrap();
    assert_eq!(of("Where is my order?").golden_example_id.as_ref().map(Uuid::as_str), Some("g1"));
    assert_eq!(of("How do I reset my password").golden_example_id.as_ref().map(Uuid::as_str), Some("g2"));
    assert!(!of("Do you ship to Canada?").answered, "an answer of another bot does not count");
}

#[test]
fn answers_are_checked() {
    assert_eq!(parse_answer("  It ships in 2 days. ").unwrap(), "It ships in 2 days.");
    assert!(parse_answer("   ").unwrap_err().to_string().starts_with("answer:"));
    assert!(parse_answer(&"x".repeat(MAX_ANSWER_CHARS + 1)).is_err());
    assert!(is_gap_id("0123456789abcdef"));
    assert!(!is_gap_id("0123456789ABCDEF") && !is_gap_id("short") && !is_gap_id("0123456789abcdeg"));
}

#[test]
fn many_distinct_questions_stay_apart_among_many_answers() {
    // The worst case for the candidate index: every question shares "how"
    // yet none is a paraphrase of another, and a thousand answers exist.
    let word = |i: usize| format!("w{}x{}", i % 53, i / 53);
    let rows: Vec<RatedQuestion> = (0..MAX_ROWS as usize)
        .map(|i| row(&format!("m{i}"), "b1", &format!("how do I {} {}", word(i), word(i * 7 + 3)), i as i64))
        .collect();
    let answers: Vec<GapAnswer> = (0..1_000)
        .map(|i| GapAnswer {
            gap_id: format!("{i:016x}"),
            bot_id: Uuid::from_db("b1".into()),
            question: format!("how do I {}", word(i * 13)),
            golden_example_id: Uuid::from_db(format!("g{i}")),
        })
        .collect();
    let gaps = group(rows, &answers);
    assert!(gaps.len() > 1_000, "{}", gaps.len());
}

#[test]
fn a_full_read_of_rows_lands_each_row_in_one_group() {
    // The bound is MAX_ROWS rows, every question sharing a token.
    let topics = ["order", "password", "refund", "shipping", "invoice", "account", "coupon", "store"];
    let verbs = ["where", "how", "why", "when", "what"];
    let rows: Vec<RatedQuestion> = (0..MAX_ROWS)
        .map(|i| {
            let i = i as usize;
            let q = format!(
                "{} is my {} number {} {}",
                verbs[i % verbs.len()],
                topics[i % topics.len()],
                i % 97,
                topics[(i / 8) % topics.len()]
            );
            row(&format!("m{i}"), "b1", &q, i as i64)
        })
        .collect();
    let gaps = group(rows, &[]);
    assert!(!gaps.is_empty());
    assert_eq!(gaps.iter().map(|g| g.count).sum::<i64>(), MAX_ROWS);
}
