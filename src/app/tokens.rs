//! Feedback tokens: issued by a chat backend's key for one conversation,
//! checked on every rating a browser sends with a public key.

use super::{App, AppError};
use crate::domain::{
    Timestamp,
    access::Principal,
    ids::{ClientId, Uuid},
    token::{self, Caller, TokenClaims, TokenRefusal, TokenRequest},
};

/// A feedback token for the browser, with what it grants.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub conversation_id: String,
    pub contact_id: String,
    pub expires_at: Timestamp,
}

impl App {
    /// Issues a token that lets a browser, with a public key, vote, thumb
    /// and answer CSAT for exactly this conversation, as its contact.
    pub async fn issue_token(
        &self,
        principal: &Principal,
        conversation_id: &ClientId,
        request: TokenRequest,
    ) -> Result<IssuedToken, AppError> {
        let conversation = self.store.conversation(&principal.scope(), conversation_id).await?;
        let contact = token::contact_for(&conversation.id, conversation.contact_id, request.contact_id)?;
        let expires_at = Timestamp(Timestamp::now().0 + request.ttl_seconds * 1000);
        let claims = TokenClaims {
            account_id: principal.account_id.clone(),
            bot_id: conversation.bot_id.to_string(),
            conversation_id: conversation.id.clone(),
            contact_id: contact.clone(),
            expires_at: expires_at.0,
            key_id: Some(principal.actor.id.clone()),
        };
        let token = token::sign(&claims, &self.secret());
        Ok(IssuedToken { token, conversation_id: conversation.id, contact_id: contact, expires_at })
    }

    /// What a token grants, once its signature and expiry check out.
    pub fn token_claims(&self, raw: &str) -> Result<TokenClaims, TokenRefusal> {
        token::verify(raw.trim(), &self.secret(), Timestamp::now())
    }

    /// The caller a public key and its token make: the token must be valid,
    /// issued for the key's account (and bot, if the key is bound to one),
    /// by a key that is still admitted (looked up like a presented key, so a
    /// revocation elsewhere reaches this instance within `key_cache_ms`).
    pub async fn caller_with_token(&self, principal: Principal, raw: &str) -> Result<Caller, AppError> {
        let claims = self.token_claims(raw)?;
        claims.check_key(&principal)?;
        if let Some(issuer) = &claims.key_id {
            let id = Uuid::parse("key", issuer).map_err(|_| TokenRefusal::Malformed)?;
            let record = self.store.find_key_by_id(&id).await?;
            Principal::admit(record, Timestamp::now()).map_err(|_| TokenRefusal::IssuerRevoked)?;
        }
        Ok(Caller { principal, token: Some(claims) })
    }
}
