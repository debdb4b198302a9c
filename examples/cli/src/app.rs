//! The commands, and the configuration they share.

use std::collections::HashMap;

use idme_core::{Environment, Idme, TokenAuthMethod};
use idme_native::{BrowserOpener, ChosenStore, NativeClient, NativeError, StoreChoice};
use idme_testkit::{Emulator, EmulatorConfig};

use crate::app_client;
use crate::app_tokens::{AppTokenStore, AppUrl};

const NAME: &str = "idme-example-cli";
const USAGE: &str = "usage: idme-example-cli login [--no-browser] | whoami | logout
       idme-example-cli device-login --app <base URL> [--client-id <id>] [--scope <policies>]
       idme-example-cli whoami --app <base URL> | logout --app <base URL>";
/// The loopback redirect URI: any port is accepted (RFC 8252 §7.3).
const DEFAULT_REDIRECT: &str = "http://127.0.0.1/callback";
/// The keyring account of the built-in emulator's sign-ins (its issuer changes every run).
const EMULATOR_ACCOUNT: &str = "built-in emulator";

/// A command line, parsed.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Login {
        no_browser: bool,
    },
    Whoami,
    Logout,
    /// Sign in to an app's own server with the device authorization grant.
    DeviceLogin {
        app: AppUrl,
        client_id: String,
        scope: Option<String>,
    },
    /// The app's `GET /me` with its bearer token.
    AppWhoami {
        app: AppUrl,
    },
    /// Revoke the app's tokens and forget them.
    AppLogout {
        app: AppUrl,
    },
    Help,
}

fn parse(args: &[String]) -> Result<Command, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["login"] => Ok(Command::Login { no_browser: false }),
        ["login", "--no-browser"] => Ok(Command::Login { no_browser: true }),
        ["whoami"] => Ok(Command::Whoami),
        ["logout"] => Ok(Command::Logout),
        ["-h" | "--help" | "help"] => Ok(Command::Help),
        ["device-login", rest @ ..] => {
            let mut flags = flags(rest, &["--app", "--client-id", "--scope"])?;
            let app = flags
                .remove("--app")
                .ok_or("device-login needs --app <base URL>")?;
            Ok(Command::DeviceLogin {
                app: AppUrl::parse(&app)?,
                client_id: flags
                    .remove("--client-id")
                    .unwrap_or_else(|| app_client::DEFAULT_CLIENT_ID.to_owned()),
                scope: flags.remove("--scope"),
            })
        }
        [command @ ("whoami" | "logout"), rest @ ..] => {
            let mut flags = flags(rest, &["--app"])?;
            let app = AppUrl::parse(&flags.remove("--app").ok_or(USAGE)?)?;
            Ok(match *command {
                "whoami" => Command::AppWhoami { app },
                _ => Command::AppLogout { app },
            })
        }
        _ => Err(USAGE.to_owned()),
    }
}

/// `--name value` pairs (or `--name=value`), each of `allowed` at most once.
fn flags(words: &[&str], allowed: &[&str]) -> Result<HashMap<String, String>, String> {
    let mut found = HashMap::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let (name, value) = match word.split_once('=') {
            Some((name, value)) => (name, Some((*value).to_owned())),
            None => (*word, None),
        };
        if !allowed.contains(&name) {
            return Err(format!("unknown argument {word:?}\n{USAGE}"));
        }
        let value = match value {
            Some(v) => v,
            None => (*words
                .next()
                .ok_or_else(|| format!("{name} needs a value"))?)
            .to_owned(),
        };
        if value.trim().is_empty() || found.insert(name.to_owned(), value).is_some() {
            return Err(format!("{name} needs one non-empty value"));
        }
    }
    Ok(found)
}

/// Runs one command; the error is the one line to print on stderr.
pub(crate) async fn run(args: &[String]) -> Result<(), String> {
    let command = parse(args)?;
    if command == Command::Help {
        println!("{USAGE}");
        return Ok(());
    }
    let offline = env("IDME_CLIENT_ID").is_none();
    match command {
        Command::DeviceLogin {
            app,
            client_id,
            scope,
        } => app_client::device_login(&app, &client_id, scope.as_deref(), &app_store(&app)?).await,
        Command::AppWhoami { app } => app_client::whoami(&app, &app_store(&app)?).await,
        Command::AppLogout { app } => app_client::logout(&app, &app_store(&app)?).await,
        Command::Whoami => {
            // No network: the session stored at sign-in.
            let store = token_store(&account()?)?;
            match idme_native::TokenStore::load(&store).map_err(|e| e.to_string())? {
                Some(session) => {
                    println!("{}", idme_example_support::me_body(&session.user()));
                    Ok(())
                }
                None => Err(format!("Not signed in: run `{NAME} login`")),
            }
        }
        Command::Logout if offline => {
            // The emulator of the sign-in is gone with its process: nothing to log out of.
            idme_native::TokenStore::clear(&token_store(EMULATOR_ACCOUNT)?)
                .map_err(|e| e.to_string())?;
            println!("Signed out");
            Ok(())
        }
        Command::Logout => {
            let (client, _emulator) = client(false).await?;
            let url = client.logout().await.map_err(|e| e.to_string())?;
            println!("Signed out");
            if let Some(url) = url {
                println!("{url}");
            }
            Ok(())
        }
        Command::Login { no_browser } => {
            let (client, _emulator) = client(no_browser).await?;
            let session = client.login().await.map_err(login_error)?;
            let user = session.user();
            let name = user.given_name().unwrap_or("(no name)");
            println!("Signed in as {name} ({})", user.sub());
            Ok(())
        }
        Command::Help => Ok(()),
    }
}

fn login_error(e: NativeError) -> String {
    match e {
        NativeError::Cancelled => "Sign-in cancelled at ID.me".to_owned(),
        other => format!("Sign-in failed: {other}"),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `IDME_TOKEN_FILE` when set; else the OS keyring where one answers, else `tokens.json`
/// in the user's data directory.
fn token_store(account: &str) -> Result<ChosenStore, String> {
    let choice = match env("IDME_TOKEN_FILE") {
        Some(path) => StoreChoice::File(path.into()),
        None => StoreChoice::Auto,
    };
    choice.open(NAME, account).map_err(|e| e.to_string())
}

/// Where the tokens `app` issued are kept: beside the ID.me session, never in its place.
fn app_store(app: &AppUrl) -> Result<AppTokenStore, String> {
    let file = env("IDME_TOKEN_FILE").map(std::path::PathBuf::from);
    AppTokenStore::open(NAME, app, file.as_deref())
}

/// The keyring account of the tokens: the client id and issuer `IDME_*` configure, or the
/// built-in emulator's.
fn account() -> Result<String, String> {
    if env("IDME_CLIENT_ID").is_none() {
        return Ok(EMULATOR_ACCOUNT.to_owned());
    }
    let config = idme_native::builder_from_lookup(env)
        .and_then(|b| b.build_native())
        .map_err(|e| e.to_string())?;
    Ok(idme_native::token_account(
        config.client_id(),
        config.environment().issuer(),
    ))
}

/// The client, configured from `IDME_*`; with no `IDME_CLIENT_ID`, over an emulator
/// started in-process (kept alive by the caller) as a public client.
async fn client(no_browser: bool) -> Result<(NativeClient, Option<Emulator>), String> {
    // Without a secret the client is public (IDME_TOKEN_AUTH=none, PKCE).
    let mut builder = idme_native::builder_from_lookup(env).map_err(|e| e.to_string())?;
    let mut emulator = None;
    if env("IDME_CLIENT_ID").is_none() {
        idme_example_support::refuse_production_settings(env).map_err(|r| r.to_string())?;
        let redirect = env("IDME_REDIRECT_URI").unwrap_or_else(|| DEFAULT_REDIRECT.to_owned());
        let emu = Emulator::start(EmulatorConfig {
            redirect_uris: vec![redirect],
            auto_user: EmulatorConfig::from_env_user(),
            public_client: true,
            ..EmulatorConfig::default()
        })
        .await
        .map_err(|e| format!("cannot start the built-in emulator: {e}"))?;
        eprintln!(
            "{NAME}: IDME_CLIENT_ID is not set, so this signs in against the built-in ID.me emulator (test personas, not ID.me)"
        );
        builder = builder
            .environment(Environment::Custom(emu.issuer()))
            .client_id(emu.client_id())
            .token_auth(TokenAuthMethod::None);
        emulator = Some(emu);
    }
    let config = builder.build_native().map_err(|e| e.to_string())?;
    let account = match emulator {
        Some(_) => EMULATOR_ACCOUNT.to_owned(),
        None => idme_native::token_account(config.client_id(), config.environment().issuer()),
    };
    // IDME_LOGIN_TIMEOUT bounds the wait for the browser too (default 5 minutes).
    let wait = match env("IDME_LOGIN_TIMEOUT") {
        Some(_) => config.login_timeout(),
        None => idme_native::DEFAULT_TIMEOUT,
    };
    let mut client = NativeClient::new(Idme::new(config))
        .token_store(token_store(&account)?)
        .timeout(wait);
    if no_browser {
        client = client.browser(BrowserOpener::PrintUrl);
    }
    Ok((client, emulator))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse(&args(&["login", "--no-browser"])),
            Ok(Command::Login { no_browser: true })
        );
        assert_eq!(parse(&args(&["whoami"])), Ok(Command::Whoami));
        assert!(parse(&args(&["login", "--nope"])).is_err());
        assert!(parse(&args(&[])).is_err());
    }

    #[test]
    fn app_commands_parse() {
        let app = AppUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            parse(&args(&["device-login", "--app", "http://127.0.0.1:8080/"])),
            Ok(Command::DeviceLogin {
                app: app.clone(),
                client_id: "idme-example-device".into(),
                scope: None,
            })
        );
        assert_eq!(
            parse(&args(&[
                "device-login",
                "--scope",
                "military veteran",
                "--client-id=tv",
                "--app=http://127.0.0.1:8080",
            ])),
            Ok(Command::DeviceLogin {
                app: app.clone(),
                client_id: "tv".into(),
                scope: Some("military veteran".into()),
            })
        );
        assert_eq!(
            parse(&args(&["whoami", "--app", "http://127.0.0.1:8080"])),
            Ok(Command::AppWhoami { app: app.clone() })
        );
        assert_eq!(
            parse(&args(&["logout", "--app", "http://127.0.0.1:8080"])),
            Ok(Command::AppLogout { app })
        );
        for bad in [
            &["device-login"][..],
            &["device-login", "--app"],
            &["device-login", "--app", "http://app.example"],
            &[
                "device-login",
                "--app",
                "http://127.0.0.1",
                "--app",
                "http://127.0.0.1",
            ],
            &[
                "device-login",
                "--app",
                "http://127.0.0.1",
                "--client-id",
                "",
            ],
            &["device-login", "--app", "http://127.0.0.1", "--nope", "x"],
            &["whoami", "--app"],
            &["whoami", "--client-id", "x"],
            &["logout", "--scope", "military"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
