#!/usr/bin/env bash
# The paths beside the cookie `/me` (issue 24), in the three example apps (release), all
# signed in against one idme-testkit emulator over loopback, measured with wrk in one
# interleaved run, each against its baseline on the same app in the same round:
#   - a bearer `/me` (an app access token from a device grant) ÷ the cookie `/me`, with the
#     app store in memory (all three) and in Redis (axum, when redis-server is installed);
#   - a pending device poll (`POST /auth/device/token`, one device code polled by every
#     connection: `authorization_pending`, then `slow_down`) ÷ the anonymous `/`, and, for
#     reading it, ÷ the same POST refused at once (`unsupported_grant_type`);
#   - `/me` from a client that ignores `Set-Cookie` after a refresh (it keeps presenting the
#     pre-refresh cookie; the app runs with IDME_REFRESH_MARGIN above the emulator's access
#     token lifetime so the session is due at once) ÷ the cookie `/me` of a fresh session.
#   Each figure is given twice: req/s (the ratios above) and the app's CPU time per request
#   (from /proc, around each wrk run), the steadier reading on a shared machine.
#   bash bench/paths.sh      (needs wrk and curl; redis-server for the Redis row)
# Knobs: ROUNDS (5), DURATION (5s), CONNECTIONS (64), THREADS (2); STRICT=1 exits non-zero
# when a target fails.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=paths.sh
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
STRICT=${STRICT:-0}
COMMAND="ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS bash bench/paths.sh"
REDIS=$(command -v redis-server || true)
for tool in wrk curl cargo awk sed; do
    command -v "$tool" >/dev/null || { echo "$NAME: $tool is missing" >&2; exit 1; }
done

echo "building the example apps and the emulator (release)..." >&2
cargo build --release --quiet -p idme-testkit -p idme-example-axum -p idme-example-actix -p idme-example-rocket
bin=${CARGO_TARGET_DIR:-target}/release
source bench/lib.sh

# --- the apps -----------------------------------------------------------------------------
frameworks=(axum actix rocket)
apps=()
declare -A port package extra app_pid
for f in "${frameworks[@]}"; do
    apps+=("$f" "$f-stale")
    package[$f]=$f
    package[$f-stale]=$f
    extra[$f]="IDME_APP_STORE=memory"
    extra[$f-stale]="IDME_APP_STORE=memory IDME_REFRESH_MARGIN=600"
done
if [ -n "$REDIS" ]; then
    free_port redis_port
    "$REDIS" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
    pids+=($!)
    apps+=(axum-redis)
    package[axum-redis]=axum
    extra[axum-redis]="IDME_APP_STORE=redis://127.0.0.1:$redis_port/0"
fi
redirects=()
for a in "${apps[@]}"; do
    free_port "port[$a]"
    redirects+=("http://127.0.0.1:${port[$a]}/auth/callback")
done
start_emulator "${redirects[@]}"
for a in "${apps[@]}"; do
    mkdir -p "$work/data-$a"
    # shellcheck disable=SC2086 # extra[] holds several VAR=value words
    env RUST_LOG=warn BIND_ADDR="127.0.0.1:${port[$a]}" IDME_ISSUER="$issuer" \
        IDME_CLIENT_ID="$client_id" IDME_CLIENT_SECRET="$client_secret" \
        IDME_DATA_DIR="$work/data-$a" ${extra[$a]} \
        "$bin/idme-example-${package[$a]}" >"$work/$a.log" 2>&1 &
    pids+=($!)
    app_pid[$a]=$!
done
for a in "${apps[@]}"; do
    wait_for "the $a app" curl -sf -o /dev/null "http://127.0.0.1:${port[$a]}/"
done

# --- sessions, device grants and pending device codes -------------------------------------
declare -A cookie access device_code
sign_in() { # app: the Cookie header of a fresh session, before any request used it
    local a=$1 base="http://127.0.0.1:${port[$1]}"
    rm -f "$work/$a.jar"
    curl -sS -L --max-redirs 10 -c "$work/$a.jar" -b "$work/$a.jar" -o /dev/null \
        "$base/auth/login?return_to=/landing"
    cookie[$a]=$(jar_header "$work/$a.jar")
}
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
new_device_code() { # app: a device code of the example device client (its JSON on stdout)
    curl -sf -X POST -d client_id=idme-example-device "http://127.0.0.1:${port[$1]}/auth/device/code"
}
device_grant() { # app: an access token approved by the signed-in person of cookie[app]
    local a=$1 base="http://127.0.0.1:${port[$1]}" codes page csrf user_code token
    codes=$(new_device_code "$a")
    page=$(curl -sf -H "Cookie: ${cookie[$a]}" "$(json_field verification_uri_complete <<<"$codes")")
    user_code=$(sed -n 's/.*name="user_code" value="\([^"]*\)".*/\1/p' <<<"$page" | head -1)
    csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$page" | head -1)
    curl -sf -o /dev/null -H "Cookie: ${cookie[$a]}" -H "Origin: $base" -H "Sec-Fetch-Site: same-origin" \
        --data-urlencode "user_code=$user_code" --data-urlencode "csrf=$csrf" -d decision=allow \
        "$base/auth/device" || { echo "$NAME: $a: the device page refused" >&2; exit 1; }
    token=$(curl -s -X POST -d "grant_type=urn:ietf:params:oauth:grant-type:device_code" \
        -d "device_code=$(json_field device_code <<<"$codes")" -d client_id=idme-example-device \
        "$base/auth/device/token" | json_field access_token)
    [ -n "$token" ] || { echo "$NAME: $a: no access token" >&2; cat "$work/$a.log" >&2; exit 1; }
    curl -sf -H "Authorization: Bearer $token" "$base/me" | grep -q '"sub"' ||
        { echo "$NAME: $a: the access token does not sign in /me" >&2; exit 1; }
    access[$a]=$token
}
poll_script() { # app: a wrk script polling one pending device code
    local code
    code=$(new_device_code "$1" | json_field device_code)
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.body = "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Adevice_code&device_code=%s&client_id=idme-example-device"\n' \
        "$code" >"$work/poll-$1.lua"
    # The same request, the same size, with a grant type nobody serves: refused before any
    # lookup (`unsupported_grant_type`), the floor of a POST with a form body on this app.
    sed 's/grant-type%3Adevice_code/grant-type%3Adevice_codX/' "$work/poll-$1.lua" >"$work/refused-$1.lua"
}
# A fresh session and grant for every app at the start of every round: wrk keeps no
# cookies, so a session aged past its refresh point during a long run would be refreshed
# on every request (the stale client's case, measured on its own), and app access tokens
# last 600 s.
fresh_sessions() {
    for a in "${frameworks[@]}" ${REDIS:+axum-redis}; do
        sign_in "$a"
        curl -sf -H "Cookie: ${cookie[$a]}" "http://127.0.0.1:${port[$a]}/me" | grep -q '"sub"' ||
            { echo "$NAME: $a: not signed in" >&2; cat "$work/$a.log" >&2; exit 1; }
        device_grant "$a"
    done
}

# --- the load, interleaved ----------------------------------------------------------------
NON2XX_EXPECTED='*:poll*:*'
echo "load: $ROUNDS rounds; per framework: anonymous /, cookie /me, bearer /me, a pending poll, the same POST refused, a stale client's /me" >&2
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r" >&2
    fresh_sessions
    for f in "${frameworks[@]}"; do
        base="http://127.0.0.1:${port[$f]}"
        poll_script "$f"
        # The stale client: signed in, one request refreshes (its Set-Cookie ignored), then
        # the pre-refresh cookie again and again, within the 30 s the outcome is reused.
        sign_in "$f-stale"
        curl -sf -o /dev/null -H "Cookie: ${cookie[$f-stale]}" "http://127.0.0.1:${port[$f-stale]}/me"
        # Odd rounds baselines first, even rounds last, so a drift in load cancels out.
        if [ $((r % 2)) = 1 ]; then
            measure_cpu "${app_pid[$f]}" "$f:anon:$r" "$base/"
            measure_cpu "${app_pid[$f]}" "$f:cookie:$r" "$base/me" -H "Cookie: ${cookie[$f]}"
        fi
        measure_cpu "${app_pid[$f-stale]}" "$f:stale:$r" "http://127.0.0.1:${port[$f-stale]}/me" \
            -H "Cookie: ${cookie[$f-stale]}"
        measure_cpu "${app_pid[$f]}" "$f:bearer:$r" "$base/me" -H "Authorization: Bearer ${access[$f]}"
        measure_cpu "${app_pid[$f]}" "$f:poll:$r" "$base/auth/device/token" -s "$work/poll-$f.lua"
        measure_cpu "${app_pid[$f]}" "$f:poll-refused:$r" "$base/auth/device/token" -s "$work/refused-$f.lua"
        if [ $((r % 2)) = 0 ]; then
            measure_cpu "${app_pid[$f]}" "$f:cookie:$r" "$base/me" -H "Cookie: ${cookie[$f]}"
            measure_cpu "${app_pid[$f]}" "$f:anon:$r" "$base/"
        fi
    done
    if [ -n "$REDIS" ]; then
        base="http://127.0.0.1:${port[axum-redis]}"
        measure "axum-redis:cookie:$r" "$base/me" -H "Cookie: ${cookie[axum-redis]}"
        measure "axum-redis:bearer:$r" "$base/me" -H "Authorization: Bearer ${access[axum-redis]}"
    fi
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table ------------------------------------------------------------------------------
{
table_header
echo
echo "| framework | anonymous \`/\` | cookie \`/me\` | bearer \`/me\` | pending poll | refused POST | stale client \`/me\` | bearer ÷ cookie (≥ 0.80) | poll ÷ anonymous (≥ 0.90) | poll ÷ refused POST | stale ÷ cookie (≥ 0.80) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for f in "${frameworks[@]}"; do
    echo "| $f | $(int "$(med "$f:anon")") | $(int "$(med "$f:cookie")") | $(int "$(med "$f:bearer")") | $(int "$(med "$f:poll")") | $(int "$(med "$f:poll-refused")") | $(int "$(med "$f:stale")") | $(ratio_cell "$f:bearer" "$f:cookie" 0.80) | $(ratio_cell "$f:poll" "$f:anon" 0.90) | $(ratio_cell "$f:poll" "$f:poll-refused" -) | $(ratio_cell "$f:stale" "$f:cookie" 0.80) |"
done
echo
echo "The app's CPU time per request (user + system, µs; medians over the rounds): what each answer costs the server, which a busy machine moves far less than req/s. Cost ratios are the baseline's CPU ÷ the path's, so ≥ 1 means no dearer."
echo
echo "| framework | anonymous \`/\` | cookie \`/me\` | bearer \`/me\` | pending poll | refused POST | stale client \`/me\` | anonymous ÷ poll (≥ 0.90) | cookie ÷ bearer (≥ 0.80) | cookie ÷ stale (≥ 0.80) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for f in "${frameworks[@]}"; do
    echo "| $f | $(med_cpu "$f:anon") | $(med_cpu "$f:cookie") | $(med_cpu "$f:bearer") | $(med_cpu "$f:poll") | $(med_cpu "$f:poll-refused") | $(med_cpu "$f:stale") | $(cost_cell "$f:anon" "$f:poll" 0.90) | $(cost_cell "$f:cookie" "$f:bearer" 0.80) | $(cost_cell "$f:cookie" "$f:stale" 0.80) |"
done
if [ -n "$REDIS" ]; then
    echo
    echo "| app store in Redis (axum) | cookie \`/me\` | bearer \`/me\` | bearer ÷ cookie (≥ 0.80) |"
    echo "|---|---|---|---|"
    echo "| axum, \`IDME_APP_STORE=redis://…\` | $(int "$(med axum-redis:cookie)") | $(int "$(med axum-redis:bearer)") | $(ratio_cell axum-redis:bearer axum-redis:cookie 0.80) |"
fi
} | tee "$work/table"
table_footer "$work/table"
