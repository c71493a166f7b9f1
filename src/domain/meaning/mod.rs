//! Grouping texts by meaning: their sentence vectors (unit length, from
//! the embedding model), how they are stored ([`vector`]), and average
//! linkage over near neighbours ([`linkage`]). Knowledge gaps group
//! questions with it, the reasons analytics group reasons.

pub mod linkage;
pub mod vector;

/// How many nearest neighbours of each text the grouping considers.
pub const NEIGHBOURS: usize = 10;

/// Groups unit vectors by average linkage at `threshold`, comparing every
/// pair to find the neighbours: each group its members' indices, ascending.
pub fn group_vectors(vectors: &[Vec<f32>], threshold: f64) -> Vec<Vec<usize>> {
    #[allow(clippy::cast_possible_truncation)]
    let near = linkage::nearest(vectors, NEIGHBOURS, threshold as f32);
    let edges: Vec<Vec<usize>> = near.into_iter().map(|n| n.into_iter().map(|(j, _)| j).collect()).collect();
    linkage::group_by_meaning(vectors, &edges, threshold)
}
