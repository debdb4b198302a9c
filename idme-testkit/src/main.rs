//! `idme-testkit`: run the ID.me emulator as a stand-alone server.
//!
//! ```text
//! idme-testkit --bind 127.0.0.1:9000 --redirect-uri http://127.0.0.1:3000/auth/callback --user veteran
//! ```
//!
//! Prints `IDME_ISSUER=…`, `IDME_CLIENT_ID=…` and `IDME_CLIENT_SECRET=…` on stdout (ready for an env file),
//! then serves until Ctrl-C.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use idme_testkit::{Emulator, EmulatorConfig, Persona};

const USAGE: &str = "\
idme-testkit: an ID.me (OpenID Connect) emulator for tests and offline development

USAGE:
    idme-testkit --redirect-uri URL [--redirect-uri URL ...] [OPTIONS]

OPTIONS:
    --bind ADDR            address to listen on (default 127.0.0.1:0, a free port)
    --redirect-uri URL     a registered redirect URI (exact match); repeatable, at least one
    --user PERSONA         sign in at once as unverified|veteran|student|teacher, with no sign-in page
                           (default: $IDME_TESTKIT_USER, else show the sign-in page)
    --client-id ID         client id (default: random)
    --client-secret SECRET client secret (default: random)
    --public-client        register a public client (desktop or command-line app, RFC 8252): no secret,
                           token endpoint auth `none`, PKCE S256 required (also: IDME_TESTKIT_PUBLIC_CLIENT=1)
    --events-receiver URL  deliver security events (RFC 8935 push) to this receiver URL; send them from the
                           page /testkit/events (needs --events-audience)
    --events-audience AUD  the audience the receiver registered (the SETs' aud)
    --end-session-endpoint name /oauth/logout as discovery's end_session_endpoint (ID.me's names
                           none, so by default neither does the emulator's)
    -h, --help             print this help

Prints IDME_ISSUER=, IDME_CLIENT_ID= and IDME_CLIENT_SECRET= lines on stdout (IDME_TOKEN_AUTH=none instead of
the secret for a public client), and with --events-receiver IDME_EVENTS_JWKS_URL= and IDME_EVENTS_ISSUER=,
then serves until Ctrl-C.
Logs go to stderr (RUST_LOG, default info).
";

/// What the command line asks for.
enum Command {
    Help,
    Run(Box<EmulatorConfig>),
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut config = EmulatorConfig {
        auto_user: EmulatorConfig::from_env_user(),
        public_client: std::env::var("IDME_TESTKIT_PUBLIC_CLIENT")
            .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
        ..Default::default()
    };
    let mut args = args.into_iter();
    let (mut events_url, mut events_audience) = (None, None);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        if flag == "--public-client" {
            config.public_client = true;
            continue;
        }
        if flag == "--end-session-endpoint" {
            config.end_session_endpoint = true;
            continue;
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--bind" => {
                let v = value()?;
                config.bind = v
                    .parse::<SocketAddr>()
                    .map_err(|e| format!("--bind {v}: {e}"))?;
            }
            "--redirect-uri" => config.redirect_uris.push(value()?),
            "--user" => {
                let v = value()?;
                config.auto_user = Some(Persona::parse(&v).ok_or_else(|| {
                    format!("--user {v}: expected one of unverified, veteran, student, teacher")
                })?);
            }
            "--client-id" => config.client_id = value()?,
            "--client-secret" => config.client_secret = value()?,
            "--events-receiver" => events_url = Some(value()?),
            "--events-audience" => events_audience = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if config.redirect_uris.is_empty() {
        return Err("at least one --redirect-uri is required".to_owned());
    }
    config.events_receiver = match (events_url, events_audience) {
        (Some(url), Some(audience)) => Some(idme_testkit::EventsReceiver { url, audience }),
        (None, None) => None,
        _ => return Err("--events-receiver and --events-audience go together".to_owned()),
    };
    Ok(Command::Run(Box::new(config)))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(config)) => *config,
        Err(message) => {
            eprintln!("idme-testkit: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let public_client = config.public_client;
    let events = config.events_receiver.is_some();
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("idme-testkit: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };

    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "IDME_ISSUER={}", emulator.issuer());
    let _ = writeln!(stdout, "IDME_CLIENT_ID={}", emulator.client_id());
    if public_client {
        let _ = writeln!(stdout, "IDME_TOKEN_AUTH=none");
    } else {
        let _ = writeln!(stdout, "IDME_CLIENT_SECRET={}", emulator.client_secret());
    }
    if events {
        let _ = writeln!(
            stdout,
            "IDME_EVENTS_JWKS_URL={}",
            emulator.events_jwks_url()
        );
        let _ = writeln!(stdout, "IDME_EVENTS_ISSUER={}", emulator.events_issuer());
    }
    let _ = stdout.flush();
    drop(stdout);

    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("idme-testkit: cannot wait for Ctrl-C: {e}");
    }
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> EmulatorConfig {
        match parse_args(args.iter().map(|a| (*a).to_owned())) {
            Ok(Command::Run(config)) => *config,
            _ => panic!("{args:?} does not parse"),
        }
    }

    #[test]
    fn public_client_flag_registers_a_public_client() {
        let uri = "http://127.0.0.1/callback";
        assert!(parse(&["--redirect-uri", uri, "--public-client"]).public_client);
        assert!(!parse(&["--redirect-uri", uri]).public_client);
        assert!(parse(&["--redirect-uri", uri, "--end-session-endpoint"]).end_session_endpoint);
        assert!(!parse(&["--redirect-uri", uri]).end_session_endpoint);
    }

    #[test]
    fn events_receiver_needs_both_flags() {
        let uri = "http://127.0.0.1/callback";
        let config = parse(&[
            "--redirect-uri",
            uri,
            "--events-receiver",
            "http://127.0.0.1:3000/auth/events",
            "--events-audience=app",
        ]);
        let receiver = config.events_receiver.expect("a receiver");
        assert_eq!(receiver.url, "http://127.0.0.1:3000/auth/events");
        assert_eq!(receiver.audience, "app");
        let half =
            parse_args(["--redirect-uri", uri, "--events-audience", "app"].map(String::from));
        assert!(matches!(half, Err(e) if e.contains("go together")));
    }
}
