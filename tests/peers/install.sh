#!/usr/bin/env bash
# Build (or reuse cached) real Go peers for hardline's integration tests:
#   kube-apiserver, etcd, cosign, helm
# into ${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}/bin/.
#
# Usage: tests/peers/install.sh [TOOL...]      (no TOOL = all)
#   HARDLINE_PEERS=DIR       cache root (default ~/.cache/hardline-peers)
#   HARDLINE_PEERS_FORCE=1   rebuild even when the stamp matches
#   GO=/path/to/go           go binary (default: go on PATH, else /usr/local/go/bin/go)
#
# A tool is rebuilt only when its binary is missing or its version stamp
# (module@version, go version, hash of the pinned go.mod/go.sum) differs.
# Needs only the Go module proxy (GOPROXY) for the first build; later runs are offline.
# Output: one line per tool, "TOOL: built VERSION in Ns -> PATH" or "TOOL: cached VERSION -> PATH".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
peers_src="$root/tools/peers"

PEERS="${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}"
BIN="$PEERS/bin"
STAMPS="$PEERS/stamps"
LOGS="$PEERS/logs"

if [[ -z "${GO:-}" ]]; then
	if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
	elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
	else echo "install.sh: no go toolchain found (set GO=...)" >&2; exit 2
	fi
fi

# Tool table: name | module dir under tools/peers | pinned module | main package
ALL_TOOLS=(cosign helm etcd kube-apiserver)
tool_dir()    { case "$1" in cosign) echo cosign;; helm) echo helm;; etcd) echo etcd;; kube-apiserver) echo kube;; esac; }
tool_module() { case "$1" in
	cosign) echo github.com/sigstore/cosign/v2;;
	helm) echo helm.sh/helm/v3;;
	etcd) echo go.etcd.io/etcd/server/v3;;
	kube-apiserver) echo k8s.io/kubernetes;;
	esac; }
tool_pkg() { case "$1" in
	cosign) echo github.com/sigstore/cosign/v2/cmd/cosign;;
	helm) echo helm.sh/helm/v3/cmd/helm;;
	etcd) echo go.etcd.io/etcd/server/v3;;   # package main at the module root (etcd 3.5)
	kube-apiserver) echo k8s.io/kubernetes/cmd/kube-apiserver;;
	esac; }

# Pinned version of MODULE as written in DIR/go.mod (no network needed).
pinned_version() {
	local dir="$1" mod="$2"
	(cd "$dir" && GOFLAGS= "$GO" mod edit -json) |
		awk -v m="\"$mod\"" '$1=="\"Path\":" && $2==m"," {getline; gsub(/[",]/,"",$2); print $2; exit}'
}

# Version information the upstream release builds inject with -ldflags -X.
tool_ldflags() {
	local tool="$1" ver="$2"
	case "$tool" in
	cosign)
		echo "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$ver -X sigs.k8s.io/release-utils/version.gitTreeState=clean" ;;
	helm)
		echo "-s -w -X helm.sh/helm/v3/internal/version.version=$ver -X helm.sh/helm/v3/internal/version.gitTreeState=clean" ;;
	etcd)
		echo "-s -w" ;;   # etcd's version is a constant in go.etcd.io/etcd/api/v3/version
	kube-apiserver)
		local mm="${ver#v}" major minor
		major="${mm%%.*}"; minor="${mm#*.}"; minor="${minor%%.*}"
		local f=""
		for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			f+=" -X $p.gitVersion=$ver -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
			f+=" -X $p.buildDate=1970-01-01T00:00:00Z"
		done
		echo "-s -w$f" ;;
	esac
}

# Arguments that make the freshly built binary print its version (a run check before caching it).
tool_version_args() { case "$1" in cosign|helm) echo version;; *) echo --version;; esac; }

usage() { echo "usage: $0 [${ALL_TOOLS[*]}]" >&2; exit 2; }

tools=("$@")
if [[ ${#tools[@]} -eq 0 ]]; then tools=("${ALL_TOOLS[@]}"); fi
for t in "${tools[@]}"; do
	case "$t" in -h|--help) usage;; esac
	[[ -n "$(tool_dir "$t")" ]] || { echo "install.sh: unknown tool '$t'" >&2; usage; }
done

mkdir -p "$BIN" "$STAMPS" "$LOGS"
# Serialize concurrent installs (and keep to one Go build at a time: CPU is shared).
exec 9>"$PEERS/.install.lock"
flock 9

goversion="$(GOFLAGS= "$GO" env GOVERSION)"
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod -buildvcs=false"

rc=0
for t in "${tools[@]}"; do
	dir="$peers_src/$(tool_dir "$t")"
	mod="$(tool_module "$t")"
	pkg="$(tool_pkg "$t")"
	ver="$(pinned_version "$dir" "$mod")"
	if [[ -z "$ver" ]]; then echo "$t: FAILED (no pinned version of $mod in $dir/go.mod)"; rc=1; continue; fi
	sumhash="$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)"
	stamp="$t $mod@$ver $goversion $(GOFLAGS= "$GO" env GOOS)/$(GOFLAGS= "$GO" env GOARCH) mod:$sumhash"
	out="$BIN/$t"
	stampf="$STAMPS/$t.version"

	if [[ "${HARDLINE_PEERS_FORCE:-0}" != 1 && -x "$out" && -f "$stampf" && "$(cat "$stampf")" == "$stamp" ]]; then
		echo "$t: cached $ver -> $out"
		continue
	fi

	log="$LOGS/$t.build.log"
	start=$(date +%s)
	if (cd "$dir" && nice -n 10 "$GO" build -trimpath -ldflags "$(tool_ldflags "$t" "$ver")" -o "$out.tmp.$$" "$pkg") >"$log" 2>&1 &&
		"$out.tmp.$$" $(tool_version_args "$t") >>"$log" 2>&1; then
		mv -f "$out.tmp.$$" "$out"
		printf '%s\n' "$stamp" >"$stampf"
		secs=$(( $(date +%s) - start ))
		printf '%s %s %s %ss\n' "$(date -u +%FT%TZ)" "$t" "$ver" "$secs" >>"$PEERS/build-times.log"
		echo "$t: built $ver in ${secs}s -> $out"
	else
		rm -f "$out.tmp.$$"
		secs=$(( $(date +%s) - start ))
		echo "$t: FAILED after ${secs}s (log: $log)"
		tail -n 20 "$log" | sed 's/^/    /' >&2
		rc=1
	fi
done
exit "$rc"
