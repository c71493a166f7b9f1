//! Grouping, checked with hand-made vectors (the model's own are checked in
//! the embedding tests and by `gaps-eval`).

use super::*;

/// A unit vector pointing mostly along axis `axis` of 8, turned by `twist`.
fn toward(axis: usize, twist: f32) -> Vec<f32> {
    let mut v = [0.0_f32; 8];
    v[axis] = 1.0;
    v[(axis + 1) % 8] = twist;
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn row(message: &str, bot: &str, question: &str, at: i64, vector: Option<Vec<f32>>) -> RatedQuestion {
    RatedQuestion {
        message_id: message.into(),
        conversation_id: format!("c-{message}"),
        bot_id: Uuid::from_db(bot.into()),
        question: question.into(),
        rated_at: Timestamp(at),
        locale: None,
        pending: vector.is_none(),
        vector,
        reason: None,
        previous: false,
    }
}

#[test]
fn questions_of_one_meaning_land_in_one_group_largest_first() {
    let rows = vec![
        row("m1", "b1", "How long does a refund take?", 10, Some(toward(0, 0.1))),
        row("m2", "b1", "when will I get my money back", 20, Some(toward(0, 0.3))),
        row("m3", "b1", "It's been a week, when does the refund arrive?", 30, Some(toward(0, 0.2))),
        row("m4", "b1", "Where is your store?", 40, Some(toward(3, 0.0))),
    ];
    let gaps = group(rows, &[]);
    assert_eq!(gaps.len(), 2);
    assert_eq!(gaps[0].count, 3);
    assert_eq!(gaps[0].id, gap_id(&Uuid::from_db("b1".into()), "m1"), "named by its oldest answer");
    assert_eq!(gaps[0].question, "It's been a week, when does the refund arrive?", "the most central");
    assert_eq!(gaps[0].example_message_ids, ["m3", "m2", "m1"], "newest first");
    assert_eq!((gaps[0].first_seen, gaps[0].last_seen), (Timestamp(10), Timestamp(30)));
    assert!(!gaps[0].pending && gaps[1].count == 1);
}

#[test]
fn the_id_stays_as_paraphrases_join() {
    let first = vec![
        row("m1", "b1", "How long does a refund take?", 10, Some(toward(0, 0.1))),
        row("m2", "b1", "when will I get my money back", 20, Some(toward(0, 0.3))),
    ];
    let before = group(first.clone(), &[]);
    let mut more = first;
    more.push(row("m5", "b1", "refund still not here", 50, Some(toward(0, 0.25))));
    let after = group(more, &[]);
    assert_eq!(after.len(), 1);
    assert_eq!((after[0].id.as_str(), after[0].count), (before[0].id.as_str(), 3));
    // Any member's own id names the group.
    assert!(after[0].is_named(&gap_id(&Uuid::from_db("b1".into()), "m5")));
}

#[test]
fn a_pending_question_stands_alone_until_represented() {
    let rows = vec![
        row("m1", "b1", "How long does a refund take?", 10, Some(toward(0, 0.1))),
        row("m2", "b1", "How long does a refund take?", 20, None),
    ];
    let gaps = group(rows, &[]);
    assert_eq!(gaps.len(), 2);
    let pending: Vec<bool> = gaps.iter().map(|g| g.pending).collect();
    assert!(pending.contains(&true) && pending.contains(&false));
}

#[test]
fn bots_and_languages_never_share_a_group() {
    let mut fr = row("m2", "b1", "Combien de temps pour un remboursement ?", 20, Some(toward(0, 0.1)));
    fr.locale = Some("fr".into());
    let rows = vec![
        row("m1", "b1", "How long does a refund take?", 10, Some(toward(0, 0.1))),
        fr,
        row("m3", "b2", "How long does a refund take?", 30, Some(toward(0, 0.1))),
    ];
    let gaps = group(rows, &[]);
    assert_eq!(gaps.len(), 3);
    assert!(gaps.iter().any(|g| g.locale.as_deref() == Some("fr")));
}

#[test]
fn an_answer_thumbed_down_twice_counts_once_and_empty_questions_count_for_nothing() {
    let rows = vec![
        row("m1", "b1", "Where is my order?", 10, Some(toward(1, 0.0))),
        row("m1", "b1", "Where is my order?", 50, Some(toward(1, 0.0))),
        row("m2", "b1", "   ", 20, None),
    ];
    let gaps = group(rows, &[]);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].count, 1);
    assert_eq!((gaps[0].first_seen, gaps[0].last_seen), (Timestamp(10), Timestamp(50)));
}

#[test]
fn answered_groups_are_marked_by_id_or_by_a_question_of_theirs() {
    let rows = vec![
        row("m1", "b1", "Where is my order?", 10, Some(toward(1, 0.0))),
        row("m2", "b1", "How do I reset my password", 20, Some(toward(4, 0.0))),
        row("m3", "b1", "Do you ship to Canada?", 30, Some(toward(6, 0.0))),
    ];
    let id = group(rows.clone(), &[]).iter().find(|g| g.question == "Where is my order?").unwrap().id.clone();
    let answer = |gap_id: &str, bot: &str, question: &str, golden: &str| GapAnswer {
        gap_id: gap_id.into(),
        bot_id: Uuid::from_db(bot.into()),
        question: question.into(),
        golden_example_id: Uuid::from_db(golden.into()),
    };
    let answers = [
        answer("ffffffffffffffff", "b1", "how do I reset my password ", "g2"),
        answer(&id, "b1", "something else entirely", "g1"),
        answer("eeeeeeeeeeeeeeee", "b2", "Do you ship to Canada?", "g3"),
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
fn a_full_read_of_rows_lands_each_row_in_one_group() {
    let rows: Vec<RatedQuestion> = (0..MAX_ROWS)
        .map(|i| {
            let i = usize::try_from(i).unwrap();
            #[allow(clippy::cast_precision_loss)]
            let twist = (i % 13) as f32 / 10.0;
            let vector = (i % 5 != 0).then(|| toward(i % 8, twist));
            row(&format!("m{i}"), "b1", &format!("question {i}"), i as i64, vector)
        })
        .collect();
    let gaps = group(rows, &[]);
    assert_eq!(gaps.iter().map(|g| g.count).sum::<i64>(), MAX_ROWS);
    let mut members: Vec<&String> = gaps.iter().flat_map(|g| &g.members).collect();
    members.sort();
    members.dedup();
    assert_eq!(members.len(), usize::try_from(MAX_ROWS).unwrap());
}

#[test]
fn the_previous_period_counts_apart_and_reasons_are_the_periods() {
    let mut before = row("m0", "b1", "How long does a refund take?", 5, Some(toward(0, 0.15)));
    before.previous = true;
    let mut r1 = row("m1", "b1", "How long does a refund take?", 10, Some(toward(0, 0.1)));
    r1.reason = Some("Too slow.".into());
    let mut r2 = row("m2", "b1", "when will I get my money back", 20, Some(toward(0, 0.3)));
    r2.reason = Some("too slow".into());
    let mut r3 = row("m3", "b1", "refund status", 30, Some(toward(0, 0.2)));
    r3.reason = Some("Wrong answer".into());
    let mut gone = row("m9", "b1", "Where is your store?", 1, Some(toward(3, 0.0)));
    gone.previous = true;
    let gaps = group(vec![before.clone(), r1, r2, r3, gone], &[]);
    assert_eq!(gaps.len(), 1, "a group of the previous period only is not listed");
    assert_eq!((gaps[0].count, gaps[0].previous_count), (3, 1));
    assert_eq!(gaps[0].id, gap_id(&Uuid::from_db("b1".into()), "m0"), "named by its oldest answer, of either period");
    let reasons: Vec<(&str, i64)> = gaps[0].reasons.iter().map(|r| (r.reason.as_str(), r.count)).collect();
    assert_eq!(reasons[0].1, 2, "{reasons:?}");
    assert!(reasons[0].0.eq_ignore_ascii_case("too slow.") || reasons[0].0 == "too slow");
    assert_eq!(reasons[1], ("Wrong answer", 1));
    assert_eq!(gaps[0].first_seen, Timestamp(10), "dates are the period's");
}
