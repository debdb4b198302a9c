#!/usr/bin/env bash
# Mutation fuzzing of every parser that sees attacker bytes (see fuzz/src/lib.rs), in
# release mode, at least 1,000,000 inputs per target. Prints inputs, seconds and the
# slowest input per target; exits non-zero and prints the reproducing seed on a panic
# or an input over the time bound.
#   bash bench/fuzz.sh                 (INPUTS=… SEED=… to change the run)
set -euo pipefail
cd "$(dirname "$0")/.."
INPUTS=${INPUTS:-1000000}
SEED=${SEED:-$(date +%s)}
echo "idme-fuzz: $INPUTS inputs per target, seed $SEED"
cargo build --release --quiet -p idme-fuzz --bin idme-fuzz
target_dir=${CARGO_TARGET_DIR:-target}
start=$(date +%s)
"$target_dir/release/idme-fuzz" --inputs "$INPUTS" --seed "$SEED" "$@"
echo "total: $(( $(date +%s) - start )) s"
