#!/usr/bin/env bash
# hardline-webhook with its real client: a real kube-apiserver (tests/peers) calls it through a
# ValidatingWebhookConfiguration (caBundle, failurePolicy Fail, namespace modes), and kubectl shows users our messages:
# pods, workloads (Deployment, CronJob), ephemeral containers, warn/audit/exempt namespaces, the decision log, ?timeout=.
# TLS and HTTP details are test_webhook_tls.sh's. HARDLINE_KEEP_CP=1 keeps the control-plane dir (logs, certs).
#
# Namespace modes (the same scheme as deploy/ and charts/hardline):
#   enforce.hardline.dev -> /validate  namespaces without hardline.dev/mode (or any value but warn, audit, off)
#   warn.hardline.dev    -> /warn      namespaces labelled hardline.dev/mode=warn
#   audit.hardline.dev   -> /audit     namespaces labelled hardline.dev/mode=audit
# kube-system and hardline-system are excluded by kubernetes.io/metadata.name in every entry (never called);
# hardline.dev/mode=off opts a namespace out. The policy's exempt.namespaces is the second line of defence.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/webhook.sh"

CP=$HL_ROOT/tests/peers/controlplane.sh
KUBECTL=${KUBECTL:-kubectl}

[ -x "$HARDLINE_WEBHOOK" ] || { t_fail "webhook binary" "$HARDLINE_WEBHOOK not built (make)"; t_done; exit; }
if ! command -v "$KUBECTL" >/dev/null || ! command -v openssl >/dev/null || ! command -v jq >/dev/null; then
	t_skip "webhook with kube-apiserver" "kubectl, openssl or jq missing (tests/deps.sh)"; t_done; exit
fi
if ! out=$("$HL_ROOT/tests/peers/install.sh" kube-apiserver etcd 2>&1); then
	if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
		t_skip "webhook with kube-apiserver" "peers not built and no Go toolchain: $(tail -1 <<<"$out")"
		t_done; exit
	fi
	t_fail "tests/peers/install.sh kube-apiserver etcd" "$(tail -5 <<<"$out")"; t_done; exit
fi
t_ok "kube-apiserver and etcd built or cached"

t_tmpdir D
cpdir=
_kube_cleanup() {
	if [ -n "$cpdir" ]; then
		"$CP" stop "$cpdir" >/dev/null 2>&1
		if [ "${HARDLINE_KEEP_CP:-0}" = 1 ] || [ "$_t_failed" -gt 0 ]; then
			cp "$D/webhook.log" "$cpdir/" 2>/dev/null
			echo "# control-plane dir kept: $cpdir (webhook.log inside)"
		else
			rm -rf "$cpdir"
		fi
	fi
	_t_cleanup
}
trap _kube_cleanup EXIT

cpdir=$(mktemp -d /tmp/hardline-cp.XXXXXX)
# The API server's audit log, to see the audit mode's auditAnnotations where users read them.
printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    resources: [{group: ""}]\n' \
	>"$D/audit-policy.yaml"
AUDIT_FLAGS="--audit-policy-file=$D/audit-policy.yaml --audit-log-path=$D/audit.log"
if ! kubeconfig=$(HARDLINE_APISERVER_FLAGS="${HARDLINE_APISERVER_FLAGS:-} $AUDIT_FLAGS" "$CP" start "$cpdir" \
	2>"$cpdir/start.err"); then
	t_fail "control plane starts" "$(tail -5 "$cpdir/start.err")"; t_done; exit
fi
t_ok "etcd + kube-apiserver started on 127.0.0.1"
k() { "$KUBECTL" --kubeconfig "$kubeconfig" --request-timeout=30s "$@"; }

# --- the webhook: serving cert from the control plane's CA, started on free ports --------------------------------
if ! certs=$("$CP" cert "$cpdir" webhook 2>&1); then t_fail "webhook serving cert" "$certs"; t_done; exit; fi
CRT=${certs%% *} KEY=${certs##* }
cat >"$D/policy.json" <<'JSON'
{
  "allowedUIDs": [1000],
  "exempt": { "namespaces": ["kube-system", "tools"] }
}
JSON
if ! webhook_start "$D/webhook.log" readyz --tls-cert "$CRT" --tls-key "$KEY" --policy "$D/policy.json" --threads 2 \
	--namespace hardline-system; then t_fail "webhook starts" "$(tail -5 "$D/webhook.log")"; t_done; exit; fi
t_ok "hardline-webhook serves on 127.0.0.1:$PORT with a certificate from the cluster CA"

# --- namespaces: shop (enforce), relaxed (warn), audited (audit), tools (policy-exempt), optout (off), probe ------
t_check "namespaces shop, relaxed, audited, tools, optout, probe with their default ServiceAccount" \
	"$CP" ns "$cpdir" shop relaxed audited tools optout probe
# (labelled before the webhook is registered: the API server reads namespace labels from its informer's cache)
k label namespace relaxed hardline.dev/mode=warn >/dev/null
k label namespace audited hardline.dev/mode=audit >/dev/null
k label namespace optout hardline.dev/mode=off >/dev/null
k create serviceaccount default -n kube-system >/dev/null 2>&1

CA64=$(base64 -w0 "$cpdir/pki/ca.crt")
entry() {   # NAME PATH MODE-SELECTOR FAILURE-POLICY: one webhooks[] entry, the rules and exclusions of deploy/
	cat <<YAML
  - name: $1
    clientConfig:
      url: https://127.0.0.1:$PORT$2
      caBundle: $CA64
    rules:
      - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"],
         resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"]}
      - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"],
         resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]}
      - {apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs", "cronjobs"]}
    namespaceSelector:
      matchExpressions:
        - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system, hardline-system]}
        - $3
    failurePolicy: $4
    matchPolicy: Equivalent
    sideEffects: None
    admissionReviewVersions: ["v1"]
    timeoutSeconds: 5
YAML
}
{
	printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n'
	printf 'metadata: {name: hardline}\nwebhooks:\n'
	entry enforce.hardline.dev /validate '{key: hardline.dev/mode, operator: NotIn, values: [warn, audit, "off"]}' Fail
	entry warn.hardline.dev /warn '{key: hardline.dev/mode, operator: In, values: [warn]}' Ignore
	entry audit.hardline.dev /audit '{key: hardline.dev/mode, operator: In, values: [audit]}' Ignore
} >"$D/vwc.yaml"
t_check "ValidatingWebhookConfiguration (enforce, warn, audit entries) is accepted" k apply -f "$D/vwc.yaml"

# --- manifests: a compliant pod, and jq edits of it --------------------------------------------------------------
DIG=sha256:$(printf 'hardline-kube' | sha256sum | cut -c1-64)
IMG=registry.example/shop/web@$DIG
pod() {   # NS NAME: a pod that follows the policy, as JSON
	jq -n --arg ns "$1" --arg name "$2" --arg img "$IMG" '{apiVersion: "v1", kind: "Pod",
	  metadata: {name: $name, namespace: $ns},
	  spec: {securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: "RuntimeDefault"}},
	    containers: [{name: "web", image: $img, securityContext: {readOnlyRootFilesystem: true,
	      allowPrivilegeEscalation: false, capabilities: {drop: ["ALL"]}}}]}}'
}
deployment() {   # NS NAME < pod JSON
	jq --arg ns "$1" --arg name "$2" '{apiVersion: "apps/v1", kind: "Deployment",
	  metadata: {name: $name, namespace: $ns},
	  spec: {replicas: 1, selector: {matchLabels: {app: $name}},
	    template: {metadata: {labels: {app: $name}}, spec: .spec}}}'
}
cronjob() {   # NS NAME < pod JSON
	jq --arg ns "$1" --arg name "$2" '{apiVersion: "batch/v1", kind: "CronJob",
	  metadata: {name: $name, namespace: $ns},
	  spec: {schedule: "*/5 * * * *", jobTemplate: {spec: {template: {spec: (.spec + {restartPolicy: "Never"})}}}}}'
}
ROOT='.spec.containers[0].securityContext.runAsUser = 0'

# --- wait until the API server calls the webhook (its webhook informer lags the apply by a moment) --------------
out=
for _ in $(seq 60); do
	out=$(pod shop probe | jq "$ROOT" | k create --dry-run=server -f - 2>&1)
	grep -q 'denied the request' <<<"$out" && break
	sleep 0.5
done
if grep -q 'admission webhook "enforce.hardline.dev" denied the request' <<<"$out"; then
	t_ok "the API server calls the webhook and reports its denial"
else
	t_fail "the API server calls the webhook" "no denial within 30 s: $(tail -3 <<<"$out")"
	t_done; exit
fi

# --- enforce: compliant pod created; each violation refused with the container and the field ------------------
if out=$(pod shop good | k create -f - 2>&1); then
	t_ok "enforce: a compliant pod (read-only root, uid 1000, non-root, no escalation, drop ALL, seccomp) is created"
else
	t_fail "enforce: a compliant pod is created" "$out"
fi
# denied NAME JQ-EDIT WANT...: the edited pod is refused in shop; stderr names every WANT
denied() {
	local name=$1 edit=$2 out w miss=; shift 2
	if out=$(pod shop "v-$RANDOM" | jq "$edit" | k create --dry-run=server -f - 2>&1); then
		t_fail "enforce: $name is refused" "created: $out"; return
	fi
	for w in 'denied the request' "$@"; do grep -qF -- "$w" <<<"$out" || miss="$miss '$w'"; done
	[ -z "$miss" ] && t_ok "enforce: $name is refused naming$(printf " '%s'" "$@")" ||
		t_fail "enforce: $name is refused" "missing$miss in: $out"
}
denied "readOnlyRootFilesystem missing" 'del(.spec.containers[0].securityContext.readOnlyRootFilesystem)' \
	"container web" "securityContext.readOnlyRootFilesystem"
denied "runAsUser 0" "$ROOT" "container web" "securityContext.runAsUser is 0"
denied "runAsNonRoot false" '.spec.containers[0].securityContext.runAsNonRoot = false' \
	"container web" "securityContext.runAsNonRoot"
# (the API server's own validation refuses privileged together with allowPrivilegeEscalation: false)
denied "privileged" '.spec.containers[0].securityContext |= (.privileged = true | del(.allowPrivilegeEscalation))' \
	"container web" "securityContext.privileged"
denied "capabilities add SYS_ADMIN" '.spec.containers[0].securityContext.capabilities.add = ["SYS_ADMIN"]' \
	"container web" "securityContext.capabilities.add" "SYS_ADMIN"
denied "hostNetwork" '.spec.hostNetwork = true' "spec.hostNetwork"
denied "hostPath volume" '.spec.volumes = [{name: "host", hostPath: {path: "/etc"}}]
	| .spec.containers[0].volumeMounts = [{name: "host", mountPath: "/host", readOnly: true}]' "hostPath" "host"
denied "an init container as root" '.spec.initContainers = [.spec.containers[0] | .name = "setup"
	| .securityContext.runAsUser = 0]' "init container setup" "securityContext.runAsUser is 0"
if out=$(pod shop "two-$RANDOM" | jq "$ROOT | del(.spec.containers[0].securityContext.readOnlyRootFilesystem)" |
	k create --dry-run=server -f - 2>&1) || ! grep -q '2 hardline policy violations: \[1\].*\[2\]' <<<"$out"; then
	t_fail "enforce: every violation is listed in one message" "$out"
else
	t_ok "enforce: two violations in one message, numbered"
fi

# --- workloads: refused in enforce, created with kubectl's Warning: lines in warn ------------------------------
for kind in deployment cronjob; do
	if out=$(pod x x | jq "$ROOT" | $kind shop "bad-$kind" | k create -f - 2>&1); then
		t_fail "enforce: a $kind with a root template is refused" "created: $out"
	elif grep -q 'denied the request' <<<"$out" && grep -q 'container web: securityContext.runAsUser' <<<"$out" &&
		grep -qi "$kind shop/bad-$kind" <<<"$out"; then
		t_ok "enforce: a $kind with a root template is refused at kubectl create (object and container named)"
	else
		t_fail "enforce: a $kind with a root template is refused" "$out"
	fi
	if out=$(pod x x | jq "$ROOT" | $kind relaxed "bad-$kind" | k create -f - 2>"$D/warn.err") &&
		grep -q '^Warning: hardline: .*container web: .*runAsUser' "$D/warn.err"; then
		t_ok "warn: the $kind is created and kubectl prints our Warning: lines"
	else
		t_fail "warn: the $kind is created with warnings" "$out $(cat "$D/warn.err")"
	fi
done
if k get deployment bad-deployment -n relaxed >/dev/null 2>&1 && ! k get deployment bad-deployment -n shop >/dev/null 2>&1
then t_ok "the warned deployment is stored in relaxed, the refused one is not in shop"
else t_fail "stored objects" "$(k get deployments -A 2>&1)"; fi
if out=$(pod audited a1 | jq "$ROOT" | k create -f - 2>&1); then
	t_ok "audit: a root pod is created in an audit namespace"
else
	t_fail "audit: a root pod is created in an audit namespace" "$out"
fi
ann=
for _ in $(seq 20); do
	ann=$(grep '"objectRef":{"resource":"pods","namespace":"audited","name":"a1"' "$D/audit.log" 2>/dev/null |
		jq -r 'select(.stage == "ResponseComplete") | .annotations["audit.hardline.dev/violations"] // empty' |
		head -1)
	[ -n "$ann" ] && break
	sleep 0.25
done
if grep -q 'container web: securityContext.runAsUser is 0' <<<"$ann"; then
	t_ok "audit: the API server's audit log records audit.hardline.dev/violations for the pod"
else
	t_fail "audit annotation in the API server's audit log" "annotation: '$ann'; $(grep -c . "$D/audit.log" 2>/dev/null) events"
fi

# --- UPDATE: a compliant Deployment in enforce, then patched to run as root ------------------------------------
if out=$(pod x x | deployment shop fine | k create -f - 2>&1) && out=$(k patch deployment fine -n shop --type=json \
	-p '[{"op":"add","path":"/spec/template/spec/containers/0/securityContext/runAsUser","value":0}]' 2>&1); then
	t_fail "enforce: an UPDATE that makes a Deployment run as root is refused" "patched: $out"
elif grep -q 'denied the request' <<<"$out" && grep -q 'container web: securityContext.runAsUser is 0' <<<"$out"; then
	t_ok "enforce: kubectl patch (UPDATE) that makes a compliant Deployment run as root is refused"
else
	t_fail "enforce: an UPDATE that makes a Deployment run as root is refused" "$out"
fi
t_check "enforce: an UPDATE that leaves the pod template alone (a label) is admitted" \
	k label deployment fine -n shop tier=web

# --- we eat our own food: the webhook's own Deployment (deploy/) passes the enforce policy -------------------------
own=$(k kustomize "$HL_ROOT/deploy" | k create --dry-run=client --validate=false -f - -o json 2>/dev/null |
	jq -c 'if .kind == "List" then .items[] else . end | select(.kind == "Deployment") | .metadata.namespace = "shop"' \
	2>/dev/null)
if [ -n "$own" ] && out=$(k create --dry-run=server -f - <<<"$own" 2>&1) &&
	grep '"namespace":"shop"' "$D/webhook.log" | grep '"name":"hardline-webhook"' | grep -q '"decision":"allow"'; then
	t_ok "deploy/'s hardline-webhook Deployment is admitted by the webhook in an enforce namespace"
else
	t_fail "the webhook's own Deployment passes its policy" "${out:-no Deployment rendered}"
fi

# --- ephemeral containers (kubectl debug) through pods/ephemeralcontainers on the Pending pod ------------------
echo '{"securityContext":{"runAsUser":0,"runAsNonRoot":false}}' >"$D/root.json"
out=$(k debug good -n shop --image="busybox@$DIG" -c dbg --target=web --profile=general --custom="$D/root.json" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q 'denied the request' <<<"$out" && grep -q 'ephemeral container dbg' <<<"$out" &&
	grep -q 'runAsUser' <<<"$out"; then
	t_ok "kubectl debug: an ephemeral container as root is refused (pods/ephemeralcontainers)"
else
	# the subresource directly, as kubectl debug sends it
	k get pod good -n shop -o json | jq --arg img "busybox@$DIG" '.spec.ephemeralContainers = [{name: "dbg",
	  image: $img, targetContainerName: "web", securityContext: {runAsUser: 0, runAsNonRoot: false}}]' >"$D/eph.json"
	out2=$(k replace --raw /api/v1/namespaces/shop/pods/good/ephemeralcontainers -f "$D/eph.json" 2>&1)
	if grep -q 'denied the request' <<<"$out2" && grep -q 'ephemeral container dbg' <<<"$out2"; then
		t_ok "pods/ephemeralcontainers: an ephemeral container as root is refused (kubectl debug said: $(head -1 <<<"$out"))"
	else
		t_fail "ephemeral container as root refused" "kubectl debug rc=$rc: $out; replace --raw: $out2"
	fi
fi
echo '{"securityContext":{"readOnlyRootFilesystem":true,"runAsUser":1000}}' >"$D/ok.json"
if out=$(k debug good -n shop --image="busybox@$DIG" -c dbg2 --target=web --profile=restricted \
	--custom="$D/ok.json" 2>&1) &&
	[ "$(k get pod good -n shop -o jsonpath='{.spec.ephemeralContainers[*].name}')" = dbg2 ]; then
	t_ok "kubectl debug --profile=restricted with uid 1000 and a read-only root adds the ephemeral container"
else
	t_fail "compliant kubectl debug" "$out"
fi

# --- exemptions: kube-system (never sent), tools (policy exempt.namespaces), hardline.dev/mode=off ---------------
if out=$(pod kube-system sys | jq "$ROOT | .spec.containers[0].securityContext.privileged = true
	| del(.spec.containers[0].securityContext.allowPrivilegeEscalation)" | k create -f - 2>&1); then
	t_ok "kube-system is exempt: a privileged root pod is created there"
else
	t_fail "kube-system is exempt" "$out"
fi
if out=$(pod tools t1 | jq "$ROOT" | k create -f - 2>&1) &&
	grep '"namespace":"tools"' "$D/webhook.log" | grep -q '"decision":"allow"'; then
	t_ok "policy exempt.namespaces: the webhook is called for tools and admits the root pod"
else
	t_fail "policy exempt namespace tools" "$out $(grep -c '"tools"' "$D/webhook.log") log lines"
fi
if out=$(pod optout o1 | jq "$ROOT" | k create -f - 2>&1) && ! grep -q '"namespace":"optout"' "$D/webhook.log"; then
	t_ok "hardline.dev/mode=off: the namespace is not sent to the webhook"
else
	t_fail "mode=off namespace" "$out"
fi

# --- the decision log: uid, namespace, reasons; audit and warn decisions -----------------------------------------
line=$(grep '^{' "$D/webhook.log" | jq -c 'select(.decision == "deny" and .namespace == "shop" and .kind == "Pod"
	and (.reasons | tostring | contains("container web: securityContext.runAsUser is 0")))' 2>/dev/null | tail -1)
if jq -e '(.uid | test("^[0-9a-f-]{36}$")) and .user == "admin" and .operation == "CREATE"' <<<"$line" >/dev/null 2>&1
then
	t_ok "the denial's log line carries the API server's request uid, namespace, user and reasons"
else
	t_fail "denial log line" "$line"
fi
grep -q '"kind":"Pod".*"dryRun":true' "$D/webhook.log" && t_ok "dry-run requests are logged with dryRun true" ||
	t_fail "dryRun in the log" "$(grep -m1 dryRun "$D/webhook.log")"
grep '"namespace":"audited"' "$D/webhook.log" | grep -q '"decision":"audit"' &&
	grep '"namespace":"relaxed"' "$D/webhook.log" | grep '"kind":"CronJob"' | grep -q '"decision":"warn"' &&
	t_ok "audit and warn decisions are logged with their namespaces" ||
	t_fail "audit/warn log lines" "$(grep -E 'audited|relaxed' "$D/webhook.log" | head -3)"
metrics=$(curl -sS "http://127.0.0.1:$MPORT/metrics")
grep -q '^hardline_admission_requests_total{mode="enforce",decision="deny",kind="Deployment"} [1-9]' <<<"$metrics" &&
	grep -q '^hardline_admission_requests_total{mode="warn",decision="warn",kind="CronJob"} [1-9]' <<<"$metrics" &&
	t_ok "metrics count the API server's reviews by mode, decision and kind" ||
	t_fail "metrics" "$(grep requests_total <<<"$metrics")"

# --- ?timeout=: what the API server puts on the URL (seen by a TLS listener that records the request) -----------
# The webhook does not log the query string, so a second entry (failurePolicy Ignore, namespace "probe") points at
# openssl s_server, which prints what it receives and never answers: the API server gives up after timeoutSeconds.
SPORT=$((PORT + 2))
mkfifo "$D/s_server.in"   # s_server stops at EOF on its stdin: hold it open for the probe's time
sleep 60 >"$D/s_server.in" &
t_bg $!
openssl s_server -accept "127.0.0.1:$SPORT" -cert "$CRT" -key "$KEY" -naccept 1 <"$D/s_server.in" \
	>"$D/s_server.out" 2>&1 &
t_bg $!
sleep 0.5
sed -e 's/^  - name: enforce.hardline.dev/  - name: probe.hardline.dev/' -e "s|:$PORT/validate|:$SPORT/validate|" \
	-e 's/failurePolicy: Fail/failurePolicy: Ignore/' \
	-e 's/- {key: hardline.dev\/mode, operator: NotIn.*/- {key: kubernetes.io\/metadata.name, operator: In, values: [probe]}/' \
	<(awk '/^  - name: warn/{exit} {print}' "$D/vwc.yaml") | sed 's/name: hardline}/name: hardline-probe}/' \
	>"$D/probe.yaml"
if k apply -f "$D/probe.yaml" >/dev/null 2>&1; then
	for _ in $(seq 20); do
		pod probe "p-$RANDOM" | k create --dry-run=server -f - >/dev/null 2>&1
		grep -q '^POST ' "$D/s_server.out" && break
		sleep 0.5
	done
	req=$(grep -m1 '^POST ' "$D/s_server.out")
	if [[ "$req" == "POST /validate?timeout=5s HTTP/1.1"* ]]; then
		t_ok "the API server calls POST /validate?timeout=5s over HTTP/1.1 (timeoutSeconds: 5)"
	else
		t_fail "?timeout= on the URL" "request line: '$req' $(head -3 "$D/s_server.out")"
	fi
	k delete -f "$D/probe.yaml" >/dev/null 2>&1
else
	t_fail "probe webhook configuration" "$(k apply -f "$D/probe.yaml" 2>&1)"
fi

# --- failurePolicy Fail: with the webhook gone, enforce namespaces refuse, exempt ones do not ---------------------
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null
out=$(pod shop after | k create --dry-run=server -f - 2>&1)
if grep -q 'failed calling webhook "enforce.hardline.dev"' <<<"$out"; then
	t_ok "failurePolicy Fail: with the webhook down a pod in shop is refused (failed calling webhook)"
else
	t_fail "failurePolicy Fail" "$out"
fi
sys_pod() { pod kube-system sys2 | k create --dry-run=server -f -; }
t_check "with the webhook down kube-system still admits pods" sys_pod
warn_pod() { pod relaxed w2 | jq "$ROOT" | k create --dry-run=server -f -; }
t_check "with the webhook down a warn namespace still admits (its entry has failurePolicy Ignore)" warn_pod
k delete validatingwebhookconfiguration hardline >/dev/null 2>&1
t_done
