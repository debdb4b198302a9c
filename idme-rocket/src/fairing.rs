//! [`IdmeFairing`]: manages the engine and mounts the routes.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use idme_core::{Idme, IdmeBuilder};
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::response::Responder;
use rocket::{Build, Catcher, Request, Response, Rocket};
use serde::Deserialize;

use crate::{IdmeResponse, Unauthorized};

/// Manages the [`Idme`] engine as Rocket state, mounts the sign-in routes at the configured
/// paths, registers the `401`/`403`/`503` catchers that answer failed
/// [`IdmeUser`](crate::IdmeUser) guards as the engine decides (unless the app has its own
/// catcher for that code at `/`), and sets on each response the cookies the guards produced.
#[derive(Debug, Clone)]
pub struct IdmeFairing {
    idme: Option<Idme>,
}

impl IdmeFairing {
    /// A fairing sharing `idme`.
    pub fn new(idme: Idme) -> Self {
        Self { idme: Some(idme) }
    }

    /// A fairing building the engine at ignition from the `idme` table of Rocket's figment
    /// (`[default.idme]` in `Rocket.toml`: `issuer`, `client_id`, `client_secret`,
    /// `redirect_uri`, `scopes`, `response_type`, `response_mode`, `pkce`, `token_auth`,
    /// `cookie_keys`), each key falling back to its `IDME_*` environment variable. The
    /// redirect URI defaults to `http://ADDRESS:PORT/auth/callback` from Rocket's own
    /// address and port. A bad configuration aborts ignition with the reason logged.
    pub fn from_figment() -> Self {
        Self { idme: None }
    }
}

/// One value of the `idme` table.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Setting {
    Text(String),
    Flag(bool),
    Number(i64),
    List(Vec<String>),
}

/// The engine from Rocket's figment and the environment.
fn from_figment(rocket: &Rocket<Build>) -> Result<Idme, String> {
    let figment = rocket.figment();
    let table: BTreeMap<String, Setting> = if figment.find_value("idme").is_ok() {
        figment
            .extract_inner("idme")
            .map_err(|e| format!("the `idme` configuration table: {e}"))?
    } else {
        BTreeMap::new()
    };
    // `IDME_CLIENT_ID` is `client_id` in the table, and so on.
    let lookup = |var: &str| {
        let key = var
            .strip_prefix("IDME_")
            .unwrap_or(var)
            .to_ascii_lowercase();
        match table.get(&key) {
            Some(Setting::Text(s)) => Some(s.clone()),
            Some(Setting::Flag(b)) => Some(b.to_string()),
            Some(Setting::Number(n)) => Some(n.to_string()),
            Some(Setting::List(l)) => Some(l.join(if key == "cookie_keys" { "," } else { " " })),
            None => std::env::var(var).ok().filter(|v| !v.trim().is_empty()),
        }
    };
    let loopback = IpAddr::from([127, 0, 0, 1]);
    let ip = figment
        .extract_inner::<IpAddr>("address")
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(loopback);
    let port = figment.extract_inner::<u16>("port").unwrap_or(8000);
    let builder = IdmeBuilder::from_lookup(lookup)
        .map_err(|e| e.to_string())?
        .default_redirect_uri(format!(
            "http://{}/auth/callback",
            SocketAddr::new(ip, port)
        ));
    let config = builder.build().map_err(|e| e.to_string())?;
    // `Idme::new` is the default HTTP client's: without it the figment cannot make an engine.
    #[cfg(not(feature = "reqwest"))]
    return Err(format!(
        "IdmeFairing::from_figment for client {:?} needs idme-rocket's `reqwest` feature; without it, use IdmeFairing::new with Idme::with_http_client",
        config.client_id()
    ));
    #[cfg(feature = "reqwest")]
    Ok(Idme::new(config))
}

#[rocket::async_trait]
impl Fairing for IdmeFairing {
    fn info(&self) -> Info {
        Info {
            name: "idme",
            kind: Kind::Ignite | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let idme = match &self.idme {
            Some(idme) => idme.clone(),
            None => match from_figment(&rocket) {
                Ok(idme) => idme,
                Err(e) => {
                    tracing::error!(target: "idme::config", "ID.me sign-in is misconfigured (the `idme` table of Rocket's config, or IDME_* variables): {e}");
                    return Err(rocket);
                }
            },
        };
        let mut rocket = rocket.mount("/", crate::routes(&idme));
        // 401: no session (IdmeUser); 403: not verified (Verified<R>); 503: the session
        // store is down.
        for code in [401, 403, 503] {
            let own = rocket
                .catchers()
                .any(|c| c.code == Some(code) && c.base.path() == "/");
            if own {
                tracing::info!(target: "idme::config", code, "the app's own catcher answers failed idme guards");
            } else {
                rocket = rocket.register("/", vec![Catcher::new(code, Unauthorized)]);
            }
        }
        if rocket.state::<Idme>().is_none() {
            rocket = rocket.manage(idme);
        }
        Ok(rocket)
    }

    /// Sets the cookies the request's guards produced (a session re-sealed after a token
    /// refresh, a dead session's deletion), and answers an outage a guard met (the session
    /// store down) even when `Option<IdmeUser>` let the handler run.
    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let effects = crate::guard::auth(req).response_effects();
        if let Some(reply) = effects.replace
            && let Ok(answer) = IdmeResponse(reply).respond_to(req)
        {
            *res = answer;
        }
        for cookie in effects.set_cookies {
            res.adjoin_raw_header("Set-Cookie", cookie.header_value());
        }
    }
}
