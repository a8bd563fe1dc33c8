#!/usr/bin/env bash
# Admission throughput with the attestation check on, next to the same webhook with it off (part 1's figures):
# wrk over TLS keep-alive on 127.0.0.1, server pinned to core 0 with one worker thread, wrk on core 1 (as
# tests/bench/webhook.sh). The attestation is in a directory source, so after the first request every image is a
# cache hit; the per-image costs themselves come from build/bench/bench_attcheck (printed first).
#   BENCH_DURATION=5s  length of each run     BENCH_CONNS=16  connections
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
DUR=${BENCH_DURATION:-5s}
CONNS=${BENCH_CONNS:-16}
B=${HARDLINE_BUILD:-build}
for tool in wrk taskset openssl curl jq; do
	command -v "$tool" >/dev/null || { echo "webhook_attest bench: $tool missing (make deps)"; exit 0; }
done
if [ -x "$B/bench/bench_attcheck" ]; then "$B/bench/bench_attcheck" "${BENCH_IMAGES:-1000}" || exit 1
else echo "webhook_attest: $B/bench/bench_attcheck not built; run make bench"; exit 1; fi
if [ "$(nproc)" -lt 2 ]; then echo "webhook_attest bench: needs 2 cores"; exit 0; fi

REL=build/release
relmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s BUILD=$REL SAN= WERROR= $REL/hardline-webhook $REL/hardline >/dev/null; }
if ! relmake 2>/dev/null || ldd "$REL/hardline-webhook" | grep -q libasan; then
	rm -rf "$REL"
	relmake || { echo "webhook_attest bench: release build failed"; exit 1; }
fi
WEBHOOK=$PWD/$REL/hardline-webhook
HL=$PWD/$REL/hardline

T=$(mktemp -d /tmp/hardline-bench.XXXXXX)
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
source tests/integration/certs.sh
certs_ca "$T" && certs_server "$T" tls 4097 IP:127.0.0.1 bench || { echo "openssl could not make the certificates" >&2; exit 1; }

# One image digest, attested in a directory with a Statement written with jq and signed by hardline dsse-sign.
HEX=$(printf 'ab%.0s' $(seq 32))
mkdir -p "$T/keys" "$T/atts"
"$HL" keygen --out "$T/k" >/dev/null 2>&1 && cp "$T/k.pub" "$T/keys/"
jq -n --arg hex "$HEX" --arg ts "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{_type: "https://in-toto.io/Statement/v1",
	subject: [{name: "registry.example/team/app", digest: {sha256: $hex}}],
	predicateType: "https://hardline.dev/attestation/hardening/v1",
	predicate: {timestamp: $ts, facts: {shells: {count: 0, items: []}, packageManagers: {count: 0, items: []},
	fetchTools: {count: 0, items: []}}}}' >"$T/stmt.json"
"$HL" dsse-sign --key "$T/k.key" --payload-type application/vnd.in-toto+json --out "$T/atts/app.json" "$T/stmt.json" ||
	{ echo "webhook_attest bench: dsse-sign failed"; exit 1; }
echo '{}' >"$T/off.json"
printf '{"attestations": {"keys": ["%s"], "sources": [{"directory": "%s"}], "require": {"shells": 0}, "maxAge": "720h"}}\n' \
	"$T/keys" "$T/atts" >"$T/on.json"

review() {   # NCONTAINERS: a pod whose containers all run the attested image
	local i
	printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"3f2a1c9e-0b1d-4c55-9a43-7f0e5d1b2a11",'
	printf '"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},'
	printf '"namespace":"shop","operation":"CREATE","userInfo":{"username":"bench"},"object":{"apiVersion":"v1",'
	printf '"kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{"securityContext":{"runAsNonRoot":true,'
	printf '"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"}},"containers":['
	for ((i = 0; i < $1; i++)); do
		[ "$i" -gt 0 ] && printf ','
		printf '{"name":"c%d","image":"registry.example/team/app@sha256:%s","securityContext":' "$i" "$HEX"
		printf '{"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}'
	done
	printf ']}}}}'
}
review 1 >"$T/small.json"
review 20 >"$T/large.json"
for b in small large; do
	printf 'local f = io.open("%s", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n' \
		"$T/$b.json" >"$T/$b.lua"
done

declare -A URLS WPIDS
for mode in off on; do
	PORT=$((21000 + RANDOM % 20000)); MPORT=$((PORT + 1))
	taskset -c 0 "$WEBHOOK" --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" --tls-cert "$T/tls.crt" \
		--tls-key "$T/tls.key" --threads 1 --log-level warn --policy "$T/$mode.json" 2>"$T/$mode.log" &
	WPIDS[$mode]=$!; PIDS+=("$!")
	for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$MPORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
	URLS[$mode]="https://127.0.0.1:$PORT/validate?timeout=10s"
	out=$(curl -sS -k -H 'Content-Type: application/json' --data-binary @"$T/small.json" "${URLS[$mode]}" |
		jq -r .response.allowed)
	[ "$out" = true ] || { echo "webhook_attest bench: the $mode webhook does not admit the attested pod: $out"; exit 1; }
done

cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }
run() {   # NAME URL LUA PID
	local out c0 c1 n
	c0=$(cpu_ns "$4")
	out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DUR" --latency -s "$3" "$2" 2>&1)
	c1=$(cpu_ns "$4")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	printf '%-40s %10s req/s   p50 %-9s p99 %-9s cpu/req %7s us  %s\n' "$1" \
		"$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
		"$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(awk -v c="$((c1 - c0))" -v n="${n:-0}" 'BEGIN { if (n > 0) printf "%.1f", c / n / 1000; else print "-" }')" \
		"$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"
}
for mode in off on; do taskset -c 1 wrk -t1 -c"$CONNS" -d2s -s "$T/small.lua" "${URLS[$mode]}" >/dev/null 2>&1; done
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "admission, $CONNS keep-alive connections, $DUR each (server on core 0, one thread; wrk on core 1):"
for b in small large; do
	for mode in off on; do
		run "attestations $mode, $b ($([ $b = small ] && echo 1 || echo 20) containers)" "${URLS[$mode]}" "$T/$b.lua" "${WPIDS[$mode]}"
	done
done
