//! [`TestIdme::bearer`]: an app client's bearer token through the real device grant
//! (RFC 8628) of `idme-apps`, in memory: the device asks for codes, the persona signs in
//! and allows it on the confirmation page, the device polls. The routes are the engine's
//! own (`idme_core::adapter::Route::all`), called as an adapter calls them; this crate
//! does not depend on `idme-apps`.

use std::io;
use std::time::Duration;

use idme_core::Reply;
use idme_core::adapter::{Route, RouteRequest};
use serde_json::Value;

use super::TestIdme;
use crate::Persona;
use crate::pair::Browser;

/// The device grant's type.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl TestIdme {
    /// The `Authorization` header's value (`Bearer …`) of a request by the app client
    /// `client_id` for `persona`, who allowed it `scope`: the verifications the token
    /// carries, as ID.me policy handles (`"military"` for a handler behind
    /// `Verified<Veteran>`; a token without it gets `403` there). It goes through the device grant
    /// of `idme-apps`' `AppServer`, which must be registered on the engine (see
    /// [`with_engine`](Self::with_engine)) at its default paths, with `client_id` a
    /// device client.
    ///
    /// # Errors
    /// A step is refused (no app server, an unknown client, a scope the client may not
    /// ask for, …): an error with the engine's answer.
    pub async fn bearer(
        &self,
        persona: Persona,
        client_id: &str,
        scope: &[&str],
    ) -> io::Result<String> {
        let scope = scope.join(" ");
        let mut fields = vec![("client_id", client_id)];
        if !scope.is_empty() {
            fields.push(("scope", &scope));
        }
        let codes = self
            .route("/auth/device/code", true, None, &form(&fields), &[], None)
            .await?;
        let codes = json(&ok(codes, "the device's codes")?)?;
        let text = |v: &Value, key: &str| {
            v[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| io::Error::other(format!("no {key} in {v}")))
        };
        let user_code = text(&codes, "user_code")?;
        let device_code = text(&codes, "device_code")?;

        let mut signed_in = self.sign_in(persona).await?;
        let browser = signed_in.browser();
        let query = form(&[("user_code", &user_code)]);
        let page = self
            .route("/auth/device", false, Some(&query), "", &[], Some(browser))
            .await?;
        let page = ok(page, "the confirmation page")?;
        let csrf = field(&page.body, "csrf")
            .ok_or_else(|| io::Error::other(format!("no CSRF token: {}", page.body)))?;
        let origin = self.pair.origin();
        let headers = [
            ("origin", origin.as_str()),
            ("sec-fetch-site", "same-origin"),
        ];
        let decision = form(&[
            ("user_code", &user_code),
            ("csrf", &csrf),
            ("decision", "allow"),
        ]);
        let allowed = self
            .route(
                "/auth/device",
                true,
                None,
                &decision,
                &headers,
                Some(browser),
            )
            .await?;
        let _page = ok(allowed, "the person's consent")?;

        let interval = codes["interval"].as_u64().unwrap_or(5);
        self.pair.advance(Duration::from_secs(interval));
        let poll = form(&[
            ("grant_type", DEVICE_GRANT),
            ("device_code", &device_code),
            ("client_id", client_id),
        ]);
        let tokens = self
            .route("/auth/device/token", true, None, &poll, &[], None)
            .await?;
        let tokens = json(&ok(tokens, "the device's tokens")?)?;
        Ok(format!("Bearer {}", text(&tokens, "access_token")?))
    }

    /// One call of the engine's route at `path`, as an adapter makes it; `browser` sends
    /// its cookies and keeps those set.
    async fn route(
        &self,
        path: &str,
        post: bool,
        query: Option<&str>,
        body: &str,
        headers: &[(&str, &str)],
        browser: Option<&mut Browser>,
    ) -> io::Result<Reply> {
        let idme = &self.pair.idme;
        let route = Route::all(idme)
            .into_iter()
            .find(|r| r.path(idme) == path)
            .ok_or_else(|| {
                io::Error::other(format!(
                    "{path} is not a route of the engine: is idme-apps' AppServer registered?"
                ))
            })?;
        let header = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let cookies = browser.as_ref().map(|b| b.cookies()).unwrap_or_default();
        let request = RouteRequest {
            post,
            query,
            header: &header,
            cookies,
            body: body.as_bytes(),
            remote_addr: None,
        };
        let reply = route.answer(idme, request).await;
        if let Some(browser) = browser {
            browser.apply(&reply.set_cookies);
        }
        Ok(reply)
    }
}

/// `reply` when it is a `200`, else an error naming `what`.
fn ok(reply: Reply, what: &str) -> io::Result<Reply> {
    if reply.status == 200 {
        Ok(reply)
    } else {
        Err(io::Error::other(format!(
            "{what}: {} {}",
            reply.status, reply.body
        )))
    }
}

/// A reply's JSON body.
fn json(reply: &Reply) -> io::Result<Value> {
    serde_json::from_str(&reply.body).map_err(io::Error::other)
}

/// A form body of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The value of the form field `name` in an HTML page.
fn field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let rest = &body[body.find(&marker)? + marker.len()..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}
