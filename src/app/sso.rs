//! Single sign-on with OpenID Connect: the authorisation code flow with
//! PKCE. Plaudit sends the browser to the provider with a fresh state,
//! nonce and code challenge, kept signed in a short-lived cookie; on the way
//! back it exchanges the code (with the verifier and its client secret),
//! checks the ID token (signature, issuer, audience, expiry, nonce), and
//! signs in the user whose verified email it names. With a join domain set,
//! a new person of that domain joins as a viewer.
//!
//! The provider's metadata and keys are read at each sign-in, so a provider
//! that rotates its keys or starts after Plaudit needs nothing else.

use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
};
use serde::{Deserialize, Serialize};

use super::{App, AppError};
use crate::domain::{
    Timestamp,
    access::Role,
    people::{self, NewUser},
};

/// A client made from discovery: authorisation endpoint set, token and
/// user-info endpoints as the provider gives them.
type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// How this instance signs people in through a provider.
#[derive(Debug, Clone)]
pub struct SingleSignOn {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// `public_url` + `/auth/oidc/callback`, as registered with the provider.
    pub redirect_uri: String,
    /// New people with a verified email of this domain join as viewers.
    pub join_domain: Option<String>,
    /// The account they join.
    pub join_account: String,
    pub http: reqwest::Client,
}

/// What the browser carries (signed) between leaving for the provider and coming back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundTrip {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Why a single sign-on did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The provider cannot be reached or answered something unusable.
    #[error("the single sign-on provider failed: {0}")]
    Provider(String),
    /// The browser came back with something that does not match what it left with.
    #[error("the sign-in did not come back as it left: {0}")]
    Mismatch(&'static str),
    /// The provider vouched for a person who may not sign in here.
    #[error("{0}")]
    NotAllowed(String),
    #[error(transparent)]
    App(#[from] AppError),
}

fn provider(e: impl std::fmt::Display) -> SsoError {
    SsoError::Provider(e.to_string())
}

impl SingleSignOn {
    /// The client, from the provider's discovery document and keys as they are now.
    async fn client(&self) -> Result<Client, SsoError> {
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(provider)?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(provider)?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone()).map_err(provider)?;
        let (id, secret) = (ClientId::new(self.client_id.clone()), ClientSecret::new(self.client_secret.clone()));
        Ok(CoreClient::from_provider_metadata(metadata, id, Some(secret)).set_redirect_uri(redirect))
    }

    /// Where to send the browser, and what it must bring back.
    pub async fn begin(&self) -> Result<(String, RoundTrip), SsoError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let trip = RoundTrip {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        };
        Ok((url.to_string(), trip))
    }

    /// The verified email and name the provider vouches for, after the
    /// browser came back with `code` and `state`.
    async fn finish(&self, trip: &RoundTrip, code: &str, state: &str) -> Result<(String, String), SsoError> {
        if state.as_bytes() != trip.state.as_bytes() {
            return Err(SsoError::Mismatch("state"));
        }
        let client = self.client().await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(provider)?
            .set_pkce_verifier(PkceCodeVerifier::new(trip.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(provider)?;
        let id_token = tokens.id_token().ok_or_else(|| provider("the token response has no ID token"))?;
        let claims = id_token.claims(&client.id_token_verifier(), &Nonce::new(trip.nonce.clone())).map_err(provider)?;
        let email = claims
            .email()
            .filter(|_| claims.email_verified() == Some(true))
            .ok_or_else(|| SsoError::NotAllowed("The provider did not vouch for a verified email address.".into()))?;
        let email = people::parse_email("email", email.as_str())
            .map_err(|_| SsoError::NotAllowed("The provider's email address is not usable.".into()))?;
        let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
        let name =
            name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| email.split('@').next().unwrap_or_default().into());
        Ok((email, name))
    }
}

impl App {
    /// Finishes a single sign-on: the user of the verified email (or a new
    /// viewer of the join domain) signs in. Returns the session's cookie.
    pub async fn sign_in_with_sso(
        &self,
        sso: &SingleSignOn,
        trip: &RoundTrip,
        code: &str,
        state: &str,
    ) -> Result<String, SsoError> {
        let (email, name) = sso.finish(trip, code, state).await?;
        let user = match self.store.user_by_email(&email).await.map_err(AppError::from)? {
            Some((user, _)) if user.active() => user,
            Some(_) => return Err(SsoError::NotAllowed("This user is disabled. Ask an admin.".into())),
            None if sso
                .join_domain
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(people::email_domain(&email))) =>
            {
                let new = NewUser { account_id: sso.join_account.clone(), email, name, role: Role::Viewer };
                self.store.join_user(new, Timestamp::now()).await.map_err(AppError::from)?
            }
            None => {
                return Err(SsoError::NotAllowed(format!(
                    "{email} has no user here. Ask an admin of your account to invite you."
                )));
            }
        };
        Ok(self.sign_in_user(&user).await?)
    }
}
