//! A short pass of every fuzz target, so `cargo test --workspace` catches a parser that
//! starts to panic or to take unbounded time. `bench/fuzz.sh` runs the long pass.

use std::time::Duration;

use idme_fuzz::{Settings, on_fuzz_thread, run, targets};

/// Inputs per target in the smoke pass.
const INPUTS: u64 = 20_000;

#[test]
fn every_target_survives_a_smoke_pass() {
    let reports = on_fuzz_thread(|| {
        let settings = Settings {
            inputs: INPUTS,
            seed: 0x5eed,
            // About ten inputs of 1-3 MB per target.
            huge_every: 2_000,
            // Unoptimised builds: generous, yet far below what an unbounded or quadratic
            // parser takes on a 3 MB input.
            time_bound: Duration::from_secs(3),
        };
        targets::all()
            .iter()
            .map(|t| run(t, &settings))
            .collect::<Vec<_>>()
    });
    assert_eq!(reports.len(), targets::NAMES.len());
    let mut findings = Vec::new();
    for r in &reports {
        eprintln!(
            "{:<16} {:>6} inputs ({} huge) in {:.2?}, slowest {:.2?}",
            r.target, r.inputs, r.huge_inputs, r.elapsed, r.slowest
        );
        assert_eq!(r.inputs, INPUTS, "{}", r.target);
        assert!(r.huge_inputs > 0, "{}: some inputs are megabytes", r.target);
        findings.extend(r.findings.iter().cloned());
    }
    assert!(
        findings.is_empty(),
        "reproduce with `cargo run -p idme-fuzz -- --reproduce TARGET:SEED`: {findings:#?}"
    );
}
