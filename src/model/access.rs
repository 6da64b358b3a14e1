//! Who is asking and what they may see: the four roles and the per-request
//! [`Access`] that every surface showing attributes consults.
//!
//! A layer's *sensitive* fields (`certificate_number` of parcels by default,
//! more from `[layers.X] sensitive`) are shown only to roles that
//! [`Role::sees_sensitive`]. Whenever a surface decides to show them, it
//! tells the request's [`Access`], which remembers what was disclosed so
//! that the HTTP layer can write it to the audit log once the answer is
//! ready. The model owns no IO: recording is a list in memory.
//!
//! # Examples
//!
//! ```
//! use geoplan::model::access::{Access, Role};
//!
//! let public = Access::public();
//! assert!(!public.role().sees_sensitive());
//! let officer = Access::new(Role::Officer, Some("tran.binh".into()));
//! officer.disclose("parcels", "certificate_number");
//! assert_eq!(officer.disclosed(), vec![("parcels".to_string(), "certificate_number".to_string())]);
//! assert!(Role::Admin > Role::Editor && Role::Editor > Role::Officer);
//! ```

use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// A caller's role, in increasing order of what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Anonymous: published, non-sensitive data only.
    #[default]
    Public,
    /// A signed-in officer: also sensitive fields and others' stored checks.
    Officer,
    /// An officer who also writes the layers granted to them.
    Editor,
    /// Writes every editable layer and reads the audit log.
    Admin,
}

impl Role {
    /// Sees sensitive fields (officers and above).
    pub fn sees_sensitive(self) -> bool {
        self >= Role::Officer
    }

    /// May write (editors and admins; which layers is the grants' say).
    pub fn writes(self) -> bool {
        self >= Role::Editor
    }

    /// Parses a configured role name (`officer`, `editor`, `admin`, or
    /// `public`).
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Public, Role::Officer, Role::Editor, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// The lowercase name used in configuration and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Officer => "officer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one request may see, and what it was shown and wrote (for the
/// audit log). Clones share the notes.
#[derive(Debug, Clone, Default)]
pub struct Access {
    role: Role,
    who: Option<String>,
    notes: Arc<Mutex<Notes>>,
}

/// What a request was shown and wrote, with who it was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notes {
    /// The caller's name; `None` when anonymous.
    pub who: Option<String>,
    /// The caller's role.
    pub role: Role,
    /// Sensitive fields shown, as (layer, field).
    pub disclosed: BTreeSet<(String, String)>,
    /// Writes made, one JSON description each.
    pub written: Vec<serde_json::Value>,
}

impl Access {
    /// An anonymous caller.
    pub fn public() -> Access {
        Access::default()
    }

    /// A caller with a role and, when signed in, a name.
    pub fn new(role: Role, who: Option<String>) -> Access {
        Access {
            notes: Arc::new(Mutex::new(Notes {
                who: who.clone(),
                role,
                ..Notes::default()
            })),
            role,
            who,
        }
    }

    /// The same caller, noting into `other`'s notes (the ones the audit
    /// layer reads), which then name this caller.
    pub fn recording_into(mut self, other: &Access) -> Access {
        self.notes = other.notes.clone();
        if let Ok(mut n) = self.notes.lock() {
            n.who = self.who.clone();
            n.role = self.role;
        }
        self
    }

    /// The caller's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The caller's user or key name; `None` when anonymous.
    pub fn who(&self) -> Option<&str> {
        self.who.as_deref()
    }

    /// Notes that field `field` of `layer` is being shown to this caller.
    pub fn disclose(&self, layer: &str, field: &str) {
        if let Ok(mut n) = self.notes.lock() {
            if !n.disclosed.iter().any(|(l, f)| l == layer && f == field) {
                n.disclosed.insert((layer.to_owned(), field.to_owned()));
            }
        }
    }

    /// Notes a write (what was written, as JSON).
    pub fn wrote(&self, what: serde_json::Value) {
        if let Ok(mut n) = self.notes.lock() {
            n.written.push(what);
        }
    }

    /// What was disclosed so far, as (layer, field), sorted.
    pub fn disclosed(&self) -> Vec<(String, String)> {
        self.notes
            .lock()
            .map(|n| n.disclosed.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The notes so far.
    pub fn notes(&self) -> Notes {
        self.notes.lock().map(|n| n.clone()).unwrap_or_default()
    }
}
