#!/usr/bin/env bash
# One command compares everything (issue 14): the three example apps (axum, actix-web,
# Rocket) and axum-oidc 0.6 (bench/axum-oidc, pinned, from crates.io), release builds, all
# signed in against one idme-testkit emulator over loopback, measured with wrk in one
# interleaved run. Prints one table of medians, ratios with their spread over the rounds,
# and PASS/FAIL per target. With redis-server installed, the axum app runs a second time
# with its sessions in Redis, for signed-in `/me` with Redis against the cookie store.
#   bash bench/compare.sh        (needs wrk and curl: apt-get install wrk curl)
# Knobs: ROUNDS (3), DURATION (5s), CONNECTIONS (64), THREADS (2); STRICT=1 exits non-zero
# when a target fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
STRICT=${STRICT:-0}
COMMAND="ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS bash bench/compare.sh"
REDIS=$(command -v redis-server || true)
for tool in wrk curl cargo awk; do
    command -v "$tool" >/dev/null || { echo "compare.sh: $tool is missing" >&2; exit 1; }
done

# --- build (release) --------------------------------------------------------------------
echo "building the example apps, the emulator and axum-oidc (release)..." >&2
cargo build --release --quiet -p idme-testkit -p idme-example-axum -p idme-example-actix -p idme-example-rocket
cargo build --release --quiet --locked --manifest-path bench/axum-oidc/Cargo.toml
bin=${CARGO_TARGET_DIR:-target}/release
oidc_bin=${CARGO_TARGET_DIR:-bench/axum-oidc/target}/release/axum-oidc-bench

NAME=compare.sh
source bench/lib.sh
wait_up() { # url log
    for _ in $(seq 1 200); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    echo "$NAME: $1 did not come up; its log:" >&2
    cat "$2" >&2
    exit 1
}

frameworks=(axum actix rocket)
declare -A port
for f in "${frameworks[@]}" oidc axumredis; do free_port "port[$f]"; done
free_port emulator_port
free_port redis_port

"$bin/idme-testkit" --bind "127.0.0.1:$emulator_port" --user veteran \
    --redirect-uri "http://127.0.0.1:${port[axum]}/auth/callback" \
    --redirect-uri "http://127.0.0.1:${port[actix]}/auth/callback" \
    --redirect-uri "http://127.0.0.1:${port[rocket]}/auth/callback" \
    --redirect-uri "http://127.0.0.1:${port[oidc]}/protected" \
    --redirect-uri "http://127.0.0.1:${port[axumredis]}/auth/callback" \
    >"$work/emulator.env" 2>"$work/emulator.log" &
pids+=($!)
for _ in $(seq 1 200); do grep -q '^IDME_CLIENT_SECRET=' "$work/emulator.env" && break; sleep 0.1; done
grep -q '^IDME_CLIENT_SECRET=' "$work/emulator.env" || { cat "$work/emulator.log" >&2; exit 1; }
issuer=$(sed -n 's/^IDME_ISSUER=//p' "$work/emulator.env")
client_id=$(sed -n 's/^IDME_CLIENT_ID=//p' "$work/emulator.env")
client_secret=$(sed -n 's/^IDME_CLIENT_SECRET=//p' "$work/emulator.env")

for f in "${frameworks[@]}"; do
    env RUST_LOG=warn BIND_ADDR="127.0.0.1:${port[$f]}" IDME_ISSUER="$issuer" \
        IDME_CLIENT_ID="$client_id" IDME_CLIENT_SECRET="$client_secret" \
        "$bin/idme-example-$f" >"$work/$f.log" 2>&1 &
    pids+=($!)
done
if [ -n "$REDIS" ]; then
    "$REDIS" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
    pids+=($!)
    env RUST_LOG=warn BIND_ADDR="127.0.0.1:${port[axumredis]}" IDME_ISSUER="$issuer" \
        IDME_CLIENT_ID="$client_id" IDME_CLIENT_SECRET="$client_secret" \
        IDME_SESSION_STORE="redis://127.0.0.1:$redis_port/0" \
        "$bin/idme-example-axum" >"$work/axumredis.log" 2>&1 &
    pids+=($!)
fi
env BIND_ADDR="127.0.0.1:${port[oidc]}" OIDC_ISSUER="$issuer" OIDC_CLIENT_ID="$client_id" \
    OIDC_CLIENT_SECRET="$client_secret" "$oidc_bin" >"$work/oidc.log" 2>&1 &
pids+=($!)
for f in "${frameworks[@]}" oidc; do wait_up "http://127.0.0.1:${port[$f]}/" "$work/$f.log"; done
if [ -n "$REDIS" ]; then wait_up "http://127.0.0.1:${port[axumredis]}/" "$work/axumredis.log"; fi

# --- sign in: follow the redirects with a cookie jar (one jar per app, as a
# jar does not tell ports apart) and turn the jar into a Cookie header --------------------
declare -A cookie
sign_in() { # name start-path expected-final-path
    local f=$1 base="http://127.0.0.1:${port[$1]}" out
    rm -f "$work/$f.jar"
    out=$(curl -sS -L --max-redirs 10 -c "$work/$f.jar" -b "$work/$f.jar" -o "$work/$f.body" \
        -w '%{http_code} %{url_effective}' "$base$2")
    case "$out" in
        "200 $base$3"*) ;;
        *) echo "compare.sh: sign-in to $f ended at $out" >&2; cat "$work/$f.body" "$work/$f.log" >&2; exit 1 ;;
    esac
    cookie[$f]=$(jar_header "$work/$f.jar")
    # The Cookie header alone must give the signed-in JSON (with the user's "sub").
    curl -sf -H "Cookie: ${cookie[$f]}" "$base$3" | grep -q '"sub"' ||
        { echo "compare.sh: $f: the session cookie does not sign in $3" >&2; exit 1; }
}
# A fresh session for every app at the start of every round: wrk keeps no cookies, so a
# session that ages past its refresh point during a long run would be refreshed (and
# re-sealed) on every request, which a browser, storing the new cookie, never sees.
sign_in_all() {
    for f in "${frameworks[@]}"; do sign_in "$f" "/auth/login?return_to=/me" "/me"; done
    sign_in oidc /protected /protected
    if [ -n "$REDIS" ]; then sign_in axumredis "/auth/login?return_to=/me" "/me"; fi
}

# --- the load, interleaved --------------------------------------------------------------
echo "load: $ROUNDS rounds; per round, per framework: anonymous /, signed-in /, signed-in /me; then axum-oidc's protected route" >&2
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r" >&2
    sign_in_all
    for f in "${frameworks[@]}"; do
        base="http://127.0.0.1:${port[$f]}"
        # Odd rounds anonymous first, even rounds last, so a drift in load cancels out.
        # Rocket parses and percent-decodes every cookie before any guard runs: its baseline
        # is also the anonymous page with an opaque cookie of the session's size.
        if [ "$f" = rocket ]; then
            printf -v opaque 'opaque=%*s' $((${#cookie[$f]} - 7)) ''
            opaque=${opaque// /a}
        fi
        if [ $((r % 2)) = 1 ]; then
            measure "$f:anon:$r" "$base/"
            if [ "$f" = rocket ]; then measure "$f:anonc:$r" "$base/" -H "Cookie: $opaque"; fi
        fi
        measure "$f:page:$r" "$base/" -H "Cookie: ${cookie[$f]}"
        measure "$f:me:$r" "$base/me" -H "Cookie: ${cookie[$f]}"
        if [ $((r % 2)) = 0 ]; then
            if [ "$f" = rocket ]; then measure "$f:anonc:$r" "$base/" -H "Cookie: $opaque"; fi
            measure "$f:anon:$r" "$base/"
        fi
        if [ "$f" = axum ] && [ -n "$REDIS" ]; then
            measure "axumredis:me:$r" "http://127.0.0.1:${port[axumredis]}/me" -H "Cookie: ${cookie[axumredis]}"
        fi
    done
    measure "oidc:protected:$r" "http://127.0.0.1:${port[oidc]}/protected" -H "Cookie: ${cookie[oidc]}"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table ----------------------------------------------------------------------------
{
table_header
echo "session Cookie header: $(for f in "${frameworks[@]}" oidc; do printf '%s %s bytes; ' "$f" "${#cookie[$f]}"; done)"
echo
echo "| framework | anonymous \`/\` | signed-in \`/\` | signed-in \`/me\` | signed-in \`/\` ÷ anonymous \`/\` (≥ 0.95) | \`/me\` ÷ anonymous \`/\` (≥ 0.90) | \`/me\` ÷ axum-oidc (≥ 10) |"
echo "|---|---|---|---|---|---|---|"
for f in "${frameworks[@]}"; do
    echo "| $f | $(int "$(med "$f:anon")") | $(int "$(med "$f:page")") | $(int "$(med "$f:me")") | $(ratio_cell "$f:page" "$f:anon" 0.95) | $(ratio_cell "$f:me" "$f:anon" 0.90) | $(ratio_cell "$f:me" oidc:protected 10) |"
done
echo "| axum-oidc 0.6 | | | protected route: $(int "$(med oidc:protected)") | | | |"
echo
echo "Rocket against its own baseline, an anonymous \`/\` carrying an opaque cookie of the session cookie's size ($(int "$(med rocket:anonc)") req/s):"
echo
echo "| framework | signed-in \`/\` ÷ anonymous \`/\` with an opaque cookie (≥ 0.95) | \`/me\` ÷ the same (≥ 0.90) |"
echo "|---|---|---|"
echo "| rocket | $(ratio_cell rocket:page rocket:anonc 0.95) | $(ratio_cell rocket:me rocket:anonc 0.90) |"
if [ -n "$REDIS" ]; then
    echo
    echo "| sessions in Redis (axum) | signed-in \`/me\` | Redis \`/me\` ÷ cookie-store \`/me\` (≥ 0.80) |"
    echo "|---|---|---|"
    echo "| axum, \`IDME_SESSION_STORE=redis://…\` | $(int "$(med axumredis:me)") | $(ratio_cell axumredis:me axum:me 0.80) |"
fi
} | tee "$work/table"
table_footer "$work/table"
