//! An OpenAI-compatible embeddings endpoint: `POST {url}` with
//! `{"model", "input": [texts]}`, answered by `{"data": [{"index",
//! "embedding"}]}`. For an operator who runs their own model; the built-in
//! one stays the default.

use anyhow::{Context, bail};
use async_trait::async_trait;
use serde::Deserialize;

use super::{Embedder, normalized};
use crate::outbound;

/// The endpoint and how to call it.
pub struct Remote {
    url: String,
    model: String,
    api_key: Option<String>,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

impl Remote {
    /// A client of `url` asking for `model` (default `text-embedding-3-small`).
    pub fn new(url: &str, model: Option<&str>, api_key: Option<&str>) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url).context("embeddings_url is not a URL")?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("embeddings_url must be http or https");
        }
        Ok(Self {
            url: url.to_owned(),
            model: model.unwrap_or("text-embedding-3-small").to_owned(),
            api_key: api_key.map(str::to_owned),
            client: outbound::client()?,
        })
    }
}

#[async_trait]
impl Embedder for Remote {
    fn model(&self) -> &str {
        &self.model
    }

    async fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        let mut request = self.client.post(&self.url).json(&serde_json::json!({"model": self.model, "input": texts}));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        // The error names the status, never the URL (it may hold a token).
        let response =
            request.send().await.map_err(|e| anyhow::anyhow!("the embeddings endpoint: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            bail!("the embeddings endpoint answered {status}");
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| anyhow::anyhow!("the embeddings endpoint's answer: {}", e.without_url()))?;
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for item in answer.data {
            let slot = vectors.get_mut(item.index).context("the embeddings endpoint answered an index out of range")?;
            if item.embedding.is_empty() || item.embedding.iter().any(|x| !x.is_finite()) {
                bail!("the embeddings endpoint answered an empty or non-finite vector");
            }
            *slot = Some(normalized(item.embedding));
        }
        let vectors: Option<Vec<Vec<f32>>> = vectors.into_iter().collect();
        let vectors = vectors.context("the embeddings endpoint left texts without a vector")?;
        if vectors.windows(2).any(|w| w[0].len() != w[1].len()) {
            bail!("the embeddings endpoint answered vectors of different lengths");
        }
        Ok(vectors)
    }
}
