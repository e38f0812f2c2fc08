//! An identity provider's public keys (a JWKS from `JWT_JWKS_URL` or `JWT_JWKS_FILE`):
//! fetched lazily, cached, refreshed when a token names an unknown `kid` (at most once per
//! `min_refresh`, so a flood of bogus kids cannot hammer the provider) and when the cache is
//! older than `ttl` (so a key the provider removed stops working after the next refresh).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::Mutex;

use crate::observability::error_chain;

/// Where the key set comes from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    Url(String),
    File(PathBuf),
}

/// How long keys are trusted and how often a refresh may be tried.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    pub source: JwksSource,
    /// Keys older than this are refetched before use.
    pub ttl: Duration,
    /// Least time between two fetches caused by unknown kids (or by failures).
    pub min_refresh: Duration,
    /// A fetch that takes longer fails (the request then gets a 401, not a hang).
    pub timeout: Duration,
    /// Certificates trusted for https besides the public (Mozilla) roots.
    pub extra_roots: Vec<reqwest::Certificate>,
}

/// One usable key: its id, the one algorithm it verifies (from the JWK, never from a
/// token's header) and the decoding key.
#[derive(Clone)]
pub struct IdpKey {
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// Why no key could be found for a token (each becomes a 401 message).
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the identity provider's keys are unavailable")]
    Unavailable,
    #[error("no key of the identity provider matches this token's kid")]
    UnknownKid,
}

struct Cache {
    /// The last good key set; kept when a refresh fails, so an outage of the provider
    /// does not sign everyone out.
    keys: Arc<Vec<IdpKey>>,
    /// When `keys` were fetched; `None` before the first success.
    fetched_at: Option<Instant>,
    /// When a fetch was last tried, good or bad (the rate limit).
    tried_at: Option<Instant>,
    /// Whether that try failed (then even an expired set waits `min_refresh`).
    last_failed: bool,
}

/// The cached key set; cheap to clone (shared by every request).
#[derive(Clone)]
pub struct Jwks {
    settings: Arc<JwksSettings>,
    client: reqwest::Client,
    /// Held across a fetch, so concurrent requests wait for one fetch instead of each
    /// starting their own.
    cache: Arc<Mutex<Cache>>,
}

impl Jwks {
    pub fn new(settings: JwksSettings) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder().timeout(settings.timeout);
        for root in &settings.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder.build()?;
        Ok(Jwks {
            settings: Arc::new(settings),
            client,
            cache: Arc::new(Mutex::new(Cache {
                keys: Arc::new(Vec::new()),
                fetched_at: None,
                tried_at: None,
                last_failed: false,
            })),
        })
    }

    /// The keys that may verify a token with `kid` (all keys when the token names none).
    pub async fn keys_for(&self, kid: Option<&str>) -> Result<Vec<IdpKey>, JwksError> {
        let mut cache = self.cache.lock().await;
        let stale = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.settings.ttl);
        let known = matching(&cache.keys, kid);
        // An expired set is refetched at once after a good fetch; unknown kids and retries
        // after a failure wait `min_refresh` since the last try.
        let since_try_ok = cache
            .tried_at
            .is_none_or(|at| at.elapsed() >= self.settings.min_refresh);
        let may_try = (stale && !cache.last_failed) || since_try_ok;
        if (stale || known.is_empty()) && may_try {
            cache.tried_at = Some(Instant::now());
            match self.fetch().await {
                Ok(keys) => {
                    cache.keys = Arc::new(keys);
                    cache.fetched_at = Some(Instant::now());
                    cache.last_failed = false;
                }
                Err(why) => {
                    cache.last_failed = true;
                    tracing::warn!(
                        source = %self.describe(),
                        error = %why,
                        "could not refresh the identity provider's keys (JWKS); keeping the last good set"
                    );
                }
            }
        }
        if cache.fetched_at.is_none() {
            return Err(JwksError::Unavailable);
        }
        let found = matching(&cache.keys, kid);
        if found.is_empty() {
            Err(JwksError::UnknownKid)
        } else {
            Ok(found)
        }
    }

    fn describe(&self) -> String {
        match &self.settings.source {
            JwksSource::Url(url) => url.clone(),
            JwksSource::File(path) => path.display().to_string(),
        }
    }

    async fn fetch(&self) -> Result<Vec<IdpKey>, String> {
        let body = match &self.settings.source {
            JwksSource::Url(url) => {
                let response = self.client.get(url).send().await.map_err(|e| {
                    if e.is_timeout() {
                        format!("no answer within {:?}", self.settings.timeout)
                    } else {
                        format!("request failed: {}", error_chain(&e))
                    }
                })?;
                let status = response.status();
                if !status.is_success() {
                    return Err(format!("answered {status}"));
                }
                response
                    .bytes()
                    .await
                    .map_err(|e| format!("reading the body: {e}"))?
                    .to_vec()
            }
            JwksSource::File(path) => tokio::fs::read(path)
                .await
                .map_err(|e| format!("reading the file: {e}"))?,
        };
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| format!("not a JWKS document: {e}"))?;
        let keys: Vec<IdpKey> = set.keys.iter().filter_map(usable).collect();
        if keys.is_empty() {
            return Err("the JWKS holds no RS256, ES256 or EdDSA key".into());
        }
        Ok(keys)
    }
}

fn matching(keys: &[IdpKey], kid: Option<&str>) -> Vec<IdpKey> {
    keys.iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .cloned()
        .collect()
}

/// The one algorithm a JWK verifies: its `alg` when given, else implied by its key type.
/// Symmetric (`oct`) keys and other algorithms are skipped: a public key set must not
/// turn into HMAC secrets (the `alg` confusion attack).
fn usable(jwk: &Jwk) -> Option<IdpKey> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        _ => return None,
    };
    let algorithm = match jwk.common.key_algorithm {
        None => implied,
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => implied,
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => implied,
        Some(KeyAlgorithm::EdDSA) if implied == Algorithm::EdDSA => implied,
        Some(_) => return None,
    };
    Some(IdpKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}
