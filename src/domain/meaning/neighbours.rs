//! Each vector's nearest neighbours, kept up to date one vector at a time.
//!
//! Grouping by meaning at 100,000 questions cannot compare every pair at
//! once (5·10⁹ pairs), but it can compare each new question with those
//! already held when it arrives (one pass over them) and keep, for every
//! question, its `k` most similar others above a floor. Adding a vector
//! finds its own list and enters the lists it now belongs to, so the lists
//! are exactly those a comparison of every pair would give, whatever the
//! order the vectors arrive in: a list is a selection under one total order
//! (the most similar first, ties to the lower index).

use std::cmp::Ordering;

use super::vector::Vectors;

/// A neighbour: its index and its similarity.
pub type Near = (u32, f32);

/// The order of a list: more similar first, as similar by the lower index.
fn rank(a: &Near, b: &Near) -> Ordering {
    b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0))
}

/// Whether `a` ranks before `b` in a list.
fn before(a: Near, b: Near) -> bool {
    rank(&a, &b) == Ordering::Less
}

/// Vectors with the lists of their nearest neighbours.
#[derive(Debug, Clone)]
pub struct Neighbourhood {
    pub vectors: Vectors,
    /// `near[i]`: the neighbours of `i`, best first, at most `k`. Empty for a
    /// vector not linked yet.
    near: Vec<Vec<Near>>,
    linked: Vec<bool>,
    k: usize,
    floor: f32,
}

impl Neighbourhood {
    /// Lists of `k` neighbours whose similarity reaches `floor`.
    pub fn new(k: usize, floor: f32) -> Self {
        Self { vectors: Vectors::new(), near: Vec::new(), linked: Vec::new(), k, floor }
    }

    /// Holds a vector in its stored form, not linked yet; its index, or
    /// `None` if the bytes are no vector of these dimensions.
    pub fn hold_stored(&mut self, bytes: &[u8]) -> Option<usize> {
        let i = self.vectors.push_stored(bytes)?;
        self.near.push(Vec::new());
        self.linked.push(false);
        Some(i)
    }

    /// Holds a vector, not linked yet; see [`Self::hold_stored`].
    pub fn hold(&mut self, v: &[f32]) -> Option<usize> {
        self.hold_stored(&super::vector::encode(v))
    }

    pub fn len(&self) -> usize {
        self.near.len()
    }

    pub fn is_empty(&self) -> bool {
        self.near.is_empty()
    }

    pub fn is_linked(&self, i: usize) -> bool {
        self.linked[i]
    }

    /// The neighbours of `i`, best first.
    pub fn near(&self, i: usize) -> &[Near] {
        &self.near[i]
    }

    /// Restores a list as stored (neighbours by index), computing the
    /// similarities. Returns false, leaving `i` unlinked, if the list names
    /// an index not held (a neighbour since erased): [`Self::relist`] it.
    pub fn restore(&mut self, i: usize, neighbours: &[usize]) -> bool {
        if neighbours.iter().any(|&j| j >= self.len() || j == i) {
            return false;
        }
        #[allow(clippy::cast_possible_truncation)]
        let mut list: Vec<Near> = neighbours.iter().map(|&j| (j as u32, self.vectors.dot(i, j))).collect();
        list.sort_by(rank);
        list.truncate(self.k);
        self.near[i] = list;
        self.linked[i] = true;
        true
    }

    /// Links `i`: finds its neighbours among the linked vectors, and enters
    /// it in their lists where it ranks. Returns the vectors whose lists
    /// changed (not `i` itself). Linking the vectors one by one, in any
    /// order, gives the lists a comparison of every pair gives.
    pub fn link(&mut self, i: usize) -> Vec<usize> {
        self.link_all(&[i])
    }

    /// Links the vectors of `batch` (not linked yet, each once) as linking
    /// them one by one would, in one pass over the linked vectors: each held
    /// vector is read once for the whole batch, which then stays in cache.
    /// Returns the vectors outside the batch whose lists changed, ascending.
    pub fn link_all(&mut self, batch: &[usize]) -> Vec<usize> {
        let mut in_batch = vec![false; self.len()];
        batch.iter().for_each(|&i| in_batch[i] = true);
        let mut own: Vec<Vec<Near>> = vec![Vec::new(); batch.len()];
        let mut changed = Vec::new();
        for (j, &inside) in in_batch.iter().enumerate() {
            if !self.linked[j] || inside {
                continue;
            }
            #[allow(clippy::cast_possible_truncation)]
            let other = j as u32;
            let mut entered = false;
            for (b, &i) in batch.iter().enumerate() {
                let s = self.vectors.dot(i, j);
                if s < self.floor {
                    continue;
                }
                enter(&mut own[b], (other, s), self.k);
                #[allow(clippy::cast_possible_truncation)]
                let candidate = (i as u32, s);
                entered |= enter(&mut self.near[j], candidate, self.k);
            }
            if entered {
                changed.push(j);
            }
        }
        for (a, &i) in batch.iter().enumerate() {
            for (b, &j) in batch.iter().enumerate().skip(a + 1) {
                let s = self.vectors.dot(i, j);
                if s >= self.floor {
                    #[allow(clippy::cast_possible_truncation)]
                    let (ni, nj) = ((j as u32, s), (i as u32, s));
                    enter(&mut own[a], ni, self.k);
                    enter(&mut own[b], nj, self.k);
                }
            }
        }
        for (b, &i) in batch.iter().enumerate() {
            self.near[i] = std::mem::take(&mut own[b]);
            self.linked[i] = true;
        }
        changed
    }

    /// Finds the list of `i` again among the linked vectors, entering it in
    /// no other list: for a list that lost a neighbour to an erasure.
    pub fn relist(&mut self, i: usize) {
        let mut own = Vec::new();
        for j in (0..self.len()).filter(|&j| j != i && self.linked[j]) {
            let s = self.vectors.dot(i, j);
            if s >= self.floor {
                #[allow(clippy::cast_possible_truncation)]
                own.push((j as u32, s));
            }
        }
        own.sort_by(rank);
        own.truncate(self.k);
        self.near[i] = own;
        self.linked[i] = true;
    }

    /// The graph to group over: each vector's neighbours by index.
    pub fn edges(&self) -> Vec<Vec<usize>> {
        self.near.iter().map(|n| n.iter().map(|&(j, _)| j as usize).collect()).collect()
    }
}

/// Enters `candidate` in `list` (best first, at most `k`) if it ranks;
/// whether the list changed.
fn enter(list: &mut Vec<Near>, candidate: Near, k: usize) -> bool {
    if list.iter().any(|n| n.0 == candidate.0) {
        return false;
    }
    if list.len() >= k && !list.last().is_some_and(|&last| before(candidate, last)) {
        return false;
    }
    let at = list.iter().position(|&n| before(candidate, n)).unwrap_or(list.len());
    list.insert(at, candidate);
    list.truncate(k);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(n: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|i| {
                #[allow(clippy::cast_precision_loss)]
                let a = i as f32 * 0.37;
                vec![a.cos(), a.sin(), (a * 3.0).sin() * 0.3, (a * 0.5).cos() * 0.2]
            })
            .collect()
    }

    /// The lists a comparison of every pair gives.
    fn every_pair(held: &Neighbourhood, k: usize, floor: f32) -> Vec<Vec<u32>> {
        (0..held.len())
            .map(|i| {
                let mut all: Vec<Near> = (0..held.len())
                    .filter(|&j| j != i)
                    .map(|j| (u32::try_from(j).unwrap(), held.vectors.dot(i, j)))
                    .filter(|n| n.1 >= floor)
                    .collect();
                all.sort_by(rank);
                all.into_iter().take(k).map(|n| n.0).collect()
            })
            .collect()
    }

    fn lists(held: &Neighbourhood) -> Vec<Vec<u32>> {
        (0..held.len()).map(|i| held.near(i).iter().map(|n| n.0).collect()).collect()
    }

    #[test]
    fn linking_one_by_one_in_any_order_finds_the_exact_lists() {
        let mut held = Neighbourhood::new(4, 0.2);
        for v in vectors(60) {
            held.hold(&v).unwrap();
        }
        let mut reversed = held.clone();
        for i in 0..60 {
            held.link(i);
        }
        for i in (0..60).rev() {
            reversed.link(i);
        }
        let exact = every_pair(&held, 4, 0.2);
        assert_eq!(lists(&held), exact);
        assert_eq!(lists(&reversed), exact);
        assert!(held.near(0).iter().all(|n| n.1 >= 0.2));
    }

    #[test]
    fn linking_a_batch_is_linking_one_by_one() {
        let mut one_by_one = Neighbourhood::new(3, 0.1);
        for v in vectors(50) {
            one_by_one.hold(&v).unwrap();
        }
        let mut batched = one_by_one.clone();
        for i in 0..50 {
            one_by_one.link(i);
        }
        batched.link_all(&(0..20).collect::<Vec<_>>());
        let changed = batched.link_all(&(20..50).rev().collect::<Vec<_>>());
        assert_eq!(lists(&batched), lists(&one_by_one));
        assert!(!changed.is_empty() && changed.iter().all(|&j| j < 20), "only earlier lists change: {changed:?}");
    }

    #[test]
    fn a_new_vector_enters_the_lists_it_ranks_in() {
        let mut held = Neighbourhood::new(1, 0.5);
        let (a, b) = (held.hold(&[1.0, 0.0]).unwrap(), held.hold(&[0.0, 1.0]).unwrap());
        held.link(a);
        assert!(held.link(b).is_empty(), "orthogonal: below the floor");
        let c = held.hold(&[1.0, 0.1]).unwrap();
        let changed = held.link(c);
        assert_eq!(changed, vec![a], "c enters a's list, not b's");
        assert_eq!(held.near(a)[0].0, 2);
        assert_eq!(held.near(c)[0].0, 0);
    }

    #[test]
    fn a_list_naming_an_erased_vector_is_found_again() {
        let mut held = Neighbourhood::new(2, 0.0);
        for v in vectors(5) {
            held.hold(&v).unwrap();
        }
        assert!(!held.restore(0, &[1, 7]), "7 is not held");
        assert!(!held.is_linked(0));
        for i in 1..5 {
            assert!(held.restore(i, &[]));
        }
        held.relist(0);
        assert_eq!(lists(&held)[0], every_pair(&held, 2, 0.0)[0]);
        assert!(held.restore(3, &[0, 1]));
        assert_eq!(held.edges()[3].len(), 2);
    }
}
