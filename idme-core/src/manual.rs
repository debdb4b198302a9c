//! Guides that are not API: read them on docs.rs or with `cargo doc --open`.

pub mod security {
    //! # Which check stops which attack
    //!
    //! Every row has a test that fails when the check is removed (in `idme-core/tests/`,
    //! the engine against the emulator in memory, and again through each example app in
    //! `e2e/`).
    //!
    //! | attack | what stops it | where |
    //! |---|---|---|
    //! | login CSRF / a callback forged for another browser | 256-bit `state` bound to the browser by a sealed, `HttpOnly` pending-login cookie named after the state's hash; compared in constant time | `flow::pending`, `flow::complete` |
    //! | replaying a callback (back button, leaked URL, stolen cookie) | each login is single-use: its id is claimed before any network call and remembered until it would expire anyway, in a record bounded in size and O(1) per callback; the pending cookie is deleted on use | `flow::replay::UsedLogins` |
    //! | open redirect through the login route | `return_to` kept only when it is a local path (not `//`, `/\`, a scheme, control characters or whitespace); `state` is random and never the return path | `flow::return_to::sanitize_return_to` |
    //! | authorization code injection | PKCE S256 on every code flow, the verifier sealed in the pending cookie; `c_hash` in hybrid flows | `flow::start`, `validate::id_token` |
    //! | token substitution / replay of an ID token | `nonce` on every flow; `at_hash`/`c_hash` bind tokens to each other; the token-endpoint ID token must name the front-channel `sub` | `validate::id_token` |
    //! | IdP mix-up | RFC 9207 `iss` checked when present and required when advertised (an ID token's verified `iss` stands in for it, RFC 9700 §4.4.2.1); discovery's `issuer` must equal the configured one exactly | `flow::sign_in`, `provider::discovery` |
    //! | forged or downgraded tokens | signature with an algorithm allow-list (RS256, ES256; HS* only when configured; never `none`); `iss`, `aud`/`azp`, `exp`, `iat` not in the future, `nbf`, with 60 s skew | `validate::jws`, `validate::id_token` |
    //! | key rotation used to break sign-in, or a forged `kid` to hammer the provider | an unknown `kid` triggers one JWKS refetch, shared by concurrent callers and rate-limited | `provider::jwks` |
    //! | userinfo from another account or for another client | the userinfo `sub` must equal the ID token's; ID.me's JWT userinfo is verified with the JWKS and must carry `iss` (the issuer) and `aud` (this client) | `flow::userinfo` |
    //! | tampered encrypted responses | JWE (RSA-OAEP + A256CBC-HS512) decrypted with authenticated encryption, then the inner JWS verified | `jwe` |
    //! | RSA work forced by unauthenticated input | a JWE is decrypted only when a decryption key is configured (else `400`), after cheap checks (size, `alg`/`enc`, no `zip`/`crit`, key length); encrypted back-channel logout tokens are refused unread | `jwe`, `logout::token`, `Idme::backchannel_logout` |
    //! | encryption downgrade | with a decryption key configured, a plain ID token or userinfo is refused | `flow::step` (`unwrap_token`), `flow::userinfo` |
    //! | a hung or slow provider tying up requests | every provider call bounded by a timeout (10 s default), answered with a 504 page | `provider` |
    //! | a provider answer exhausting memory | bodies capped while they are read (1 MiB, JWKS 256 KiB; a `ResponseLimit` extension tells custom clients), and their content type checked; `502` page | `provider`, `http_client` |
    //! | session fixation | a fresh session and session id at every login; the session cookie is sealed (AES-256-GCM, name bound as associated data) | `flow::sign_in`, `session` |
    //! | a session or login crossing to another app sharing the cookie keys (an emulator app's session opened by a production one) | every sealed value binds the cookie name, the issuer and the client id as associated data | `cookies`, `config` |
    //! | a logout undone by a refresh or last-seen update in flight | changes after sign-in use `SessionStore::update`, which never re-creates a deleted record; the cookie store re-checks revocations after a refresh | `engine::refresh`, `Idme::authenticate` |
    //! | cookie theft by script, cross-site sending | `HttpOnly` everywhere; `SameSite=Lax` (`None` + `Secure` only for the form_post pending cookie); `Secure` and the `__Host-` prefix over https; session cookie `Path=/` | `cookies`, `session`, `flow::start` |
    //! | a pending-login cookie planted by a sibling subdomain | over https it is `__Host-idme_login_…` (`Secure`, `Path=/`, no `Domain`), and the callback looks only for that name | `flow::pending`, `flow::complete` |
    //! | an assurance downgrade (a lower level than asked for) | a returned `acr` must be one of the `acr_values` sent; IAL2/LOA3 must be in the granted `scope`, and every configured policy when `scope` is returned | `validate::id_token`, `config::assurance` |
    //! | an old sign-in at the provider passed off as fresh | with `max_age` sent, `auth_time` is required and `auth_time + max_age + skew >= now` | `validate::id_token` |
    //! | cross-site logout | `POST` only, accepted only when `Origin` is the app's, or, without `Origin`, `Sec-Fetch-Site` is `same-origin` or `none`; `cross-site`/`same-site` refused | `Idme::logout` |
    //! | leaking secrets or provider text | secrets live in redacting newtypes; error pages show fixed messages, never provider text; tokens never reach logs | `secret`, `error`, `pages` |
    //! | script injection through the fragment relay | the relay page's only script is static, allowed by its hash in a strict CSP; it reads the fragment as data | `pages` |
}
