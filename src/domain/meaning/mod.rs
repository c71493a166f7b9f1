//! Grouping texts by meaning: their sentence vectors (unit length, from
//! the embedding model), how they are stored and held ([`vector`]), each
//! one's nearest neighbours ([`neighbours`]), and average linkage over
//! those neighbours ([`linkage`]). Knowledge gaps group questions with it,
//! the reasons analytics group reasons.

pub mod linkage;
pub mod neighbours;
pub mod vector;

/// How many nearest neighbours of each text the grouping considers.
pub const NEIGHBOURS: usize = 10;

/// Groups unit vectors by average linkage at `threshold`: each group its
/// members' indices, ascending. Links every vector in turn: for sets held
/// at once (the reasons of a listing, a test); knowledge gaps keep their
/// neighbourhood as questions arrive.
pub fn group_vectors(vectors: &[Vec<f32>], threshold: f64) -> Vec<Vec<usize>> {
    #[allow(clippy::cast_possible_truncation)]
    let mut hood = neighbours::Neighbourhood::new(NEIGHBOURS, threshold as f32);
    let held: Vec<Option<usize>> = vectors.iter().map(|v| hood.hold(v)).collect();
    for i in 0..hood.len() {
        hood.link(i);
    }
    // A vector that could not be held (no direction) stands alone.
    let mut index_of = Vec::with_capacity(hood.len());
    let mut alone = Vec::new();
    for (i, h) in held.iter().enumerate() {
        match h {
            Some(_) => index_of.push(i),
            None => alone.push(vec![i]),
        }
    }
    let mut groups: Vec<Vec<usize>> = linkage::group_by_meaning(&hood.vectors, &hood.edges(), threshold)
        .into_iter()
        .map(|g| g.into_iter().map(|m| index_of[m]).collect())
        .collect();
    groups.extend(alone);
    groups.sort_by_key(|g| g[0]);
    groups
}
