#!/usr/bin/env bash
# HTTP throughput of a release `halyard serve` with wrk (2 threads, 64 connections), side by side with nginx serving
# the same answer bytes as static files, in the same run and interleaved (issue 16): the flags listing (200 and 304),
# single-flag evaluation and OFREP single-flag evaluation. Then bulk evaluation of a generated 10,000-flag environment
# (`/evaluate` of every flag, OFREP bulk), in ns per flag; then the connection cap. Called by Scripts/bench.
#
# BENCH_DURATION (10s) is each wrk run; BENCH_ROUNDS (1) repeats the interleaved comparison and prints medians;
# BENCH_BULK_FLAGS (10000) sizes the bulk environment; BENCH_HALYARD runs another build instead of building this one.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$halyard_root"

# Debian 12 ships nginx-light (core and static files, all this needs); later Debian releases dropped it, so there the
# full nginx package stands in.
nginx_package=nginx-light
if ! dpkg-query -W -f='${Status}' nginx-light 2>/dev/null | grep -q "install ok installed" &&
    ! apt-cache show nginx-light >/dev/null 2>&1; then
    nginx_package=nginx
fi
ensure_packages wrk curl git "$nginx_package"
nginx_binary="$(command -v nginx || echo /usr/sbin/nginx)"

if [ -z "${BENCH_HALYARD:-}" ]; then
    swift build -c release --product halyard >/dev/null
    halyard="$(swift build -c release --show-bin-path)/halyard"
else
    halyard="$BENCH_HALYARD"
fi
port="${BENCH_PORT:-18181}"
capped_port=$((port + 1))
nginx_port=$((port + 2))
bulk_port=$((port + 3))
duration="${BENCH_DURATION:-10s}"
rounds="${BENCH_ROUNDS:-1}"
bulk_flags="${BENCH_BULK_FLAGS:-10000}"
work="$(mktemp -d)"
server="" capped="" nginx="" bulk=""
stop_all() {
    local pid
    for pid in $server $capped $bulk $nginx; do kill "$pid" 2>/dev/null || true; done
    for pid in $server $capped $bulk $nginx; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap stop_all EXIT
mkdir -p "$work/data" "$work/capped-data" "$work/bulk-data" "$work/lua" "$work/nginx/www" "$work/nginx/tmp"

wait_ready() {
    local url="$1" pid="$2"
    for _ in $(seq 1 600); do
        curl -sf "$url" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { echo "error: the server on $url exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "error: $url never answered" >&2
    exit 1
}

"$halyard" serve --port "$port" --data-dir "$work/data" --log-level error &
server=$!
wait_ready "http://127.0.0.1:$port/readyz" "$server"
base="http://127.0.0.1:$port"
flags_path=/v1/environments/production/flags
evaluate_path=/v1/environments/production/evaluate
ofrep_path=/environments/production/ofrep/v1/evaluate/flags/reporting-beta
evaluate_body='{"context": {"env": "production", "customer": "Disney", "userId": 42, "plan": "enterprise"}, "flags": ["reporting-beta"]}'
ofrep_body='{"context": {"targetingKey": "user-42", "env": "production", "customer": "Disney"}}'
etag="$(curl -sf -D - -o /dev/null "$base$flags_path" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')"

lua_post() {
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' "'$2'" >"$work/lua/$1.lua"
}
lua_post evaluate "$evaluate_body"
lua_post ofrep "$ofrep_body"

# nginx serves Halyard's own answer bytes as static files at the same paths. A POST to a static file is answered 405
# by nginx, so `error_page 405 =200 $uri` serves the file instead: the usual way to let nginx answer POSTs from disk.
www="$work/nginx/www"
mkdir -p "$www$(dirname "$flags_path")" "$www$(dirname "$ofrep_path")"
curl -sf -o "$www$flags_path" "$base$flags_path"
curl -sf -o "$www$evaluate_path" -H 'Content-Type: application/json' -d "$evaluate_body" "$base$evaluate_path"
curl -sf -o "$www$ofrep_path" -H 'Content-Type: application/json' -d "$ofrep_body" "$base$ofrep_path"
# The workers run as nobody: let them read the files.
chmod -R a+rX "$work/nginx"
chmod a+x "$work"
cat >"$work/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    etag on;
    default_type application/json;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        root $www;
        location / {
            error_page 405 =200 \$uri;
        }
    }
}
NGINX
"$nginx_binary" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
nginx=$!
wait_ready "http://127.0.0.1:$nginx_port$flags_path" "$nginx"
nginx_base="http://127.0.0.1:$nginx_port"
nginx_etag="$(curl -sf -D - -o /dev/null "$nginx_base$flags_path" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')"
for path in "$flags_path" "$evaluate_path" "$ofrep_path"; do
    method=GET
    [ "$path" = "$flags_path" ] || method=POST
    if ! curl -sf -o /dev/null -X "$method" -d '{}' "$nginx_base$path"; then
        echo "error: nginx does not answer $method $path" >&2
        exit 1
    fi
done

# CPU time (user + system, from /proc, in seconds) of processes: unlike req/s it hardly moves when other work shares
# the machine, so it compares two servers fairly on a busy host. nginx's is its workers' sum.
cpu_seconds() {
    local ticks total=0 pid
    ticks="$(getconf CLK_TCK)"
    for pid in "$@"; do
        total="$(awk -v total="$total" -v ticks="$ticks" '{print total + ($14 + $15) / ticks}' "/proc/$pid/stat")"
    done
    echo "$total"
}
nginx_workers() { pgrep -P "$nginx" | tr '\n' ' '; }

# measure PIDS -- WRK-ARGS...: prints "req/s requests cpu-seconds".
measure() {
    local pids=()
    while [ "$1" != "--" ]; do pids+=("$1"); shift; done
    shift
    local before after output
    before="$(cpu_seconds "${pids[@]}")"
    output="$(wrk "$@")"
    after="$(cpu_seconds "${pids[@]}")"
    awk -v before="$before" -v after="$after" '
        /Requests\/sec/ { rps = $2 }
        /requests in/ { requests = $1 }
        /Non-2xx or 3xx/ { bad = $NF }
        END {
            if (bad > 0) { print "error: " bad " answers were not 2xx or 3xx" > "/dev/stderr"; exit 1 }
            printf "%s %s %.9f\n", rps, requests, after - before
        }
    ' <<<"$output"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# compare NAME HALYARD-WRK-ARGS -- NGINX-WRK-ARGS: runs both, alternately, BENCH_ROUNDS times and prints one line.
compare() {
    local name="$1"
    shift
    local halyard_args=() nginx_args=()
    while [ "$1" != "--" ]; do halyard_args+=("$1"); shift; done
    shift
    nginx_args=("$@")
    local h_rps="" h_cpu="" n_rps="" n_cpu="" round rps requests cpu
    for round in $(seq 1 "$rounds"); do
        read -r rps requests cpu <<<"$(measure "$server" -- -t2 -c64 -d"$duration" "${halyard_args[@]}")"
        h_rps+=" $rps" h_cpu+=" $(awk -v c="$cpu" -v n="$requests" 'BEGIN{print c / n * 1e6}')"
        # shellcheck disable=SC2046
        read -r rps requests cpu <<<"$(measure $(nginx_workers) -- -t2 -c64 -d"$duration" "${nginx_args[@]}")"
        n_rps+=" $rps" n_cpu+=" $(awk -v c="$cpu" -v n="$requests" 'BEGIN{print c / n * 1e6}')"
    done
    awk -v name="$name" -v hr="$(median <<<"$h_rps")" -v hc="$(median <<<"$h_cpu")" \
        -v nr="$(median <<<"$n_rps")" -v nc="$(median <<<"$n_cpu")" 'BEGIN {
        printf "%-44s Halyard %7.0f req/s %5.1f µs CPU | nginx %7.0f req/s %5.1f µs CPU | ratio %.2f (target ≥ 0.75)\n",
            name, hr, hc, nr, nc, hr / nr
    }'
}

echo "Halyard and nginx (${nginx_package}, the same bytes as static files), wrk -t2 -c64 -d$duration, interleaved, median of $rounds; CPU is server CPU time per request"
compare "GET ../flags (200, $(wc -c <"$www$flags_path") bytes)" "$base$flags_path" -- "$nginx_base$flags_path"
compare "GET ../flags (If-None-Match → 304)" -H "If-None-Match: $etag" "$base$flags_path" -- \
    -H "If-None-Match: $nginx_etag" "$nginx_base$flags_path"
compare "POST ../evaluate (one flag)" -s "$work/lua/evaluate.lua" "$base$evaluate_path" -- \
    -s "$work/lua/evaluate.lua" "$nginx_base$evaluate_path"
compare "POST ../ofrep/v1/evaluate/flags/{key}" -s "$work/lua/ofrep.lua" "$base$ofrep_path" -- \
    -s "$work/lua/ofrep.lua" "$nginx_base$ofrep_path"
kill "$nginx" 2>/dev/null || true
wait "$nginx" 2>/dev/null || true
nginx=""

# Bulk evaluation (issue 16 point 2): one environment of BENCH_BULK_FLAGS flags, nine in ten boolean with two rule
# groups (a list filter; an equality filter and a sticky 25 %), one in ten typed with three string variants and a split.
bulk_repo="$work/bulk-repo"
mkdir -p "$bulk_repo/flags/production"
for i in $(seq -w 1 "$bulk_flags"); do
    if [ $((10#$i % 10)) -eq 0 ]; then
        printf '{"name":"Layout %s","active":true,"variants":{"classic":"classic","one-page":"one-page","compact":"compact"},"defaultVariant":"classic","rules":[{"when":[{"type":"filter","attribute":"plan","operator":"==","comparator":"enterprise"}],"serve":"one-page"},{"when":[],"split":{"attribute":"userId","variants":[{"variant":"compact","percentage":10},{"variant":"classic","percentage":90}]}}],"metadata":{"owner":"team-%s"}}\n' \
            "$i" "$((10#$i % 7))" >"$bulk_repo/flags/production/layout-$i.json"
    else
        printf '{"name":"Feature %s","active":true,"rules":[[{"type":"filter","attribute":"customer","operator":"in","comparator":["Disney","Pop Tarts"]}],[{"type":"filter","attribute":"plan","operator":"==","comparator":"team"},{"type":"%%","percentage":25,"attribute":"userId"}]],"metadata":{"owner":"team-%s"}}\n' \
            "$i" "$((10#$i % 7))" >"$bulk_repo/flags/production/feature-$i.json"
    fi
done
git -C "$bulk_repo" init -q -b main
git -C "$bulk_repo" add -A
git -C "$bulk_repo" -c user.name=bench -c user.email=bench@example.invalid commit -q -m "$bulk_flags flags"
"$halyard" serve --repo "$bulk_repo" --branch main --port "$bulk_port" --data-dir "$work/bulk-data" --log-level error &
bulk=$!
wait_ready "http://127.0.0.1:$bulk_port/readyz" "$bulk"
bulk_base="http://127.0.0.1:$bulk_port"
lua_post bulk-evaluate '{"context": {"customer": "Acme", "userId": 42, "plan": "team"}}'
lua_post bulk-ofrep '{"context": {"targetingKey": "user-42", "customer": "Acme", "userId": 42, "plan": "team"}}'
# Warm up: the first request after a commit encodes what every later one copies.
curl -sf -o /dev/null -d '{}' "$bulk_base/v1/environments/production/evaluate"
curl -sf -o /dev/null -d '{}' "$bulk_base/environments/production/ofrep/v1/evaluate/flags"

bulk_line() {
    local name="$1" path="$2" script="$3" bytes rps requests cpu
    bytes="$(curl -sf -d "$(awk -F"'" '/wrk.body/{print $2}' "$work/lua/$script.lua")" "$bulk_base$path" | wc -c)"
    read -r rps requests cpu <<<"$(measure "$bulk" -- -t2 -c4 -d"$duration" -s "$work/lua/$script.lua" "$bulk_base$path")"
    awk -v name="$name" -v rps="$rps" -v requests="$requests" -v cpu="$cpu" -v flags="$bulk_flags" -v bytes="$bytes" 'BEGIN {
        printf "%-44s %7.1f req/s, %4.0f KB: %5.0f ns per flag end to end, %5.0f ns server CPU per flag (target ≤ 150 ns)\n",
            name, rps, bytes / 1024, 1e9 / (rps * flags), cpu / (requests * flags) * 1e9
    }'
}
echo
echo "Bulk evaluation of $bulk_flags flags (wrk -t2 -c4 -d$duration)"
bulk_line "POST ../evaluate (every flag)" /v1/environments/production/evaluate bulk-evaluate
bulk_line "POST ../ofrep/v1/evaluate/flags (bulk)" /environments/production/ofrep/v1/evaluate/flags bulk-ofrep
kill "$bulk" 2>/dev/null || true
wait "$bulk" 2>/dev/null || true
bulk=""

# Connection limits (DESIGN §13): a second server capped at 16 connections. 16 wrk connections are admitted and
# served while 64 more keep connecting: each of those gets 503 with Retry-After and is closed.
cap=16
seconds="${duration%s}"
HALYARD_LIMITS_MAX_CONNECTIONS=$cap "$halyard" serve --port "$capped_port" --data-dir "$work/capped-data" --log-level error &
capped=$!
wait_ready "http://127.0.0.1:$capped_port/readyz" "$capped"
admitted_out="$work/admitted.txt"
# The admitted connections run 2 s longer than the refused ones, so the cap stays full while those are measured.
wrk -t1 -c"$cap" -d"$((seconds + 2))s" "http://127.0.0.1:$capped_port/healthz" >"$admitted_out" &
admitted=$!
sleep 1
refused_out="$(wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$capped_port/healthz")"
wait "$admitted"
served_rps="$(awk '/Requests\/sec/{print $2}' "$admitted_out")"
refused_503="$(awk '/Non-2xx/{print $NF}' <<<"$refused_out")"
echo
printf '%-58s %10s req/s\n' "GET /healthz, $cap connections admitted at a cap of $cap" "$served_rps"
printf '%-58s %10s req/s\n' "  meanwhile 64 more: connect, 503 + Retry-After, close" "$(awk -v n="${refused_503:-0}" -v s="$seconds" 'BEGIN{printf "%.2f", n / s}')"
