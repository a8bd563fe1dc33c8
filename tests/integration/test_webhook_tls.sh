#!/usr/bin/env bash
# hardline-webhook over real TLS, driven by curl and openssl s_client: keep-alive, ?timeout=, the HTTP error answers,
# health and metrics, certificate rotation by a Kubernetes-style "..data" symlink swap under bounded load with zero
# failed requests, policy reload (good and bad file), and SIGTERM draining a request in flight.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/certs.sh"
source "$(dirname "$0")/webhook.sh"

if ! command -v openssl >/dev/null || ! command -v curl >/dev/null; then
	t_skip "webhook tls" "openssl or curl missing"; t_done; exit
fi
[ -x "$HARDLINE_WEBHOOK" ] || { t_fail "webhook binary" "$HARDLINE_WEBHOOK not built"; t_done; exit; }
t_tmpdir D

# --- a CA and three server certificates (serials 0x1001, 0x1002, 0x1003), valid for IP 127.0.0.1 -------------
certs_ca "$D" && certs_server "$D" s1 0x1001 IP:127.0.0.1 && certs_server "$D" s2 0x1002 IP:127.0.0.1 &&
	certs_server "$D" s3 0x1003 IP:127.0.0.1 || { t_fail "test certificates" "openssl could not make them"; t_done; exit; }

# The layout of a mounted Secret: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp> (swapped atomically).
S=$D/secret
mkdir -p "$S/..gen1"
cp "$D/s1.crt" "$S/..gen1/tls.crt"; cp "$D/s1.key" "$S/..gen1/tls.key"
ln -s ..gen1 "$S/..data"; ln -s ..data/tls.crt "$S/tls.crt"; ln -s ..data/tls.key "$S/tls.key"
swap_secret() {   # GEN CERT KEY: what the kubelet does when a Secret changes
	mkdir -p "$S/..$1"; cp "$2" "$S/..$1/tls.crt"; cp "$3" "$S/..$1/tls.key"
	ln -s "..$1" "$S/..data_tmp" && mv -T "$S/..data_tmp" "$S/..data"
}
echo '{"allowedUIDs": [1000], "exempt": {"namespaces": ["kube-system"]}}' >"$D/policy.json"

# --- the command line --------------------------------------------------------------------------------------
out=$("$HARDLINE_WEBHOOK" --help 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q -- '--tls-cert' <<<"$out" && grep -q -- '--metrics-listen' <<<"$out" &&
	t_ok "--help documents the flags" || t_fail "--help" "rc=$rc"
"$HARDLINE_WEBHOOK" --listen 127.0.0.1:1 >/dev/null 2>"$D/usage.err"; rc=$?
[ $rc -eq 2 ] && grep -q 'required' "$D/usage.err" && t_ok "missing --tls-cert: usage error, exit 2" ||
	t_fail "missing --tls-cert" "rc=$rc $(head -1 "$D/usage.err")"
"$HARDLINE_WEBHOOK" --tls-cert "$D/s1.crt" --tls-key "$D/s1.key" --threads 0 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && t_ok "--threads 0: usage error, exit 2" || t_fail "--threads 0" "rc=$rc"
"$HARDLINE_WEBHOOK" --tls-cert "$D/s1.crt" --tls-key "$D/s2.key" --metrics-listen off --listen 127.0.0.1:1 \
	>/dev/null 2>"$D/bad.err"; rc=$?
[ $rc -eq 1 ] && grep -q 's2.key does not belong to certificate' "$D/bad.err" &&
	t_ok "a key of another certificate: exit 1 naming both files" || t_fail "mismatched pair at start" "rc=$rc"

# --- start the webhook on free ports -----------------------------------------------------------------------
if ! webhook_start "$D/webhook.log" healthz --tls-cert "$S/tls.crt" --tls-key "$S/tls.key" \
	--policy "$D/policy.json" --threads 2 --namespace hardline-system; then
	t_fail "webhook starts" "$(tail -5 "$D/webhook.log")"; t_done; exit
fi
PID=$WPID
t_ok "webhook starts and answers /healthz"
URL=https://127.0.0.1:$PORT
M=http://127.0.0.1:$MPORT
wait_metric() {   # PATTERN TRIES SECONDS: true as soon as a line of /metrics matches PATTERN (grep), polled TRIES times
	local _
	for _ in $(seq "$2"); do
		curl -sS "$M/metrics" | grep -q "$1" && return 0
		sleep "$3"
	done
	return 1
}
webhook_review u-1 "registry.example/web@sha256:$(printf %064d 0)" >"$D/review.json"
C=(curl -sS --http1.1 --cacert "$D/ca.crt" -H 'Content-Type: application/json')

# --- the contract of the API server -----------------------------------------------------------------------
out=$("${C[@]}" -w '\n%{http_code}' --data-binary @"$D/review.json" "$URL/validate?timeout=5s" 2>&1)
if [ "$(tail -1 <<<"$out")" = 200 ] && grep -q '"uid": *"u-1"' <<<"$out"; then
	t_ok "POST /validate?timeout=5s answers 200 with the request uid"
else
	t_fail "POST /validate?timeout=5s answers 200 with the request uid" "$out"
fi
for mode in warn audit; do
	code=$("${C[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$D/review.json" "$URL/$mode?timeout=10s")
	[ "$code" = 200 ] && t_ok "POST /$mode answers 200" || t_fail "POST /$mode answers 200" "got $code"
done
out=$("${C[@]}" -v -o /dev/null --data-binary @"$D/review.json" "$URL/validate" -o /dev/null \
	--data-binary @"$D/review.json" "$URL/validate" 2>&1)
if grep -qi 'Re-using existing connection' <<<"$out"; then t_ok "keep-alive: the second request reuses the connection"
else t_fail "keep-alive: the second request reuses the connection" "$(grep -i connect <<<"$out" | head -5)"; fi

head -c $((3 * 1024 * 1024 + 1)) /dev/zero >"$D/big.json"
code=$("${C[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$D/big.json" "$URL/validate")
[ "$code" = 413 ] && t_ok "413 for a body over 3 MiB (Content-Length)" || t_fail "413 for a body over 3 MiB" "got $code"
code=$("${C[@]}" -H 'Transfer-Encoding: chunked' -o /dev/null -w '%{http_code}' --data-binary @"$D/big.json" \
	"$URL/validate")
[ "$code" = 413 ] && t_ok "413 for a chunked body over 3 MiB (counted as it arrives)" \
	|| t_fail "413 for a chunked body over 3 MiB" "got $code"
hdrs=$(curl -sS --http1.1 --cacert "$D/ca.crt" -D - -o /dev/null "$URL/validate")
if grep -q '^HTTP/1.1 405' <<<"$hdrs" && grep -qi '^Allow: POST' <<<"$hdrs"; then t_ok "405 with Allow: POST for GET"
else t_fail "405 with Allow: POST for GET" "$hdrs"; fi
code=$(curl -sS --http1.1 --cacert "$D/ca.crt" -H 'Content-Type: text/plain' -o /dev/null -w '%{http_code}' \
	--data-binary @"$D/review.json" "$URL/validate")
[ "$code" = 415 ] && t_ok "415 for text/plain" || t_fail "415 for text/plain" "got $code"
code=$("${C[@]}" -H 'Content-Type: application/json; charset=utf-8' -o /dev/null -w '%{http_code}' \
	--data-binary @"$D/review.json" "$URL/validate")
[ "$code" = 200 ] && t_ok "application/json with parameters accepted" || t_fail "json with parameters" "got $code"
code=$("${C[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$D/review.json" "$URL/nope")
[ "$code" = 404 ] && t_ok "404 for an unknown path" || t_fail "404 for an unknown path" "got $code"

# --- health, readiness, metrics, the decision log ------------------------------------------------------------
t_check "/readyz is 200" curl -fsS "$M/readyz"
curl -sS "$M/metrics" >"$D/metrics.txt"
if grep -q '^hardline_admission_requests_total{mode="enforce",decision="[a-z]*",kind="Pod"} [1-9]' "$D/metrics.txt" &&
	grep -q '^hardline_admission_duration_seconds_bucket{le="0.000050"}' "$D/metrics.txt" &&
	grep -q '^hardline_admission_duration_seconds_bucket{le="+Inf"} [1-9]' "$D/metrics.txt" &&
	grep -q '^hardline_admission_in_flight 0' "$D/metrics.txt" &&
	grep -q '^hardline_policy_reloads_total{result="error"} 0' "$D/metrics.txt" &&
	grep -q '^hardline_tls_certificate_expiry_timestamp_seconds [1-9]' "$D/metrics.txt"; then
	t_ok "/metrics exposes requests, the duration histogram, in-flight, reloads and certificate expiry"
else
	t_fail "/metrics content" "$(head -30 "$D/metrics.txt")"
fi
if grep '"uid":"u-1"' "$D/webhook.log" | head -1 | jq -e '.time and .mode and (.durationUs >= 0) and .decision' \
	>/dev/null 2>&1; then
	t_ok "one JSON log line per decision with time, uid, mode, decision and duration"
else
	t_fail "decision log line" "$(grep -m3 uid "$D/webhook.log")"
fi
if grep '"uid":"u-1"' "$D/webhook.log" | head -1 | jq -e '.timeoutMs == 5000' >/dev/null 2>&1; then
	t_ok "the ?timeout=5s of the request is its deadline, logged as timeoutMs 5000"
else
	t_fail "?timeout= in the decision log" "$(grep -m1 '"uid":"u-1"' "$D/webhook.log")"
fi

# --- TLS: handshake, chain, serial ----------------------------------------------------------------------------
serial_now() {   # the serial a new connection sees
	openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$D/ca.crt" -verify_return_error </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | sed 's/serial=//'
}
out=$(openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$D/ca.crt" -verify_return_error -alpn http/1.1 \
	</dev/null 2>&1)
if grep -q 'Verify return code: 0 (ok)' <<<"$out"; then t_ok "openssl s_client: handshake and chain verify"
else t_fail "openssl s_client: handshake and chain verify" "$(tail -5 <<<"$out")"; fi
s=$(serial_now)
[ "$s" = 1001 ] && t_ok "the served certificate is the first one (serial 1001)" || t_fail "initial serial" "got '$s'"

# --- rotation under bounded load: two clients, 12 s or 3000 requests each, new connection per request ----------
load() {   # OUTFILE: one line per request: the HTTP code (000 = transport failure)
	local end=$((SECONDS + 12)) i=0
	while [ $SECONDS -lt $end ] && [ $i -lt 3000 ]; do
		curl -s --http1.1 --cacert "$D/ca.crt" -H 'Content-Type: application/json' -o /dev/null \
			-w '%{http_code}\n' --max-time 5 --data-binary @"$D/review.json" "$URL/validate" >>"$1"
		i=$((i + 1))
	done
}
: >"$D/load1"; : >"$D/load2"
load "$D/load1" & L1=$!; t_bg $L1
load "$D/load2" & L2=$!; t_bg $L2
sleep 3
swap_secret gen2 "$D/s2.crt" "$D/s2.key"
s=
for _ in $(seq 30); do s=$(serial_now); [ "$s" = 1002 ] && break; sleep 0.2; done
[ "$s" = 1002 ] && t_ok "after the ..data swap new connections get the new certificate (serial 1002)" \
	|| t_fail "rotated serial" "got '$s'"
sleep 2
# A bad pair (certificate 3 with key 1) is refused: the old pair stays.
swap_secret gen3 "$D/s3.crt" "$D/s1.key"
sleep 2.5
s=$(serial_now)
[ "$s" = 1002 ] && t_ok "a certificate with the wrong key is refused; serial 1002 stays" || t_fail "bad pair" "got '$s'"
wait $L1 $L2
total=$(cat "$D/load1" "$D/load2" | wc -l)
bad=$(cat "$D/load1" "$D/load2" | grep -vc '^200$')
if [ "$total" -ge 50 ] && [ "$bad" -eq 0 ]; then
	t_ok "rotation under load: $total requests, 0 failed"
else
	t_fail "rotation under load" "$total requests, $bad failed: $(sort "$D/load1" "$D/load2" | uniq -c | tr '\n' ' ')"
fi
curl -sS "$M/metrics" >"$D/metrics.txt"
grep -q '^hardline_tls_reloads_total{result="success"} 1$' "$D/metrics.txt" &&
	grep -q '^hardline_tls_reloads_total{result="error"} [1-9]' "$D/metrics.txt" &&
	t_ok "tls reload metrics: 1 success, the bad pair an error" ||
	t_fail "tls reload metrics" "$(grep tls_reloads "$D/metrics.txt")"
grep -q 'does not belong to certificate' "$D/webhook.log" && t_ok "the refused pair is logged with the reason" ||
	t_fail "the refused pair is logged" "$(tail -3 "$D/webhook.log")"

# --- the real client: kube-apiserver calls the webhook (TLS with caBundle, HTTP/1.1, ?timeout=) -----------------
CP=$HL_ROOT/tests/peers/controlplane.sh
PEERS=${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}
cpdir=
_webhook_cleanup() { [ -n "$cpdir" ] && { "$CP" stop "$cpdir" >/dev/null 2>&1; rm -rf "$cpdir"; }; _t_cleanup; }
trap _webhook_cleanup EXIT
if [ ! -x "$PEERS/bin/kube-apiserver" ] || [ ! -x "$PEERS/bin/etcd" ] || ! command -v kubectl >/dev/null; then
	t_skip "kube-apiserver as the client" "peers not built (tests/peers/install.sh) or kubectl missing"
else
	cpdir=$(mktemp -d /tmp/hardline-cp.XXXXXX)
	if ! kubeconfig=$("$CP" start "$cpdir" 2>"$cpdir/start.err"); then
		t_fail "kube-apiserver as the client: control plane starts" "$(tail -5 "$cpdir/start.err")"
	else
		k() { kubectl --kubeconfig "$kubeconfig" --request-timeout=20s "$@"; }
		"$CP" ns "$cpdir" shop >/dev/null 2>&1
		cat >"$D/vwc.yaml" <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hardline-test}
webhooks:
  - name: pods.hardline.test
    clientConfig:
      url: https://127.0.0.1:$PORT/validate
      caBundle: $(base64 -w0 "$D/ca.crt")
    rules:
      - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
    failurePolicy: Fail
    sideEffects: None
    admissionReviewVersions: ["v1"]
    timeoutSeconds: 5
YAML
		t_check "ValidatingWebhookConfiguration pointing at the webhook is accepted" k apply -f "$D/vwc.yaml"
		out=
		for _ in $(seq 40); do
			out=$(k run bad -n shop --image=registry.example/web:1 --restart=Never --dry-run=server 2>&1)
			grep -q 'denied the request' <<<"$out" && break
			sleep 0.5
		done
		if grep -q 'admission webhook "pods.hardline.test" denied the request' <<<"$out" &&
			grep -q 'readOnlyRootFilesystem' <<<"$out"; then
			t_ok "kube-apiserver: a non-compliant pod is denied with the webhook's message"
		else
			t_fail "kube-apiserver: non-compliant pod denied" "$(tail -3 <<<"$out")"
		fi
		cat >"$D/good-pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: good, namespace: shop}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: web
      image: registry.example/web@sha256:$(printf '%064d' 0)
      securityContext:
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: {drop: ["ALL"]}
YAML
		t_check "kube-apiserver: a compliant pod is admitted and stored" k create -f "$D/good-pod.yaml"
		if grep '"namespace":"shop"' "$D/webhook.log" | grep -q '"decision":"allow"'; then
			t_ok "kube-apiserver's reviews are logged as decisions"
		else
			t_fail "kube-apiserver's reviews logged" "$(grep -c shop "$D/webhook.log") lines for shop"
		fi
		k delete validatingwebhookconfiguration hardline-test >/dev/null 2>&1
	fi
fi

# --- policy reload: a good file, then a bad one (the good one stays in force) --------------------------------
echo '{"allowedUIDs": [1000, 1001], "exempt": {"namespaces": ["kube-system", "tools"]}}' >"$D/policy.new"
mv "$D/policy.new" "$D/policy.json"
ok=
wait_metric '^hardline_policy_reloads_total{result="success"} 1$' 30 0.2 && ok=1
[ -n "$ok" ] && t_ok "a changed policy file is reloaded" || t_fail "policy reload" "$(grep -i policy "$D/webhook.log")"
echo '{"allowedUIDs": [1000], "rulez": {}' >"$D/policy.json"
ok=
wait_metric '^hardline_policy_reloads_total{result="error"} 1$' 30 0.2 && ok=1
code=$("${C[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$D/review.json" "$URL/validate")
if [ -n "$ok" ] && [ "$code" = 200 ] && grep -q 'previous policy stays in force' "$D/webhook.log"; then
	t_ok "a bad policy file is logged and counted; the previous policy stays and requests are answered"
else
	t_fail "bad policy" "ok=$ok code=$code $(tail -2 "$D/webhook.log")"
fi

# --- clients that misbehave: garbage, an upload cut halfway; the server keeps serving and frees the request ------
printf 'NOT HTTP AT ALL\r\n\r\n' | timeout 5 openssl s_client -connect "127.0.0.1:$PORT" -quiet \
	-CAfile "$D/ca.crt" >"$D/garbage.out" 2>/dev/null
grep -q '^HTTP/1.1 400' "$D/garbage.out" && t_ok "a garbage request line gets 400" ||
	t_fail "garbage request line" "$(head -2 "$D/garbage.out")"
head -c 200000 /dev/zero | tr '\0' ' ' >"$D/cut.json"
timeout 1 "${C[@]}" -o /dev/null --limit-rate 50k --data-binary @"$D/cut.json" "$URL/validate" >/dev/null 2>&1
ok=
wait_metric '^hardline_admission_in_flight 0$' 40 0.1 && ok=1
code=$("${C[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$D/review.json" "$URL/validate")
[ -n "$ok" ] && [ "$code" = 200 ] && t_ok "an upload cut halfway is freed (in-flight back to 0) and the server serves on" ||
	t_fail "cut upload" "in_flight back to 0: ${ok:-no}, next request: $code"

# --- SIGTERM while a request is being uploaded: it completes, the process exits 0 within 5 s ----------------
{
	printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"slow","pad":"'
	head -c 250000 /dev/zero | tr '\0' 'x'
	printf '"}}'
} >"$D/slow.json"
"${C[@]}" -o /dev/null -w '%{http_code}' --limit-rate 100k --data-binary @"$D/slow.json" "$URL/validate" \
	>"$D/slow.code" 2>&1 &
SLOW=$!; t_bg $SLOW
wait_metric '^hardline_admission_in_flight 1' 50 0.05
t0=$(date +%s%N)
kill -TERM "$PID"
for _ in $(seq 30); do
	code=$(curl -sS -o /dev/null -w '%{http_code}' "$M/readyz" 2>/dev/null)
	[ "$code" = 503 ] && break
	sleep 0.05
done
[ "$code" = 503 ] && t_ok "SIGTERM: /readyz turns 503 while draining" || t_fail "readyz while draining" "got $code"
if "${C[@]}" -o /dev/null --max-time 2 --data-binary @"$D/review.json" "$URL/validate" 2>/dev/null; then
	t_fail "SIGTERM: new connections are refused" "a new connection was served"
else
	t_ok "SIGTERM: new connections are refused"
fi
wait "$PID"; rc=$?
t1=$(date +%s%N)
wait "$SLOW"
ms=$(((t1 - t0) / 1000000))
[ "$rc" -eq 0 ] && [ "$ms" -le 5000 ] && t_ok "SIGTERM: exit 0 after ${ms} ms" || t_fail "SIGTERM exit" "rc=$rc after ${ms} ms"
[ "$(cat "$D/slow.code")" = 200 ] && t_ok "SIGTERM: the request in flight (uploading) completed with 200" ||
	t_fail "SIGTERM: in-flight request" "got $(cat "$D/slow.code")"
t_done
