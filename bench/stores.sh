#!/usr/bin/env bash
# Signed-in `/me` on every session backend against the cookie store, in one interleaved run
# (issue 23): the axum example (release) once per backend, all signed in against one
# idme-testkit emulator over loopback, measured with wrk. Backends: the sealed cookie (the
# baseline), Redis (one server), Redis Cluster (three masters, three replicas), Redis behind
# Sentinel, Postgres, SQLite. Also counts the store round trips per request (Redis commands
# processed, Postgres transactions committed, over a fixed number of requests).
#   bash bench/stores.sh      (needs wrk, curl, redis-server, redis-cli and postgresql)
# Knobs: ROUNDS (5), DURATION (5s), CONNECTIONS (64), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
COMMAND="ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS bash bench/stores.sh"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for tool in wrk curl cargo awk redis-server redis-cli "$pg_bin/initdb"; do
    command -v "$tool" >/dev/null || { echo "stores.sh: $tool is missing" >&2; exit 1; }
done

echo "building the axum example and the emulator (release)..." >&2
cargo build --release --quiet -p idme-testkit -p idme-example-axum
bin=${CARGO_TARGET_DIR:-target}/release

NAME=stores.sh
source bench/lib.sh

redis() { # port args...
    local p=$1
    shift
    redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" "$@" \
        >"$work/redis-$p.log" 2>&1 &
    pids+=($!)
    wait_for "redis on $p" redis-cli -p "$p" ping
}

# --- the stores ---------------------------------------------------------------------------
free_port single
redis "$single"

cluster=()
for _ in 1 2 3 4 5 6; do free_port p; cluster+=("$p"); done
for p in "${cluster[@]}"; do
    redis "$p" --cluster-enabled yes --cluster-config-file "nodes-$p.conf" --cluster-node-timeout 2000
done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster[@]}") --cluster-replicas 1 \
    --cluster-yes >"$work/cluster.log" 2>&1
for p in "${cluster[@]}"; do
    wait_for "cluster node $p" sh -c "redis-cli -p $p cluster info | grep -q cluster_state:ok"
done

free_port master
free_port replica
free_port sentinel
redis "$master"
redis "$replica" --replicaof 127.0.0.1 "$master"
printf 'port %s\nbind 127.0.0.1\nsentinel monitor bench 127.0.0.1 %s 1\nsentinel down-after-milliseconds bench 1000\n' \
    "$sentinel" "$master" >"$work/sentinel.conf"
redis-server "$work/sentinel.conf" --sentinel >"$work/sentinel.log" 2>&1 &
pids+=($!)
wait_for "the Sentinel" redis-cli -p "$sentinel" sentinel get-master-addr-by-name bench

free_port pg
pgdir="$work/pg"
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u nobody --); fi
mkdir -p "$pgdir"
[ "$(id -u)" = 0 ] && chown nobody "$pgdir"
"${as_pg[@]}" "$pg_bin/initdb" -D "$pgdir/data" -U bench --auth=trust >"$work/initdb.log" 2>&1
"${as_pg[@]}" "$pg_bin/postgres" -D "$pgdir/data" -p "$pg" -k "$pgdir" -c listen_addresses=127.0.0.1 \
    -c fsync=off >"$work/postgres.log" 2>&1 &
pids+=($!)
wait_for "postgres" "$pg_bin/pg_isready" -h 127.0.0.1 -p "$pg"
pg_xacts() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg" -U bench -d postgres -Atc \
    "select xact_commit + xact_rollback from pg_stat_database where datname = 'postgres'"; }

declare -A store=(
    [cookie]=cookie
    [redis]="redis://127.0.0.1:$single/0"
    [cluster]="redis+cluster://$(printf '127.0.0.1:%s,' "${cluster[@]}" | sed 's/,$//')"
    [sentinel]="redis+sentinel://127.0.0.1:$sentinel/bench"
    [postgres]="postgres://bench@127.0.0.1:$pg/postgres"
    [sqlite]="sqlite://$work/sessions.db"
)
backends=(cookie redis cluster sentinel postgres sqlite)

# --- the emulator and one app per backend -------------------------------------------------
declare -A port
for b in "${backends[@]}"; do free_port "port[$b]"; done
redirects=()
for b in "${backends[@]}"; do redirects+=("http://127.0.0.1:${port[$b]}/auth/callback"); done
start_emulator "${redirects[@]}"
for b in "${backends[@]}"; do
    mkdir -p "$work/data-$b"
    env RUST_LOG=warn BIND_ADDR="127.0.0.1:${port[$b]}" IDME_ISSUER="$issuer" \
        IDME_CLIENT_ID="$client_id" IDME_CLIENT_SECRET="$client_secret" \
        IDME_SESSION_STORE="${store[$b]}" IDME_DATA_DIR="$work/data-$b" \
        "$bin/idme-example-axum" >"$work/$b.log" 2>&1 &
    pids+=($!)
done
for b in "${backends[@]}"; do
    wait_for "the $b app" curl -sf -o /dev/null "http://127.0.0.1:${port[$b]}/"
done

declare -A cookie
sign_in() { # backend
    local b=$1 base="http://127.0.0.1:${port[$1]}"
    rm -f "$work/$b.jar"
    curl -sS -L --max-redirs 10 -c "$work/$b.jar" -b "$work/$b.jar" -o /dev/null \
        "$base/auth/login?return_to=/me"
    cookie[$b]=$(jar_header "$work/$b.jar")
    curl -sf -H "Cookie: ${cookie[$b]}" "$base/me" | grep -q '"sub"' ||
        { echo "stores.sh: $b: not signed in" >&2; cat "$work/$b.log" >&2; exit 1; }
}

# --- store round trips per request --------------------------------------------------------
requests=2000
trips() { # backend counter-command
    local b=$1 before after
    sign_in "$b"
    before=$($2)
    for _ in $(seq 1 $requests); do
        printf 'url = "http://127.0.0.1:%s/me"\noutput = "/dev/null"\n' "${port[$b]}"
    done | curl -s -H "Cookie: ${cookie[$b]}" -K - --parallel --parallel-max 8
    after=$($2)
    awk -v a="$after" -v b="$before" -v n=$requests 'BEGIN { printf "%.3f", (a - b) / n }'
}
redis_cmds() { redis-cli -p "$single" info stats | awk -F: '/total_commands_processed/ { print $2 + 0 }'; }
declare -A trip
trip[redis]=$(trips redis redis_cmds)
trip[postgres]=$(trips postgres pg_xacts)

# --- the load, interleaved ----------------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r" >&2
    for b in "${backends[@]}"; do sign_in "$b"; done
    # The order turns each round, so a drift in load spreads over every backend.
    n=${#backends[@]}
    for i in $(seq 0 $((n - 1))); do
        b=${backends[$(((i + r) % n))]}
        measure "$b:$r" "http://127.0.0.1:${port[$b]}/me" -H "Cookie: ${cookie[$b]}"
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

table_header
echo
echo "| sessions in | signed-in \`/me\` req/s | ÷ cookie store (goal ≥ 0.80 for a shared store) | store round trips per request |"
echo "|---|---|---|---|"
for b in "${backends[@]}"; do
    echo "| $b (\`${store[$b]%%://*}\`) | $(int "$(med "$b")") | $(ratio_cell "$b" cookie 0.80) | ${trip[$b]:-} |"
done
