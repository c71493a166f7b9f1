//! The figures and statistics, checked against hand counts.

use super::*;
use crate::domain::Timestamp;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1e-12)
}

#[test]
fn a_late_evening_in_utc_is_the_next_day_in_paris() {
    let p = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
    assert_eq!(p.from.to_rfc3339(), "2024-05-31T22:00:00Z");
    assert_eq!(p.days.iter().map(|d| d.date.as_str()).collect::<Vec<_>>(), ["2024-06-01", "2024-06-02"]);
    let late = Timestamp::parse_rfc3339("t", "2024-06-01T23:30:00Z").unwrap();
    assert_eq!(p.day_of(late.0), Some(1), "23:30 UTC is 01:30 the next day in Paris");
    let utc = Period::parse(Some("2024-06-01"), Some("2024-06-03"), None, Timestamp(0)).unwrap();
    assert_eq!(utc.day_of(late.0), Some(0));
    assert_eq!(p.day_of(p.to.0), None);
}

#[test]
fn days_follow_daylight_saving_changes() {
    let p = Period::parse(Some("2024-03-30"), Some("2024-04-01"), Some("Europe/Paris"), Timestamp(0)).unwrap();
    assert_eq!(p.days.len(), 2);
    assert_eq!(p.days[1].start - p.days[0].start, 24 * 3_600_000);
    assert_eq!(p.to.0 - p.days[1].start, 23 * 3_600_000, "the day clocks go forward has 23 hours");
}

#[test]
fn the_default_period_is_the_last_thirty_days() {
    let now = Timestamp::parse_rfc3339("t", "2024-06-13T10:00:00Z").unwrap();
    let p = Period::parse(None, None, None, now).unwrap();
    assert_eq!(p.to.to_rfc3339(), "2024-06-14T00:00:00Z");
    assert_eq!(p.from.to_rfc3339(), "2024-05-15T00:00:00Z");
    assert_eq!(p.days.len(), 30);
    let (pf, pt) = p.previous();
    assert_eq!(pt, p.from);
    assert_eq!(pf.to_rfc3339(), "2024-04-15T00:00:00Z");
}

#[test]
fn bad_periods_name_their_field() {
    let now = Timestamp(0);
    for (from, to, tz, field) in [
        (Some("2024-06-02"), Some("2024-06-01"), None, "from:"),
        (Some("soon"), None, None, "from:"),
        (None, Some("2024-06-01"), Some("Mars/Olympus"), "tz:"),
        (Some("2000-01-01"), Some("2024-01-01"), None, "to:"),
    ] {
        let err = Period::parse(from, to, tz, now).unwrap_err().to_string();
        assert!(err.starts_with(field), "{err}");
    }
}

#[test]
fn percentages_have_two_decimals_and_no_nan() {
    assert_eq!(percent(1, 3), Some(33.33));
    assert_eq!(percent(2, 3), Some(66.67));
    assert_eq!(percent(0, 0), None);
    assert_eq!(change_percent(15, 10), Some(50.0));
    assert_eq!(change_percent(5, 0), None);
    assert_eq!(change_percent(0, 4), Some(-100.0));
    assert_eq!(mean(&[]), None);
}

#[test]
fn wilson_intervals_match_reference_values() {
    let (lo, hi) = wilson(45, 100).unwrap();
    assert!(close(lo, 35.614_537_979_511_98) && close(hi, 54.755_397_002_557_87), "{lo} {hi}");
    let (lo, hi) = wilson(0, 10).unwrap();
    assert!(lo.abs() < 1e-9 && close(hi, 27.753_279_986_288_92));
    let (lo, hi) = wilson(10, 10).unwrap();
    assert!(close(lo, 72.246_720_013_711_07) && close(hi, 100.0));
    assert_eq!(wilson(0, 0), None);
}

#[test]
fn erfc_matches_reference_values() {
    assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 2e-8);
    assert!((erfc(0.5) - 0.479_500_122_186_953_5).abs() < 6e-8);
    assert!((erfc(3.0) - 2.209_049_699_858_543_8e-5).abs() < 3e-12);
    assert!((erfc(-1.0) - (2.0 - 0.157_299_207_050_285_13)).abs() < 2e-8);
}

#[test]
fn two_proportion_p_values_match_reference_values() {
    assert!(close(two_proportion_p(45, 100, 60, 100).unwrap(), 0.033_672_068_856_345_876));
    assert!(close(two_proportion_p(120, 200, 100, 200).unwrap(), 0.044_423_184_850_006_12));
    assert!(close(two_proportion_p(1, 2, 1, 2).unwrap(), 1.0));
    assert_eq!(two_proportion_p(1, 0, 1, 2), None);
    assert_eq!(two_proportion_p(5, 5, 7, 7), Some(1.0));
}

#[test]
fn reasons_fold_case_spacing_and_trailing_punctuation() {
    assert_eq!(fold_reason("  Too   SLOW!!  "), "too slow");
    assert_eq!(fold_reason("Wrong answer."), "wrong answer");
    let grouped = group_reasons(vec![
        ("Too slow".into(), 3),
        ("too slow!".into(), 1),
        ("TOO  slow.".into(), 1),
        ("Wrong answer".into(), 2),
        ("...".into(), 4),
    ]);
    assert_eq!(
        grouped,
        vec![
            ReasonCount { reason: "Too slow".into(), count: 5 },
            ReasonCount { reason: "Wrong answer".into(), count: 2 }
        ]
    );
}

#[test]
fn groupings_never_straddle_a_day() {
    let utc = Period::parse(Some("2024-06-01"), Some("2024-06-03"), None, Timestamp(0)).unwrap();
    assert_eq!(utc.grouping(), Grouping { size: 86_400_000, offset: 0 });
    let paris = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
    assert_eq!(paris.grouping(), Grouping { size: 86_400_000, offset: 2 * 3_600_000 });
    // The change to summer time on 31 March: days of 23 hours, so hours.
    let spring = Period::parse(Some("2024-03-30"), Some("2024-04-02"), Some("Europe/Paris"), Timestamp(0)).unwrap();
    assert_eq!(spring.grouping(), Grouping { size: 3_600_000, offset: 0 });
    let kathmandu =
        Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Asia/Kathmandu"), Timestamp(0)).unwrap();
    assert_eq!(kathmandu.grouping().size, 86_400_000, "a fixed +05:45 still cuts whole days");
    let odd = Period::parse(Some("2024-06-01T10:07:00Z"), Some("2024-06-03"), None, Timestamp(0)).unwrap();
    assert_eq!(odd.grouping(), Grouping::BUCKETS);
    // Every bucket of a day groups to a moment of that same day.
    let g = paris.grouping();
    for b in (paris.from.0..paris.to.0).step_by(usize::try_from(BUCKET_MS).unwrap()) {
        assert_eq!(paris.day_of(g.group(b).max(paris.from.0)), paris.day_of(b));
    }
}

#[test]
fn bucket_counts_sum_into_the_spans_of_a_grouping() {
    let paris = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
    let at = |s: &str| Timestamp::parse_rfc3339("t", s).unwrap().0;
    // Hours of two Paris days (which start at 22:00 UTC), out of order,
    // one of them twice (a folded row and a pending change).
    let counts = [
        (at("2024-06-02T21:00:00Z"), [1, 0]),
        (at("2024-05-31T22:00:00Z"), [2, 1]),
        (at("2024-06-01T21:45:00Z"), [0, 3]),
        (at("2024-06-01T22:00:00Z"), [5, 0]),
        (at("2024-05-31T22:00:00Z"), [1, 1]),
    ];
    assert_eq!(
        paris.grouping().sum(counts),
        vec![(at("2024-05-31T22:00:00Z"), [3, 5]), (at("2024-06-01T22:00:00Z"), [6, 0])]
    );
    assert_eq!(Grouping::BUCKETS.sum([(900_000, [1, 2]), (0, [3, 4])]), vec![(0, [3, 4]), (900_000, [1, 2])]);
    assert!(Grouping::BUCKETS.sum([]).is_empty());
}

#[test]
fn the_overview_adds_up_by_hand() {
    let p = Period::parse(Some("2024-06-01"), Some("2024-06-03"), Some("Europe/Paris"), Timestamp(0)).unwrap();
    let at = |s: &str| Timestamp::parse_rfc3339("t", s).unwrap().0;
    let bucket = |s: &str| at(s) / BUCKET_MS * BUCKET_MS;
    let thumbs = [
        ThumbBucket { bucket: bucket("2024-06-01T08:00:00Z"), up: 3, down: 1 },
        ThumbBucket { bucket: bucket("2024-06-01T23:30:00Z"), up: 1, down: 1 },
    ];
    let previous = [ThumbBucket { bucket: bucket("2024-05-30T08:00:00Z"), up: 2, down: 2 }];
    // Conversation a: answers 5 and 1, rated 3 on June 1; b: 5 on June 2.
    let ratings = [
        RatingBucket { bucket: bucket("2024-06-01T09:00:00Z"), micros: 3_000_000, count: 1 },
        RatingBucket { bucket: bucket("2024-06-02T09:00:00Z"), micros: 5_000_000, count: 1 },
    ];
    let questions = [
        QuestionTotal { question_code: "HELPFUL_THUMBS".into(), total: 10, count: 2 },
        QuestionTotal { question_code: "EXPERIENCE_THUMBS".into(), total: 1, count: 1 },
    ];
    let facts = OverviewFacts {
        thumbs: thumbs.to_vec(),
        previous_thumbs: previous.to_vec(),
        ratings: ratings.to_vec(),
        previous_ratings: vec![],
        questions: questions.to_vec(),
        votes: VoteTotals { upvotes: 2, downvotes: 1, value_sum: 100 },
    };
    let o = overview(&p, &facts);
    let up = &o.message_feedback.thumbs_up;
    assert_eq!(
        (up.count, up.percent, up.previous_count, up.previous_percent, up.change_percent),
        (4, Some(66.67), 2, Some(50.0), Some(100.0))
    );
    let down = &o.message_feedback.thumbs_down;
    assert_eq!((down.count, down.percent, down.change_percent), (2, Some(33.33), Some(0.0)));
    // Conversation a averages (5+1)/2 = 3, b 5: the average is 4 over two conversations.
    assert_eq!((o.csat.average, o.csat.rated_conversations, o.csat.previous_average), (Some(4.0), 2, None));
    assert_eq!(o.csat.daily.iter().map(|d| (d.average, d.count)).collect::<Vec<_>>(), [(Some(3.0), 1), (Some(5.0), 1)]);
    let by_question: Vec<_> =
        o.csat.by_question.iter().map(|q| (q.question_code.as_str(), q.average, q.count)).collect();
    assert_eq!(by_question, [("EXPERIENCE_THUMBS", Some(1.0), 1), ("HELPFUL_THUMBS", Some(5.0), 2)]);
    assert_eq!(o.votes.average_value, Some(33.33));
    let days: Vec<(i64, i64, Option<f64>)> = o.satisfaction.daily.iter().map(|d| (d.good, d.total, d.rate)).collect();
    assert_eq!(days, [(3, 4, Some(75.0)), (1, 2, Some(50.0))], "23:30 UTC counts on the Paris day after");
}

#[test]
fn comparisons_order_groups_and_test_them_against_the_baseline() {
    let raw = vec![(Some("A".to_owned()), 100, 45), (Some("B".to_owned()), 200, 120), (None, 0, 0)];
    let c = compare(GroupBy::Variant, raw.clone(), None).unwrap();
    assert_eq!(c.baseline.as_deref(), Some("B"), "the largest group by default");
    assert_eq!(c.groups[0].key.as_deref(), Some("B"));
    assert_eq!(c.groups[0].p_value, None);
    assert_eq!(c.groups[0].rate, Some(60.0));
    let a = &c.groups[1];
    assert_eq!((a.ci_low, a.ci_high), (Some(35.61), Some(54.76)));
    let expected = two_proportion_p(45, 100, 120, 200).unwrap();
    assert!((a.p_value.unwrap() - expected).abs() < 1e-6);
    assert_eq!(c.groups[2].rate, None);
    let on_a = compare(GroupBy::Variant, raw.clone(), Some("A")).unwrap();
    assert_eq!(on_a.groups[1].p_value, None, "A is the baseline now");
    assert!(compare(GroupBy::Variant, raw, Some("Z")).is_err());
}

#[test]
fn search_patterns_escape_wildcards() {
    let f = InboxFilter { q: Some(" 50%_Off\\ ".into()), ..Default::default() };
    assert_eq!(f.like_pattern().as_deref(), Some("%50\\%\\_off\\\\%"));
    assert_eq!(InboxFilter { q: Some("  ".into()), ..Default::default() }.like_pattern(), None);
}

#[test]
fn filters_check_confidence_bounds() {
    assert!(Filters::parse(None, None, Some(1.5), None, None, None, None).is_err());
    assert!(Filters::parse(None, None, Some(0.8), Some(0.2), None, None, None).is_err());
    assert!(Filters::parse(Some("nope"), None, None, None, None, None, None).is_err());
    let f = Filters::parse(None, Some("billing"), Some(0.2), Some(0.8), Some("B"), Some(true), Some("FR")).unwrap();
    assert!(f.filters_answers());
}

#[test]
fn reasons_of_one_meaning_merge_under_the_most_frequent_spelling() {
    let unit = |a: f32| vec![a.cos(), a.sin()];
    let literal = vec![
        ReasonCount { reason: "didn't understand my question".into(), count: 5 },
        ReasonCount { reason: "Too slow".into(), count: 4 },
        ReasonCount { reason: "the bot misunderstood me".into(), count: 2 },
        ReasonCount { reason: "not represented yet".into(), count: 1 },
    ];
    let vectors = vec![Some(unit(0.0)), Some(unit(1.5)), Some(unit(0.1)), None];
    let merged = group_reasons_by_meaning(literal, &vectors);
    let shown: Vec<(&str, i64)> = merged.iter().map(|r| (r.reason.as_str(), r.count)).collect();
    assert_eq!(shown, [("didn't understand my question", 7), ("Too slow", 4), ("not represented yet", 1)]);
    assert_eq!(ReasonGrouping::parse(None).unwrap(), ReasonGrouping::Meaning);
    assert_eq!(ReasonGrouping::parse(Some("text")).unwrap(), ReasonGrouping::Text);
    assert!(ReasonGrouping::parse(Some("words")).is_err());
    assert!(groups_by_meaning("short") && !groups_by_meaning("") && !groups_by_meaning(&"x".repeat(201)));
}
