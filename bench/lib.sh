# Helpers shared by the wrk benchmarks (sourced, not run): process clean-up, free loopback
# ports, waiting, a cookie jar as a Cookie header, medians and ratios over rounds.
# The sourcing script sets `NAME` (for messages) and `ROUNDS`; it gets `$work` (a temporary
# directory removed on exit) and `pids` (every process started, stopped on exit).

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free loopback ports (nothing answers on them nor 10,000 above, where a Redis Cluster
# node's bus port would go), from a range unlikely to be in use; not in a subshell, so that
# each call moves on.
next_port=$((20000 + RANDOM % 20000))
free_port() { # variable-name
    while (exec 3<>"/dev/tcp/127.0.0.1/$next_port") 2>/dev/null ||
        (exec 3<>"/dev/tcp/127.0.0.1/$((next_port + 10000))") 2>/dev/null; do
        next_port=$((next_port + 1))
    done
    printf -v "$1" '%s' "$next_port"
    next_port=$((next_port + 1))
}

wait_for() { # what command...
    local what=$1
    shift
    for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "$NAME: timed out waiting for $what" >&2
    exit 1
}

# A curl cookie jar as a Cookie header: "a=1; b=2".
jar_header() { awk -F '\t' '{ sub(/^#HttpOnly_/, "") } /^#/ || NF < 7 { next } { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$1"; }

# Starts the emulator (release binary in $bin) on a free port with the veteran persona and
# the given redirect URIs; sets issuer, client_id and client_secret.
start_emulator() { # redirect-uri...
    local port redirects=()
    free_port port
    for r in "$@"; do redirects+=(--redirect-uri "$r"); done
    "$bin/idme-testkit" --bind "127.0.0.1:$port" --user veteran "${redirects[@]}" \
        >"$work/emulator.env" 2>"$work/emulator.log" &
    pids+=($!)
    wait_for "the emulator" grep -q '^IDME_CLIENT_SECRET=' "$work/emulator.env"
    issuer=$(sed -n 's/^IDME_ISSUER=//p' "$work/emulator.env")
    client_id=$(sed -n 's/^IDME_CLIENT_ID=//p' "$work/emulator.env")
    client_secret=$(sed -n 's/^IDME_CLIENT_SECRET=//p' "$work/emulator.env")
}

# wrk against url with options (headers, a script), the req/s kept in rps[key] (key is
# "name:round"). Non-2xx answers and socket errors are reported and counted in `errors`,
# except non-2xx answers for keys matching the pattern NON2XX_EXPECTED (e.g. a poll that is
# answered 400 authorization_pending by design).
errors=0
declare -A requests
NON2XX_EXPECTED=${NON2XX_EXPECTED:-}
measure() { # key url [wrk options...]
    local key=$1 url=$2 out
    shift 2
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" "$url")
    if grep -q 'Socket errors' <<<"$out" ||
        { grep -q 'Non-2xx' <<<"$out" && { [ -z "$NON2XX_EXPECTED" ] || [[ $key != $NON2XX_EXPECTED ]]; }; }; then
        echo "$NAME: $key had errors: $(grep 'Non-2xx\|Socket errors' <<<"$out")" >&2
        errors=$((errors + 1))
    fi
    rps[$key]=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    requests[$key]=$(awk '/requests in/ { print $1 }' <<<"$out")
    echo "  $key: ${rps[$key]} req/s" >&2
}

# measure, and the CPU time process pid spent per request (user + system, µs) in
# cpu[key]: what a request costs the server, whatever share of the machine wrk and
# neighbours take (a busy machine moves req/s far more than this).
declare -A cpu
measure_cpu() { # pid key url [wrk options...]
    local pid=$1 key=$2 before after
    shift
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    measure "$@"
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    cpu[$key]=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="${requests[$key]}" \
        'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
}

# rps[key:round] holds req/s; `median` of stdin, and "median (min–max of the per-round
# ratios) PASS|FAIL" of two series against a target.
declare -A rps
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
med() { for r in $(seq 1 "$ROUNDS"); do echo "${rps[$1:$r]}"; done | median; }
med_cpu() { for r in $(seq 1 "$ROUNDS"); do echo "${cpu[$1:$r]}"; done | median; }
int() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }
ratio_cell() { # numerator-key denominator-key target ("-": none, no verdict)
    local m spread verdict
    m=$(awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.2f", a / b }')
    spread=$(for r in $(seq 1 "$ROUNDS"); do
        awk -v a="${rps[$1:$r]}" -v b="${rps[$2:$r]}" 'BEGIN { printf "%.3f\n", a / b }'
    done | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }')
    if [ "$3" = - ]; then echo "$m ($spread)"; return; fi
    if awk -v m="$m" -v t="$3" 'BEGIN { exit !(m >= t) }'; then verdict=PASS; else verdict=FAIL; fi
    echo "$m ($spread) $verdict"
}

# "baseline CPU ÷ path CPU (min–max over the rounds) PASS|FAIL": the cost ratio of two
# cpu[] series against a target.
cost_cell() { # baseline-key path-key target
    local m spread verdict
    m=$(awk -v a="$(med_cpu "$1")" -v b="$(med_cpu "$2")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    spread=$(for r in $(seq 1 "$ROUNDS"); do
        awk -v a="${cpu[$1:$r]}" -v b="${cpu[$2:$r]}" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }'
    done | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }')
    if awk -v m="$m" -v t="$3" 'BEGIN { exit !(m >= t) }'; then verdict=PASS; else verdict=FAIL; fi
    echo "$m ($spread) $verdict"
}

# The lines every table starts with: the machine, the command (COMMAND) and how wrk ran;
# load_start and load_end are the load averages the caller read around its load.
table_header() {
    local cpu
    cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
    echo
    echo "machine: $(nproc) CPUs ($cpu); load average $load_start at the start, $load_end at the end"
    echo "command: $COMMAND ($(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION over loopback, $ROUNDS interleaved rounds; req/s are medians, ratios are ratios of medians (min–max of the per-round ratios)"
}

# After the table (saved in the file $1): the wrk runs that had errors, and with STRICT=1 a
# non-zero exit when a target failed.
table_footer() { # table-file
    if [ "$errors" -gt 0 ]; then
        echo
        echo "warning: $errors wrk runs had non-2xx answers or socket errors (see above)"
    fi
    if grep -q FAIL "$1" && [ "${STRICT:-0}" = 1 ]; then exit 1; fi
    exit 0
}
