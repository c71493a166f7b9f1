//! The one HTTP client for what Plaudit calls out to: the single sign-on
//! provider today (webhook receivers and embedding servers share it).
//! TLS is rustls with the Mozilla roots compiled in, so nothing depends on
//! the system's certificate store; redirects are not followed, so a
//! provider cannot bounce a request somewhere else.

use std::time::Duration;

/// How long a call may take in all.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client with the timeouts above, no redirects and Plaudit's user agent.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(concat!("plaudit/", env!("CARGO_PKG_VERSION")))
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}
