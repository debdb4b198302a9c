#!/usr/bin/env bash
# Load benchmark over loopback: the same JSON route with and without `IdmeUser`, measured
# alternately in one run (these machines are noisy, so only the ratio is meaningful).
#   bash bench/load.sh            (needs `wrk`: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet -p idme-e2e --bin idme-load-server
out=$(mktemp)
./target/release/idme-load-server >"$out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q READY "$out" && break; sleep 0.1; done
read -r _ base cookie <"$out"
rps() { wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -H "Cookie: $cookie" "$base$1" | awk '/Requests\/sec/ {print $2}'; }
echo "round public_rps protected_rps ratio"
ratios=()
for i in $(seq 1 "$ROUNDS"); do
    pub=$(rps /public)
    prot=$(rps /protected)
    ratio=$(awk -v a="$prot" -v b="$pub" 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio")
    echo "$i $pub $prot $ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "median protected/public throughput ratio: $median"
