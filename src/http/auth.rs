//! Who may edit: HTTP Basic against `ogc.users` and `Authorization: Bearer`
//! API keys against `ogc.api_keys`. Only hashes are configured:
//!
//! * passwords as Argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`),
//!   slow on purpose since passwords are guessable; verified on the
//!   blocking pool, a few at a time;
//! * API keys, which are long and random, as `sha256:<64 hex digits>`,
//!   compared in constant time.
//!
//! `geoplan hash-password` prints either. Failures all look the same to the
//! client (401 with `WWW-Authenticate: Basic realm="geoplan"`), an unknown
//! user costs as much time as a wrong password, and nothing here logs a
//! secret.

use crate::config::OgcConfig;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRef;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use subtle::ConstantTimeEq;

/// The `WWW-Authenticate` challenge sent with every 401.
pub const CHALLENGE: &str = "Basic realm=\"geoplan\", charset=\"UTF-8\"";

/// Prefix of configured API key hashes.
const SHA256_PREFIX: &str = "sha256:";

/// Password verifications running at once: each takes ~19 MiB and tens of
/// milliseconds, so a flood of guesses cannot take the whole blocking pool.
const CONCURRENT_VERIFICATIONS: usize = 4;

/// An authenticated editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    /// The user name, or the API key's name in `ogc.api_keys`.
    pub name: String,
    /// How the editor proved who they are.
    pub method: AuthMethod,
}

/// How an [`Editor`] authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic, user and password.
    Basic,
    /// `Authorization: Bearer <API key>`.
    ApiKey,
}

/// Why a request was not let in. The client sees only "authentication
/// required"; the reason is for tests and debug logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// A header that is not well-formed Basic or Bearer.
    Malformed,
    /// Unknown user, wrong password or unknown key (deliberately one case).
    Rejected,
}

/// A request without valid editor credentials: answered 401 with the
/// Basic challenge, never saying what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("authentication required")]
pub struct AuthError {
    /// What went wrong (not shown to the client).
    pub failure: AuthFailure,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        super::error::ApiError::unauthorized(
            "editing needs a user name and password (HTTP Basic) or an API key (Authorization: Bearer)",
            CHALLENGE,
        )
        .into_response()
    }
}

/// A configured user or key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    /// `ogc.users.NAME` is not an Argon2 PHC string.
    #[error("ogc.users.{0}: not an Argon2 password hash ($argon2id$…); make one with `geoplan hash-password`")]
    BadPasswordHash(String),
    /// A user name HTTP Basic cannot carry.
    #[error("ogc.users: the user name {0:?} is empty or contains ':'")]
    BadUserName(String),
    /// `ogc.api_keys.NAME` is not `sha256:<64 hex digits>`.
    #[error("ogc.api_keys.{0}: not a key hash (sha256:<64 hex digits>); make one with `geoplan hash-password --api-key`")]
    BadKeyHash(String),
}

/// The editors a server accepts, with their hashes parsed. The default
/// accepts no one.
pub struct Auth {
    /// User name → Argon2 PHC string (checked to parse).
    users: Vec<(String, String)>,
    /// Key name → SHA-256 of the key.
    keys: Vec<(String, [u8; 32])>,
    /// A hash of a random password, verified for unknown users so that they
    /// cost the same time as known ones.
    decoy: Arc<OnceLock<String>>,
    verifying: Arc<tokio::sync::Semaphore>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            users: Vec::new(),
            keys: Vec::new(),
            decoy: Arc::default(),
            verifying: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_VERIFICATIONS)),
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: hashes stay out of logs too.
        f.debug_struct("Auth")
            .field(
                "users",
                &self.users.iter().map(|u| &u.0).collect::<Vec<_>>(),
            )
            .field("keys", &self.keys.iter().map(|k| &k.0).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Reads `ogc.users` and `ogc.api_keys`, refusing any entry that could
    /// never match (so a typo shows at start-up, not as a 401 later).
    pub fn from_config(ogc: &OgcConfig) -> Result<Auth, AuthConfigError> {
        let mut auth = Auth::default();
        for (name, hash) in &ogc.users {
            if name.is_empty() || name.contains(':') {
                return Err(AuthConfigError::BadUserName(name.clone()));
            }
            let ok = PasswordHash::new(hash)
                .ok()
                .is_some_and(|h| h.algorithm.as_str().starts_with("argon2") && h.hash.is_some());
            if !ok {
                return Err(AuthConfigError::BadPasswordHash(name.clone()));
            }
            auth.users.push((name.clone(), hash.clone()));
        }
        if !auth.users.is_empty() {
            // Made now, so that the first unknown user costs no more than
            // the next.
            auth.decoy();
        }
        for (name, hash) in &ogc.api_keys {
            let digest =
                parse_key_hash(hash).ok_or_else(|| AuthConfigError::BadKeyHash(name.clone()))?;
            auth.keys.push((name.clone(), digest));
        }
        Ok(auth)
    }

    /// True when no user and no key is configured (no one can edit).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.keys.is_empty()
    }

    /// Checks the `Authorization` header of a request.
    pub async fn verify(&self, headers: &HeaderMap) -> Result<Editor, AuthError> {
        let fail = |failure| Err(AuthError { failure });
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return fail(AuthFailure::Missing);
        };
        let Some(credentials) = parse_authorization(value.as_bytes()) else {
            return fail(AuthFailure::Malformed);
        };
        match credentials {
            Credentials::Bearer(key) => match self.key_named(key.as_bytes()) {
                Some(name) => Ok(Editor {
                    name,
                    method: AuthMethod::ApiKey,
                }),
                None => fail(AuthFailure::Rejected),
            },
            Credentials::Basic { user, password } => {
                let known = self.users.iter().find(|(u, _)| *u == user);
                let hash = known.map(|(_, h)| h.clone());
                let decoy = self.decoy.clone();
                let Ok(_permit) = self.verifying.acquire().await else {
                    return fail(AuthFailure::Rejected);
                };
                let ok = tokio::task::spawn_blocking(move || {
                    let hash = hash.as_deref().unwrap_or_else(|| make_decoy(&decoy));
                    verify_password(&password, hash)
                })
                .await
                .unwrap_or(false);
                if ok && known.is_some() {
                    Ok(Editor {
                        name: user,
                        method: AuthMethod::Basic,
                    })
                } else {
                    fail(AuthFailure::Rejected)
                }
            }
        }
    }

    /// The name of the configured key whose hash matches, comparing with
    /// every configured key in constant time.
    fn key_named(&self, key: &[u8]) -> Option<String> {
        let digest: [u8; 32] = Sha256::digest(key).into();
        let mut found = None;
        for (name, want) in &self.keys {
            if bool::from(digest.ct_eq(want)) && found.is_none() {
                found = Some(name.clone());
            }
        }
        found
    }

    fn decoy(&self) -> &str {
        make_decoy(&self.decoy)
    }
}

/// The decoy hash, made on first use: of a random password no one knows.
fn make_decoy(decoy: &OnceLock<String>) -> &str {
    decoy.get_or_init(|| {
        let mut pw = [0u8; 16];
        OsRng.fill_bytes(&mut pw);
        hash_password(&hex(&pw)).unwrap_or_default()
    })
}

/// Checks the `Authorization` header against the server's editors: the
/// one call a handler that writes makes first.
pub async fn require_editor(auth: &Auth, headers: &HeaderMap) -> Result<Editor, AuthError> {
    let r = auth.verify(headers).await;
    match &r {
        Ok(e) => tracing::debug!(editor = %e.name, method = ?e.method, "editor authenticated"),
        Err(e) => tracing::debug!(failure = ?e.failure, "editor not authenticated"),
    }
    r
}

/// `Editor` as an axum extractor: a handler taking an `Editor` runs only
/// for authenticated editors; others get the 401 of [`AuthError`]. Any
/// router state that holds the editors ([`Arc<Auth>`] through `FromRef`)
/// will do.
impl<S> axum::extract::FromRequestParts<S> for Editor
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        require_editor(&Arc::<Auth>::from_ref(state), &parts.headers).await
    }
}

enum Credentials {
    Basic { user: String, password: String },
    Bearer(String),
}

/// Parses `Basic <base64 user:password>` or `Bearer <token>` (scheme names
/// in any case); `None` for anything else.
fn parse_authorization(value: &[u8]) -> Option<Credentials> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, password) = text.split_once(':')?;
        Some(Credentials::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        // RFC 6750 token68 characters only.
        let ok = rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
        ok.then(|| Credentials::Bearer(rest.to_owned()))
    } else {
        None
    }
}

fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    // The output comparison inside is constant-time.
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

/// Hashes a password for `ogc.users`: Argon2id with the `argon2` crate's
/// default cost (19 MiB, 2 passes, 1 lane) and a random salt, as a PHC
/// string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

/// Hashes an API key for `ogc.api_keys`: `sha256:<hex>`. A fast hash is
/// enough for keys made by [`new_api_key`] (256 random bits).
pub fn hash_api_key(key: &str) -> String {
    format!("{SHA256_PREFIX}{}", hex(&Sha256::digest(key.as_bytes())))
}

/// A new random API key: 32 bytes from the OS, base64url without padding.
pub fn new_api_key() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn parse_key_hash(s: &str) -> Option<[u8; 32]> {
    let h = s.strip_prefix(SHA256_PREFIX)?;
    if h.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_parse_back_and_typos_are_refused() {
        let h = hash_api_key("abc");
        assert_eq!(
            h,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(parse_key_hash(&h).is_some());
        assert!(parse_key_hash(&h[..h.len() - 1]).is_none());
        assert!(parse_key_hash(&h.replace("sha256", "sha512")).is_none());
        assert!(parse_key_hash(
            "sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        .is_none());
    }

    #[test]
    fn authorization_headers_parse_or_are_malformed() {
        assert!(matches!(
            parse_authorization(b"basic dTpwOng="),
            Some(Credentials::Basic { user, password }) if user == "u" && password == "p:x"
        ));
        assert!(matches!(
            parse_authorization(b"Bearer abc-DEF_1"),
            Some(Credentials::Bearer(k)) if k == "abc-DEF_1"
        ));
        for bad in [
            &b"Basic"[..],
            b"Basic !!!",
            b"Basic dXNlcg==", // "user", no colon
            b"Digest abc",
            b"Bearer a b",
            b"Bearer ",
            b"\xff\xfe",
        ] {
            assert!(parse_authorization(bad).is_none(), "{bad:?}");
        }
    }
}
