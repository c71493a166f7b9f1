//! The built-in model: all-MiniLM-L6-v2 (Apache-2.0; `models/all-minilm-l6-v2/`
//! says where it comes from), a 6-layer BERT whose mean-pooled output is a
//! 384-dimension sentence vector. Its weights (f16, 45 MB) are compiled into
//! the binary and widened to f32 when loaded; it runs on one CPU thread, at
//! the lowest priority.
//!
//! Each text is encoded alone (no padding to a batch-mate's length), so a
//! question's vector never depends on what it was embedded with.

use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use super::{Embedder, normalized};

static WEIGHTS: &[u8] = include_bytes!("../../models/all-minilm-l6-v2/model.safetensors");
static TOKENIZER: &[u8] = include_bytes!("../../models/all-minilm-l6-v2/tokenizer.json");
static CONFIG: &str = include_str!("../../models/all-minilm-l6-v2/config.json");

/// The name stored beside its vectors.
pub const MODEL: &str = "all-MiniLM-L6-v2";
/// Tokens read of a text; the rest is cut (the model was trained on 256).
const MAX_TOKENS: usize = 256;

/// The loaded model. Encoding is serialized: one thread computes, so the
/// server's other work keeps the remaining cores.
pub struct MiniLm {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    model: BertModel,
    tokenizer: Tokenizer,
}

impl MiniLm {
    /// Loads the model from the bytes compiled in.
    pub fn load() -> anyhow::Result<Self> {
        let config: Config = serde_json::from_str(CONFIG).context("the model's config")?;
        let weights = VarBuilder::from_slice_safetensors(WEIGHTS, DType::F32, &Device::Cpu)?;
        let model = BertModel::load(weights, &config).context("the model's weights")?;
        let mut tokenizer = Tokenizer::from_bytes(TOKENIZER).map_err(|e| anyhow!("the tokenizer: {e}"))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..TruncationParams::default() }))
            .map_err(|e| anyhow!("the tokenizer: {e}"))?;
        Ok(Self { inner: Arc::new(Mutex::new(Inner { model, tokenizer })) })
    }

    /// The model of this process, loaded the first time it is asked for.
    pub fn shared() -> anyhow::Result<Arc<Self>> {
        static SHARED: OnceLock<Arc<MiniLm>> = OnceLock::new();
        if let Some(m) = SHARED.get() {
            return Ok(Arc::clone(m));
        }
        let loaded = Arc::new(Self::load()?);
        Ok(Arc::clone(SHARED.get_or_init(|| loaded)))
    }

    /// The unit vector of each text, computed on the calling thread's behalf
    /// by the background computing thread ([`crate::background::on_idle_thread`]).
    pub fn embed_now(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        embed_with(&self.inner, texts)
    }
}

fn embed_with(inner: &Mutex<Inner>, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
    let inner = inner.lock().map_err(|_| anyhow!("the model panicked earlier"))?;
    crate::background::on_idle_thread(|| texts.iter().map(|t| inner.one(t)).collect())?
}

impl Inner {
    fn one(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        let encoding = self.tokenizer.encode(text, true).map_err(|e| anyhow!("tokenizing: {e}"))?;
        let ids = encoding.get_ids();
        let device = Device::Cpu;
        let input = Tensor::new(ids, &device)?.unsqueeze(0)?;
        let types = input.zeros_like()?;
        let hidden = self.model.forward(&input, &types, None)?;
        // Mean pooling over the tokens (no padding, so every token counts).
        let pooled = hidden.mean(1)?.squeeze(0)?;
        Ok(normalized(pooled.to_vec1::<f32>()?))
    }
}

#[async_trait]
impl Embedder for MiniLm {
    fn model(&self) -> &str {
        MODEL
    }

    async fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        let (inner, texts) = (Arc::clone(&self.inner), texts.to_vec());
        tokio::task::spawn_blocking(move || embed_with(&inner, &texts)).await?
    }
}
