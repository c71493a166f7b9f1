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
//! neighbours (the union, both ways) it is the approximation that runs at
//! 100,000 questions, and on the labelled set it groups the same.
//!
//! **Deterministic.** The result depends on the vectors and their order
//! only through ties, which go to the lower index: the same questions in the
//! same order give the same groups whatever the order of the edges.

use std::{
    cmp::Ordering,
    collections::{BTreeSet, BinaryHeap},
};

/// A candidate merge: the average similarity of groups `a` and `b`, valid
/// while both groups are at the versions it was computed for.
struct Candidate {
    similarity: f64,
    a: usize,
    b: usize,
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

/// A group while merging: named by its lowest member.
struct Group {
    sum: Vec<f64>,
    size: f64,
    members: Vec<usize>,
    neighbours: BTreeSet<usize>,
    version: u32,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The `k` most similar other vectors of each vector whose similarity
/// reaches `floor`, most similar first (ties: the lower index). Compares
/// every pair: for a set small enough to hold and scan, such as a test's.
pub fn nearest(vectors: &[Vec<f32>], k: usize, floor: f32) -> Vec<Vec<(usize, f32)>> {
    (0..vectors.len())
        .map(|i| {
            let mut near: Vec<(usize, f32)> = (0..vectors.len())
                .filter(|&j| j != i)
                .map(|j| (j, cosine(&vectors[i], &vectors[j])))
                .filter(|&(_, s)| s >= floor)
                .collect();
            near.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            near.truncate(k);
            near
        })
        .collect()
}

/// Groups the vectors (unit length) by average linkage at `threshold`,
/// merging only groups joined by an edge (`edges[i]` lists the neighbours of
/// `i`; an edge counts both ways). Returns the groups, each its members in
/// ascending order, ordered by their lowest member.
pub fn group_by_meaning(vectors: &[Vec<f32>], edges: &[Vec<usize>], threshold: f64) -> Vec<Vec<usize>> {
    let mut groups: Vec<Option<Group>> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Some(Group {
                sum: v.iter().map(|&x| f64::from(x)).collect(),
                size: 1.0,
                members: vec![i],
                neighbours: BTreeSet::new(),
                version: 0,
            })
        })
        .collect();
    for (i, near) in edges.iter().enumerate() {
        for &j in near {
            if j != i && j < vectors.len() && i < vectors.len() {
                groups[i].as_mut().map(|g| g.neighbours.insert(j));
                groups[j].as_mut().map(|g| g.neighbours.insert(i));
            }
        }
    }
    let similarity = |a: &Group, b: &Group| dot(&a.sum, &b.sum) / (a.size * b.size);
    let mut heap = BinaryHeap::new();
    for (i, g) in groups.iter().enumerate() {
        let Some(g) = g else { continue };
        for &j in g.neighbours.range(i + 1..) {
            if let Some(other) = &groups[j] {
                let s = similarity(g, other);
                if s >= threshold {
                    heap.push(Candidate { similarity: s, a: i, b: j, versions: (0, 0) });
                }
            }
        }
    }
    while let Some(c) = heap.pop() {
        let current = |i: usize, v: u32| groups[i].as_ref().is_some_and(|g| g.version == v);
        if !current(c.a, c.versions.0) || !current(c.b, c.versions.1) {
            continue;
        }
        // Merge b into a (a < b: the group keeps its lowest member's name).
        let Some(b) = groups[c.b].take() else { continue };
        for &n in &b.neighbours {
            if let Some(g) = groups[n].as_mut() {
                g.neighbours.remove(&c.b);
                if n != c.a {
                    g.neighbours.insert(c.a);
                }
            }
        }
        let Some(a) = groups[c.a].as_mut() else { continue };
        a.sum.iter_mut().zip(&b.sum).for_each(|(x, y)| *x += y);
        a.size += b.size;
        a.members.extend(b.members);
        a.neighbours.extend(b.neighbours.into_iter().filter(|&n| n != c.a));
        a.neighbours.remove(&c.b);
        a.version += 1;
        let Some(a) = groups[c.a].as_ref() else { continue };
        for &n in &a.neighbours {
            if let Some(other) = &groups[n] {
                let s = similarity(a, other);
                if s >= threshold {
                    let (x, y) = if c.a < n { (c.a, n) } else { (n, c.a) };
                    let versions = if c.a < n { (a.version, other.version) } else { (other.version, a.version) };
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
            g.members
        })
        .collect()
}

/// The most central member of a group: the one most similar to the group's
/// sum (ties: the first listed).
pub fn central(vectors: &[Vec<f32>], members: &[usize]) -> Option<usize> {
    let dims = members.first().map_or(0, |&m| vectors[m].len());
    let mut sum = vec![0.0_f64; dims];
    for &m in members {
        sum.iter_mut().zip(&vectors[m]).for_each(|(s, &x)| *s += f64::from(x));
    }
    members
        .iter()
        .map(|&m| (m, vectors[m].iter().zip(&sum).map(|(&x, s)| f64::from(x) * s).sum::<f64>()))
        .max_by(|x, y| x.1.total_cmp(&y.1).then_with(|| y.0.cmp(&x.0)))
        .map(|(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let groups = group_by_meaning(&v, &all_pairs(5), 0.8);
        assert_eq!(groups, vec![vec![0, 2], vec![1, 4], vec![3]]);
        // Without an edge nothing merges, however close.
        assert_eq!(group_by_meaning(&v, &vec![vec![]; 5], 0.8).len(), 5);
    }

    #[test]
    fn the_average_decides_not_the_closest_pair() {
        // 0–1 and 1–2 are close, 0–2 is not: single linkage would chain all
        // three; average linkage at 0.75 keeps 2 out of {0, 1}.
        let v = vec![unit(&[1.0, 0.0]), unit(&[0.8, 0.6]), unit(&[0.28, 0.96])];
        let groups = group_by_meaning(&v, &all_pairs(3), 0.75);
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
        let near: Vec<Vec<usize>> =
            nearest(&v, 4, 0.0).into_iter().map(|n| n.into_iter().map(|x| x.0).collect()).collect();
        let mut reversed: Vec<Vec<usize>> = near.iter().map(|n| n.iter().rev().copied().collect()).collect();
        reversed.reverse();
        // Reversed lists name the same graph only once mapped back to their nodes.
        let reversed: Vec<Vec<usize>> = reversed.into_iter().rev().collect();
        assert_eq!(group_by_meaning(&v, &near, 0.9), group_by_meaning(&v, &reversed, 0.9));
    }

    #[test]
    fn the_centre_is_the_member_closest_to_the_rest() {
        let v = vec![unit(&[1.0, 0.0]), unit(&[0.9, 0.44]), unit(&[0.6, 0.8])];
        assert_eq!(central(&v, &[0, 1, 2]), Some(1));
        assert_eq!(central(&v, &[]), None);
    }
}
