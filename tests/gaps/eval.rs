//! How well knowledge gaps group questions by need: the labelled set
//! `tests/gaps/labelled_questions.jsonl` (see its README) grouped as one
//! bot's thumbed-down questions, scored pairwise against its labels.
//!
//!     cargo run --release --example gaps-eval [FILE]
//!
//! Prints the pairwise precision (of the pairs put together, how many share
//! a need), recall (of the pairs sharing a need, how many were put
//! together) and F1, over the whole set and per domain, with the number of
//! groups. A question without a need is a class of its own.

use std::collections::BTreeMap;

use plaudit::domain::{
    Timestamp,
    gaps::{RatedQuestion, group},
    ids::Uuid,
};

/// One labelled question.
struct Labelled {
    need: Option<String>,
    domain: String,
    text: String,
}

/// Pairwise counts: put together and sharing a need, put together, sharing a need.
#[derive(Default, Clone, Copy)]
struct Pairs {
    both: u64,
    grouped: u64,
    labelled: u64,
}

impl Pairs {
    fn scores(self) -> (f64, f64, f64) {
        #[allow(clippy::cast_precision_loss)]
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let (p, r) = (ratio(self.both, self.grouped), ratio(self.both, self.labelled));
        let f1 = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        (p, r, f1)
    }
}

fn read(path: &str) -> Vec<Labelled> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            Labelled {
                need: v["need"].as_str().map(str::to_owned),
                domain: v["domain"].as_str().unwrap_or("").to_owned(),
                text: v["text"].as_str().unwrap_or("").to_owned(),
            }
        })
        .collect()
}

/// The group of each question (by index), as the product groups them.
fn grouped(items: &[&Labelled]) -> (Vec<usize>, usize) {
    let bot = Uuid::new();
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, q)| RatedQuestion {
            message_id: i.to_string(),
            conversation_id: format!("c{i}"),
            bot_id: bot.clone(),
            question: q.text.clone(),
            rated_at: Timestamp(1_700_000_000_000 + i64::try_from(i).unwrap_or(0)),
        })
        .collect();
    let gaps = group(rows, &[]);
    let mut of = vec![usize::MAX; items.len()];
    for (g, gap) in gaps.iter().enumerate() {
        for m in &gap.members {
            of[m.parse::<usize>().expect("members are the indices given")] = g;
        }
    }
    (of, gaps.len())
}

fn score(items: &[&Labelled]) -> (Pairs, usize) {
    let (of, groups) = grouped(items);
    let mut pairs = Pairs::default();
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            let together = of[i] == of[j];
            let same = items[i].need.is_some() && items[i].need == items[j].need;
            pairs.grouped += u64::from(together);
            pairs.labelled += u64::from(same);
            pairs.both += u64::from(together && same);
        }
    }
    (pairs, groups)
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "tests/gaps/labelled_questions.jsonl".into());
    let set = read(&path);
    let needs = set.iter().filter_map(|q| q.need.as_deref()).collect::<std::collections::BTreeSet<_>>().len();
    println!(
        "{path}: {} questions, {needs} needs, {} without a need",
        set.len(),
        set.iter().filter(|q| q.need.is_none()).count()
    );
    println!("| set | questions | groups | precision | recall | F1 |");
    println!("|---|---|---|---|---|---|");
    let line = |name: &str, items: &[&Labelled]| {
        let (pairs, groups) = score(items);
        let (p, r, f1) = pairs.scores();
        println!("| {name} | {} | {groups} | {p:.3} | {r:.3} | {f1:.3} |", items.len());
    };
    line("all, as one bot", &set.iter().collect::<Vec<_>>());
    let mut domains: BTreeMap<&str, Vec<&Labelled>> = BTreeMap::new();
    for q in &set {
        domains.entry(q.domain.as_str()).or_default().push(q);
    }
    for (domain, items) in domains {
        line(domain, &items);
    }
}
