//! The embeddings server of the tests, to try `embeddings_url` by hand:
//!
//!     cargo run --release --example embeddings-server [ADDRESS]
//!
//! Listens on ADDRESS (default `127.0.0.1:0`) and prints `listening on
//! <address>`. With `EMBEDDINGS_KEY` set, requests must bear that token.

#[path = "../api/embeddings_server.rs"]
mod server;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    server::serve(&address, std::env::var("EMBEDDINGS_KEY").ok()).await
}
