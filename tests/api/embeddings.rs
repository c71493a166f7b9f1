//! `embeddings_url` (SPEC §10): knowledge gaps grouped with vectors from an
//! OpenAI-compatible endpoint, a real process that the test starts: this
//! test binary run again as [`crate::embeddings_server`] (the built-in
//! model behind HTTP).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use plaudit::config::Settings;

use crate::{
    both_backends,
    gaps::{ago, asked, items, represented, thumb},
    helpers::{Backend, spawn_app_with, test_settings},
};

both_backends!(an_embeddings_endpoint_groups_the_questions);

/// Set for the copy of this binary that runs as the server: the key it wants.
const SERVER_KEY: &str = "PLAUDIT_TEST_EMBEDDINGS_SERVER_KEY";

/// Not a test: the embeddings server, when this binary is started again by
/// [`EmbeddingsServer::start`]. Serves until killed.
#[test]
#[ignore = "the server process of the embeddings test, which starts it"]
fn embeddings_server_process() {
    let Ok(key) = std::env::var(SERVER_KEY) else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(crate::embeddings_server::serve("127.0.0.1:0", Some(key))).unwrap();
}

/// The embeddings server, killed when dropped.
struct EmbeddingsServer {
    child: Child,
    address: String,
}

impl EmbeddingsServer {
    fn start(key: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "embeddings::embeddings_server_process", "--ignored", "--nocapture", "--test-threads=1"])
            .env(SERVER_KEY, key)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the test binary starts again as the embeddings server");
        // The harness prints its own words first, on the same line.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let address = lines
            .find_map(|l| l.ok()?.split("listening on ").nth(1).map(|a| a.trim().to_owned()))
            .expect("the server prints its address");
        Self { child, address }
    }
}

impl Drop for EmbeddingsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn an_embeddings_endpoint_groups_the_questions(backend: Backend) {
    let server = EmbeddingsServer::start("sesame");
    let settings = Settings {
        embeddings_url: Some(format!("http://{}/v1/embeddings", server.address)),
        embeddings_model: Some("minilm-over-http".into()),
        embeddings_api_key: Some("sesame".into()),
        ..test_settings()
    };
    let app = spawn_app_with(backend, settings).await;
    let bot = app.bot("Support").await;
    for (id, question) in [
        ("c1", "How long does a refund take?"),
        ("c2", "when will I get my money back"),
        ("c3", "Where is your store?"),
    ] {
        let answer = asked(&app, &bot, id, question, &ago(10)).await;
        thumb(&app, &answer, "u1", "negative", &ago(9)).await;
    }
    let listed = represented(&app).await;
    let groups = items(&listed);
    assert_eq!(groups.len(), 2, "{listed:#}");
    assert_eq!(groups[0]["count"], 2, "the refund questions are one group: {listed:#}");
    assert_eq!(groups[1]["question"], "Where is your store?");
}
