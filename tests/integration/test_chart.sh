#!/usr/bin/env bash
# How a platform team installs hardline-webhook, tried on real peers: charts/hardline (helm lint, template, schema,
# install/upgrade/uninstall into a real kube-apiserver) and deploy/ (kubectl kustomize, server-side dry-run, apply +
# gen-certs.sh --apply), both policies accepted by the real webhook, and deploy/Containerfile built with podman.
# With no kubelet the webhook pods stay Pending, so an installed configuration (failurePolicy Fail) refuses creates
# in enforced namespaces: that is checked, and each configuration is removed before the next step.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/certs.sh"

PEERS=${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}
CP=$HL_ROOT/tests/peers/controlplane.sh
KUBECTL=${KUBECTL:-kubectl}
CHART=$HL_ROOT/charts/hardline
DEPLOY=$HL_ROOT/deploy

if ! command -v "$KUBECTL" >/dev/null || ! command -v openssl >/dev/null || ! command -v jq >/dev/null; then
	t_skip "chart and manifests" "kubectl, openssl or jq missing (tests/deps.sh)"; t_done; exit
fi
if ! out=$("$HL_ROOT/tests/peers/install.sh" kube-apiserver etcd helm 2>&1); then
	if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
		t_skip "chart and manifests" "peers not built and no Go toolchain: $(tail -1 <<<"$out")"; t_done; exit
	fi
	t_fail "tests/peers/install.sh kube-apiserver etcd helm" "$(tail -5 <<<"$out")"; t_done; exit
fi
HELM=$PEERS/bin/helm
t_tmpdir D

# --- a real API server (kubectl needs one even to parse manifests client-side) ----------------------------------
cpdir=
_chart_cleanup() {
	if [ -n "$cpdir" ]; then
		"$CP" stop "$cpdir" >/dev/null 2>&1
		if [ "${HARDLINE_KEEP_CP:-0}" = 1 ] || [ "$_t_failed" -gt 0 ]; then echo "# control-plane dir kept: $cpdir"
		else rm -rf "$cpdir"; fi
	fi
	_t_cleanup
}
trap _chart_cleanup EXIT
cpdir=$(mktemp -d /tmp/hardline-cp.XXXXXX)
if ! kubeconfig=$("$CP" start "$cpdir" 2>"$cpdir/start.err"); then
	t_fail "control plane starts" "$(tail -5 "$cpdir/start.err")"; t_done; exit
fi
t_ok "etcd + kube-apiserver started on 127.0.0.1"
k() { "$KUBECTL" --kubeconfig "$kubeconfig" --request-timeout=30s "$@"; }
h() { "$HELM" --kubeconfig "$kubeconfig" "$@"; }
# --- the chart: lint, render, schema, the helpers' errors ------------------------------------------------------
t_check "helm lint --strict charts/hardline" "$HELM" lint --strict "$CHART"
if "$HELM" template rel "$CHART" -n hl-chart >"$D/chart.yaml" 2>"$D/err"; then
	kinds=$(grep '^kind:' "$D/chart.yaml" | sort | tr '\n' ' ')
	want="kind: ConfigMap kind: Deployment kind: PodDisruptionBudget kind: Secret kind: Service kind: ServiceAccount kind: ValidatingWebhookConfiguration "
	[ "$kinds" = "$want" ] && t_ok "helm template renders the seven objects" || t_fail "helm template objects" "$kinds"
else
	t_fail "helm template renders" "$(cat "$D/err")"
fi
yq_json() {   # FILE KIND: the object of that kind in a multi-document YAML file, as JSON (via kubectl)
	k create --dry-run=client --validate=false -f "$1" -o json 2>/dev/null |
		jq -c --arg k "$2" 'if .kind == "List" then .items[] else . end | select(.kind == $k)'
}
t_check "kubectl create --dry-run=client parses every rendered object" \
	k create --dry-run=client --validate=false -f "$D/chart.yaml"
vwc=$(yq_json "$D/chart.yaml" ValidatingWebhookConfiguration)
sec=$(yq_json "$D/chart.yaml" Secret)
if jq -e --argjson s "$sec" '[.webhooks[] | .clientConfig.caBundle == $s.data["ca.crt"]] == [true, true, true]
	and ([.webhooks[].name] == ["enforce.hardline.dev", "warn.hardline.dev", "audit.hardline.dev"])
	and ([.webhooks[].clientConfig.service.path] == ["/validate", "/warn", "/audit"])
	and .webhooks[0].failurePolicy == "Fail" and .webhooks[0].timeoutSeconds == 5
	and (.webhooks[0].rules | map(.resources[]) | index("pods/ephemeralcontainers") != null)
	and (.webhooks[0].namespaceSelector.matchExpressions[0].values == ["kube-system", "hl-chart"])' \
	<<<"$vwc" >/dev/null 2>&1; then
	t_ok "generated TLS: every entry's caBundle is the Secret's CA; enforce/warn/audit paths, Fail, 5 s, exclusions"
else
	t_fail "webhook configuration" "$vwc"
fi
jq -r '.data["ca.crt"]' <<<"$sec" | base64 -d >"$D/chart-ca.crt"
jq -r '.data["tls.crt"]' <<<"$sec" | base64 -d >"$D/chart-tls.crt"
if openssl verify -CAfile "$D/chart-ca.crt" -purpose sslserver "$D/chart-tls.crt" >/dev/null 2>&1 &&
	openssl x509 -in "$D/chart-tls.crt" -noout -ext subjectAltName | grep -q 'DNS:rel-hardline.hl-chart.svc'; then
	t_ok "generated certificate verifies against the CA and names rel-hardline.hl-chart.svc"
else
	t_fail "generated certificate" "$(openssl x509 -in "$D/chart-tls.crt" -noout -text 2>&1 | grep -A1 Alternative)"
fi
dep=$(yq_json "$D/chart.yaml" Deployment)
if jq -e '.spec.replicas == 2 and (.spec.template.spec.containers[0] | .securityContext.readOnlyRootFilesystem
	and .securityContext.runAsUser == 1000 and .securityContext.runAsNonRoot
	and .securityContext.allowPrivilegeEscalation == false and .securityContext.capabilities.drop == ["ALL"]
	and .livenessProbe.httpGet.path == "/healthz" and .readinessProbe.httpGet.path == "/readyz"
	and .resources.requests.memory) and .spec.template.spec.securityContext.seccompProfile.type == "RuntimeDefault"
	and .spec.template.spec.affinity.podAntiAffinity' <<<"$dep" >/dev/null 2>&1; then
	t_ok "the webhook's Deployment follows its own policy (2 replicas, probes, resources, anti-affinity)"
else
	t_fail "deployment" "$dep"
fi
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/cosign.key" 2>/dev/null
openssl pkey -in "$D/cosign.key" -pubout -out "$D/cosign.pub" 2>/dev/null
refused() {   # NAME WANT HELM-ARGS...: helm template with these values fails and says WANT
	local name=$1 want=$2 out; shift 2
	if out=$("$HELM" template rel "$CHART" "$@" 2>&1); then t_fail "$name" "rendered"
	elif grep -qF -- "$want" <<<"$out"; then t_ok "$name"
	else t_fail "$name" "wanted '$want' in: $(tail -3 <<<"$out")"; fi
}
refused "values schema: timeoutSeconds above 30 refused" "timeoutSeconds" --set webhook.timeoutSeconds=40
refused "values schema: failurePolicy must be Fail or Ignore" "failurePolicy" --set webhook.failurePolicy=Maybe
refused "values schema: a key that is not a PEM public key refused" "keys.bad" --set keys.bad=secret
refused "attestations.enabled without keys refused" "attestations.enabled needs at least one trusted public key" \
	--set attestations.enabled=true
refused "values schema: key names end in .pub or .pem" "keys" --set-file "keys.release=$D/cosign.pub"
refused "tls.generate=false needs tls.existingSecret" "tls.existingSecret is required" --set tls.generate=false
refused "existing Secret without a CA needs tls.caBundle" "set tls.caBundle" --set tls.generate=false \
	--set tls.existingSecret=mine
if "$HELM" template rel "$CHART" --set tls.generate=false --set tls.existingSecret=mine --set tls.caBundle=Q0E= \
	--set-file 'keys.release\.pub='"$D/cosign.pub" --set image.digest="sha256:$(printf '%064d' 7)" \
	--set webhook.warn.enabled=false >"$D/chart2.yaml" 2>"$D/err" &&
	grep -q 'secretName: mine' "$D/chart2.yaml" && grep -q 'caBundle: Q0E=' "$D/chart2.yaml" &&
	grep -q 'mountPath: /etc/hardline/keys' "$D/chart2.yaml" && grep -q 'release.pub: ' "$D/chart2.yaml" &&
	grep -q "image: \"hardline/hardline-webhook@sha256:$(printf '%064d' 7)\"" "$D/chart2.yaml" &&
	! grep -q 'warn.hardline.dev' "$D/chart2.yaml"; then
	t_ok "existingSecret + caBundle, keys Secret mounted at /etc/hardline/keys, image by digest, warn entry off"
else
	t_fail "chart values" "$(cat "$D/err")"
fi

# --- deploy/ renders ---------------------------------------------------------------------------------------------
if "$KUBECTL" kustomize "$DEPLOY" >"$D/deploy.yaml" 2>"$D/err"; then
	kinds=$(grep '^kind:' "$D/deploy.yaml" | sort | tr '\n' ' ')
	want="kind: ConfigMap kind: Deployment kind: Namespace kind: PodDisruptionBudget kind: Service kind: ServiceAccount kind: ValidatingWebhookConfiguration "
	[ "$kinds" = "$want" ] && t_ok "kubectl kustomize deploy/ renders the seven objects" || t_fail "kustomize" "$kinds"
else
	t_fail "kubectl kustomize deploy/" "$(cat "$D/err")"
fi
dvwc=$(yq_json "$D/deploy.yaml" ValidatingWebhookConfiguration)
jq -e '[.webhooks[] | .rules | length] == [3, 3, 3] and .webhooks[0].failurePolicy == "Fail"
	and .webhooks[0].matchPolicy == "Equivalent" and .webhooks[0].clientConfig.service.name == "hardline-webhook"' \
	<<<"$dvwc" >/dev/null 2>&1 && t_ok "deploy/: three entries with the same rules (YAML anchors expanded)" ||
	t_fail "deploy/ webhook configuration" "$dvwc"

# --- both policies are accepted by the real webhook's strict parser ------------------------------------------------
certs_ca "$D" && certs_server "$D" w 4097 IP:127.0.0.1 hardline-test || t_fail "test certificates" "openssl could not make them"
yq_json "$D/chart.yaml" ConfigMap | jq -r '.data["policy.json"]' >"$D/chart-policy.json"
yq_json "$D/deploy.yaml" ConfigMap | jq -r '.data["policy.json"]' >"$D/deploy-policy.json"
# serves POLICY CRT KEY [HOST CA]: hardline-webhook starts with these files and /readyz answers 200; with HOST, a
# client that trusts only CA and asks for https://HOST (as the API server does for a Service) completes the handshake
serves() {
	local _try pid port ok=1 code
	for _try in 1 2 3; do
		port=$((20000 + RANDOM % 20000))
		"$HARDLINE_WEBHOOK" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" --threads 1 \
			--tls-cert "$2" --tls-key "$3" --policy "$1" 2>"$D/serves.log" &
		pid=$!
		for _ in $(seq 50); do
			curl -fsS "http://127.0.0.1:$((port + 1))/readyz" >/dev/null 2>&1 && { ok=0; break; }
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if [ $ok = 0 ] && [ -n "${4:-}" ]; then
			code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$5" --resolve "$4:$port:127.0.0.1" \
				"https://$4:$port/validate" 2>>"$D/serves.log")
			[ "$code" = 405 ] || { ok=1; echo "GET over TLS as $4 answered '$code'" >>"$D/serves.log"; }
		fi
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		[ $ok = 0 ] && return 0
		grep -qi 'address already in use\|bind' "$D/serves.log" || return 1   # else: the port was taken, retry
	done
	return 1
}
policy_ok() { serves "$1" "$D/w.crt" "$D/w.key"; }
if [ -x "$HARDLINE_WEBHOOK" ]; then
	policy_ok "$D/chart-policy.json" && t_ok "the chart's rendered policy.json is accepted by hardline-webhook" ||
		t_fail "chart policy accepted" "$(tail -3 "$D/serves.log")"
	policy_ok "$D/deploy-policy.json" && t_ok "deploy/policy.json is accepted by hardline-webhook" ||
		t_fail "deploy policy accepted" "$(tail -3 "$D/serves.log")"
	# attestations.enabled: the policy the chart writes (keys pointed at a local copy of the mounted Secret)
	mkdir -p "$D/keys" && cp "$D/cosign.pub" "$D/keys/release.pub"
	"$HELM" template rel "$CHART" --set attestations.enabled=true --set-file 'keys.release\.pub='"$D/cosign.pub" \
		--set "attestations.config.keys[0]=$D/keys" --set attestations.config.maxAge=720h 2>"$D/err" |
		"$KUBECTL" --kubeconfig "$kubeconfig" create --dry-run=client --validate=false -f - -o json 2>>"$D/err" |
		jq -r 'if .kind == "List" then .items[] else . end | select(.kind == "ConfigMap") | .data["policy.json"]' \
		>"$D/att-policy.json"
	if jq -e '.attestations.sources == [{"registry": {}}] and .attestations.maxAge == "720h"' "$D/att-policy.json" \
		>/dev/null 2>&1 && policy_ok "$D/att-policy.json"; then
		t_ok "attestations.enabled: the rendered policy.attestations (keys, registry source) is accepted by hardline-webhook"
	else
		t_fail "attestations policy accepted" "$(cat "$D/err") $(tail -3 "$D/serves.log")"
	fi
	jq -r '.data["tls.key"]' <<<"$sec" | base64 -d >"$D/chart-tls.key"
	serves "$D/chart-policy.json" "$D/chart-tls.crt" "$D/chart-tls.key" rel-hardline.hl-chart.svc "$D/chart-ca.crt" &&
		t_ok "the chart's generated pair is served by hardline-webhook and verifies as rel-hardline.hl-chart.svc" ||
		t_fail "chart TLS pair served" "$(tail -3 "$D/serves.log")"
else
	t_skip "policies accepted by hardline-webhook" "$HARDLINE_WEBHOOK not built"
fi

"$CP" ns "$cpdir" apps relaxed >/dev/null
k label namespace relaxed hardline.dev/mode=warn >/dev/null
k create serviceaccount default -n kube-system >/dev/null 2>&1
IMG=registry.example/app@sha256:$(printf '%064d' 1)
pod() {   # NS NAME: create a compliant pod (dry-run on the server)
	jq -n --arg ns "$1" --arg n "$2" --arg img "$IMG" '{apiVersion: "v1", kind: "Pod", metadata: {name: $n,
	  namespace: $ns}, spec: {securityContext: {runAsNonRoot: true, runAsUser: 1000,
	  seccompProfile: {type: "RuntimeDefault"}}, containers: [{name: "app", image: $img, securityContext: {
	  readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: ["ALL"]}}}]}}' |
		k create --dry-run=server -f - 2>&1
}
# blocked NS SERVICE: the create is refused because the webhook (no pod runs) cannot be called
blocked() {
	local out i
	for i in $(seq 20); do   # the API server's webhook informer lags the apply by a moment
		out=$(pod "$1" "p$i") && { sleep 0.5; continue; }
		grep -q "failed calling webhook \"enforce.hardline.dev\".*$2" <<<"$out" && return 0
		echo "$out"; return 1
	done
	echo "still admitted after 10 s: $out"; return 1
}

# --- deploy/: server-side dry-run, then apply + gen-certs.sh --apply -----------------------------------------------
k create namespace hardline-system >/dev/null 2>&1
k create serviceaccount default -n hardline-system >/dev/null 2>&1
t_check "kubectl apply --dry-run=server -k deploy/ (every object accepted by the API server)" \
	k apply --dry-run=server -k "$DEPLOY"
if out=$(k apply -k "$DEPLOY" 2>&1) &&
	out=$("$DEPLOY/gen-certs.sh" --apply --out "$D/certs" --kubectl "$KUBECTL --kubeconfig $kubeconfig" 2>&1); then
	t_ok "kubectl apply -k deploy/ && deploy/gen-certs.sh --apply"
else
	t_fail "kubectl apply -k deploy/ && deploy/gen-certs.sh --apply" "$out"
fi
bundles=$(k get validatingwebhookconfiguration hardline -o jsonpath='{range .webhooks[*]}{.clientConfig.caBundle}{"\n"}{end}')
if [ "$(sort -u <<<"$bundles")" = "$(cat "$D/certs/cabundle.b64" 2>/dev/null)" ] && [ "$(wc -l <<<"$bundles")" = 3 ] &&
	[ "$(k get secret hardline-webhook-tls -n hardline-system -o jsonpath='{.type}')" = kubernetes.io/tls ] &&
	openssl verify -CAfile "$D/certs/ca.crt" -purpose sslserver "$D/certs/tls.crt" >/dev/null 2>&1 &&
	openssl x509 -in "$D/certs/tls.crt" -noout -ext subjectAltName | grep -q 'DNS:hardline-webhook.hardline-system.svc'
then
	t_ok "gen-certs.sh: Secret hardline-webhook-tls and the CA patched into all three entries"
else
	t_fail "gen-certs.sh results" "bundles: $(cut -c1-20 <<<"$bundles" | tr '\n' ' ')"
fi
if [ -x "$HARDLINE_WEBHOOK" ]; then
	serves "$D/deploy-policy.json" "$D/certs/tls.crt" "$D/certs/tls.key" hardline-webhook.hardline-system.svc \
		"$D/certs/ca.crt" && t_ok "gen-certs.sh's pair is served by hardline-webhook and verifies as the Service name" ||
		t_fail "gen-certs pair served" "$(tail -3 "$D/serves.log")"
fi
ca1=$(cat "$D/certs/cabundle.b64")
"$DEPLOY/gen-certs.sh" --out "$D/certs" >/dev/null 2>&1
[ "$(cat "$D/certs/cabundle.b64")" = "$ca1" ] && t_ok "gen-certs.sh again renews the certificate with the same CA" ||
	t_fail "gen-certs.sh renewal keeps the CA" "caBundle changed"
if out=$(blocked apps 'hardline-webhook.hardline-system.svc'); then
	t_ok "deploy/ installed: the API server calls hardline-webhook.hardline-system.svc for namespace apps (no pod runs: refused, failurePolicy Fail)"
else
	t_fail "deploy/ webhook in effect" "$out"
fi
t_check "deploy/: kube-system is not sent to the webhook" pod kube-system sys
t_check "deploy/: a warn namespace is admitted while the webhook is down (failurePolicy Ignore)" pod relaxed w1
t_check "deploy/: hardline-system is not sent to the webhook" pod hardline-system own
# hardline-system carries pod-security.kubernetes.io/enforce=restricted: the webhook's own pod must pass it.
own_pod() {
	yq_json "$D/deploy.yaml" Deployment | jq '{apiVersion: "v1", kind: "Pod", metadata: {name: "own-webhook",
	  namespace: "hardline-system", labels: .spec.template.metadata.labels}, spec: .spec.template.spec}' |
		k create --dry-run=server -f - 2>&1
}
if out=$(own_pod) && ! grep -qi 'PodSecurity' <<<"$out"; then
	out=$(jq -n '{apiVersion: "v1", kind: "Pod", metadata: {name: "rootpod",
	  namespace: "hardline-system"}, spec: {containers: [{name: "c", image: "x@sha256:'"$(printf '%064d' 2)"'",
	  securityContext: {runAsUser: 0}}]}}' | k create --dry-run=server -f - 2>&1)
	grep -q 'violates PodSecurity "restricted' <<<"$out" &&
		t_ok "the webhook's own pod passes Pod Security restricted, enforced on hardline-system (a root pod does not)" ||
		t_fail "Pod Security restricted on hardline-system" "a root pod: $out"
else
	t_fail "the webhook's own pod passes Pod Security restricted" "$out"
fi
k delete validatingwebhookconfiguration hardline >/dev/null

# --- the chart: server-side dry-run, install, upgrade, uninstall ---------------------------------------------------
k create namespace hl-chart >/dev/null 2>&1
t_check "helm template output passes kubectl apply --dry-run=server" k apply --dry-run=server -f "$D/chart.yaml"
cat >"$D/mc.yaml" <<'YAML'
webhook:
  matchConditions:
    - name: not-the-ci-deployer
      expression: "request.userInfo.username != 'system:serviceaccount:ci:deployer'"
YAML
if "$HELM" template rel "$CHART" -n hl-chart -f "$D/mc.yaml" >"$D/chart-mc.yaml" 2>"$D/err" &&
	[ "$(grep -c 'name: not-the-ci-deployer' "$D/chart-mc.yaml")" = 3 ] &&
	out=$(k apply --dry-run=server -f "$D/chart-mc.yaml" 2>&1); then
	t_ok "webhook.matchConditions (CEL) rendered into every entry and accepted by the API server"
else
	t_fail "matchConditions" "$(cat "$D/err") $out"
fi
if out=$(h install rel "$CHART" -n hl-chart --set-file 'keys.release\.pub='"$D/cosign.pub" 2>&1); then
	t_ok "helm install rel charts/hardline -n hl-chart"
	grep -q 'hardline.dev/mode' <<<"$out" && t_ok "helm install prints NOTES.txt (namespace modes)" ||
		t_fail "NOTES.txt" "$out"
else
	t_fail "helm install" "$out"
fi
missing=
for o in deployment/rel-hardline service/rel-hardline configmap/rel-hardline-policy secret/rel-hardline-tls \
	secret/rel-hardline-keys poddisruptionbudget/rel-hardline serviceaccount/rel-hardline; do
	k get -n hl-chart "$o" >/dev/null 2>&1 || missing="$missing $o"
done
k get validatingwebhookconfiguration rel-hardline >/dev/null 2>&1 || missing="$missing vwc/rel-hardline"
[ -z "$missing" ] && t_ok "the release's objects exist (deployment, service, configmap, secrets, pdb, sa, webhook config)" ||
	t_fail "release objects" "missing:$missing"
cab() { k get validatingwebhookconfiguration rel-hardline -o jsonpath='{.webhooks[0].clientConfig.caBundle}'; }
ca1=$(cab)
if [ -n "$ca1" ] && [ "$ca1" = "$(k get secret rel-hardline-tls -n hl-chart -o jsonpath='{.data.ca\.crt}')" ]; then
	t_ok "installed webhook configuration has the caBundle of the generated Secret"
else
	t_fail "installed caBundle" "'${ca1:0:20}'"
fi
if out=$(blocked apps 'rel-hardline.hl-chart.svc'); then
	t_ok "chart installed: the API server calls rel-hardline.hl-chart.svc for namespace apps (refused while no pod runs)"
else
	t_fail "chart webhook in effect" "$out"
fi
if out=$(h upgrade rel "$CHART" -n hl-chart --reuse-values --set replicaCount=3 2>&1) && [ "$(cab)" = "$ca1" ] &&
	[ "$(k get deployment rel-hardline -n hl-chart -o jsonpath='{.spec.replicas}')" = 3 ]; then
	t_ok "helm upgrade keeps the generated CA (lookup) and applies the new values"
else
	t_fail "helm upgrade" "$out"
fi
if out=$(h uninstall rel -n hl-chart --wait --timeout 60s 2>&1) &&
	! k get validatingwebhookconfiguration rel-hardline >/dev/null 2>&1 &&
	! k get deployment rel-hardline -n hl-chart >/dev/null 2>&1 && ! k get secret rel-hardline-tls -n hl-chart >/dev/null 2>&1
then
	t_ok "helm uninstall removes the release's objects"
else
	t_fail "helm uninstall" "$out"
fi
ok=
for _ in $(seq 20); do pod apps after >/dev/null && { ok=1; break; }; sleep 0.5; done
[ -n "$ok" ] && t_ok "after uninstall pods in apps are admitted again" || t_fail "after uninstall" "$(pod apps after)"

# --- deploy/Containerfile: the runtime stage, from the rootfs image-rootfs.sh lays out on this (bookworm) host ------
if [ ! -f "$HL_ROOT/tests/integration/podman.sh" ]; then
	t_skip "deploy/Containerfile" "tests/integration/podman.sh (the podman settings of these machines) is missing"
elif ! source "$HL_ROOT/tests/integration/podman.sh" || ! hl_podman_available; then
	t_skip "deploy/Containerfile" "podman or runc missing"
elif [ ! -x "$HARDLINE_WEBHOOK" ]; then
	t_skip "deploy/Containerfile" "$HARDLINE_WEBHOOK not built"
else
	# The build stage (apt-get on debian:bookworm) needs a base image registry, which these machines lack:
	# --build-context build=DIR stands in for it with the same tree made here.
	hl_podman_init "$D/podman"
	if ! out=$("$DEPLOY/image-rootfs.sh" "$HARDLINE_WEBHOOK" "$D/ctx/rootfs" 2>&1); then
		t_fail "deploy/image-rootfs.sh" "$out"
	elif out=$(hl_podman build --network none -f "$DEPLOY/Containerfile" --build-context build="$D/ctx" \
		-t localhost/hardline-webhook:test "$HL_ROOT" 2>&1); then
		t_ok "podman build -f deploy/Containerfile (FROM scratch runtime stage)"
		cfg=$(hl_podman image inspect localhost/hardline-webhook:test --format '{{.Config.User}} {{json .Config.Entrypoint}}')
		[ "$cfg" = '1000:1000 ["/usr/bin/hardline-webhook"]' ] && t_ok "image runs as 1000:1000, entrypoint the webhook" ||
			t_fail "image config" "$cfg"
		if out=$(hl_podman run --rm --network none --read-only --cap-drop=ALL \
			--security-opt no-new-privileges localhost/hardline-webhook:test --help 2>&1) &&
			grep -q 'usage: hardline-webhook' <<<"$out"; then
			t_ok "the image runs read-only as uid 1000 with no capabilities (its libraries are all there)"
		else
			t_fail "image runs" "$(tail -3 <<<"$out")"
		fi
		if hl_podman run --rm --network none --entrypoint /bin/sh localhost/hardline-webhook:test -c true \
			>/dev/null 2>&1; then
			t_fail "the image has no shell" "/bin/sh ran"
		else
			t_ok "the image has no shell"
		fi
		hl_podman rmi -f localhost/hardline-webhook:test >/dev/null 2>&1
	else
		t_fail "podman build -f deploy/Containerfile" "$(tail -5 <<<"$out")"
	fi
fi
t_done
