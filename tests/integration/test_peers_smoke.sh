#!/usr/bin/env bash
# Smoke test of the real Go peers (tests/peers/install.sh, tests/peers/controlplane.sh):
# builds or reuses kube-apiserver, etcd, cosign and helm; starts etcd + kube-apiserver on 127.0.0.1;
# creates a namespace and a digest-pinned pod; runs cosign and helm; stops the control plane.
# TAP through tests/integration/lib.sh. HARDLINE_KEEP_CP=1 keeps the control-plane dir (certs, logs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PEERS="${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}"
BIN="$PEERS/bin"
KUBECTL="${KUBECTL:-kubectl}"
CP="$HL_ROOT/tests/peers/controlplane.sh"

# expect NAME SUBSTRING CMD...: ok when CMD exits 0 and its output contains SUBSTRING.
expect() {
	local name=$1 want=$2 out; shift 2
	if out=$("$@" 2>&1) && [[ "$out" == *"$want"* ]]; then t_ok "$name"
	else t_fail "$name" "wanted '$want' from: $* :: $(echo "$out" | tail -5)"; fi
}

cpdir=""
_peers_cleanup() {
	if [ -n "$cpdir" ]; then
		"$CP" stop "$cpdir" || true
		if [ "${HARDLINE_KEEP_CP:-0}" = 1 ] || [ "$_t_failed" -gt 0 ]; then
			echo "# control-plane dir kept: $cpdir"
		else
			rm -rf "$cpdir"
		fi
	fi
	_t_cleanup
}
trap _peers_cleanup EXIT

# 1. build or reuse the peers (first run builds from the Go module proxy, later runs are cached)
if out=$("$HL_ROOT/tests/peers/install.sh" 2>&1); then
	t_ok "install.sh builds or reuses kube-apiserver, etcd, cosign, helm"
	echo "$out" | sed 's/^/# /'
elif ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
	t_skip "install.sh" "no Go toolchain: $(echo "$out" | tail -1)"
else
	t_fail "install.sh builds or reuses kube-apiserver, etcd, cosign, helm" "$(echo "$out" | tail -20)"
fi

# 2. the binaries run
expect "cosign version" "GitVersion:    v2." "$BIN/cosign" version
expect "helm version" 'Version:"v3.' "$BIN/helm" version
expect "etcd --version" "etcd Version: 3.5." "$BIN/etcd" --version
expect "kube-apiserver --version" "Kubernetes v1.32." "$BIN/kube-apiserver" --version

# 3. a real etcd + kube-apiserver
cpdir=$(mktemp -d /tmp/hardline-cp.XXXXXX)
if kubeconfig=$("$CP" start "$cpdir" 2>"$cpdir/start.err") && [ -s "$kubeconfig" ]; then
	t_ok "controlplane.sh start (etcd + kube-apiserver /readyz ok)"
else
	t_fail "controlplane.sh start (etcd + kube-apiserver /readyz ok)" "$(tail -20 "$cpdir/start.err")"
	t_done
	exit 1
fi
k() { "$KUBECTL" --kubeconfig "$kubeconfig" --request-timeout=20s "$@"; }
cani() { k auth can-i "$@" || true; }   # can-i exits 1 on "no"

digest="sha256:$(printf 'hardline' | sha256sum | cut -c1-64)"
t_check "kubectl create namespace t" k create namespace t
# No kube-controller-manager runs, so nothing creates the namespace's "default" ServiceAccount,
# which the ServiceAccount admission plugin requires before it admits a pod.
t_check "kubectl create serviceaccount default -n t" k create serviceaccount default -n t
t_check "kubectl run p --image=x@sha256:... -n t" k run p --image="x@$digest" --restart=Never -n t
expect "pod t/p stored with the digest-pinned image" "x@$digest" \
	k get pod p -n t -o 'jsonpath={.spec.containers[0].image}'
expect "pod t/p stays Pending (no scheduler, no kubelet)" "Pending" k get pod p -n t -o 'jsonpath={.status.phase}'
expect "RBAC is enforced (t:default may not create pods)" "no" \
	cani create pods -n t --as=system:serviceaccount:t:default

t_check "controlplane.sh ns u (namespace + default ServiceAccount)" "$CP" ns "$cpdir" u
t_check "kubectl run p -n u" k run p --image="x@$digest" --restart=Never -n u
if certs=$("$CP" cert "$cpdir" webhook 2>&1); then
	t_check "controlplane.sh cert: serving cert verifies against the test CA" \
		openssl verify -CAfile "$cpdir/pki/ca.crt" -purpose sslserver "${certs%% *}"
else
	t_fail "controlplane.sh cert: serving cert verifies against the test CA" "$certs"
fi

# 4. stop exactly the processes controlplane.sh started
source "$cpdir/env"
t_check "controlplane.sh stop" "$CP" stop "$cpdir"
# gone PID: not running (a zombie not yet reaped by its new parent counts as gone)
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
if gone "$ETCD_PID" && gone "$APISERVER_PID"; then
	t_ok "etcd and kube-apiserver are gone after stop"
else
	t_fail "etcd and kube-apiserver are gone after stop" "pids $ETCD_PID $APISERVER_PID still alive"
fi

t_done
