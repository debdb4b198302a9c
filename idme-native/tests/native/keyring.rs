//! The OS keyring as the token store: a round trip through the keyring crate's in-memory
//! store, the fallback to a file when the keyring does not answer, and no secret in
//! `Debug` or in an error.
#![cfg(feature = "keyring")]

use std::sync::Arc;

use idme_native::keyring_core::{self, CredentialStore, Entry, mock};
use idme_native::{
    ChosenStore, FileStore, KeyringFailure, KeyringStore, NativeError, NativeSession, StoreChoice,
    TokenStore as _, token_account,
};

const ACCESS: &str = "AT-do-not-leak-0123456789";
const REFRESH: &str = "RT-do-not-leak-9876543210";

fn session() -> NativeSession {
    serde_json::from_value(serde_json::json!({
        "sid": "sid-1",
        "sub": "user-1",
        "claims": {"given_name": "Ada"},
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "access_expires_at": 2_000_000_000u64,
        "created_at": 1_700_000_000u64,
        "expires_at": 2_000_000_000u64,
    }))
    .expect("a saved session")
}

fn mock_store() -> Arc<CredentialStore> {
    mock::Store::new().unwrap()
}

/// The mock credential behind `store`'s entry, to make its next call fail.
fn fail_next(store: &Arc<CredentialStore>, account: &str, error: keyring_core::Error) {
    let entry = Entry::new_in_store(store, "app", account).unwrap();
    let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
    cred.set_error(error);
}

fn no_access() -> keyring_core::Error {
    keyring_core::Error::NoStorageAccess("the collection is locked".into())
}

#[test]
fn a_session_round_trips_through_a_keyring_entry() {
    let store = mock_store();
    let account = token_account("client-1", "https://api.id.me");
    let keyring = KeyringStore::in_store(&store, "app", &account).unwrap();
    assert!(keyring.load().unwrap().is_none());

    keyring.save(&session()).unwrap();
    // Another handle on the same entry (the next run of the app) reads it back.
    let again = KeyringStore::in_store(&store, "app", &account).unwrap();
    let loaded = again.load().unwrap().expect("the saved session");
    assert_eq!(loaded.sub(), "user-1");
    assert_eq!(
        serde_json::to_value(&loaded).unwrap(),
        serde_json::to_value(session()).unwrap()
    );
    // One entry per client and issuer.
    let other = token_account("client-1", "https://api.idmelabs.com");
    assert_ne!(other, account);
    let other = KeyringStore::in_store(&store, "app", &other).unwrap();
    assert!(other.load().unwrap().is_none());

    again.clear().unwrap();
    assert!(keyring.load().unwrap().is_none());
    keyring.clear().expect("clearing nothing is not an error");
}

#[test]
fn no_secret_in_debug_or_in_errors() {
    let store = mock_store();
    let keyring = KeyringStore::in_store(&store, "app", "acct").unwrap();
    keyring.save(&session()).unwrap();
    let debug = format!("{keyring:?}");
    assert!(
        !debug.contains(ACCESS) && !debug.contains(REFRESH),
        "{debug}"
    );
    // Nor as bytes (how a keyring entry's `Debug` may show its secret).
    let bytes = format!("{:?}", ACCESS.as_bytes());
    assert!(!debug.contains(&bytes[1..bytes.len() - 1]), "{debug}");
    let chosen = ChosenStore::keyring_or_file(Ok(keyring), || unreachable!()).unwrap();
    let debug = format!("{chosen:?}");
    assert!(
        !debug.contains(ACCESS) && !debug.contains(REFRESH),
        "{debug}"
    );

    // The keyring hands back the secret inside its own errors: dropped.
    let secret = serde_json::to_vec(&session()).unwrap();
    let keyring = KeyringStore::in_store(&store, "app", "acct").unwrap();
    for error in [
        keyring_core::Error::BadDataFormat(secret.clone(), "bad".into()),
        keyring_core::Error::BadEncoding(secret.clone()),
    ] {
        fail_next(&store, "acct", error);
        let err = keyring.load().unwrap_err();
        assert!(matches!(
            err,
            NativeError::Keyring(KeyringFailure::Unreadable)
        ));
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(ACCESS) && !text.contains(REFRESH), "{text}");
        }
    }

    // An entry that is not a session: the parser's message (which quotes it) is dropped.
    Entry::new_in_store(&store, "app", "acct")
        .unwrap()
        .set_password(&format!("{{\"access_token\": \"{ACCESS}\", oops"))
        .unwrap();
    let err = keyring.load().unwrap_err();
    assert!(matches!(
        err,
        NativeError::Keyring(KeyringFailure::Unreadable)
    ));
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(ACCESS), "{text}");
    }
}

#[test]
fn a_keyring_that_does_not_answer_falls_back_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let store = mock_store();
    fail_next(&store, "acct", no_access());
    let keyring = KeyringStore::in_store(&store, "app", "acct").unwrap();
    let chosen = ChosenStore::keyring_or_file(Ok(keyring), || Ok(FileStore::new(&file))).unwrap();
    assert!(!chosen.is_keyring(), "{chosen:?}");
    chosen.save(&session()).unwrap();
    assert!(file.exists());
    assert_eq!(chosen.load().unwrap().unwrap().sub(), "user-1");

    // No keyring at all (no Secret Service, say): the file too.
    let absent = Err(NativeError::Keyring(KeyringFailure::Unavailable(
        "no Secret Service".into(),
    )));
    let chosen = ChosenStore::keyring_or_file(absent, || Ok(FileStore::new(&file))).unwrap();
    assert!(!chosen.is_keyring());
    assert_eq!(chosen.load().unwrap().unwrap().sub(), "user-1");
}

#[test]
fn a_keyring_that_answers_is_chosen_and_a_locked_one_is_a_typed_error() {
    let store = mock_store();
    let keyring = KeyringStore::in_store(&store, "app", "acct").unwrap();
    let chosen = ChosenStore::keyring_or_file(Ok(keyring), || {
        panic!("the file is not asked for when the keyring answers")
    })
    .unwrap();
    assert!(chosen.is_keyring());
    chosen.save(&session()).unwrap();
    assert_eq!(chosen.load().unwrap().unwrap().sub(), "user-1");

    // Locked after the choice: a typed error with the keyring's reason, not a panic.
    fail_next(&store, "acct", no_access());
    match chosen.load() {
        Err(NativeError::Keyring(KeyringFailure::Unavailable(why))) => {
            assert!(why.contains("locked"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    fail_next(
        &store,
        "acct",
        keyring_core::Error::TooLong("secret".into(), 2560),
    );
    let err = chosen.save(&session()).unwrap_err();
    assert!(
        err.to_string().contains("keep the tokens in a file"),
        "{err}"
    );
}

#[test]
fn an_explicit_file_choice_is_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    let chosen = StoreChoice::File(file.clone()).open("app", "acct").unwrap();
    assert!(!chosen.is_keyring());
    chosen.save(&session()).unwrap();
    assert!(file.exists());
}

/// Another value than the session (tokens an app's own server issued) round-trips through
/// the keyring entry and through the file, and is forgotten by `clear`.
#[test]
fn other_values_round_trip_through_both_stores() {
    let value = serde_json::json!({"access_token": ACCESS, "expires_at": 1u64});
    let store = mock_store();
    let keyring = KeyringStore::in_store(&store, "app", "tokens at http://127.0.0.1:1").unwrap();
    assert!(keyring.load_value::<serde_json::Value>().unwrap().is_none());
    keyring.save_value(&value).unwrap();
    assert_eq!(
        keyring.load_value::<serde_json::Value>().unwrap(),
        Some(value.clone())
    );
    keyring.clear_value().unwrap();
    assert!(keyring.load_value::<serde_json::Value>().unwrap().is_none());

    let dir = tempfile::tempdir().unwrap();
    let chosen = StoreChoice::File(dir.path().join("app.json"))
        .open("app", "acct")
        .unwrap();
    chosen.save_value(&value).unwrap();
    assert_eq!(
        chosen.load_value::<serde_json::Value>().unwrap(),
        Some(value)
    );
    // A session where the value was is unreadable, not a panic and not a leak.
    let err = chosen.load().unwrap_err().to_string();
    assert!(!err.contains(ACCESS), "{err}");
    chosen.clear().unwrap();
    assert!(chosen.load_value::<serde_json::Value>().unwrap().is_none());
}
