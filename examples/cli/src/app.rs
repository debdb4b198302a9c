//! The commands, and the configuration they share.

use idme_core::{Environment, Idme, TokenAuthMethod};
use idme_native::{BrowserOpener, ChosenStore, NativeClient, NativeError, StoreChoice};
use idme_testkit::{Emulator, EmulatorConfig};

const NAME: &str = "idme-example-cli";
const USAGE: &str = "usage: idme-example-cli login [--no-browser] | whoami | logout";
/// The loopback redirect URI: any port is accepted (RFC 8252 §7.3).
const DEFAULT_REDIRECT: &str = "http://127.0.0.1/callback";
/// The keyring account of the built-in emulator's sign-ins (its issuer changes every run).
const EMULATOR_ACCOUNT: &str = "built-in emulator";

/// A command line, parsed.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Login { no_browser: bool },
    Whoami,
    Logout,
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
        _ => Err(USAGE.to_owned()),
    }
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
}
