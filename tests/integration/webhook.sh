# shellcheck shell=bash
# webhook.sh — what the webhook integration tests share: starting hardline-webhook on free loopback ports and the
# AdmissionReview of a pod that passes every rule. Source it after lib.sh (it uses $HARDLINE_WEBHOOK and t_bg).

# webhook_start LOG ENDPOINT ARGS...: starts $HARDLINE_WEBHOOK on a random 127.0.0.1 port (PORT, TLS) with metrics
# on PORT + 1 (MPORT) and ARGS added, stderr appended to LOG; waits up to 5 s for http://127.0.0.1:MPORT/ENDPOINT
# (healthz or readyz) and hands the process to t_bg. Five port pairs are tried. Sets PORT, MPORT and WPID; returns
# non-zero when it never answered (see LOG).
webhook_start() {
	local log=$1 endpoint=$2 _try
	shift 2
	for _try in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 20000)); MPORT=$((PORT + 1))
		"$HARDLINE_WEBHOOK" --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" "$@" 2>>"$log" &
		WPID=$!
		for _ in $(seq 50); do
			curl -fsS "http://127.0.0.1:$MPORT/$endpoint" >/dev/null 2>&1 && { t_bg "$WPID"; return 0; }
			kill -0 "$WPID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null
	done
	return 1
}

# webhook_review UID IMAGE: prints an admission.k8s.io/v1 AdmissionReview (CREATE in namespace default by alice) of a
# pod "web" with one container running IMAGE that follows every rule of the default policy (uid 1000).
webhook_review() {
	printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"%s",' "$1"
	printf '"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},'
	printf '"namespace":"default","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1",'
	printf '"kind":"Pod","metadata":{"name":"web","namespace":"default"},"spec":{"securityContext":{"runAsNonRoot":'
	printf 'true,"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"web","image":'
	printf '"%s","securityContext":{"readOnlyRootFilesystem":true,' "$2"
	printf '"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}}}'
}
