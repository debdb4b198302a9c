//! The command-line example's token file (`IDME_TOKEN_FILE`) when it is not what the app
//! wrote: `whoami` exits 1 with a clear message, never echoing what the file holds, and
//! refuses a file other users can read.

use std::os::unix::fs::PermissionsExt;

use idme_e2e::cli::CliHome;

fn write_private(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("writing the token file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_with_a_damaged_token_file_exits_1_without_echoing_it() {
    let cli = CliHome::new("damaged-token-file");
    let secret = "access-token-value-0123456789abcdef";
    write_private(&cli.token_file(), &format!("{{\"access_token\":\"{secret}"));
    let whoami = cli.run(&["whoami"]).await;
    assert_eq!(whoami.code(), 1, "{whoami}");
    assert!(
        whoami.stderr.contains("sign in again"),
        "the message says what to do: {whoami}"
    );
    assert!(
        !whoami.stdout.contains(secret) && !whoami.stderr.contains(secret),
        "the file's content is not echoed: {whoami}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_refuses_a_token_file_other_users_can_read() {
    let mut cli = CliHome::new("readable-token-file");
    cli.set("IDME_TESTKIT_USER", "veteran");
    let login = cli.run(&["login"]).await;
    assert_eq!(login.code(), 0, "{login}");
    let file = cli.token_file();
    let stored = std::fs::read_to_string(&file).expect("the token file");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let whoami = cli.run(&["whoami"]).await;
    assert_eq!(whoami.code(), 1, "{whoami}");
    assert!(
        whoami.stderr.contains("chmod 600"),
        "the message says how to fix it: {whoami}"
    );
    assert_eq!(whoami.stdout.trim(), "", "{whoami}");
    let stored_values: Vec<&str> = stored
        .split('"')
        .filter(|s| s.len() >= 20 && !s.contains(' '))
        .collect();
    assert!(!stored_values.is_empty(), "the file holds tokens");
    for value in stored_values {
        assert!(
            !whoami.stderr.contains(value),
            "nothing from the file is printed: {whoami}"
        );
    }
}
