//! The READMEs' framework programs are the adapters' quickstart examples, which CI builds.
//!
//! A block marked `<!-- snippet: idme-axum/examples/quickstart.rs -->` (the line before its
//! fence) must equal that file, trailing whitespace aside: edit the file and paste it into
//! every README that shows it. Every other Rust block of the workspace README is a doctest
//! (of `idme-e2e`, which depends on every crate they use), and none is `ignore`d.

use std::path::{Path, PathBuf};

const MARKER: &str = "<!-- snippet: ";

/// The quickstarts, and the READMEs that must show each.
const QUICKSTARTS: [(&str, &[&str]); 3] = [
    (
        "idme-axum/examples/quickstart.rs",
        &["README.md", "idme-axum/README.md"],
    ),
    (
        "idme-actix/examples/quickstart.rs",
        &["README.md", "idme-actix/README.md"],
    ),
    (
        "idme-rocket/examples/quickstart.rs",
        &["README.md", "idme-rocket/README.md"],
    ),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Lines without trailing whitespace, leading and trailing blank lines dropped.
fn normalise(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_matches('\n')
        .to_owned()
}

/// Every `(path, block)` marked in a markdown text: the fenced block after each marker.
fn marked_snippets(readme: &str, markdown: &str) -> Vec<(String, String)> {
    let mut snippets = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(rest) = line.trim().strip_prefix(MARKER) else {
            continue;
        };
        let path = rest.strip_suffix("-->").map(str::trim);
        let path = path.unwrap_or_else(|| panic!("{readme}:{}: unterminated marker", n + 1));
        let fence = lines.next().map(|(_, l)| l.trim_start()).unwrap_or("");
        assert!(
            fence.starts_with("```rust"),
            "{readme}:{}: the marker must be followed by a ```rust fence",
            n + 1
        );
        let block: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| l.trim() != "```")
            .collect();
        snippets.push((path.to_owned(), block.join("\n")));
    }
    snippets
}

#[test]
fn marked_snippets_are_the_files() {
    for (file, readmes) in QUICKSTARTS {
        for readme in readmes {
            let snippets = marked_snippets(readme, &read(readme));
            assert!(
                snippets.iter().any(|(path, _)| path == file),
                "{readme} has no block marked `{MARKER}{file} -->`"
            );
        }
    }
    let readmes = [
        "README.md",
        "idme-axum/README.md",
        "idme-actix/README.md",
        "idme-rocket/README.md",
    ];
    for readme in readmes {
        for (path, block) in marked_snippets(readme, &read(readme)) {
            assert_eq!(
                normalise(&block),
                normalise(&read(&path)),
                "{readme}: the block marked `{path}` differs from the file: copy the file into the README"
            );
        }
    }
}

#[test]
fn no_rust_block_of_the_readme_is_ignored() {
    for (n, line) in read("README.md").lines().enumerate() {
        let fence = line.trim_start();
        if let Some(info) = fence.strip_prefix("```") {
            assert!(
                !info.split(',').any(|attr| attr.trim() == "ignore"),
                "README.md:{}: `ignore` (compile the block: a doctest, or a marked example)",
                n + 1
            );
        }
    }
}
