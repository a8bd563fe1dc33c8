#!/usr/bin/env bash
# hardline-webhook's attestation check end to end: a real docker-registry on 127.0.0.1 holding images and the
# attestations `hardline attest --push` put there, a directory source, and the webhook over TLS: attested images
# admitted; unattested, wrong-key, tampered and tag-only images refused with our messages; a new attestation file and
# a removed key take effect without a restart; a registry that is down or hangs is refused within the deadline while
# cached images keep being answered fast; a failing registry is backed off.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/webhook.sh"
source "$(dirname "$0")/certs.sh"
source "$(dirname "$0")/registry.sh"

for tool in docker-registry skopeo umoci jq python3 openssl curl; do
	if ! command -v "$tool" >/dev/null; then t_skip "webhook attest" "$tool is not installed (make deps)"; t_done; exit; fi
done
[ -x "$HARDLINE_WEBHOOK" ] || { t_fail "webhook binary" "$HARDLINE_WEBHOOK not built"; t_done; exit; }
t_tmpdir D
cd "$D" || exit 1
unset HARDLINE_KEY_PASSWORD
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# --- certificates for the webhook (IP 127.0.0.1) -------------------------------------------------------------
certs_ca "$D" t-ca && certs_server "$D" s 4097 IP:127.0.0.1 ||
	{ t_fail "test certificates" "openssl could not make them"; t_done; exit; }

# --- a registry and four small images (same files, different labels: different digests) ----------------------
RP=$(free_port)
registry_start "$D/reg" "$RP" || { t_fail "docker-registry starts" "see above"; t_done; exit; }
R=127.0.0.1:$RP
umoci init --layout img >/dev/null 2>&1 && umoci new --image img:base >/dev/null 2>&1 &&
	umoci unpack --rootless --image img:base b >/dev/null 2>&1 ||
	{ t_fail "umoci builds the fixture" "umoci failed"; t_done; exit; }
mkdir -p b/rootfs/app b/rootfs/etc
echo "hello" >b/rootfs/app/hello.txt
printf 'appuser:x:1000:1000::/app:/usr/sbin/nologin\n' >b/rootfs/etc/passwd
umoci repack --image img:base b >/dev/null 2>&1 || { t_fail "umoci repack" "umoci failed"; t_done; exit; }
declare -A DG
for n in a b c d e; do
	umoci config --image img:base --tag "$n" --config.label "dev.hardline.test=$n" >/dev/null 2>&1
	timeout 60 skopeo copy -q --dest-tls-verify=false "oci:img:$n" "docker://$R/shop/web:$n" >/dev/null 2>&1 ||
		{ t_fail "skopeo pushes image $n" "skopeo failed"; t_done; exit; }
	DG[$n]=$(skopeo inspect --tls-verify=false "docker://$R/shop/web:$n" | jq -r .Digest)
done
"$HARDLINE" keygen --out ours >/dev/null 2>&1 && "$HARDLINE" keygen --out other >/dev/null 2>&1 ||
	{ t_fail "keygen" "hardline keygen failed"; t_done; exit; }
mkdir -p keys atts
cp ours.pub keys/
# a: attested in the registry with our key; b: with another key; c: nothing; d: in the directory (later);
# e: a tampered envelope in the directory.
t_check "attest --push image a (our key)" "$HARDLINE" attest --key ours.key --push "docker://$R/shop/web@${DG[a]}"
t_check "attest --push image b (another key)" "$HARDLINE" attest --key other.key --push "docker://$R/shop/web@${DG[b]}"
t_check "attest image d into a file" "$HARDLINE" attest --key ours.key --out d.json "docker://$R/shop/web@${DG[d]}"
"$HARDLINE" attest --key ours.key --out e.json "docker://$R/shop/web@${DG[e]}" >/dev/null 2>&1
# Tamper: the same signature over a Statement with another timestamp.
jq -c '.payload |= (@base64d | fromjson | .predicate.timestamp = "2030-01-01T00:00:00Z" | tojson | @base64)' e.json \
	>atts/e-tampered.json

cat >policy.json <<EOF
{"exempt": {"namespaces": ["kube-system"], "images": ["sha256:$(printf 'f%.0s' $(seq 64))"]},
 "attestations": {"keys": ["$D/keys"], "imageReferences": "digest",
   "sources": [{"directory": "$D/atts"}, {"registry": {"insecureLoopback": true}}],
   "cache": {"failureTtl": "1s"}}}
EOF

# --- the webhook ----------------------------------------------------------------------------------------------
webhook_start webhook.log healthz --tls-cert s.crt --tls-key s.key --policy policy.json --threads 4 \
	--namespace hardline-system && t_ok "webhook starts with the attestation policy" ||
	{ t_fail "webhook starts with the attestation policy" "$(tail -5 webhook.log)"; t_done; exit; }
URL=https://127.0.0.1:$PORT

review() { webhook_review "u-$RANDOM" "$1"; }   # IMAGE: a pod that passes every other rule
# ask IMAGE [TIMEOUT]: prints "allowed<TAB>code<TAB>message"
ask() {
	review "$1" | curl -sS --http1.1 --max-time 40 --cacert ca.crt -H 'Content-Type: application/json' \
		--data-binary @- "$URL/validate?timeout=${2:-10s}" |
		jq -r '[.response.allowed, (.response.status.code // 200), (.response.status.message // "")] | @tsv'
}
# expect NAME IMAGE allowed|denied [PATTERN]
expect() {
	local name=$1 img=$2 want=$3 pat=${4:-} out
	out=$(ask "$img")
	if [ "$want" = allowed ] && [[ "$out" == true* ]]; then t_ok "$name"
	elif [ "$want" = denied ] && [[ "$out" == false* ]] && [[ "$out" == *"$pat"* ]]; then t_ok "$name"
	else t_fail "$name" "expected $want ${pat:+with \"$pat\"}: $out"; fi
}

expect "attested in the registry with a trusted key: admitted" "$R/shop/web@${DG[a]}" allowed
expect "signed by an untrusted key: refused, saying where we looked" "$R/shop/web@${DG[b]}" denied \
	"container web: image $R/shop/web@${DG[b]:0:19}… has no hardening attestation signed by a trusted key (looked in $D/atts and $R); run \`hardline attest --key … --push\`"
expect "no attestation: refused" "$R/shop/web@${DG[c]}" denied "has no hardening attestation"
expect "tag only: refused with how to pin it" "$R/shop/web:a" denied \
	"container web: image $R/shop/web:a is not pinned by digest; use $R/shop/web@sha256:<digest> (e.g. from \"skopeo inspect docker://$R/shop/web:a\""
expect "tampered envelope in the directory: refused" "$R/shop/web@${DG[e]}" denied "has no hardening attestation"
expect "exempt image by digest: admitted without an attestation" \
	"$R/other@sha256:$(printf 'f%.0s' $(seq 64))" allowed
expect "tag@digest reference: the digest decides" \
	"$R/shop/web:x@${DG[a]}" allowed
expect "image d before its attestation file exists: refused" "$R/shop/web@${DG[d]}" denied "has no hardening attestation"

# --- the directory source: a new file admits without a restart; removing the key refuses -------------------
cp d.json atts/d.json
ok=
for _ in $(seq 30); do [[ "$(ask "$R/shop/web@${DG[d]}")" == true* ]] && { ok=1; break; }; sleep 0.2; done
[ -n "$ok" ] && t_ok "a new attestation file admits the image without a restart" ||
	t_fail "a new attestation file admits the image without a restart" "$(ask "$R/shop/web@${DG[d]}")"
grep -q "attestation directory $D/atts: .* indexed" webhook.log && grep -q "skipping e-tampered.json\|not accepted" webhook.log &&
	t_ok "the log says what was indexed and what was not accepted" || t_fail "log lines" "$(tail -5 webhook.log)"
rm keys/ours.pub
ok=
for _ in $(seq 30); do [[ "$(ask "$R/shop/web@${DG[d]}")" == false* ]] && { ok=1; break; }; sleep 0.2; done
[ -n "$ok" ] && t_ok "removing the trusted key refuses the image (no restart)" ||
	t_fail "removing the trusted key refuses the image" "$(ask "$R/shop/web@${DG[d]}")"
cp ours.pub keys/rotated.pub
ok=
for _ in $(seq 30); do [[ "$(ask "$R/shop/web@${DG[a]}")" == true* ]] && { ok=1; break; }; sleep 0.2; done
[ -n "$ok" ] && t_ok "adding the key back (another file name) admits again" || t_fail "key added back" "$(ask "$R/shop/web@${DG[a]}")"

# --- faults: a registry that is down, one that hangs -------------------------------------------------------
DOWN=127.0.0.1:$(free_port)   # nothing listens there
t0=$(now_ms); out=$(ask "$DOWN/shop/web@${DG[c]}" 5s); ms=$(( $(now_ms) - t0 ))
if [[ "$out" == false* ]] && [[ "$out" == *"could not be fetched from $DOWN"* ]] && [ "$ms" -lt 5000 ]; then
	t_ok "registry down: refused in ${ms} ms, saying it could not be fetched from where"
else t_fail "registry down: refused within the deadline" "${ms} ms: $out"; fi

SP=$(free_port)
python3 - "$SP" <<'PY' &
import asyncio, sys
async def hold(r, w):
    try:
        await asyncio.sleep(20)   # accept, read nothing, answer nothing (bounded)
    finally:
        w.close()
async def main():
    srv = await asyncio.start_server(hold, "127.0.0.1", int(sys.argv[1]))
    async with srv:
        await asyncio.sleep(90)   # the whole proxy lives at most 90 s
asyncio.run(main())
PY
t_bg $!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$SP") 2>/dev/null && break; sleep 0.1; done
SLOW=127.0.0.1:$SP
ask "$R/shop/web@${DG[a]}" >/dev/null   # make sure a is cached
t0=$(now_ms)
ask "$SLOW/shop/web@${DG[c]}" 3s >slow.out &
sp=$!
sleep 0.3
t1=$(now_ms); fast=$(ask "$R/shop/web@${DG[a]}"); fast_ms=$(( $(now_ms) - t1 ))
wait "$sp"; ms=$(( $(now_ms) - t0 ))
out=$(cat slow.out)
if [[ "$out" == false* ]] && [[ "$out" == *"could not be"* ]] && [ "$ms" -lt 3300 ]; then
	t_ok "hanging registry: refused in ${ms} ms with ?timeout=3s (fail closed): ${out##*[1] }"
else t_fail "hanging registry: refused within the deadline" "${ms} ms: $out"; fi
if [[ "$fast" == true* ]] && [ "$fast_ms" -lt 1000 ]; then
	t_ok "meanwhile a cached image is answered in ${fast_ms} ms"
else t_fail "meanwhile a cached image is answered fast" "${fast_ms} ms: $fast"; fi
# Single flight: four concurrent requests for one digest at the hanging registry make one fetch, not four.
fetch_errors() { curl -sS "http://127.0.0.1:$MPORT/metrics" |
	awk '/^hardline_attestation_fetch_total\{source="registry",result="error"\}/ {print $2}'; }
e0=$(fetch_errors)
fl=()
for i in 1 2 3 4; do ask "$SLOW/shop/web@${DG[b]}" 3s >"flight$i.out" & fl+=($!); done
wait "${fl[@]}"
e1=$(fetch_errors)
if [ "$(cat flight*.out | grep -c '^false')" = 4 ] && [ "$((e1 - ${e0:-0}))" = 1 ]; then
	t_ok "four concurrent requests for one digest share one registry fetch, all refused in time"
else t_fail "single flight" "fetch errors $e0 -> $e1: $(cat flight*.out)"; fi
# Two more failures (failureTtl 1s lets them through the cache) start the back-off: the next answer is at once.
sleep 1.1; ask "$DOWN/shop/web@${DG[c]}" 5s >/dev/null
sleep 1.1; ask "$DOWN/shop/web@${DG[c]}" 5s >/dev/null
sleep 1.1
t0=$(now_ms); out=$(ask "$DOWN/shop/web@${DG[c]}" 5s); ms=$(( $(now_ms) - t0 ))
if [[ "$out" == *"skipped for 30 s"* ]]; then t_ok "after 3 failures the registry is skipped (${ms} ms)"
else t_fail "after 3 failures the registry is skipped" "${ms} ms: $out"; fi

# --- metrics ---------------------------------------------------------------------------------------------------
curl -sS "http://127.0.0.1:$MPORT/metrics" >metrics.txt
grep -q '^hardline_attestation_cache_total{result="hit"} [1-9]' metrics.txt &&
	grep -q '^hardline_attestation_cache_total{result="miss"} [1-9]' metrics.txt &&
	grep -q '^hardline_attestation_fetch_total{source="registry",result="found"} [1-9]' metrics.txt &&
	grep -q '^hardline_attestation_fetch_total{source="registry",result="error"} [1-9]' metrics.txt &&
	grep -q '^hardline_attestation_fetch_total{source="directory",result="found"} [1-9]' metrics.txt &&
	t_ok "metrics count cache hits/misses and fetches by source and result" ||
	t_fail "attestation metrics" "$(grep attestation metrics.txt)"

# --- a policy whose keys cannot load is refused at reload; the previous one stays in force -------------------
sed "s#$D/keys#$D/nokeys#" policy.json >policy.new && mv policy.new policy.json
sleep 2
grep -q "the previous policy stays in force" webhook.log && [[ "$(ask "$R/shop/web@${DG[a]}")" == true* ]] &&
	t_ok "a policy with missing keys is refused at reload; the previous stays in force" ||
	t_fail "bad policy reload" "$(tail -3 webhook.log)"


# --- warn mode: the same text as a warning of at most 120 characters --------------------------------------------
w=$(review "$R/shop/web@${DG[b]}" | curl -sS --http1.1 --max-time 20 --cacert ca.crt -H 'Content-Type: application/json' \
	--data-binary @- "$URL/warn?timeout=10s" | jq -r '[.response.allowed, .response.warnings[0]] | @tsv')
warning=${w#*$'\t'}
if [[ "$w" == true* ]] && [[ "$warning" == *"container web: image $R/shop/web@sha256:"* ]] && [ "${#warning}" -le 120 ]; then
	t_ok "warn mode: admitted with the message as a warning (${#warning} characters)"
else t_fail "warn mode: admitted with a warning of at most 120 characters" "$w"; fi

# --- cosign as the peer: its attestation (Statement v0.1, cosign's .att layout) admits once its key is trusted ---
COSIGN=${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}/bin/cosign
if [ -x "$COSIGN" ]; then
	export COSIGN_YES=true SIGSTORE_NO_CACHE=true TUF_ROOT="$D/tuf" COSIGN_PASSWORD=cpw
	"$COSIGN" generate-key-pair >/dev/null 2>&1
	"$HARDLINE" verify --key ours.pub --json "docker://$R/shop/web@${DG[a]}" 2>/dev/null | jq .predicate >pred.json
	out=$(timeout 120 "$COSIGN" attest --key cosign.key --type https://hardline.dev/attestation/hardening/v1 \
		--predicate pred.json --tlog-upload=false --allow-insecure-registry "$R/shop/web@${DG[c]}" 2>&1) ||
		t_fail "cosign attest image c" "$(tail -3 <<<"$out")"
	expect "cosign's attestation with an untrusted key: refused" "$R/shop/web@${DG[c]}" denied "has no hardening attestation"
	cp cosign.pub keys/cosign.pub
	ok=
	for _ in $(seq 30); do [[ "$(ask "$R/shop/web@${DG[c]}")" == true* ]] && { ok=1; break; }; sleep 0.2; done
	[ -n "$ok" ] && t_ok "cosign attest + its key added to the keys directory: admitted" ||
		t_fail "cosign attestation admitted" "$(ask "$R/shop/web@${DG[c]}")"
else
	t_skip "cosign attestation admitted" "cosign peer not built (tests/peers/install.sh cosign)"
fi

# --- imageReferences resolve: the tag is resolved at the registry ------------------------------------------------
jq '.attestations.imageReferences = "resolve"' policy.json | sed "s#$D/nokeys#$D/keys#" >policy.new && mv policy.new policy.json
ok=
for _ in $(seq 30); do [[ "$(ask "$R/shop/web:a")" == true* ]] && { ok=1; break; }; sleep 0.2; done
[ -n "$ok" ] && t_ok "resolve: the tag of an attested image is admitted" || t_fail "resolve: tag admitted" "$(ask "$R/shop/web:a")"
expect "resolve: the tag of an image signed by another key is refused" "$R/shop/web:b" denied "has no hardening attestation"
expect "resolve: an unknown tag is refused as not checkable" "$R/shop/web:nope" denied "cannot resolve the tag"

# --- through a real kube-apiserver: pods are created or refused with our message ---------------------------------
CP=$HL_ROOT/tests/peers/controlplane.sh
if ! command -v kubectl >/dev/null || ! "$HL_ROOT/tests/peers/install.sh" kube-apiserver etcd >/dev/null 2>&1; then
	t_skip "attested pods through kube-apiserver" "kubectl or the kube-apiserver peer missing"; t_done; exit
fi
cpdir=$(mktemp -d /tmp/hardline-cp.XXXXXX)
_att_cleanup() { "$CP" stop "$cpdir" >/dev/null 2>&1; rm -rf "$cpdir"; _t_cleanup; }
trap _att_cleanup EXIT
if ! kubeconfig=$("$CP" start "$cpdir" 2>"$D/cp.err"); then
	t_fail "control plane starts" "$(tail -5 "$D/cp.err")"; t_done; exit
fi
k() { kubectl --kubeconfig "$kubeconfig" --request-timeout=30s "$@"; }
certs=$("$CP" cert "$cpdir" webhook) || { t_fail "webhook serving cert" "$certs"; t_done; exit; }
webhook_start kube-webhook.log readyz --tls-cert "${certs%% *}" --tls-key "${certs##* }" --policy policy.json \
	--threads 2 --namespace hardline-system ||
	{ t_fail "webhook for the API server starts" "$(tail -5 kube-webhook.log)"; t_done; exit; }
KPORT=$PORT
"$CP" ns "$cpdir" shop >/dev/null
cat >vwc.yaml <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hardline-attest}
webhooks:
  - name: enforce.hardline.dev
    clientConfig: {url: "https://127.0.0.1:$KPORT/validate", caBundle: $(base64 -w0 "$cpdir/pki/ca.crt")}
    rules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}]
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
    failurePolicy: Fail
    sideEffects: None
    admissionReviewVersions: ["v1"]
    timeoutSeconds: 5
YAML
t_check "ValidatingWebhookConfiguration accepted" k apply -f vwc.yaml
pod() {   # NAME IMAGE
	jq -n --arg name "$1" --arg img "$2" '{apiVersion: "v1", kind: "Pod", metadata: {name: $name, namespace: "shop"},
	  spec: {securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: "RuntimeDefault"}},
	    containers: [{name: "web", image: $img, securityContext: {readOnlyRootFilesystem: true,
	      allowPrivilegeEscalation: false, capabilities: {drop: ["ALL"]}}}]}}'
}
out=
for _ in $(seq 60); do
	out=$(pod probe "$R/shop/web@${DG[b]}" | k create --dry-run=server -f - 2>&1)
	grep -q 'denied the request' <<<"$out" && break
	sleep 0.5
done
if grep -q "container web: image $R/shop/web@sha256:[0-9a-f]\{12\}… has no hardening attestation signed by a trusted key" <<<"$out"; then
	t_ok "kube-apiserver: a pod with an image signed by an untrusted key is refused with our message"
else t_fail "kube-apiserver: unattested pod refused with our message" "$out"; fi
if out=$(pod web "$R/shop/web@${DG[a]}" | k create -f - 2>&1); then
	t_ok "kube-apiserver: a pod with an attested image is created"
else t_fail "kube-apiserver: attested pod created" "$out"; fi
out=$(pod tagged "$R/shop/web:zzz" | k create -f - 2>&1)
[[ "$out" == *"denied the request"* ]] && t_ok "kube-apiserver: a tag that does not resolve is refused" ||
	t_fail "kube-apiserver: unresolvable tag refused" "$out"

t_done
