//! Grouping and listing, checked with hand-made vectors (the model's own are
//! checked in the embedding tests and by `gaps-eval`).

use super::*;
use crate::domain::meaning::neighbours::Neighbourhood;

/// A unit vector pointing mostly along axis `axis` of 8, turned by `twist`.
fn toward(axis: usize, twist: f32) -> Vec<f32> {
    let mut v = [0.0_f32; 8];
    v[axis] = 1.0;
    v[(axis + 1) % 8] = twist;
    v.to_vec()
}

fn bot() -> Uuid {
    Uuid::from_db("b1".into())
}

/// A shelf of (message, first rated, vector), every question linked.
fn shelf(rows: &[(&str, i64, Vec<f32>)]) -> (Vec<ShelfQuestion>, Neighbourhood) {
    let mut hood = Neighbourhood::new(crate::domain::meaning::NEIGHBOURS, 0.4);
    let questions = rows
        .iter()
        .enumerate()
        .map(|(i, (message, at, v))| {
            hood.hold(v).unwrap();
            hood.link(i);
            ShelfQuestion {
                seq: i64::try_from(i).unwrap(),
                message_id: (*message).into(),
                first_rated: Timestamp(*at),
                group_id: None,
                central: false,
            }
        })
        .collect();
    (questions, hood)
}

/// The questions as regrouped: each one's group id and whether it is central.
fn apply(questions: &mut [ShelfQuestion], changes: Vec<Assignment>) {
    for a in changes {
        let q = questions.iter_mut().find(|q| q.seq == a.seq).unwrap();
        (q.group_id, q.central) = (Some(a.group_id), a.central);
    }
}

#[test]
fn questions_of_one_meaning_share_a_group_named_by_the_oldest() {
    let (mut questions, hood) = shelf(&[
        ("m2", 20, toward(0, 0.3)),
        ("m1", 10, toward(0, 0.1)),
        ("m3", 30, toward(0, 0.2)),
        ("m4", 40, toward(3, 0.0)),
    ]);
    let changes = regroup(&bot(), &questions, &hood);
    assert_eq!(changes.len(), 4, "every question is placed once");
    apply(&mut questions, changes);
    let refund = gap_id(&bot(), "m1");
    let groups: Vec<Option<&str>> = questions.iter().map(|q| q.group_id.as_deref()).collect();
    assert_eq!(&groups[..3], [Some(refund.as_str()); 3], "named by the first thumbed down");
    assert_eq!(groups[3], Some(gap_id(&bot(), "m4").as_str()));
    assert_eq!(questions.iter().filter(|q| q.central).map(|q| q.message_id.as_str()).collect::<Vec<_>>(), ["m3", "m4"]);
    // Nothing new, nothing to write.
    assert!(regroup(&bot(), &questions, &hood).is_empty());
}

#[test]
fn the_id_stays_as_paraphrases_join() {
    let rows = vec![("m1", 10, toward(0, 0.1)), ("m2", 20, toward(0, 0.3))];
    let (mut questions, hood) = shelf(&rows);
    let changes = regroup(&bot(), &questions, &hood);
    apply(&mut questions, changes);
    let mut more = rows;
    more.push(("m5", 50, toward(0, 0.25)));
    let (mut grown, hood) = shelf(&more);
    for (g, q) in grown.iter_mut().zip(&questions) {
        (g.group_id, g.central) = (q.group_id.clone(), q.central);
    }
    let changes = regroup(&bot(), &grown, &hood);
    assert!(changes.iter().any(|a| a.seq == 2), "the newcomer is placed");
    apply(&mut grown, changes);
    assert!(grown.iter().all(|q| q.group_id.as_deref() == Some(gap_id(&bot(), "m1").as_str())));
}

#[test]
fn the_groups_do_not_depend_on_the_order_questions_were_linked_in() {
    let rows: Vec<(String, i64, Vec<f32>)> = (0..40)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let twist = (i % 7) as f32 / 10.0;
            (format!("m{i}"), i64::from(i), toward(usize::try_from(i % 8).unwrap(), twist))
        })
        .collect();
    let rows: Vec<(&str, i64, Vec<f32>)> = rows.iter().map(|(m, at, v)| (m.as_str(), *at, v.clone())).collect();
    let (questions, hood) = shelf(&rows);
    let mut backwards = Neighbourhood::new(crate::domain::meaning::NEIGHBOURS, 0.4);
    for (_, _, v) in &rows {
        backwards.hold(v).unwrap();
    }
    for i in (0..rows.len()).rev() {
        backwards.link(i);
    }
    assert_eq!(regroup(&bot(), &questions, &hood), regroup(&bot(), &questions, &backwards));
}

fn tally(key: GapKey, count: i64, last: i64) -> GapTally {
    GapTally {
        key,
        bot_id: bot(),
        locale: String::new(),
        count,
        previous_count: 1,
        first_seen: Timestamp(1),
        last_seen: Timestamp(last),
    }
}

#[test]
fn a_listing_is_largest_first_and_drops_what_the_period_does_not_count() {
    let ordered = order(vec![
        tally(GapKey::Alone("m9".into()), 1, 50),
        tally(GapKey::Group("aaaaaaaaaaaaaaaa".into()), 3, 10),
        tally(GapKey::Group("bbbbbbbbbbbbbbbb".into()), 1, 60),
        tally(GapKey::Group("cccccccccccccccc".into()), 0, 70),
    ]);
    let ids: Vec<&str> = ordered.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", gap_id(&bot(), "m9").as_str()]);
}

#[test]
fn a_listed_gap_shows_its_reasons_folded_and_whether_it_waits() {
    let detail = GapDetail {
        question: "  Where is my order? ".into(),
        examples: vec![],
        reasons: vec![
            ("Too slow.".into(), 2),
            ("too slow".into(), 1),
            ("Wrong".into(), 1),
            ("a".into(), 1),
            ("b".into(), 1),
        ],
        golden_example_id: Some(Uuid::from_db("g1".into())),
    };
    let alone = tally(GapKey::Alone("m1".into()), 1, 5);
    let gap = KnowledgeGap::of(alone.id(), alone, detail.clone());
    assert!(gap.pending && gap.answered);
    assert_eq!(gap.question, "Where is my order?");
    assert_eq!(gap.reasons.len(), MAX_REASONS);
    assert_eq!(gap.reasons[0].count, 3, "{:?}", gap.reasons);
    let group = tally(GapKey::Group("aaaaaaaaaaaaaaaa".into()), 1, 5);
    let mut fr = group.clone();
    fr.locale = "fr".into();
    assert!(!KnowledgeGap::of(group.id(), group, detail.clone()).pending);
    assert_eq!(KnowledgeGap::of(fr.id(), fr, detail).locale.as_deref(), Some("fr"));
}

#[test]
fn answers_are_checked() {
    assert_eq!(parse_answer("  It ships in 2 days. ").unwrap(), "It ships in 2 days.");
    assert!(parse_answer("   ").unwrap_err().to_string().starts_with("answer:"));
    assert!(parse_answer(&"x".repeat(MAX_ANSWER_CHARS + 1)).is_err());
    assert!(is_gap_id("0123456789abcdef"));
    assert!(!is_gap_id("0123456789ABCDEF") && !is_gap_id("short") && !is_gap_id("0123456789abcdeg"));
}
