# shellcheck shell=bash
# registry.sh — a real docker-registry (distribution) on 127.0.0.1 for the integration tests: its own storage and
# configuration in a directory, handed to t_bg, waited for. Source it after lib.sh.

# registry_start DIR PORT [HTTP_YAML [TOP_YAML]]: writes DIR/config.yml (storage DIR/data with deletes enabled,
# http.addr 127.0.0.1:PORT, then HTTP_YAML under http: such as "  tls: ...", then TOP_YAML such as "auth: ..."),
# starts docker-registry with its output in DIR/log and waits up to 10 s for /v2/ (https when HTTP_YAML has tls:).
# Returns non-zero, with a "# registry DIR did not start" line and the end of DIR/log, when it never answered.
registry_start() {
	local dir=$1 port=$2 http=${3:-} top=${4:-} scheme=http
	mkdir -p "$dir/data"
	{
		printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n' "$dir/data"
		printf '  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' "$port"
		[ -n "$http" ] && printf '%s\n' "$http"
		[ -n "$top" ] && printf '%s\n' "$top"
	} >"$dir/config.yml"
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	t_bg $!
	[[ "$http" == *tls:* ]] && scheme=https
	for _ in $(seq 100); do
		curl -ks -o /dev/null "$scheme://127.0.0.1:$port/v2/" && return 0
		sleep 0.1
	done
	echo "# registry $dir did not start: $(tail -3 "$dir/log")"
	return 1
}
