#!/usr/bin/env bash
# Start/stop a real etcd + kube-apiserver on 127.0.0.1 for integration tests.
# No kubelet, no controller-manager, no scheduler: objects are stored and
# admission runs, pods stay Pending.
#
#   controlplane.sh start DIR   -> prints DIR/kubeconfig on success (exit 0)
#   controlplane.sh stop DIR    -> stops exactly the PIDs recorded in DIR/env
#   controlplane.sh status DIR  -> exit 0 if both recorded PIDs are alive
#   controlplane.sh cert DIR NAME -> DIR/pki/NAME.{crt,key}: a serving cert for 127.0.0.1/localhost
#     signed by the test CA (e.g. for an admission webhook; caBundle = base64 of DIR/pki/ca.crt)
#   controlplane.sh ns DIR NAME... -> create namespaces with their "default" ServiceAccount
#     (no kube-controller-manager runs, and the ServiceAccount admission plugin refuses pods
#      in a namespace without one: 'error looking up service account NS/default')
#
# Files written by start (DIR must be writable; it is created if missing):
#   DIR/kubeconfig            admin kubeconfig (CN=admin, O=system:masters), certs embedded
#   DIR/env                   sourceable: PIDs, ports, URLs, paths (see write_env below)
#   DIR/pki/                  ca.{crt,key} serving.{crt,key} admin.{crt,key} sa.{key,pub}
#   DIR/etcd-data/            etcd data dir
#   DIR/etcd.log DIR/kube-apiserver.log DIR/openssl.log
#
# Environment:
#   HARDLINE_PEERS            cache root of tests/peers/install.sh (default ~/.cache/hardline-peers)
#   ETCD_BIN / KUBE_APISERVER_BIN   override binaries (default $HARDLINE_PEERS/bin/...)
#   HARDLINE_CP_TIMEOUT       seconds to wait for /readyz (default 60)
#   HARDLINE_APISERVER_FLAGS  extra kube-apiserver flags (word-split), e.g.
#                             "--disable-admission-plugins=ServiceAccount"
set -euo pipefail

PEERS="${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}"
ETCD_BIN="${ETCD_BIN:-$PEERS/bin/etcd}"
KUBE_APISERVER_BIN="${KUBE_APISERVER_BIN:-$PEERS/bin/kube-apiserver}"
TIMEOUT="${HARDLINE_CP_TIMEOUT:-60}"
SERVICE_CIDR=10.0.0.0/24
SERVICE_IP=10.0.0.1

die() { echo "controlplane.sh: $*" >&2; exit 1; }

# ---- ports -------------------------------------------------------------------
declare -A _taken=()
# Ports currently in LISTEN state (from /proc, no external tools needed).
listening_ports() {
	local h
	for h in $(awk 'NR>1 && $4=="0A" {n=split($2,a,":"); print a[n]}' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
		echo $((16#$h))
	done
}
# free_port VAR: set VAR to a port nobody listens on and this script has not handed out yet
# (no subshell, so _taken persists; a bind race is handled by the retries of the callers).
free_port() {
	local used p i
	used=" $(listening_ports | tr '\n' ' ') "
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
		[[ "$used" == *" $p "* || -n "${_taken[$p]:-}" ]] && continue
		_taken[$p]=1
		printf -v "$1" '%s' "$p"
		return 0
	done
	die "no free port found"
}

# ---- pki (openssl CLI) -------------------------------------------------------
gen_pki() {
	local pki="$1" log="$2"
	mkdir -p "$pki"
	(
		set -e
		cd "$pki"
		umask 077
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
			-keyout ca.key -out ca.crt -subj "/CN=hardline-test-ca" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"

		# kube-apiserver serving cert
		openssl req -newkey rsa:2048 -nodes -sha256 -keyout serving.key -out serving.csr -subj "/CN=kube-apiserver"
		cat >serving.ext <<-EOF
			basicConstraints=critical,CA:FALSE
			keyUsage=critical,digitalSignature,keyEncipherment
			extendedKeyUsage=serverAuth
			subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
		EOF
		openssl x509 -req -in serving.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
			-extfile serving.ext -out serving.crt

		# admin client cert (system:masters bypasses RBAC)
		openssl req -newkey rsa:2048 -nodes -sha256 -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=admin"
		cat >admin.ext <<-EOF
			basicConstraints=critical,CA:FALSE
			keyUsage=critical,digitalSignature,keyEncipherment
			extendedKeyUsage=clientAuth
		EOF
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
			-extfile admin.ext -out admin.crt

		# service-account token signing key pair
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
		openssl pkey -in sa.key -pubout -out sa.pub
		rm -f ./*.csr ./*.ext
		chmod 644 ./*.crt sa.pub
	) >"$log" 2>&1 || true   # (set -e does not apply inside a "|| ..." list: check the results)
	local f
	for f in ca.crt ca.key serving.crt serving.key admin.crt admin.key sa.key sa.pub; do
		[[ -s "$pki/$f" ]] || { cat "$log" >&2; die "openssl failed to make $pki/$f (see $log)"; }
	done
}

write_kubeconfig() {
	local dir="$1" url="$2" pki="$1/pki"
	local tmp="$dir/kubeconfig.tmp"
	cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hardline
  cluster:
    server: $url
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$pki/admin.crt")
    client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
- name: hardline
  context:
    cluster: hardline
    user: admin
current-context: hardline
EOF
	chmod 600 "$tmp"
	mv -f "$tmp" "$dir/kubeconfig"
}

# ---- processes ---------------------------------------------------------------
# A zombie (exited, not yet reaped by its new parent) counts as dead.
alive() {
	[[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null || return 1
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat:0:1}" != Z ]]
}

# true if PID is alive and its executable is BIN (guards against PID reuse).
is_ours() {
	local pid="$1" bin="$2" exe
	alive "$pid" || return 1
	exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
	exe="${exe% (deleted)}"
	[[ -z "$exe" || "$exe" == "$(readlink -f "$bin")" || "$(basename "$exe")" == "$(basename "$bin")" ]]
}

stop_pid() {
	local pid="$1" bin="$2" name="$3" i
	[[ -n "$pid" ]] || return 0
	if ! is_ours "$pid" "$bin"; then return 0; fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do alive "$pid" || return 0; sleep 0.1; done
	echo "controlplane.sh: $name (pid $pid) ignored SIGTERM for 10s, sending SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
}

# Start BIN ARGS... in the background, stdio to LOG, no inherited extra fds
# (test runners such as bats wait on fd 3). Sets LAST_PID.
spawn() {
	local log="$1"; shift
	"$@" </dev/null >>"$log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	LAST_PID=$!
}

write_env() {
	local dir="$1" tmp="$1/env.tmp"
	cat >"$tmp" <<EOF
# written by tests/peers/controlplane.sh start; sourceable
HARDLINE_CP_DIR='$dir'
ETCD_PID=$ETCD_PID
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
ETCD_URL='http://127.0.0.1:$ETCD_PORT'
ETCD_BIN='$ETCD_BIN'
APISERVER_PID=${APISERVER_PID:-}
APISERVER_PORT=$APISERVER_PORT
APISERVER_URL='https://127.0.0.1:$APISERVER_PORT'
KUBE_APISERVER_BIN='$KUBE_APISERVER_BIN'
KUBECONFIG='$dir/kubeconfig'
CA_CERT='$dir/pki/ca.crt'
CA_KEY='$dir/pki/ca.key'
ADMIN_CERT='$dir/pki/admin.crt'
ADMIN_KEY='$dir/pki/admin.key'
SERVICE_CIDR='$SERVICE_CIDR'
EOF
	mv -f "$tmp" "$dir/env"
}

start_etcd() {
	local dir="$1" attempt
	for attempt in 1 2 3; do
		free_port ETCD_PORT; free_port ETCD_PEER_PORT
		echo "=== start attempt $attempt: client $ETCD_PORT peer $ETCD_PEER_PORT" >>"$dir/etcd.log"
		spawn "$dir/etcd.log" "$ETCD_BIN" \
			--name hardline \
			--data-dir "$dir/etcd-data" \
			--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
			--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
			--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
			--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
			--initial-cluster "hardline=http://127.0.0.1:$ETCD_PEER_PORT" \
			--initial-cluster-state new \
			--quota-backend-bytes $((512 * 1024 * 1024)) \
			--unsafe-no-fsync \
			--log-level warn
		ETCD_PID=$LAST_PID
		write_env "$dir"
		local deadline=$((SECONDS + TIMEOUT))
		while ((SECONDS < deadline)); do
			if ! alive "$ETCD_PID"; then break; fi
			if [[ "$(curl -s --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null || true)" == *'"health":"true"'* ]]; then
				return 0
			fi
			sleep 0.2
		done
		if alive "$ETCD_PID"; then
			stop_pid "$ETCD_PID" "$ETCD_BIN" etcd
			tail -n 30 "$dir/etcd.log" >&2
			die "etcd not healthy within ${TIMEOUT}s (log: $dir/etcd.log)"
		fi
		if ! grep -q "address already in use" "$dir/etcd.log"; then break; fi
		rm -rf "$dir/etcd-data"
	done
	tail -n 30 "$dir/etcd.log" >&2
	die "etcd exited during startup (log: $dir/etcd.log)"
}

start_apiserver() {
	local dir="$1" pki="$1/pki" attempt
	# shellcheck disable=SC2206
	local extra=(${HARDLINE_APISERVER_FLAGS:-})
	for attempt in 1 2 3; do
		free_port APISERVER_PORT
		echo "=== start attempt $attempt: secure port $APISERVER_PORT" >>"$dir/kube-apiserver.log"
		spawn "$dir/kube-apiserver.log" "$KUBE_APISERVER_BIN" \
			--bind-address=127.0.0.1 \
			--advertise-address=127.0.0.1 \
			--secure-port="$APISERVER_PORT" \
			--cert-dir="$pki" \
			--tls-cert-file="$pki/serving.crt" \
			--tls-private-key-file="$pki/serving.key" \
			--client-ca-file="$pki/ca.crt" \
			--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
			--authorization-mode=RBAC \
			--service-account-issuer=https://kubernetes.default.svc.cluster.local \
			--service-account-key-file="$pki/sa.pub" \
			--service-account-signing-key-file="$pki/sa.key" \
			--service-cluster-ip-range="$SERVICE_CIDR" \
			--endpoint-reconciler-type=none \
			--allow-privileged=true \
			--profiling=false \
			"${extra[@]}"
		APISERVER_PID=$LAST_PID
		write_env "$dir"
		local deadline=$((SECONDS + TIMEOUT)) body=""
		while ((SECONDS < deadline)); do
			if ! alive "$APISERVER_PID"; then break; fi
			body="$(curl -s --max-time 3 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
				"https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null || true)"
			[[ "$body" == ok ]] && return 0
			sleep 0.5
		done
		if alive "$APISERVER_PID"; then
			stop_pid "$APISERVER_PID" "$KUBE_APISERVER_BIN" kube-apiserver
			curl -s --max-time 3 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
				"https://127.0.0.1:$APISERVER_PORT/readyz?verbose" >&2 2>/dev/null || true
			tail -n 30 "$dir/kube-apiserver.log" >&2
			return 1
		fi
		grep -q "address already in use" "$dir/kube-apiserver.log" || break
	done
	tail -n 30 "$dir/kube-apiserver.log" >&2
	return 1
}

cmd_start() {
	local dir="$1"
	[[ -x "$ETCD_BIN" ]] || die "no etcd at $ETCD_BIN (run tests/peers/install.sh etcd)"
	[[ -x "$KUBE_APISERVER_BIN" ]] || die "no kube-apiserver at $KUBE_APISERVER_BIN (run tests/peers/install.sh kube-apiserver)"
	command -v openssl >/dev/null || die "openssl CLI not found"
	command -v curl >/dev/null || die "curl not found"
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if [[ -f "$dir/env" ]]; then
		# shellcheck disable=SC1091
		(source "$dir/env"; alive "${ETCD_PID:-}" || alive "${APISERVER_PID:-}") &&
			die "$dir already has a running control plane (stop it first)"
	fi
	rm -f "$dir/env" "$dir/kubeconfig"
	: >"$dir/etcd.log"; : >"$dir/kube-apiserver.log"

	gen_pki "$dir/pki" "$dir/openssl.log"
	ETCD_PID="" ETCD_PORT="" ETCD_PEER_PORT="" APISERVER_PORT="" APISERVER_PID=""
	# Failure or interruption from here on: stop whatever was started.
	trap '_abort_start $?' EXIT
	trap 'exit 130' INT TERM HUP
	start_etcd "$dir"
	if ! start_apiserver "$dir"; then
		die "kube-apiserver exited or was not ready within ${TIMEOUT}s (log: $dir/kube-apiserver.log)"
	fi
	write_kubeconfig "$dir" "https://127.0.0.1:$APISERVER_PORT"
	write_env "$dir"
	trap - EXIT INT TERM HUP
	echo "$dir/kubeconfig"
}

_abort_start() {
	[[ "$1" -eq 0 ]] && return 0
	stop_pid "${APISERVER_PID:-}" "$KUBE_APISERVER_BIN" kube-apiserver
	stop_pid "${ETCD_PID:-}" "$ETCD_BIN" etcd
}

cmd_stop() {
	local dir="$1"
	[[ -f "$dir/env" ]] || { echo "controlplane.sh: no $dir/env, nothing to stop" >&2; return 0; }
	# shellcheck disable=SC1091
	source "$dir/env"
	stop_pid "${APISERVER_PID:-}" "$KUBE_APISERVER_BIN" kube-apiserver
	stop_pid "${ETCD_PID:-}" "$ETCD_BIN" etcd
}

cmd_status() {
	local dir="$1"
	[[ -f "$dir/env" ]] || return 1
	# shellcheck disable=SC1091
	source "$dir/env"
	is_ours "${ETCD_PID:-}" "$ETCD_BIN" && is_ours "${APISERVER_PID:-}" "$KUBE_APISERVER_BIN"
}

cmd_cert() {
	local dir="$1" name="$2" pki="$1/pki"
	[[ -f "$pki/ca.key" ]] || die "no CA in $pki (run start first)"
	[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad cert name '$name'"
	(
		set -e
		cd "$pki"
		umask 077
		rm -f "$name.crt" "$name.key"
		openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
		cat >"$name.ext" <<-EOF
			basicConstraints=critical,CA:FALSE
			keyUsage=critical,digitalSignature,keyEncipherment
			extendedKeyUsage=serverAuth
			subjectAltName=IP:127.0.0.1,DNS:localhost
		EOF
		openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
			-extfile "$name.ext" -out "$name.crt"
		rm -f "$name.csr" "$name.ext"
		chmod 644 "$name.crt"
	) >>"$dir/openssl.log" 2>&1 || true
	[[ -s "$pki/$name.crt" && -s "$pki/$name.key" ]] || die "openssl failed (see $dir/openssl.log)"
	echo "$pki/$name.crt $pki/$name.key"
}

cmd_ns() {
	local dir="$1" ns; shift
	command -v "${KUBECTL:-kubectl}" >/dev/null || die "kubectl not found"
	for ns in "$@"; do
		"${KUBECTL:-kubectl}" --kubeconfig "$dir/kubeconfig" --request-timeout=20s create namespace "$ns" >/dev/null
		"${KUBECTL:-kubectl}" --kubeconfig "$dir/kubeconfig" --request-timeout=20s create serviceaccount default -n "$ns" >/dev/null
	done
}

case "${1:-}" in
start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; cmd_start "$2" ;;
stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
status) [[ $# -eq 2 ]] || die "usage: $0 status DIR"; cmd_status "$2" ;;
cert) [[ $# -eq 3 ]] || die "usage: $0 cert DIR NAME"; cmd_cert "$2" "$3" ;;
ns) [[ $# -ge 3 ]] || die "usage: $0 ns DIR NAME..."; cmd_ns "$2" "${@:3}" ;;
*) die "usage: $0 start|stop|status DIR | cert DIR NAME | ns DIR NAME..." ;;
esac
