//! `idme-fuzz [--inputs N] [--seed S] [--target NAME]… [--reproduce NAME:SEED]`: runs every
//! target (or the named ones) for N inputs and prints one line per target; exits 1 if
//! any input panicked or overran the time bound, printing the seed that rebuilds it.
#![forbid(unsafe_code)]

use std::time::Duration;

use idme_fuzz::{Settings, run, run_one, targets};

fn main() {
    let mut settings = Settings {
        inputs: 100_000,
        seed: 0x1d3e_f022,
        huge_every: 2_000,
        time_bound: Duration::from_secs(2),
    };
    let mut only: Vec<String> = Vec::new();
    let mut reproduce: Option<(String, u64)> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--inputs" => settings.inputs = value().parse().unwrap_or_else(|_| usage("--inputs N")),
            "--seed" => settings.seed = value().parse().unwrap_or_else(|_| usage("--seed S")),
            "--target" => only.push(value()),
            "--reproduce" => {
                let v = value();
                let (name, seed) = v
                    .split_once(':')
                    .unwrap_or_else(|| usage("--reproduce NAME:SEED"));
                let seed = seed
                    .parse()
                    .unwrap_or_else(|_| usage("--reproduce NAME:SEED"));
                reproduce = Some((name.to_owned(), seed));
            }
            _ => usage(&format!("unknown argument {arg}")),
        }
    }
    for name in &only {
        if !targets::NAMES.contains(&name.as_str()) {
            usage(&format!(
                "no target {name}; targets: {}",
                targets::NAMES.join(", ")
            ));
        }
    }
    let failed = idme_fuzz::on_fuzz_thread(move || {
        let targets = targets::all();
        if let Some((name, seed)) = reproduce {
            let target = targets
                .iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| usage("no such target"));
            let input = idme_fuzz::input_for(target, &settings, seed);
            println!(
                "{name}:{seed}: {} bytes: {:?}",
                input.len(),
                String::from_utf8_lossy(&input[..input.len().min(400)])
            );
            return match run_one(target, &input) {
                Ok(()) => {
                    println!("no panic");
                    false
                }
                Err(m) => {
                    println!("panicked: {m}");
                    true
                }
            };
        }
        println!(
            "{:<16} {:>10} {:>6} {:>10} {:>12} {:>10}",
            "target", "inputs", "huge", "seconds", "inputs/s", "slowest"
        );
        let mut failed = false;
        for target in targets
            .iter()
            .filter(|t| only.is_empty() || only.iter().any(|o| o == t.name))
        {
            let report = run(target, &settings);
            let secs = report.elapsed.as_secs_f64();
            println!(
                "{:<16} {:>10} {:>6} {:>10.1} {:>12.0} {:>10.1?}",
                report.target,
                report.inputs,
                report.huge_inputs,
                secs,
                report.inputs as f64 / secs.max(1e-9),
                report.slowest,
            );
            for f in &report.findings {
                failed = true;
                println!(
                    "  FINDING {}:{} ({} bytes): {}",
                    f.target, f.input_seed, f.len, f.what
                );
            }
        }
        if let Some(peak) = peak_rss() {
            println!("peak resident memory: {peak}");
        }
        failed
    });
    std::process::exit(i32::from(failed));
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "idme-fuzz: {problem}\nusage: idme-fuzz [--inputs N] [--seed S] [--target NAME]... [--reproduce NAME:SEED]"
    );
    std::process::exit(2)
}

/// The process's peak resident memory (`VmHWM`, Linux): a bounded parser keeps it near
/// the size of the largest input times a small factor.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
}
