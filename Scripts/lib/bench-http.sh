#!/usr/bin/env bash
# HTTP throughput of a release `halyard serve` with wrk (64 connections): 304s on the flags listing, single-flag
# evaluation, and OFREP single-flag evaluation. Called by Scripts/bench.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$halyard_root"
ensure_packages wrk curl

swift build -c release --product halyard >/dev/null
halyard="$(swift build -c release --show-bin-path)/halyard"
port="${BENCH_PORT:-18181}"
duration="${BENCH_DURATION:-10s}"
data="$(mktemp -d)"
capped_data="$(mktemp -d)"
lua="$(mktemp -d)"
capped=""
trap 'kill "$server" $capped 2>/dev/null || true; wait "$server" $capped 2>/dev/null || true; rm -rf "$data" "$capped_data" "$lua"' EXIT

"$halyard" serve --port "$port" --data-dir "$data" --log-level error &
server=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
etag="$(curl -sf -D - -o /dev/null "http://127.0.0.1:$port/v1/environments/production/flags" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')"

cat > "$lua/evaluate.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"context": {"env": "production", "customer": "Disney", "userId": 42, "plan": "enterprise"}, "flags": ["reporting-beta"]}'
LUA
cat > "$lua/ofrep.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"context": {"targetingKey": "user-42", "env": "production", "customer": "Disney"}}'
LUA

# The server's CPU time (user + system, from /proc) per request served: unlike req/s, it hardly moves when other
# work shares the machine, so it compares two builds fairly on a busy host.
server_cpu_seconds() {
    awk -v ticks="$(getconf CLK_TCK)" '{print ($14 + $15) / ticks}' "/proc/$server/stat"
}

run() {
    local name="$1"
    shift
    local before after output
    before="$(server_cpu_seconds)"
    output="$(wrk -t2 -c64 -d"$duration" "$@")"
    after="$(server_cpu_seconds)"
    awk -v name="$name" -v before="$before" -v after="$after" '
        /Requests\/sec/ { rps = $2 }
        /requests in/ { requests = $1 }
        END { printf "%-58s %10s req/s  %6.1f µs server CPU per request\n", name, rps, (after - before) / requests * 1e6 }
    ' <<<"$output"
}
run "GET /v1/environments/production/flags (If-None-Match → 304)" -H "If-None-Match: $etag" "http://127.0.0.1:$port/v1/environments/production/flags"
run "POST /v1/environments/production/evaluate (one flag)" -s "$lua/evaluate.lua" "http://127.0.0.1:$port/v1/environments/production/evaluate"
run "POST /environments/production/ofrep/v1/evaluate/flags/{key}" -s "$lua/ofrep.lua" "http://127.0.0.1:$port/environments/production/ofrep/v1/evaluate/flags/reporting-beta"

# Connection limits (DESIGN §13): a second server capped at 16 connections. 16 wrk connections are admitted and
# served while 64 more keep connecting: each of those gets 503 with Retry-After and is closed.
cap=16
capped_port=$((port + 1))
seconds="${duration%s}"
HALYARD_LIMITS_MAX_CONNECTIONS=$cap "$halyard" serve --port "$capped_port" --data-dir "$capped_data" --log-level error &
capped=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$capped_port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
admitted_out="$(mktemp)"
# The admitted connections run 2 s longer than the refused ones, so the cap stays full while those are measured.
wrk -t1 -c"$cap" -d"$((seconds + 2))s" "http://127.0.0.1:$capped_port/healthz" >"$admitted_out" &
admitted=$!
sleep 1
refused_out="$(wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$capped_port/healthz")"
wait "$admitted"
served_rps="$(awk '/Requests\/sec/{print $2}' "$admitted_out")"
refused_503="$(awk '/Non-2xx/{print $NF}' <<<"$refused_out")"
rm -f "$admitted_out"
printf '%-58s %10s req/s\n' "GET /healthz, $cap connections admitted at a cap of $cap" "$served_rps"
printf '%-58s %10s req/s\n' "  meanwhile 64 more: connect, 503 + Retry-After, close" "$(awk -v n="${refused_503:-0}" -v s="$seconds" 'BEGIN{printf "%.2f", n / s}')"
