//! Sentence embeddings: what turns a user's question into a vector, so that
//! knowledge gaps group questions by meaning (SPEC §10).
//!
//! The default is [`local::MiniLm`], a small model compiled into the binary
//! and run on the CPU: no download, no service, the same vector for the same
//! text on every machine. An operator may point Plaudit at an
//! OpenAI-compatible `/v1/embeddings` endpoint instead ([`remote::Remote`]).
//! Either way the vectors come back normalized to length 1.

pub mod local;
pub mod remote;

use std::sync::Arc;

use async_trait::async_trait;

/// Turns texts into unit vectors.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// The model's name, stored beside each vector: vectors of two models
    /// are never compared.
    fn model(&self) -> &str;
    /// One vector a text, in order.
    async fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>>;
}

/// Where embeddings come from, as configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmbeddingSettings {
    /// An OpenAI-compatible embeddings endpoint (`…/v1/embeddings`); none: the built-in model.
    pub url: Option<String>,
    /// The `model` sent to that endpoint.
    pub model: Option<String>,
    /// Its bearer token, if it needs one.
    pub api_key: Option<String>,
}

/// The embedder the settings ask for: the endpoint if one is set, else the
/// built-in model (loaded once, a fraction of a second).
pub fn from_settings(settings: &EmbeddingSettings) -> anyhow::Result<Arc<dyn Embedder>> {
    match &settings.url {
        Some(url) => Ok(Arc::new(remote::Remote::new(url, settings.model.as_deref(), settings.api_key.as_deref())?)),
        None => Ok(local::MiniLm::shared()?),
    }
}

/// `v` scaled to length 1 (a zero vector stays zero).
pub fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}
