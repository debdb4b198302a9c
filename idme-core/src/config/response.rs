//! The response types and modes: what a callback must contain and which checks apply
//! (`ResponseType::plan`).

/// The response types ID.me offers: the six of OpenID Connect, and the bare OAuth `token`
/// (no `openid`: the user is identified by `attributes.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseType {
    /// `code`: authorization code flow (the default, and the safest).
    Code,
    /// `id_token`: implicit flow returning only an ID token.
    IdToken,
    /// `id_token token`: implicit flow returning an ID token and an access token.
    IdTokenToken,
    /// `code id_token`: hybrid flow.
    CodeIdToken,
    /// `code token`: hybrid flow.
    CodeToken,
    /// `code id_token token`: hybrid flow.
    CodeIdTokenToken,
    /// `token`: OAuth 2.0 implicit grant, an access token only (scopes without `openid`);
    /// the user is identified by `attributes.json`.
    Token,
}

/// How the provider returns the authorization response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseMode {
    /// In the redirect's query string (only for `code`: tokens never go in a query).
    Query,
    /// In the redirect's fragment, relayed to the server by a small page.
    Fragment,
    /// As a form the browser POSTs to the callback (OAuth 2.0 Form Post Response Mode).
    FormPost,
}

/// What a callback of a given response type must carry and which checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlowPlan {
    /// The callback carries an authorization code to exchange.
    pub(crate) code: bool,
    /// The callback carries an ID token.
    pub(crate) front_id_token: bool,
    /// The callback carries an access token.
    pub(crate) front_access_token: bool,
    /// The front-channel ID token must carry `c_hash` (OIDC Core §3.3.2.11).
    pub(crate) c_hash_required: bool,
    /// The front-channel ID token must carry `at_hash` (OIDC Core §3.2.2.10, §3.3.2.11).
    pub(crate) at_hash_required: bool,
}

impl ResponseType {
    /// The six OpenID Connect response types, in the order of the OIDC spec
    /// ([`ResponseType::Token`] is the OAuth one beside them).
    #[cfg(test)]
    pub(crate) const ALL: [ResponseType; 6] = [
        ResponseType::Code,
        ResponseType::IdToken,
        ResponseType::IdTokenToken,
        ResponseType::CodeIdToken,
        ResponseType::CodeToken,
        ResponseType::CodeIdTokenToken,
    ];

    /// Parses a space-separated response type in any word order (`token id_token` too).
    fn parse(s: &str) -> Option<Self> {
        let mut words: Vec<&str> = s.split_whitespace().collect();
        words.sort_unstable();
        words.dedup();
        Some(match words.as_slice() {
            ["code"] => Self::Code,
            ["id_token"] => Self::IdToken,
            ["id_token", "token"] => Self::IdTokenToken,
            ["code", "id_token"] => Self::CodeIdToken,
            ["code", "token"] => Self::CodeToken,
            ["code", "id_token", "token"] => Self::CodeIdTokenToken,
            ["token"] => Self::Token,
            _ => return None,
        })
    }

    /// The canonical spelling sent to the provider.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::IdToken => "id_token",
            Self::IdTokenToken => "id_token token",
            Self::CodeIdToken => "code id_token",
            Self::CodeToken => "code token",
            Self::CodeIdTokenToken => "code id_token token",
            Self::Token => "token",
        }
    }

    /// What the callback must contain and which hash checks apply.
    pub(crate) fn plan(self) -> FlowPlan {
        let (code, id_token, token) = match self {
            Self::Code => (true, false, false),
            Self::IdToken => (false, true, false),
            Self::IdTokenToken => (false, true, true),
            Self::CodeIdToken => (true, true, false),
            Self::CodeToken => (true, false, true),
            Self::CodeIdTokenToken => (true, true, true),
            Self::Token => (false, false, true),
        };
        FlowPlan {
            code,
            front_id_token: id_token,
            front_access_token: token,
            c_hash_required: id_token && code,
            at_hash_required: id_token && token,
        }
    }

    /// Whether the flow returns a code (and so uses PKCE and the token endpoint).
    pub(crate) fn returns_code(self) -> bool {
        self.plan().code
    }

    /// Whether tokens travel in the front channel (so `query` mode is not allowed).
    pub(crate) fn returns_tokens_in_front_channel(self) -> bool {
        let p = self.plan();
        p.front_id_token || p.front_access_token
    }

    /// The default response mode of OIDC Core: `query` for `code`, `fragment` otherwise.
    pub fn default_mode(self) -> ResponseMode {
        if self == Self::Code {
            ResponseMode::Query
        } else {
            ResponseMode::Fragment
        }
    }
}

impl std::str::FromStr for ResponseType {
    type Err = crate::ParseError;

    /// Parses a space-separated response type in any word order (`token id_token` too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| {
            crate::ParseError::not_one_of(
                s,
                "code, id_token, code id_token, code token, id_token token, \
                 code id_token token, token",
            )
        })
    }
}

impl std::fmt::Display for ResponseType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ResponseMode {
    /// The spelling sent to the provider.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
        }
    }

    /// Whether the browser delivers the response with a POST to the callback (directly for
    /// `form_post`, through the relay page for `fragment`).
    pub(crate) fn delivered_by_post(self) -> bool {
        !matches!(self, Self::Query)
    }
}

impl std::str::FromStr for ResponseMode {
    type Err = crate::ParseError;

    /// Parses `query`, `fragment` or `form_post`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "query" => Ok(Self::Query),
            "fragment" => Ok(Self::Fragment),
            "form_post" => Ok(Self::FormPost),
            _ => Err(crate::ParseError::not_one_of(
                s,
                "query, fragment, form_post",
            )),
        }
    }
}

impl std::fmt::Display for ResponseMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_any_order() {
        assert_eq!(
            ResponseType::parse("token id_token"),
            Some(ResponseType::IdTokenToken)
        );
        assert_eq!(
            ResponseType::parse("id_token token code"),
            Some(ResponseType::CodeIdTokenToken)
        );
        assert_eq!(ResponseType::parse("token"), Some(ResponseType::Token));
        assert_eq!(ResponseType::Token.as_str(), "token");
        assert_eq!(ResponseType::Token.default_mode(), ResponseMode::Fragment);
        assert!(ResponseType::Token.returns_tokens_in_front_channel());
        assert!(!ResponseType::Token.returns_code());
        assert_eq!(
            ResponseType::parse("token token"),
            Some(ResponseType::Token)
        );
        assert_eq!(ResponseType::parse("code code"), Some(ResponseType::Code));
        assert_eq!(ResponseType::parse(""), None);
        for rt in ResponseType::ALL {
            assert_eq!(ResponseType::parse(rt.as_str()), Some(rt));
        }
    }

    #[test]
    fn hash_requirements_follow_oidc_core() {
        use ResponseType as R;
        let req = |rt: R| (rt.plan().c_hash_required, rt.plan().at_hash_required);
        assert_eq!(req(R::Code), (false, false));
        assert_eq!(req(R::IdToken), (false, false));
        assert_eq!(req(R::IdTokenToken), (false, true));
        assert_eq!(req(R::CodeIdToken), (true, false));
        assert_eq!(req(R::CodeToken), (false, false));
        assert_eq!(req(R::CodeIdTokenToken), (true, true));
    }
}
