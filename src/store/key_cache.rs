//! Keys recently found, kept for a short while so that a request does not
//! look its key up again.
//!
//! Every API request presents a key, and looking it up is a read of its own:
//! on SQLite a hand-off to a reader thread, whose page cache every commit
//! empties; on PostgreSQL a round trip. Within [`KeyCache::ttl`] of a lookup
//! the record found is answered from memory. A revocation through this store
//! (the API, the dashboard) removes the key at once; one made elsewhere (the
//! command line, another instance on the same PostgreSQL database) takes
//! effect within the TTL. Expiry is decided on every request from the record,
//! so a cached key expires on time. Unknown keys are never kept: a flood of
//! made-up keys cannot fill the cache.
//!
//! Written by hand rather than with a cache crate: all it needs is a map, a
//! time to live and a bound, where the crates that have a time to live
//! (moka) bring eviction policies, maintenance work and a dozen dependencies.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::domain::{access::KeyRecord, ids::Uuid};

/// Most keys kept at once. Past it, keys past their TTL are dropped, and if
/// that frees nothing, all of them.
const MAX_KEYS: usize = 10_000;

/// Found keys by the hash of their secret, each with when it was found.
pub(super) struct KeyCache {
    ttl: Duration,
    found: Mutex<HashMap<String, (KeyRecord, Instant)>>,
}

impl KeyCache {
    /// A cache keeping each key `ttl` after its lookup (zero keeps none).
    pub(super) fn new(ttl: Duration) -> Self {
        Self { ttl, found: Mutex::new(HashMap::new()) }
    }

    /// The record of the key with this secret hash, if looked up within the TTL.
    pub(super) fn get(&self, secret_hash: &str) -> Option<KeyRecord> {
        let found = self.found.lock().ok()?;
        let (record, at) = found.get(secret_hash)?;
        (at.elapsed() < self.ttl).then(|| record.clone())
    }

    /// Keeps what a lookup found.
    pub(super) fn put(&self, secret_hash: &str, record: &KeyRecord) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut found) = self.found.lock() else { return };
        if found.len() >= MAX_KEYS && !found.contains_key(secret_hash) {
            found.retain(|_, (_, at)| at.elapsed() < self.ttl);
            if found.len() >= MAX_KEYS {
                found.clear();
            }
        }
        found.insert(secret_hash.to_owned(), (record.clone(), Instant::now()));
    }

    /// Forgets a key (it was revoked).
    pub(super) fn forget(&self, key_id: &Uuid) {
        if let Ok(mut found) = self.found.lock() {
            found.retain(|_, (record, _)| &record.key.id != key_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Timestamp,
        access::{ApiKey, Role},
    };

    fn record(id: &Uuid) -> KeyRecord {
        KeyRecord {
            key: ApiKey {
                id: id.clone(),
                account_id: "a".into(),
                name: "k".into(),
                role: Role::Server,
                bot_id: None,
                prefix: "plk_x".into(),
                created_at: Timestamp(0),
                expires_at: None,
                revoked_at: None,
            },
            api_access: true,
        }
    }

    #[test]
    fn a_found_key_is_kept_for_the_ttl_and_then_looked_up_again() {
        let cache = KeyCache::new(Duration::from_millis(50));
        let id = Uuid::new();
        assert!(cache.get("h").is_none());
        cache.put("h", &record(&id));
        assert_eq!(cache.get("h").map(|r| r.key.id), Some(id));
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("h").is_none());
    }

    #[test]
    fn a_revoked_key_is_forgotten_at_once() {
        let cache = KeyCache::new(Duration::from_secs(60));
        let (revoked, kept) = (Uuid::new(), Uuid::new());
        cache.put("a", &record(&revoked));
        cache.put("b", &record(&kept));
        cache.forget(&revoked);
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some());
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = KeyCache::new(Duration::ZERO);
        cache.put("h", &record(&Uuid::new()));
        assert!(cache.get("h").is_none());
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = KeyCache::new(Duration::from_secs(60));
        for i in 0..MAX_KEYS {
            cache.put(&i.to_string(), &record(&Uuid::new()));
        }
        cache.put("new", &record(&Uuid::new()));
        assert!(cache.get("new").is_some());
        assert!(cache.found.lock().unwrap().len() <= MAX_KEYS);
    }
}
