//! Grouping questions by meaning: average linkage over unit vectors,
//! restricted to a graph of near neighbours so that it scales.
//!
//! **Average linkage.** Start with every question alone; repeatedly merge
//! the two groups whose questions are, on average over all cross pairs, the
//! most similar (cosine), while that average reaches the threshold. For unit
//! vectors the average over all cross pairs of groups A and B is
//! `(ΣA · ΣB) / (|A|·|B|)`, where ΣA sums A's vectors: a group is kept as its
//! sum and size, never as its pairs.
//!
//! **Near neighbours.** Only groups joined by an edge of the neighbour graph
//! are candidates. Two groups whose average reaches the threshold hold at
//! least one pair that does, so with every pair above the threshold as an
//! edge this is exact average linkage; with each question's `k` nearest
//! neighbours (the union, both ways, [`super::neighbours`]) it is the
//! approximation that runs at 100,000 questions.
//!
//! **Deterministic.** The result depends on the vectors and their order
//! only through ties, which go to the lower index: the same questions in the
//! same order give the same groups whatever the order of the edges.

use std::{cmp::Ordering, collections::BinaryHeap};

use super::vector::Vectors;

/// A candidate merge: the average similarity of groups `a` and `b`, valid
/// while both groups are at the versions it was computed for.
struct Candidate {
    similarity: f32,
    a: u32,
    b: u32,
    versions: (u32, u32),
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    /// The most similar first; ties to the lower indices.
    fn cmp(&self, other: &Self) -> Ordering {
        self.similarity
            .total_cmp(&other.similarity)
            .then_with(|| other.a.cmp(&self.a))
            .then_with(|| other.b.cmp(&self.b))
            .then_with(|| self.versions.cmp(&other.versions))
    }
}

/// A group while merging, named by its lowest member. A group of one keeps
/// no sum: its vector is its sum, so 100,000 questions start with no copy.
struct Group {
    sum: Option<Vec<f32>>,
    size: f32,
    members: Vec<u32>,
    /// The groups it has an edge to, ascending.
    neighbours: Vec<u32>,
    version: u32,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b)
}

/// The average similarity of the cross pairs of groups `a` (index `i`) and
/// `b` (index `j`).
fn similarity(vectors: &Vectors, (i, a): (usize, &Group), (j, b): (usize, &Group)) -> f32 {
    let raw = match (&a.sum, &b.sum) {
        (None, None) => vectors.dot(i, j),
        (Some(s), None) => vectors.dot_with(j, s),
        (None, Some(s)) => vectors.dot_with(i, s),
        (Some(x), Some(y)) => dot(x, y),
    };
    raw / (a.size * b.size)
}

/// Inserts `x` into an ascending list if it is not there.
fn insert(list: &mut Vec<u32>, x: u32) {
    if let Err(at) = list.binary_search(&x) {
        list.insert(at, x);
    }
}

/// Groups the vectors by average linkage at `threshold`, merging only
/// groups joined by an edge (`edges[i]` lists the neighbours of `i`; an
/// edge counts both ways). Returns the groups, each its members in
/// ascending order, ordered by their lowest member.
pub fn group_by_meaning(vectors: &Vectors, edges: &[Vec<usize>], threshold: f64) -> Vec<Vec<usize>> {
    let n = vectors.len();
    #[allow(clippy::cast_possible_truncation)]
    let threshold = threshold as f32;
    #[allow(clippy::cast_possible_truncation)]
    let mut groups: Vec<Option<Group>> = (0..n)
        .map(|i| Some(Group { sum: None, size: 1.0, members: vec![i as u32], neighbours: Vec::new(), version: 0 }))
        .collect();
    for (i, near) in edges.iter().enumerate().take(n) {
        for &j in near.iter().filter(|&&j| j != i && j < n) {
            #[allow(clippy::cast_possible_truncation)]
            let (a, b) = (i as u32, j as u32);
            if let Some(g) = groups[i].as_mut() {
                insert(&mut g.neighbours, b);
            }
            if let Some(g) = groups[j].as_mut() {
                insert(&mut g.neighbours, a);
            }
        }
    }
    let mut heap = BinaryHeap::new();
    for (i, g) in groups.iter().enumerate() {
        let Some(g) = g else { continue };
        for &j in g.neighbours.iter().filter(|&&j| j as usize > i) {
            if let Some(other) = &groups[j as usize] {
                let s = similarity(vectors, (i, g), (j as usize, other));
                if s >= threshold {
                    #[allow(clippy::cast_possible_truncation)]
                    heap.push(Candidate { similarity: s, a: i as u32, b: j, versions: (0, 0) });
                }
            }
        }
    }
    let dims = vectors.dims();
    // Merges leave stale candidates behind; past this many the heap keeps
    // only the current ones, so that it never outgrows the graph by much.
    let mut bound = heap.len().max(1_024) * 2;
    while let Some(c) = heap.pop() {
        if heap.len() > bound {
            heap.retain(|c: &Candidate| {
                let current = |i: u32, v: u32| groups[i as usize].as_ref().is_some_and(|g| g.version == v);
                current(c.a, c.versions.0) && current(c.b, c.versions.1)
            });
            bound = heap.len().max(1_024) * 2;
        }
        let (ia, ib) = (c.a as usize, c.b as usize);
        let current = |i: usize, v: u32| groups[i].as_ref().is_some_and(|g| g.version == v);
        if !current(ia, c.versions.0) || !current(ib, c.versions.1) {
            continue;
        }
        // Merge b into a (a < b: the group keeps its lowest member's name).
        let Some(b) = groups[ib].take() else { continue };
        for &nb in &b.neighbours {
            if let Some(g) = groups[nb as usize].as_mut() {
                if let Ok(at) = g.neighbours.binary_search(&c.b) {
                    g.neighbours.remove(at);
                }
                if nb != c.a {
                    insert(&mut g.neighbours, c.a);
                }
            }
        }
        let Some(a) = groups[ia].as_mut() else { continue };
        let mut sum = a.sum.take().unwrap_or_else(|| {
            let mut s = vec![0.0; dims];
            vectors.add_to(ia, &mut s);
            s
        });
        match &b.sum {
            Some(other) => sum.iter_mut().zip(other).for_each(|(x, y)| *x += y),
            None => vectors.add_to(ib, &mut sum),
        }
        a.sum = Some(sum);
        a.size += b.size;
        a.members.extend(b.members);
        for nb in b.neighbours.into_iter().filter(|&nb| nb != c.a) {
            insert(&mut a.neighbours, nb);
        }
        if let Ok(at) = a.neighbours.binary_search(&c.b) {
            a.neighbours.remove(at);
        }
        a.version += 1;
        let Some(a) = groups[ia].as_ref() else { continue };
        for &nb in &a.neighbours {
            if let Some(other) = &groups[nb as usize] {
                let s = similarity(vectors, (ia, a), (nb as usize, other));
                if s >= threshold {
                    let (x, y, versions) = if c.a < nb {
                        (c.a, nb, (a.version, other.version))
                    } else {
                        (nb, c.a, (other.version, a.version))
                    };
                    heap.push(Candidate { similarity: s, a: x, b: y, versions });
                }
            }
        }
    }
    groups
        .into_iter()
        .flatten()
        .map(|mut g| {
            g.members.sort_unstable();
            g.members.into_iter().map(|m| m as usize).collect()
        })
        .collect()
}

/// The most central member of a group: the one most similar to the group's
/// sum (ties: the first listed).
pub fn central(vectors: &Vectors, members: &[usize]) -> Option<usize> {
    let mut sum = vec![0.0_f32; vectors.dims()];
    for &m in members {
        vectors.add_to(m, &mut sum);
    }
    members
        .iter()
        .map(|&m| (m, vectors.dot_with(m, &sum)))
        .max_by(|x, y| x.1.total_cmp(&y.1).then_with(|| y.0.cmp(&x.0)))
        .map(|(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::meaning::neighbours::Neighbourhood;

    fn held(v: &[Vec<f32>]) -> Vectors {
        let mut held = Vectors::new();
        v.iter().for_each(|v| {
            held.push(v).unwrap();
        });
        held
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn all_pairs(n: usize) -> Vec<Vec<usize>> {
        (0..n).map(|i| (0..n).filter(|&j| j != i).collect()).collect()
    }

    #[test]
    fn close_vectors_group_and_far_ones_stay_alone() {
        let v = vec![
            unit(&[1.0, 0.1, 0.0]),
            unit(&[0.0, 1.0, 0.0]),
            unit(&[1.0, 0.0, 0.1]),
            unit(&[0.0, 0.0, 1.0]),
            unit(&[0.1, 1.0, 0.0]),
        ];
        let groups = group_by_meaning(&held(&v), &all_pairs(5), 0.8);
        assert_eq!(groups, vec![vec![0, 2], vec![1, 4], vec![3]]);
        // Without an edge nothing merges, however close.
        assert_eq!(group_by_meaning(&held(&v), &vec![vec![]; 5], 0.8).len(), 5);
    }

    #[test]
    fn the_average_decides_not_the_closest_pair() {
        // 0–1 and 1–2 are close, 0–2 is not: single linkage would chain all
        // three; average linkage at 0.75 keeps 2 out of {0, 1}.
        let v = vec![unit(&[1.0, 0.0]), unit(&[0.8, 0.6]), unit(&[0.28, 0.96])];
        let groups = group_by_meaning(&held(&v), &all_pairs(3), 0.75);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert!(groups.iter().all(|g| g.len() <= 2));
    }

    #[test]
    fn the_order_of_the_edges_changes_nothing() {
        let v: Vec<Vec<f32>> = (0..40)
            .map(|i| {
                let a = f32::from(u8::try_from(i).unwrap()) * 0.37;
                unit(&[a.cos(), a.sin(), (a * 3.0).sin() * 0.3])
            })
            .collect();
        let mut hood = Neighbourhood::new(4, 0.0);
        v.iter().for_each(|v| {
            hood.hold(v).unwrap();
        });
        (0..v.len()).for_each(|i| {
            hood.link(i);
        });
        let near = hood.edges();
        let reversed: Vec<Vec<usize>> = near.iter().map(|n| n.iter().rev().copied().collect()).collect();
        assert_eq!(group_by_meaning(&hood.vectors, &near, 0.9), group_by_meaning(&hood.vectors, &reversed, 0.9));
    }

    #[test]
    fn the_centre_is_the_member_closest_to_the_rest() {
        let v = vec![unit(&[1.0, 0.0]), unit(&[0.9, 0.44]), unit(&[0.6, 0.8])];
        assert_eq!(central(&held(&v), &[0, 1, 2]), Some(1));
        assert_eq!(central(&held(&v), &[]), None);
    }
}
