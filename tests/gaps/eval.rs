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

use plaudit::{
    domain::{
        gaps::MEANING_THRESHOLD,
        meaning::{group_vectors, vector},
    },
    embedding::local::{MODEL, MiniLm},
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

/// The group of each question (by index) at `threshold`, as the product
/// groups vectors.
fn grouped(vectors: &[Vec<f32>], threshold: f64) -> (Vec<usize>, usize) {
    let groups = group_vectors(vectors, threshold);
    let mut of = vec![usize::MAX; vectors.len()];
    for (g, members) in groups.iter().enumerate() {
        for &m in members {
            of[m] = g;
        }
    }
    (of, groups.len())
}

fn score(items: &[&Labelled], (of, groups): (Vec<usize>, usize)) -> (Pairs, usize) {
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
    let model = MiniLm::load().expect("the built-in model loads");
    let started = std::time::Instant::now();
    let texts: Vec<String> = set.iter().map(|q| q.text.clone()).collect();
    let vectors: Vec<Vec<f32>> = model
        .embed_now(&texts)
        .expect("the model embeds")
        .iter()
        // As stored: 8 bits a component.
        .map(|v| vector::decode(&vector::encode(v)).expect("a unit vector"))
        .collect();
    println!("embedded in {:.1} s with {MODEL}", started.elapsed().as_secs_f64());
    let by_index =
        |items: &[(usize, &Labelled)]| -> Vec<Vec<f32>> { items.iter().map(|(i, _)| vectors[*i].clone()).collect() };
    let scored = |items: &[(usize, &Labelled)], threshold: f64| {
        let labelled: Vec<&Labelled> = items.iter().map(|(_, q)| *q).collect();
        let (pairs, groups) = score(&labelled, grouped(&by_index(items), threshold));
        (pairs.scores(), groups)
    };
    let line = |name: &str, items: &[(usize, &Labelled)], threshold: f64| {
        let ((p, r, f1), groups) = scored(items, threshold);
        println!("| {name} | {} | {groups} | {p:.3} | {r:.3} | {f1:.3} |", items.len());
    };
    let all: Vec<(usize, &Labelled)> = set.iter().enumerate().collect();
    println!("\nBy meaning, threshold {MEANING_THRESHOLD} (the product's setting):\n");
    println!("| set | questions | groups | precision | recall | F1 |");
    println!("|---|---|---|---|---|---|");
    line("all, as one bot", &all, MEANING_THRESHOLD);
    let mut domains: BTreeMap<&str, Vec<(usize, &Labelled)>> = BTreeMap::new();
    for (i, q) in &all {
        domains.entry(q.domain.as_str()).or_default().push((*i, q));
    }
    for (domain, items) in &domains {
        line(domain, items, MEANING_THRESHOLD);
    }
    println!("\nAt other thresholds: all as one bot, and the mean F1 of the domains as bots of their own:\n");
    println!("| threshold | groups | precision | recall | F1 | mean F1 by domain |");
    println!("|---|---|---|---|---|---|");
    for t in [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60] {
        let ((p, r, f1), groups) = scored(&all, t);
        // Questions of no need are a domain of their own: their F1 is not defined.
        let with_needs: Vec<f64> = domains
            .iter()
            .filter(|(_, items)| items.iter().any(|(_, q)| q.need.is_some()))
            .map(|(_, items)| scored(items, t).0.2)
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let mean = with_needs.iter().sum::<f64>() / with_needs.len().max(1) as f64;
        println!("| {t:.2} | {groups} | {p:.3} | {r:.3} | {f1:.3} | {mean:.3} |");
    }
}
