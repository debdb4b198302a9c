//! [`adapter_types!`](crate::adapter_types): the newtypes every adapter declares.

/// Declares an adapter's `IdmeUser`, `Verified<R>`, `Fresh<N>` and `Assured<A>` newtypes, with the `Deref` to
/// [`IdmeUser`](crate::IdmeUser), `From`, `Debug` and `Clone` every adapter needs, and,
/// if asked for, an `IdmeRejection` wrapping a [`Rejection`](crate::adapter::Rejection) (`status`, `reason`, `error`,
/// `reply`, `into_reply`, `into_rejection`, `From<Rejection>`, `Display`): the adapter
/// adds its framework's extractor impls and any docs of its own.
///
/// ```
/// idme_core::adapter_types! {
///     /// The signed-in user.
///     pub struct IdmeUser;
///     pub struct Verified;
///     pub struct IdmeRejection;
/// }
/// fn sub(user: &Verified<idme_core::require::Veteran>) -> &str {
///     user.sub()
/// }
/// fn signed_in_at(user: &Fresh<300>) -> u64 {
///     user.auth_time()
/// }
/// fn context(user: &Assured<idme_core::require::Aal2>) -> Option<&str> {
///     user.acr()
/// }
/// ```
#[macro_export]
macro_rules! adapter_types {
    (
        $(#[$user:meta])* pub struct IdmeUser;
        $(#[$verified:meta])* pub struct Verified;
        $($(#[$rejection:meta])* pub struct IdmeRejection;)?
    ) => {
        $(#[$user])*
        #[derive(Debug, Clone)]
        pub struct IdmeUser(pub $crate::IdmeUser);

        impl ::std::ops::Deref for IdmeUser {
            type Target = $crate::IdmeUser;
            fn deref(&self) -> &$crate::IdmeUser {
                &self.0
            }
        }

        impl ::std::convert::From<$crate::IdmeUser> for IdmeUser {
            fn from(user: $crate::IdmeUser) -> Self {
                Self(user)
            }
        }

        /// A signed-in user who meets the verification requirement `R` (e.g.
        /// `Verified<idme_core::require::Veteran>`). Without a session it fails like
        /// [`IdmeUser`]; a user who lacks the verification is answered `403` with an offer
        /// to verify with ID.me (an HTML page for browsers, JSON for API clients).
        $(#[$verified])*
        pub struct Verified<R> {
            /// The user.
            pub user: IdmeUser,
            _requirement: ::std::marker::PhantomData<fn() -> R>,
        }

        impl<R> ::std::convert::From<$crate::IdmeUser> for Verified<R> {
            fn from(user: $crate::IdmeUser) -> Self {
                Self {
                    user: IdmeUser(user),
                    _requirement: ::std::marker::PhantomData,
                }
            }
        }

        impl<R> ::std::fmt::Debug for Verified<R> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_tuple("Verified").field(&self.user).finish()
            }
        }

        impl<R> ::std::ops::Deref for Verified<R> {
            type Target = $crate::IdmeUser;
            fn deref(&self) -> &$crate::IdmeUser {
                &self.user.0
            }
        }

        /// A signed-in user who signed in with ID.me at most `MAX_AGE` seconds ago (the
        /// ID token's `auth_time`; see [`IdmeUser::auth_time`]($crate::IdmeUser::auth_time)),
        /// e.g. `Fresh<300>` for a route that needs a sign-in within the last five minutes.
        /// Without a session it fails like [`IdmeUser`]; a user who signed in earlier is
        /// sent through a login asking ID.me for a recent sign-in (`max_age`,
        /// `prompt=login`) that comes back to the same page (browsers), or gets `401` JSON
        /// with `"error": "insufficient_user_authentication"` (API clients; bearer clients
        /// with RFC 9470's `WWW-Authenticate` challenge). See
        /// [`RequestAuth::fresh`]($crate::adapter::RequestAuth::fresh).
        pub struct Fresh<const MAX_AGE: u64> {
            /// The user.
            pub user: IdmeUser,
        }

        impl<const MAX_AGE: u64> Fresh<MAX_AGE> {
            /// The most seconds since the sign-in this guard accepts.
            pub const MAX_AGE: u64 = MAX_AGE;
        }

        impl<const MAX_AGE: u64> ::std::convert::From<$crate::IdmeUser> for Fresh<MAX_AGE> {
            fn from(user: $crate::IdmeUser) -> Self {
                Self { user: IdmeUser(user) }
            }
        }

        impl<const MAX_AGE: u64> ::std::clone::Clone for Fresh<MAX_AGE> {
            fn clone(&self) -> Self {
                Self { user: self.user.clone() }
            }
        }

        impl<const MAX_AGE: u64> ::std::fmt::Debug for Fresh<MAX_AGE> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_tuple("Fresh").field(&MAX_AGE).field(&self.user).finish()
            }
        }

        impl<const MAX_AGE: u64> ::std::ops::Deref for Fresh<MAX_AGE> {
            type Target = $crate::IdmeUser;
            fn deref(&self) -> &$crate::IdmeUser {
                &self.user.0
            }
        }

        /// A signed-in user whose sign-in was made at an assurance `A` accepts (the ID
        /// token's `acr` one of [`A::ACR_VALUES`]($crate::require::Assurance::ACR_VALUES)),
        /// e.g. `Assured<idme_core::require::Aal2>` for a payment page. Without a session it
        /// fails like [`IdmeUser`]; a user who signed in at a lower assurance is sent through
        /// a login asking ID.me for it (`acr_values`, `prompt=login`) that comes back to the
        /// same page (browsers), or gets `401` JSON with `"error":
        /// "insufficient_user_authentication"` and `"acr_values"` (API clients; bearer
        /// clients with RFC 9470's challenge). See
        /// [`RequestAuth::assured`]($crate::adapter::RequestAuth::assured).
        pub struct Assured<A> {
            /// The user.
            pub user: IdmeUser,
            _assurance: ::std::marker::PhantomData<fn() -> A>,
        }

        impl<A> ::std::convert::From<$crate::IdmeUser> for Assured<A> {
            fn from(user: $crate::IdmeUser) -> Self {
                Self {
                    user: IdmeUser(user),
                    _assurance: ::std::marker::PhantomData,
                }
            }
        }

        impl<A> ::std::clone::Clone for Assured<A> {
            fn clone(&self) -> Self {
                Self::from(self.user.0.clone())
            }
        }

        impl<A> ::std::fmt::Debug for Assured<A> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_tuple("Assured").field(&self.user).finish()
            }
        }

        impl<A> ::std::ops::Deref for Assured<A> {
            type Target = $crate::IdmeUser;
            fn deref(&self) -> &$crate::IdmeUser {
                &self.user.0
            }
        }

        $(
            /// Why [`IdmeUser`], [`Verified`], [`Fresh`] or [`Assured`] could not be extracted: the engine's
            /// [`Rejection`]($crate::adapter::Rejection). Responds with the engine's
            /// default answer; take it as `Result<IdmeUser, IdmeRejection>` (or
            /// `Result<Verified<R>, IdmeRejection>`) to match on its
            /// [`reason`](Self::reason) and answer on your own:
            ///
            /// ```
            /// use idme_core::adapter::{Rejection, RejectionReason};
            ///
            /// // `rejection.reason()` of an `IdmeRejection` is the same.
            /// fn answer(rejection: &Rejection) -> String {
            ///     match rejection.reason() {
            ///         RejectionReason::NotSignedIn(_) => "your sign-in page".into(),
            ///         RejectionReason::NotVerified { verify_url, .. } => {
            ///             format!("your page offering {verify_url}")
            ///         }
            ///         RejectionReason::StoreUnavailable(_) => "your outage page".into(),
            ///         // Anything else: the engine's answer.
            ///         _ => rejection.reply.body.clone(),
            ///     }
            /// }
            /// ```
            ///
            /// Reading the reason hands the answer to the application: the adapter's
            /// response hook then keeps the handler's response even for an outage or a
            /// refused bearer token.
            $(#[$rejection])*
            #[derive(Debug, Clone)]
            pub struct IdmeRejection($crate::adapter::Rejection);

            impl IdmeRejection {
                /// The failure's HTTP status: `401` nobody signed in, `403` not verified,
                /// `500` missing setup, `503` the session store down. The default
                /// answer's own status may differ (a browser without a session gets a
                /// `303`).
                pub fn status(&self) -> u16 {
                    self.0.status
                }

                /// Why the guard failed, to match on.
                pub fn reason(&self) -> &$crate::adapter::RejectionReason {
                    self.0.reason()
                }

                /// The engine's error, when there is one (not for a missing
                /// verification or setup).
                pub fn error(&self) -> ::std::option::Option<&$crate::Error> {
                    self.0.error()
                }

                /// The engine's default answer.
                pub fn reply(&self) -> &$crate::Reply {
                    &self.0.reply
                }

                /// The engine's default answer, owned.
                pub fn into_reply(self) -> $crate::Reply {
                    self.0.into_reply()
                }

                /// The engine's rejection.
                pub fn into_rejection(self) -> $crate::adapter::Rejection {
                    self.0
                }
            }

            impl ::std::convert::From<$crate::adapter::Rejection> for IdmeRejection {
                fn from(rejection: $crate::adapter::Rejection) -> Self {
                    Self(rejection)
                }
            }

            /// The reason and the status, for logs.
            impl ::std::fmt::Display for IdmeRejection {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&self.0, f)
                }
            }
        )?
    };
}
