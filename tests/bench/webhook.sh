#!/usr/bin/env bash
# Benchmark of hardline-webhook: wrk over TLS keep-alive on 127.0.0.1 posting realistic AdmissionReview bodies (a
# small and a large pod), the server pinned to core 0 with one worker thread and wrk on core 1. nginx (one worker,
# same certificate, same core) answering a static AdmissionReview is the ceiling; the ratio is printed.
# Then the p99 latency at about half the peak rate (see "Method" below). Figures are printed, never asserted.
#   BENCH_DURATION=10s  length of each run     BENCH_CONNS=16  connections for the peak runs
#
# Method for "half the peak rate": wrk has no rate control (wrk2 is not in Debian), so each connection waits a
# fixed 10 ms (the lua delay() hook) before each request; with C connections the offered rate is about
# C / (10 ms + latency). C is chosen as peak/2 * 10 ms, and the achieved rate is printed next to the latency.
set -uo pipefail
cd "$(dirname "$0")/../.."
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNS:-16}
for tool in wrk nginx taskset openssl curl; do
	command -v "$tool" >/dev/null || { echo "webhook bench: $tool missing (make deps)"; exit 0; }
done
if [ "$(nproc)" -lt 2 ]; then echo "webhook bench: needs 2 cores"; exit 0; fi

# A release build of the webhook (no sanitizers), whatever flags build/ was made with and whatever `make bench`
# was called with (MAKEFLAGS would hand SAN=1 down); objects built with other flags are thrown away.
REL=build/release
relmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s BUILD=$REL SAN= WERROR= $REL/hardline-webhook >/dev/null; }
if ! relmake 2>/dev/null || ldd "$REL/hardline-webhook" | grep -q libasan; then
	rm -rf "$REL"
	relmake || { echo "webhook bench: release build failed"; exit 1; }
fi
WEBHOOK=$PWD/$REL/hardline-webhook

T=$(mktemp -d /tmp/hardline-bench.XXXXXX)
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

source tests/integration/certs.sh
certs_ca "$T" && certs_server "$T" tls 4097 IP:127.0.0.1 bench || { echo "openssl could not make the certificates" >&2; exit 1; }

# --- bodies: a small compliant pod, and a large Deployment-made pod (20 containers, many env vars, annotations) ---
container() {   # NAME NENV
	printf '{"name":"%s","image":"registry.example/team/app@sha256:%064d",' "$1" 0
	printf '"securityContext":{"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUser":1000,'
	printf '"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}},'
	printf '"ports":[{"containerPort":8080,"protocol":"TCP"}],"resources":{"limits":{"cpu":"500m","memory":"256Mi"}},'
	printf '"volumeMounts":[{"name":"tmp","mountPath":"/tmp"}],"env":['
	local i
	for ((i = 0; i < $2; i++)); do
		[ "$i" -gt 0 ] && printf ','
		printf '{"name":"SETTING_%d","value":"value-of-setting-number-%d-with-some-text"}' "$i" "$i"
	done
	printf ']}'
}
review() {   # UID NCONTAINERS NENV NANNOT
	local i
	printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"%s",' "$1"
	printf '"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},'
	printf '"requestKind":{"group":"","version":"v1","kind":"Pod"},"namespace":"shop","operation":"CREATE",'
	printf '"userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller","groups":'
	printf '["system:serviceaccounts","system:authenticated"]},"dryRun":false,"object":{"apiVersion":"v1","kind":"Pod",'
	printf '"metadata":{"generateName":"web-7d9f8b6c5-","namespace":"shop","labels":{"app":"web"},"annotations":{'
	for ((i = 0; i < $4; i++)); do
		[ "$i" -gt 0 ] && printf ','
		printf '"example.com/note-%d":"%0200d"' "$i" 0
	done
	printf '}},"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"}},'
	printf '"volumes":[{"name":"tmp","emptyDir":{}}],"containers":['
	for ((i = 0; i < $2; i++)); do
		[ "$i" -gt 0 ] && printf ','
		container "c$i" "$3"
	done
	printf ']}},"options":{"apiVersion":"meta.k8s.io/v1","kind":"CreateOptions"}}}'
}
review 3f2a1c9e-0b1d-4c55-9a43-7f0e5d1b2a11 1 3 1 >"$T/small.json"
review 7c1e9d2a-5b3f-4e21-8d7c-1a2b3c4d5e6f 20 60 40 >"$T/large.json"
for b in small large; do
	cat >"$T/$b.lua" <<LUA
local f = io.open("$T/$b.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
	cp "$T/$b.lua" "$T/$b-paced.lua"
	echo 'function delay() return 10 end' >>"$T/$b-paced.lua"
done
printf 'bodies: small %d bytes, large %d bytes\n' "$(stat -c %s "$T/small.json")" "$(stat -c %s "$T/large.json")"

PORT=$((21000 + RANDOM % 20000))
NPORT=$((PORT + 1))
MPORT=$((PORT + 2))
taskset -c 0 "$WEBHOOK" --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" --tls-cert "$T/tls.crt" \
	--tls-key "$T/tls.key" --threads 1 --log-level warn 2>/dev/null &
WPID=$!; PIDS+=("$WPID")

# nginx: the same certificate, one worker on core 0, a static AdmissionReview answer for POST.
RESP='{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"3f2a1c9e-0b1d-4c55-9a43-7f0e5d1b2a11","allowed":true}}'
mkdir -p "$T/nginx/logs"
cat >"$T/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log error;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	client_max_body_size 4m;
	client_body_buffer_size 1m;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$NPORT ssl;
		ssl_certificate $T/tls.crt;
		ssl_certificate_key $T/tls.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / {
			default_type application/json;
			if (\$request_method != POST) { return 405; }
			return 200 '$RESP';
		}
	}
}
CONF
taskset -c 0 nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' 2>"$T/nginx/stderr" &
NPID=$!; PIDS+=("$NPID")

for _ in $(seq 50); do
	curl -fsS "http://127.0.0.1:$MPORT/readyz" >/dev/null 2>&1 &&
		curl -fsSk -o /dev/null -X POST "https://127.0.0.1:$NPORT/" 2>/dev/null && break
	sleep 0.1
done

# cpu_ns PID: CPU time used so far by every thread of PID, in ns (schedstat: precise, unlike the 100 Hz ticks).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }
# run NAME URL LUA CONNS PID: one wrk run on core 1; sets RPS, P50, P99 and prints them with the server's CPU time
# per request (PID: the serving process), which the other load on a shared machine does not inflate.
run() {
	local out c0 c1 n errs
	c0=$(cpu_ns "$5")
	out=$(taskset -c 1 wrk -t1 -c"$4" -d"$DUR" --latency -s "$3" "$2" 2>&1)
	c1=$(cpu_ns "$5")
	RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	P50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	P99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	CPU=$(awk -v c="$((c1 - c0))" -v n="${n:-0}" 'BEGIN { if (n > 0) printf "%.1f", c / n / 1000; else print "-" }')
	errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')
	printf '%-34s %10s req/s   p50 %-9s p99 %-9s cpu/req %7s us  %s\n' "$1" "$RPS" "$P50" "$P99" "$CPU" "$errs"
}
WURL="https://127.0.0.1:$PORT/validate?timeout=10s"
NURL="https://127.0.0.1:$NPORT/validate?timeout=10s"
# Warm-up (TLS session setup, page faults), not reported.
taskset -c 1 wrk -t1 -c"$CONNS" -d2s -s "$T/small.lua" "$WURL" >/dev/null 2>&1
taskset -c 1 wrk -t1 -c"$CONNS" -d2s -s "$T/small.lua" "$NURL" >/dev/null 2>&1

NWORKER=$(pgrep -P "$NPID" | head -1)
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "peak, $CONNS keep-alive connections, $DUR each (server on core 0, wrk on core 1):"
for b in small large; do
	run "hardline-webhook $b" "$WURL" "$T/$b.lua" "$CONNS" "$WPID"; eval "W_$b=$RPS"
	run "nginx static answer $b" "$NURL" "$T/$b.lua" "$CONNS" "$NWORKER"; eval "N_$b=$RPS"
done
for b in small large; do
	w=W_$b n=N_$b
	awk -v w="${!w}" -v n="${!n}" -v b="$b" 'BEGIN { if (n > 0) printf "ratio webhook/nginx (%s): %.2f\n", b, w / n }'
done
echo "p99 at about half the peak rate (10 ms pause per request per connection):"
for b in small large; do
	w=W_$b
	c=$(awk -v r="${!w}" 'BEGIN { c = int(r / 2 * 0.010 + 0.5); if (c < 1) c = 1; print c }')
	run "hardline-webhook $b, $c conns" "$WURL" "$T/$b-paced.lua" "$c" "$WPID"
done
echo "webhook peak RSS (VmHWM): $(awk '/^VmHWM/ {print $2, $3}' "/proc/$WPID/status")"
echo "nginx worker peak RSS (VmHWM): $(awk '/^VmHWM/ {print $2, $3}' "/proc/$NWORKER/status")"
