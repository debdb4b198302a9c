//! The CLI as a client of an app's own server (`--app <base URL>`): the device
//! authorization grant (RFC 8628) with the `oauth2` crate, `GET /me` with the bearer token,
//! one refresh (rotating) when it expired or was refused, and revocation (RFC 7009).

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    ClientId, DeviceAuthorizationUrl, DeviceCodeErrorResponseType, RefreshToken, RequestTokenError,
    Scope, StandardDeviceAuthorizationResponse, StandardErrorResponse, TokenResponse as _,
    TokenUrl,
};

use crate::app_http::{AppHttp, HttpError};
use crate::app_tokens::{AppTokenStore, AppTokens, AppUrl, now_secs};

/// The client id `device-login` uses unless told otherwise.
pub(crate) const DEFAULT_CLIENT_ID: &str = "idme-example-device";

const NAME: &str = "idme-example-cli";

/// `device-login --app`: prints the code and URL, polls, keeps the tokens.
pub(crate) async fn device_login(
    app: &AppUrl,
    client_id: &str,
    scope: Option<&str>,
    store: &AppTokenStore,
) -> Result<(), String> {
    let http = AppHttp::new()?;
    let call = |r| http.call(r);
    let client = BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(app.endpoint("/auth/device/code"))
                .map_err(|e| e.to_string())?,
        )
        .set_token_uri(token_url(app, "/auth/device/token")?);
    let mut ask = client.exchange_device_code();
    for policy in scope.unwrap_or_default().split_whitespace() {
        ask = ask.add_scope(Scope::new(policy.to_owned()));
    }
    let details: StandardDeviceAuthorizationResponse = ask
        .request_async(&call)
        .await
        .map_err(|e| failure(app, client_id, "asking for a code", e))?;
    eprintln!(
        "To sign in, open {} and enter the code {}",
        printable(details.verification_uri().as_str()),
        printable(details.user_code().secret())
    );
    if let Some(complete) = details.verification_uri_complete() {
        eprintln!("Or open this URL: {}", printable(complete.secret()));
    }
    eprintln!("Waiting for the approval…");
    let token: BasicTokenResponse = client
        .exchange_device_access_token(&details)
        .request_async(&call, tokio::time::sleep, None)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(ref r) => match r.error() {
                DeviceCodeErrorResponseType::AccessDenied => {
                    "Sign-in denied: the request was refused on the app's page".to_owned()
                }
                DeviceCodeErrorResponseType::ExpiredToken => format!(
                    "The code expired before it was approved: run `{NAME} device-login --app {app}` again"
                ),
                _ => failure(app, client_id, "waiting for the approval", e),
            },
            e => failure(app, client_id, "waiting for the approval", e),
        })?;
    store.save(&tokens_of(client_id, &token, None))?;
    println!("Signed in to {app}");
    Ok(())
}

/// `whoami --app`: the app's `GET /me` with the stored bearer token, printed as it came.
pub(crate) async fn whoami(app: &AppUrl, store: &AppTokenStore) -> Result<(), String> {
    let signed_out = || format!("Not signed in to {app}: run `{NAME} device-login --app {app}`");
    let mut tokens = store.load()?.ok_or_else(signed_out)?;
    let http = AppHttp::new()?;
    let mut refreshed = false;
    if tokens.access_expired(now_secs()) {
        tokens = refresh(app, &http, store, tokens).await?;
        refreshed = true;
    }
    loop {
        let answer = http
            .get_bearer(&app.endpoint("/me"), &tokens.access_token)
            .await
            .map_err(|e| format!("{app}/me: {e}"))?;
        match answer.status {
            200 => {
                let body: serde_json::Value = serde_json::from_slice(&answer.body)
                    .map_err(|_| format!("{app}/me did not answer JSON"))?;
                println!("{body}");
                return Ok(());
            }
            401 if !refreshed => {
                tokens = refresh(app, &http, store, tokens).await?;
                refreshed = true;
            }
            401 => {
                store.clear()?;
                return Err(format!(
                    "{} ({})",
                    signed_out(),
                    "the app refused the tokens"
                ));
            }
            status => return Err(format!("{app}/me answered {status}")),
        }
    }
}

/// `logout --app`: revokes the refresh token (its whole grant) and forgets the tokens.
pub(crate) async fn logout(app: &AppUrl, store: &AppTokenStore) -> Result<(), String> {
    let Some(tokens) = store.load()? else {
        println!("Signed out of {app}");
        return Ok(());
    };
    // Forgotten here whatever the app answers: the person asked to be signed out.
    store.clear()?;
    // RFC 7009 by hand: the `oauth2` crate refuses a revocation URL that is not https,
    // and the examples run on loopback http.
    let (token, hint) = match &tokens.refresh_token {
        Some(refresh) => (refresh.as_str(), "refresh_token"),
        None => (tokens.access_token.as_str(), "access_token"),
    };
    let form = [
        ("token", token),
        ("token_type_hint", hint),
        ("client_id", tokens.client_id.as_str()),
    ];
    let answer = AppHttp::new()?
        .post_form(&app.endpoint("/auth/revoke"), &form)
        .await
        .map_err(|e| format!("Forgot the tokens here, but the app did not revoke them: {e}"))?;
    if answer.status != 200 {
        let code = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(printable))
            .unwrap_or_default();
        return Err(format!(
            "Forgot the tokens here, but the app did not revoke them: {} {code}",
            answer.status
        ));
    }
    println!("Signed out of {app}");
    Ok(())
}

/// One refresh through `POST <app>/auth/token` (the app rotates the refresh token: the new
/// one is kept). A refused refresh forgets the tokens: signed out.
async fn refresh(
    app: &AppUrl,
    http: &AppHttp,
    store: &AppTokenStore,
    tokens: AppTokens,
) -> Result<AppTokens, String> {
    let signed_out = format!("Not signed in to {app}: run `{NAME} device-login --app {app}`");
    let Some(refresh_token) = tokens.refresh_token.clone() else {
        store.clear()?;
        return Err(format!("{signed_out} (the access token expired)"));
    };
    let call = |r| http.call(r);
    let client = BasicClient::new(ClientId::new(tokens.client_id.clone()))
        .set_token_uri(token_url(app, "/auth/token")?);
    let answer = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token))
        .request_async(&call)
        .await;
    match answer {
        Ok(token) => {
            let renewed = tokens_of(&tokens.client_id, &token, Some(&tokens));
            store.save(&renewed)?;
            Ok(renewed)
        }
        Err(RequestTokenError::ServerResponse(r))
            if *r.error() == BasicErrorResponseType::InvalidGrant =>
        {
            store.clear()?;
            Err(format!("{signed_out} (the app ended this sign-in)"))
        }
        Err(e) => Err(failure(app, &tokens.client_id, "refreshing", e)),
    }
}

fn token_url(app: &AppUrl, path: &str) -> Result<TokenUrl, String> {
    TokenUrl::new(app.endpoint(path)).map_err(|e| e.to_string())
}

/// The tokens of a token response; a response without a refresh token keeps `previous`'s.
fn tokens_of(
    client_id: &str,
    token: &BasicTokenResponse,
    previous: Option<&AppTokens>,
) -> AppTokens {
    AppTokens {
        client_id: client_id.to_owned(),
        access_token: token.access_token().secret().clone(),
        refresh_token: token
            .refresh_token()
            .map(|r| r.secret().clone())
            .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
        expires_at: AppTokens::expiry_after(token.expires_in()),
        scope: token
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
    }
}

/// A failure of an OAuth request as one line: the app's error code and description, or
/// why there was no usable answer. Never the answer's body (it may hold a token).
fn failure<T: oauth2::ErrorResponseType + std::fmt::Display>(
    app: &AppUrl,
    client_id: &str,
    doing: &str,
    e: RequestTokenError<HttpError, StandardErrorResponse<T>>,
) -> String {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let code = r.error().to_string();
            if code == "invalid_client" {
                return format!("{app} does not know the client id {client_id:?}");
            }
            let description = r
                .error_description()
                .map(|d| format!(": {}", printable(d)))
                .unwrap_or_default();
            format!("{app} refused {doing} ({code}){description}")
        }
        RequestTokenError::Request(e) => format!("{doing}: {e}"),
        RequestTokenError::Parse(_, _) => {
            format!("{doing}: {app} did not answer as OAuth 2.0 says")
        }
        RequestTokenError::Other(why) => format!("{doing}: {why}"),
    }
}

/// `text` without control characters (it came from the network and goes to a terminal).
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}
