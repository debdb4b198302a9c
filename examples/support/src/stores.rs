//! `IDME_SESSION_STORE` and `IDME_APP_STORE`: where sessions and app grants live.
//!
//! Sessions: `cookie` (default), `redis://…`/`rediss://…`, `redis+sentinel://…`,
//! `redis+cluster://…`, `postgres://…`/`postgresql://…` or `sqlite://path`. App grants: the same forms, or `memory` (lost on restart: for
//! tests); by default beside the sessions when those are in a store (own prefix or
//! tables), else in a SQLite file in the app's data directory, so grants survive restarts.

use std::path::PathBuf;

use idme_core::IdmeBuilder;
use idme_session_redis::RedisStore;
use idme_session_sqlx::{SqlStore, SqlStoreOptions};

use crate::StartError;

/// The Redis prefix, and the SQL namespace, of app grants beside sessions.
const GRANTS_PREFIX: &str = "idme:apps:";
const GRANTS_NAMESPACE: &str = "idme_apps";
/// The file of the default app grants store, in the data directory.
const GRANTS_FILE: &str = "app-grants.db";

/// A value of `IDME_SESSION_STORE` or `IDME_APP_STORE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `cookie`: the session sealed in the cookie (sessions only).
    Cookie,
    /// `memory`: this process's memory (app grants only; lost on restart).
    Memory,
    /// `redis://…`, `rediss://…`, `redis+sentinel://host:port,…/<master>[/db]` or
    /// `redis+cluster://host:port,…` (see `idme_session_redis::Topology`).
    Redis(String),
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
    /// `sqlite://path`.
    Sqlite(String),
}

impl StoreUrl {
    /// Reads a setting (trimmed; empty is `cookie`). The error never repeats the value:
    /// it may hold a password.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let has = |scheme: &str| value.starts_with(scheme);
        Ok(match value {
            "" | "cookie" => StoreUrl::Cookie,
            "memory" => StoreUrl::Memory,
            _ if [
                "redis://",
                "rediss://",
                "redis+sentinel://",
                "redis+cluster://",
            ]
            .iter()
            .any(|scheme| has(scheme)) =>
            {
                StoreUrl::Redis(value.into())
            }
            _ if has("postgres://") || has("postgresql://") => StoreUrl::Postgres(value.into()),
            _ if has("sqlite://") && value.len() > "sqlite://".len() => {
                StoreUrl::Sqlite(value.into())
            }
            _ => {
                return Err("expected `cookie`, redis://host:port/db, \
                     redis+sentinel://host:port,…/master, redis+cluster://host:port,…, \
                     postgres://…, sqlite://path (or `memory`, for app grants)"
                    .into());
            }
        })
    }

    /// A store shared by every instance given the same setting.
    fn is_store(&self) -> bool {
        matches!(
            self,
            StoreUrl::Redis(_) | StoreUrl::Postgres(_) | StoreUrl::Sqlite(_)
        )
    }
}

/// Where app grants go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grants {
    /// This process's memory (`IDME_APP_STORE=memory`).
    Memory,
    /// The session store's backend, under the grants' own prefix or tables.
    BesideSessions,
    /// A store of their own.
    Own(StoreUrl),
}

/// Where sessions and app grants go, from the environment (`env`); `default_dir` is the
/// data directory, asked only when the default SQLite file is used.
pub(crate) fn plan(
    env: impl Fn(&str) -> Option<String>,
    default_dir: impl FnOnce() -> PathBuf,
) -> Result<(StoreUrl, Grants), String> {
    let sessions = StoreUrl::parse(&env("IDME_SESSION_STORE").unwrap_or_default())
        .map_err(|e| format!("IDME_SESSION_STORE: {e}"))?;
    if sessions == StoreUrl::Memory {
        return Err(
            "IDME_SESSION_STORE: `memory` is for app grants only (IDME_APP_STORE); \
                    sessions use `cookie` or a store URL"
                .into(),
        );
    }
    let grants = match env("IDME_APP_STORE").filter(|v| !v.trim().is_empty()) {
        Some(value) => match StoreUrl::parse(&value).map_err(|e| format!("IDME_APP_STORE: {e}"))? {
            StoreUrl::Cookie => {
                return Err("IDME_APP_STORE: app grants need a store (a URL, or `memory`)".into());
            }
            StoreUrl::Memory => Grants::Memory,
            own => Grants::Own(own),
        },
        None if sessions.is_store() => Grants::BesideSessions,
        None => {
            let file = default_dir().join(GRANTS_FILE);
            Grants::Own(StoreUrl::Sqlite(format!("sqlite://{}", file.display())))
        }
    };
    Ok((sessions, grants))
}

/// The app's data directory: `IDME_DATA_DIR`, else the platform's (for example
/// `~/.local/share/idme-rs/<app>`), else `./.idme-data`. Created when a store is put in it.
pub(crate) fn data_dir(app: &str, env: impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = env("IDME_DATA_DIR").filter(|d| !d.trim().is_empty()) {
        return PathBuf::from(dir.trim());
    }
    let app: String = app
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dirs::data_dir()
        .map(|d| d.join("idme-rs").join(app))
        .unwrap_or_else(|| PathBuf::from(".idme-data"))
}

/// A connected store.
#[derive(Debug, Clone)]
enum Connected {
    Redis(RedisStore),
    Sql(SqlStore),
}

impl Connected {
    /// Connects to `url` (a store URL), for app grants when `grants` (their own prefix or
    /// tables). The error names `var`, never the URL.
    async fn open(url: &StoreUrl, var: &str, grants: bool) -> Result<Connected, StartError> {
        match url {
            StoreUrl::Redis(u) => {
                let store = RedisStore::connect(u)
                    .await
                    .map_err(|e| format!("{var}: cannot connect to Redis ({e})"))?;
                Ok(Connected::Redis(if grants {
                    store.with_prefix(GRANTS_PREFIX)
                } else {
                    store
                }))
            }
            StoreUrl::Postgres(u) | StoreUrl::Sqlite(u) => {
                let mut options = SqlStoreOptions::new();
                if grants {
                    options = options.namespace(GRANTS_NAMESPACE)?;
                }
                let store = SqlStore::connect_with(u, options)
                    .await
                    .map_err(|e| format!("{var}: cannot open the database ({e})"))?;
                Ok(Connected::Sql(store))
            }
            StoreUrl::Cookie | StoreUrl::Memory => Err(format!("{var}: not a store URL").into()),
        }
    }

    /// The same backend, for app grants: their own prefix or tables.
    async fn beside(&self) -> Result<Connected, StartError> {
        Ok(match self {
            Connected::Redis(s) => Connected::Redis(s.clone().with_prefix(GRANTS_PREFIX)),
            Connected::Sql(s) => Connected::Sql(
                s.namespace(GRANTS_NAMESPACE)
                    .await
                    .map_err(|e| format!("IDME_SESSION_STORE: app grants' tables ({e})"))?,
            ),
        })
    }

    /// The backend's name, for the startup log (never the URL: it may hold a password).
    fn describe(&self) -> &'static str {
        match self {
            Connected::Redis(_) => "Redis",
            Connected::Sql(s) => match s.backend() {
                idme_session_sqlx::Backend::Postgres => "Postgres",
                idme_session_sqlx::Backend::Sqlite => "SQLite",
                _ => "SQL",
            },
        }
    }
}

/// Puts sessions and app grants where `IDME_SESSION_STORE`, `IDME_APP_STORE` and
/// `IDME_DATA_DIR` say (see the [module docs](self)).
pub(crate) async fn with_stores(
    builder: IdmeBuilder,
    apps: idme_apps::AppServer,
    app_name: &str,
) -> Result<(IdmeBuilder, idme_apps::AppServer), StartError> {
    let env = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    let (sessions, grants) = plan(env, || data_dir(app_name, env))?;
    let sessions = if sessions.is_store() {
        Some(Connected::open(&sessions, "IDME_SESSION_STORE", false).await?)
    } else {
        None
    };
    let grants_store = match (&grants, &sessions) {
        (Grants::Memory, _) => None,
        (Grants::BesideSessions, Some(sessions)) => Some(sessions.beside().await?),
        (Grants::BesideSessions, None) => None,
        (Grants::Own(url), _) => Some(Connected::open(url, "IDME_APP_STORE", true).await?),
    };
    let builder = match sessions {
        Some(s) => {
            tracing::info!("sessions are kept in {} (IDME_SESSION_STORE)", s.describe());
            match s {
                Connected::Redis(s) => builder.session_store(s),
                Connected::Sql(s) => builder.session_store(s),
            }
        }
        None => builder,
    };
    let apps = match grants_store {
        Some(g) => {
            match (&grants, env("IDME_APP_STORE")) {
                (Grants::Own(StoreUrl::Sqlite(url)), None) => tracing::info!(
                    "app grants are kept in the SQLite file {} (the default; IDME_APP_STORE to change)",
                    url.trim_start_matches("sqlite://")
                ),
                (Grants::BesideSessions, _) => tracing::info!(
                    "app grants are kept beside the sessions in {}, in their own prefix or tables",
                    g.describe()
                ),
                _ => tracing::info!("app grants are kept in {} (IDME_APP_STORE)", g.describe()),
            }
            match g {
                Connected::Redis(g) => apps.with_store(g),
                Connected::Sql(g) => apps.with_store(g),
            }
        }
        None => {
            tracing::warn!(
                "app grants are kept in memory (IDME_APP_STORE=memory): a restart signs every device out"
            );
            apps
        }
    };
    Ok((builder, apps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |var| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn dir() -> PathBuf {
        PathBuf::from("/data/app")
    }

    #[test]
    fn store_urls_are_recognised() {
        let cases = [
            ("", StoreUrl::Cookie),
            (" cookie ", StoreUrl::Cookie),
            ("memory", StoreUrl::Memory),
            (
                "redis://r:6379/0",
                StoreUrl::Redis("redis://r:6379/0".into()),
            ),
            ("rediss://r/1", StoreUrl::Redis("rediss://r/1".into())),
            (
                "redis+sentinel://s1:26379,s2:26379/mymaster/0",
                StoreUrl::Redis("redis+sentinel://s1:26379,s2:26379/mymaster/0".into()),
            ),
            (
                "redis+cluster://n1:7000,n2:7001",
                StoreUrl::Redis("redis+cluster://n1:7000,n2:7001".into()),
            ),
            (
                "postgres://u:p@db/app",
                StoreUrl::Postgres("postgres://u:p@db/app".into()),
            ),
            (
                "postgresql://db/app",
                StoreUrl::Postgres("postgresql://db/app".into()),
            ),
            (
                "sqlite:///var/lib/app.db",
                StoreUrl::Sqlite("sqlite:///var/lib/app.db".into()),
            ),
            (
                "sqlite://app.db",
                StoreUrl::Sqlite("sqlite://app.db".into()),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(StoreUrl::parse(value), Ok(expected), "{value}");
        }
        for bad in ["mysql://u:secret@db/app", "sqlite://", "Cookie", "http://x"] {
            let e = StoreUrl::parse(bad).unwrap_err();
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn app_grants_default_to_a_sqlite_file_in_the_data_directory() {
        let (sessions, grants) = plan(env(&[]), dir).unwrap();
        assert_eq!(sessions, StoreUrl::Cookie);
        let file = dir().join("app-grants.db");
        assert_eq!(
            grants,
            Grants::Own(StoreUrl::Sqlite(format!("sqlite://{}", file.display())))
        );
        let (_, grants) = plan(env(&[("IDME_SESSION_STORE", "cookie")]), dir).unwrap();
        assert!(matches!(grants, Grants::Own(StoreUrl::Sqlite(_))));
    }

    #[test]
    fn app_grants_go_beside_shared_sessions() {
        for url in [
            "redis://r/0",
            "postgres://db/app",
            "sqlite:///srv/sessions.db",
        ] {
            let (sessions, grants) = plan(env(&[("IDME_SESSION_STORE", url)]), || {
                panic!("no data directory needed")
            })
            .unwrap();
            assert!(sessions.is_store());
            assert_eq!(grants, Grants::BesideSessions, "{url}");
        }
    }

    #[test]
    fn the_app_store_can_be_chosen_or_made_memory_explicitly() {
        let set = [
            ("IDME_SESSION_STORE", "redis://r/0"),
            ("IDME_APP_STORE", "postgres://db/a"),
        ];
        assert_eq!(
            plan(env(&set), dir).unwrap().1,
            Grants::Own(StoreUrl::Postgres("postgres://db/a".into()))
        );
        let memory = [("IDME_APP_STORE", "memory")];
        assert_eq!(plan(env(&memory), dir).unwrap().1, Grants::Memory);
        let blank = [("IDME_APP_STORE", "  ")];
        assert!(matches!(plan(env(&blank), dir).unwrap().1, Grants::Own(_)));
    }

    #[test]
    fn impossible_settings_are_refused_by_name() {
        let cookie_grants = [("IDME_APP_STORE", "cookie")];
        assert!(
            plan(env(&cookie_grants), dir)
                .unwrap_err()
                .starts_with("IDME_APP_STORE")
        );
        let memory_sessions = [("IDME_SESSION_STORE", "memory")];
        assert!(
            plan(env(&memory_sessions), dir)
                .unwrap_err()
                .starts_with("IDME_SESSION_STORE")
        );
        let bad = [("IDME_SESSION_STORE", "mongodb://u:pw@x")];
        let e = plan(env(&bad), dir).unwrap_err();
        assert!(
            e.starts_with("IDME_SESSION_STORE") && !e.contains("pw"),
            "{e}"
        );
    }

    #[test]
    fn the_data_directory_is_idme_data_dir_or_the_platforms() {
        let set = [("IDME_DATA_DIR", "/srv/idme")];
        assert_eq!(data_dir("x", env(&set)), PathBuf::from("/srv/idme"));
        let default = data_dir("idme-example-axum", env(&[]));
        assert!(
            default.ends_with("idme-rs/idme-example-axum")
                || default == std::path::Path::new(".idme-data"),
            "{default:?}"
        );
    }
}
