//! The callback request the provider sends a [`Pair`](super::Pair)'s browser to make, in
//! the shape of the response mode.

/// What the emulator's answer to an authorization request asks the browser to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// A redirect to the callback with the parameters in its query (`GET`).
    Query(String),
    /// A redirect to the callback with the parameters in its fragment: the browser `GET`s
    /// the callback (the engine's relay page), whose script `POST`s the fragment.
    Fragment(String),
    /// An auto-submitting `form_post` page: the browser `POST`s these fields.
    FormPost(String),
}

impl Callback {
    /// The raw parameters (a query string, a fragment, or a form body).
    pub fn raw(&self) -> &str {
        match self {
            Callback::Query(s) | Callback::Fragment(s) | Callback::FormPost(s) => s,
        }
    }

    /// Every parameter, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.raw().as_bytes())
            .into_owned()
            .collect()
    }

    /// The value of one parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The same callback with `name` set to `value` (replaced or added), or removed when
    /// `value` is `None`: what an attacker or a broken provider could send.
    #[must_use]
    pub fn with_param(&self, name: &str, value: Option<&str>) -> Callback {
        let mut params = self.params();
        let at = params.iter().position(|(k, _)| k == name);
        match (at, value) {
            (Some(i), Some(v)) => params[i].1 = v.to_owned(),
            (None, Some(v)) => params.push((name.to_owned(), v.to_owned())),
            (Some(i), None) => {
                params.remove(i);
            }
            (None, None) => {}
        }
        self.with_params(&params)
    }

    /// The same shape of callback carrying `params` instead.
    #[must_use]
    pub fn with_params(&self, params: &[(String, String)]) -> Callback {
        let raw = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        match self {
            Callback::Query(_) => Callback::Query(raw),
            Callback::Fragment(_) => Callback::Fragment(raw),
            Callback::FormPost(_) => Callback::FormPost(raw),
        }
    }
}
