//! The HTTP client for what Plaudit calls out to: the single sign-on
//! provider, and webhook receivers. TLS is rustls with the Mozilla roots
//! compiled in, so nothing depends on the system's certificate store;
//! redirects are not followed, so a provider or a receiver cannot bounce a
//! request somewhere else.

use std::{net::SocketAddr, time::Duration};

use crate::domain::webhook::{WebhookUrl, address_allowed};

/// How long a call may take in all.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client with the timeouts above, no redirects and Plaudit's user agent.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(builder(TIMEOUT).build()?)
}

fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("plaudit/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .redirect(reqwest::redirect::Policy::none())
}

/// The most of a receiver's answer that is read (and thrown away).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What a receiver did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status it answered with, if it answered.
    pub status: Option<u16>,
    pub latency: Duration,
    /// Why it failed, when it did (no answer, a refused address, a non-2xx).
    pub error: Option<String>,
}

impl Answer {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Posts deliveries to webhook receivers: names are resolved by
/// [`VettedResolver`], so that a delivery connects only to an address it
/// may go to (checked on the address it connects to, so a name cannot
/// resolve to a private address between a check and the connection).
#[derive(Clone)]
pub struct Receivers {
    client: reqwest::Client,
    allow_private: bool,
}

impl Receivers {
    /// `allow_private`: receivers on loopback, private or link-local
    /// addresses are allowed (`webhooks_allow_private`).
    pub fn new(allow_private: bool, timeout: Duration) -> anyhow::Result<Self> {
        let resolver = std::sync::Arc::new(VettedResolver { allow_private });
        Ok(Self { client: builder(timeout).dns_resolver(resolver).build()?, allow_private })
    }

    /// Posts `body` (JSON) with `headers` to `url`; reads at most 64 KiB of
    /// the answer. A 2xx succeeds; anything else, or no answer, fails.
    pub async fn post(&self, url: &WebhookUrl, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
        let started = std::time::Instant::now();
        let failed = |status, error: String| Answer { status, latency: started.elapsed(), error: Some(error) };
        if let Some(ip) = url.ip()
            && !address_allowed(ip, self.allow_private)
        {
            return failed(None, format!("{ip} is a loopback, private or link-local address"));
        }
        let mut request = self.client.post(url.as_str()).header("content-type", "application/json").body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return failed(None, describe(e)),
        };
        let status = response.status();
        let mut response = response;
        let mut read = 0;
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len();
            if read >= MAX_ANSWER_BYTES {
                break;
            }
        }
        if status.is_success() {
            Answer { status: Some(status.as_u16()), latency: started.elapsed(), error: None }
        } else {
            failed(Some(status.as_u16()), format!("the receiver answered {status}"))
        }
    }
}

/// A request's failure in a sentence, with its causes, without its URL
/// (a receiver's path may be a secret: a Slack URL is).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time".into();
    }
    crate::error_chain::Chain(&e.without_url()).to_string()
}

/// Resolves a receiver's name and keeps only the addresses a delivery may
/// go to; none left is an error naming the rule.
struct VettedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for VettedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.into_iter().filter(|a| address_allowed(a.ip(), allow_private)).collect();
            if allowed.is_empty() {
                let refused = format!("{host} resolves only to loopback, private or link-local addresses");
                return Err(refused.into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
