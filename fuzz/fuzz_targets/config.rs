//! The configuration file (`geoplan --config FILE`): TOML with `${NAME}`
//! substitution, then the users and API keys read as `serve` and
//! `check-config` read them.
#![no_main]

use geoplan::config::Config;
use geoplan::http::auth::Auth;
use geoplan_fuzz::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(s) = text(data) else { return };
    let env = |k: &str| match k {
        "DATABASE_URL" => Some("postgres://geoplan@localhost/geoplan".to_owned()),
        "HOME" => Some("/home/geoplan".to_owned()),
        _ => None,
    };
    if let Ok(c) = Config::parse(s, env) {
        let _ = c.public_url();
        // A user with a valid hash makes the decoy hash (Argon2, tens of
        // milliseconds): only names, keys and roles are checked here.
        if c.ogc.users.is_empty() {
            let _ = Auth::from_config(&c.ogc);
        }
    }
});
