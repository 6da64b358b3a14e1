//! Who is asking: HTTP Basic against `ogc.users` and `Authorization:
//! Bearer` API keys against `ogc.api_keys`, each name with its role from
//! `ogc.roles` (officer, editor or admin; editor when unlisted) and, for
//! editors, the layers `ogc.grants` lets them write. A request without
//! credentials is `public`. Only hashes are configured:
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
//! secret. A password once verified is remembered (by the SHA-256 of the
//! header, for [`VERIFIED_FOR`]) so that an officer's map session does not
//! pay Argon2 on every request.
//!
//! Handlers take [`Access`] (anyone, with their role) or [`Editor`]
//! (editors and admins only; 403 for officers).

use crate::config::OgcConfig;
use crate::model::access::{Access, Role};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRef;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The `WWW-Authenticate` challenge sent with every 401.
pub const CHALLENGE: &str = "Basic realm=\"geoplan\", charset=\"UTF-8\"";

/// Prefix of configured API key hashes.
const SHA256_PREFIX: &str = "sha256:";

/// Password verifications running at once: each takes ~19 MiB and tens of
/// milliseconds, so a flood of guesses cannot take the whole blocking pool.
const CONCURRENT_VERIFICATIONS: usize = 4;

/// How long a verified password is remembered.
pub const VERIFIED_FOR: Duration = Duration::from_secs(300);

/// Verified passwords remembered at most (the memory is cleared when full).
const VERIFIED_MAX: usize = 4096;

/// A signed-in caller: who, how, and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The user name, or the API key's name in `ogc.api_keys`.
    pub name: String,
    /// How they proved who they are.
    pub method: AuthMethod,
    /// Their role (`ogc.roles`).
    pub role: Role,
}

/// An authenticated editor (or admin): the one a handler that writes
/// takes.
#[derive(Debug, Clone)]
pub struct Editor {
    /// The user name, or the API key's name in `ogc.api_keys`.
    pub name: String,
    /// How the editor proved who they are.
    pub method: AuthMethod,
    /// Editor or admin.
    pub role: Role,
    /// The layers they may write; `None` for all editable ones.
    grants: Option<Arc<[String]>>,
    /// The request's access, for audit notes of what was written.
    pub access: Access,
}

impl Editor {
    /// True when this editor may write `layer` (admins write all; an
    /// editor with grants only those).
    pub fn may_write(&self, layer: &str) -> bool {
        self.role == Role::Admin
            || self
                .grants
                .as_ref()
                .is_none_or(|g| g.iter().any(|l| l == layer))
    }

    /// `Ok` when this editor may write `layer`, else a 403 naming it.
    pub fn check_layer(&self, layer: &str) -> Result<(), super::error::ApiError> {
        if self.may_write(layer) {
            Ok(())
        } else {
            Err(super::error::ApiError::forbidden(format!(
                "{} may not write layer '{layer}' (ogc.grants)",
                self.name
            )))
        }
    }
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
            "valid credentials are needed (editing always needs them; reading with wrong ones is refused): a user name and password (HTTP Basic) or an API key (Authorization: Bearer)",
            CHALLENGE,
        )
        .into_response()
    }
}

/// A signed-in caller whose role may not do what was asked: 403.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} ({role}) may not {what}")]
pub struct RoleError {
    /// The caller's name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// What they tried ("edit", "read the audit log").
    pub what: &'static str,
}

impl IntoResponse for RoleError {
    fn into_response(self) -> Response {
        super::error::ApiError::forbidden(self.to_string()).into_response()
    }
}

/// Why a caller was turned away: not signed in (401) or not allowed (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No or wrong credentials.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A role that may not.
    #[error(transparent)]
    Role(#[from] RoleError),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Auth(e) => e.into_response(),
            Denied::Role(e) => e.into_response(),
        }
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
    /// `ogc.roles` or `ogc.grants` names no configured user or key.
    #[error("ogc.{0}.{1}: no user or API key of that name")]
    UnknownName(&'static str, String),
    /// `ogc.roles.NAME` is not officer, editor or admin.
    #[error("ogc.roles.{0}: '{1}' is not a role of a configured user (officer, editor or admin)")]
    BadRole(String, String),
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
    /// Name → role (editor when absent).
    roles: HashMap<String, Role>,
    /// Name → layers an editor may write (all editable when absent).
    grants: HashMap<String, Arc<[String]>>,
    /// SHA-256 of a Basic header verified lately → (user, when).
    verified: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            users: Vec::new(),
            keys: Vec::new(),
            decoy: Arc::default(),
            verifying: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_VERIFICATIONS)),
            roles: HashMap::new(),
            grants: HashMap::new(),
            verified: Mutex::default(),
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
        let known = |n: &String| ogc.users.contains_key(n) || ogc.api_keys.contains_key(n);
        for (name, role) in &ogc.roles {
            if !known(name) {
                return Err(AuthConfigError::UnknownName("roles", name.clone()));
            }
            match Role::parse(role) {
                Some(Role::Public) | None => {
                    return Err(AuthConfigError::BadRole(name.clone(), role.clone()))
                }
                Some(r) => auth.roles.insert(name.clone(), r),
            };
        }
        for (name, layers) in &ogc.grants {
            if !known(name) {
                return Err(AuthConfigError::UnknownName("grants", name.clone()));
            }
            auth.grants.insert(name.clone(), layers.clone().into());
        }
        Ok(auth)
    }

    /// The role of a configured name: editor unless `ogc.roles` says.
    pub fn role_of(&self, name: &str) -> Role {
        self.roles.get(name).copied().unwrap_or(Role::Editor)
    }

    /// Who the request is from: `Ok(None)` without an `Authorization`
    /// header, the signed-in caller with good credentials, 401 otherwise.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Option<SignedIn>, AuthError> {
        if !headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        self.verify(headers).await.map(Some)
    }

    /// The request's [`Access`]: public without credentials, the caller's
    /// role with good ones (401 with bad ones), recording into `recorder`
    /// (the audit layer's, when there is one).
    pub async fn access(
        &self,
        headers: &HeaderMap,
        recorder: Option<&Access>,
    ) -> Result<Access, AuthError> {
        let a = match self.caller(headers).await? {
            None => Access::public(),
            Some(s) => Access::new(s.role, Some(s.name)),
        };
        Ok(match recorder {
            Some(r) => a.recording_into(r),
            None => a,
        })
    }

    /// The request's editor: 401 without good credentials, 403 for an
    /// officer.
    pub async fn editor(
        &self,
        headers: &HeaderMap,
        recorder: Option<&Access>,
    ) -> Result<Editor, Denied> {
        let s = require_editor(self, headers).await?;
        if !s.role.writes() {
            return Err(RoleError {
                name: s.name,
                role: s.role,
                what: "edit",
            }
            .into());
        }
        let access = Access::new(s.role, Some(s.name.clone()));
        Ok(Editor {
            grants: self.grants.get(&s.name).cloned(),
            access: match recorder {
                Some(r) => access.recording_into(r),
                None => access,
            },
            name: s.name,
            method: s.method,
            role: s.role,
        })
    }

    fn remembered(&self, digest: &[u8; 32]) -> Option<String> {
        let m = self.verified.lock().ok()?;
        let (user, at) = m.get(digest)?;
        (at.elapsed() < VERIFIED_FOR).then(|| user.clone())
    }

    fn remember(&self, digest: [u8; 32], user: &str) {
        if let Ok(mut m) = self.verified.lock() {
            if m.len() >= VERIFIED_MAX {
                m.clear();
            }
            m.insert(digest, (user.to_owned(), Instant::now()));
        }
    }

    /// True when no user and no key is configured (no one can edit).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.keys.is_empty()
    }

    /// Checks the `Authorization` header of a request.
    pub async fn verify(&self, headers: &HeaderMap) -> Result<SignedIn, AuthError> {
        let fail = |failure| Err(AuthError { failure });
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return fail(AuthFailure::Missing);
        };
        let Some(credentials) = parse_authorization(value.as_bytes()) else {
            return fail(AuthFailure::Malformed);
        };
        match credentials {
            Credentials::Bearer(key) => match self.key_named(key.as_bytes()) {
                Some(name) => Ok(SignedIn {
                    role: self.role_of(&name),
                    name,
                    method: AuthMethod::ApiKey,
                }),
                None => fail(AuthFailure::Rejected),
            },
            Credentials::Basic { user, password } => {
                let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
                if let Some(name) = self.remembered(&digest) {
                    return Ok(SignedIn {
                        role: self.role_of(&name),
                        name,
                        method: AuthMethod::Basic,
                    });
                }
                let known = self.users.iter().find(|(u, _)| *u == user);
                let hash = known.map(|(_, h)| h.clone());
                let decoy = self.decoy.clone();
                let Ok(_permit) = self.verifying.acquire().await else {
                    return fail(AuthFailure::Rejected);
                };
                let ok = crate::blocking::spawn(move || {
                    let hash = hash.as_deref().unwrap_or_else(|| make_decoy(&decoy));
                    verify_password(&password, hash)
                })
                .await
                .unwrap_or(false);
                if ok && known.is_some() {
                    self.remember(digest, &user);
                    Ok(SignedIn {
                        role: self.role_of(&user),
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

/// Checks the `Authorization` header against the server's users and keys
/// (any role), logging the outcome at debug level.
pub async fn require_editor(auth: &Auth, headers: &HeaderMap) -> Result<SignedIn, AuthError> {
    let r = auth.verify(headers).await;
    match &r {
        Ok(e) => {
            tracing::debug!(user = %e.name, role = %e.role, method = ?e.method, "authenticated")
        }
        Err(e) => tracing::debug!(failure = ?e.failure, "not authenticated"),
    }
    r
}

/// `Editor` as an axum extractor: a handler taking an `Editor` runs only
/// for authenticated editors and admins; others get 401, officers 403.
/// Any router state that holds the users ([`Arc<Auth>`] through `FromRef`)
/// will do.
impl<S> axum::extract::FromRequestParts<S> for Editor
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Denied;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let recorder = parts.extensions.get::<Access>().cloned();
        Arc::<Auth>::from_ref(state)
            .editor(&parts.headers, recorder.as_ref())
            .await
    }
}

/// `Access` as an axum extractor: public without credentials, the
/// caller's role with good ones, 401 with bad ones. It records into the
/// audit layer's [`Access`] when the request passed through it.
impl<S> axum::extract::FromRequestParts<S> for Access
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let recorder = parts.extensions.get::<Access>().cloned();
        Arc::<Auth>::from_ref(state)
            .access(&parts.headers, recorder.as_ref())
            .await
    }
}

/// An admin, as an axum extractor: 401 without credentials, 403 for any
/// other role.
#[derive(Debug, Clone)]
pub struct Admin(pub SignedIn);

impl<S> axum::extract::FromRequestParts<S> for Admin
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Denied;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let s = require_editor(&Arc::<Auth>::from_ref(state), &parts.headers).await?;
        if s.role != Role::Admin {
            return Err(RoleError {
                name: s.name,
                role: s.role,
                what: "use an admin endpoint",
            }
            .into());
        }
        Ok(Admin(s))
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
