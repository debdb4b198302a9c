//! Mutation fuzzing of every idme-rs parser that sees attacker bytes, on stable Rust.
//!
//! Coverage-guided fuzzing (`cargo fuzz`, libFuzzer) needs a nightly toolchain for its
//! sanitizer instrumentation; this workspace builds on stable only. So each target here
//! runs for N inputs built from a seed corpus of valid examples made at runtime (a real
//! sealed session cookie and pending-login cookie, real JWTs and a JWE signed and
//! encrypted with the emulator's and the test's keys, ID.me-shaped JSON) and mutated by a
//! seeded random generator (bit flips, truncation, splicing, repetition, megabyte-long
//! inputs). A panic is caught and reported with the seed that rebuilds its input; an
//! input slower than the time bound is reported the same way (the sign of an unbounded
//! read or a quadratic parser).
//!
//! `cargo run -p idme-fuzz --release -- --inputs 1000000` runs every target;
//! `bench/fuzz.sh` does that. `cargo test -p idme-fuzz` runs a short smoke pass.
#![forbid(unsafe_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::time::{Duration, Instant};

pub mod mutate;
pub mod targets;

use mutate::{Rng, generate, input_seed};

/// Feeds one input to the code under test.
pub type RunFn = Box<dyn Fn(&[u8])>;

/// One fuzz target: a name, its seed corpus, and the function that feeds it one input.
pub struct Target {
    /// The target's name (`callback_params`, `jwks`, …).
    pub name: &'static str,
    /// Valid inputs the mutations start from.
    pub corpus: Vec<Vec<u8>>,
    /// Feeds one input to the code under test. Must not panic.
    pub run: RunFn,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("corpus", &self.corpus.len())
            .finish_non_exhaustive()
    }
}

/// How a run goes.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Inputs per target.
    pub inputs: u64,
    /// The run's seed; input `i` is built from [`mutate::input_seed`]`(seed, i)`.
    pub seed: u64,
    /// One input in this many is blown up to 1–3 MB.
    pub huge_every: usize,
    /// The longest any one input may take.
    pub time_bound: Duration,
}

/// An input that panicked or overran the time bound.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The target.
    pub target: &'static str,
    /// The input's seed: `--reproduce <target>:<seed>` rebuilds it.
    pub input_seed: u64,
    /// The input's length.
    pub len: usize,
    /// The panic message, or how long it took.
    pub what: String,
}

/// What a run of one target did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target.
    pub target: &'static str,
    /// Inputs run.
    pub inputs: u64,
    /// Inputs of a megabyte or more among them.
    pub huge_inputs: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The slowest input's time.
    pub slowest: Duration,
    /// Panics and overruns.
    pub findings: Vec<Finding>,
}

/// Silences the default panic message while fuzzing (panics are caught and reported).
fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(FUZZ_THREAD) {
                default(info);
            }
        }));
    });
}

/// The name of the thread inputs run on (its panics are caught, not printed).
pub const FUZZ_THREAD: &str = "idme-fuzz";

/// The input `input_seed` of `target`.
pub fn input_for(target: &Target, settings: &Settings, input_seed: u64) -> Vec<u8> {
    generate(
        &mut Rng::new(input_seed),
        &target.corpus,
        settings.huge_every,
    )
}

/// Feeds one input; `Err` with the panic message if it panicked.
pub fn run_one(target: &Target, input: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| (target.run)(input))).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// Runs `target` for `settings.inputs` inputs (the seeds themselves first).
pub fn run(target: &Target, settings: &Settings) -> Report {
    quiet_panics();
    let started = Instant::now();
    let mut report = Report {
        target: target.name,
        inputs: 0,
        huge_inputs: 0,
        elapsed: Duration::ZERO,
        slowest: Duration::ZERO,
        findings: Vec::new(),
    };
    let check = |report: &mut Report, input: &[u8], seed: u64| {
        let t = Instant::now();
        let outcome = run_one(target, input);
        let took = t.elapsed();
        report.inputs += 1;
        report.huge_inputs += u64::from(input.len() >= 1 << 20);
        report.slowest = report.slowest.max(took);
        let what = match outcome {
            Err(message) => Some(format!("panicked: {message}")),
            Ok(()) if took > settings.time_bound => Some(format!(
                "took {took:?}, over the {:?} bound",
                settings.time_bound
            )),
            Ok(()) => None,
        };
        if let Some(what) = what {
            report.findings.push(Finding {
                target: target.name,
                input_seed: seed,
                len: input.len(),
                what,
            });
        }
    };
    for seed_input in &target.corpus {
        check(&mut report, seed_input, u64::MAX);
    }
    for i in 0..settings.inputs.saturating_sub(target.corpus.len() as u64) {
        let seed = input_seed(settings.seed, i);
        let input = input_for(target, settings, seed);
        check(&mut report, &input, seed);
    }
    report.elapsed = started.elapsed();
    report
}

/// Runs `f` on a thread named [`FUZZ_THREAD`] (so caught panics stay quiet) with a
/// large stack (deeply nested JSON is refused by serde_json's depth limit, but the
/// harness should not be the first to overflow).
pub fn on_fuzz_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .name(FUZZ_THREAD.into())
        .stack_size(64 << 20)
        .spawn(f)
        .expect("the fuzz thread starts")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness itself: a planted panic and a planted slow input are found, and the
    /// reported seed rebuilds an input that panics again.
    #[test]
    fn finds_and_reproduces_a_planted_panic_and_a_slow_input() {
        let report = on_fuzz_thread(|| {
            let target = Target {
                name: "planted",
                corpus: vec![b"code=abc&state=def".to_vec()],
                run: Box::new(|input| {
                    assert!(!input.contains(&b'~'), "planted bug");
                    if input.len() >= 1 << 20 {
                        std::thread::sleep(Duration::from_millis(30));
                    }
                }),
            };
            let settings = Settings {
                inputs: 3_000,
                seed: 42,
                huge_every: 500,
                time_bound: Duration::from_millis(20),
            };
            let report = run(&target, &settings);
            let panic = report
                .findings
                .iter()
                .find(|f| f.what.contains("planted bug"))
                .expect("the planted panic is found")
                .clone();
            let again = input_for(&target, &settings, panic.input_seed);
            assert!(run_one(&target, &again).is_err(), "the seed reproduces it");
            report
        });
        assert!(report.findings.iter().any(|f| f.what.contains("over the")));
        assert_eq!(report.inputs, 3_000);
    }
}
