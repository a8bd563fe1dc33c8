#!/usr/bin/env bash
# Build (or reuse cached) real Go peers for hardline's integration tests:
#   kube-apiserver, etcd, cosign, helm
# into ${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}/bin/.
#
# Usage: tests/peers/install.sh [TOOL...]      (no TOOL = all)
#   HARDLINE_PEERS=DIR       cache root (default ~/.cache/hardline-peers)
#   HARDLINE_PEERS_FORCE=1   rebuild even when the stamp matches
#   GO=/path/to/go           go binary (default: the first Go >= 1.21 of PATH, /usr/local/go, /usr/lib/go-1.23;
#                            when there is none, golang-1.23-go from bookworm-backports, which fetches the
#                            toolchain a module asks for through the Go module proxy)
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

# A go whose minor version is at least 21 (toolchain switching), or nothing.
go_usable() {
	local v
	v="$(GOFLAGS= GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null)" || return 1
	v="${v#go1.}"; v="${v%%[.a-z]*}"
	[[ "$v" =~ ^[0-9]+$ ]] && (( v >= 21 ))
}
# Debian 12 ships Go 1.19, too old for these modules; its backports have Go 1.23, which fetches the exact toolchain
# a module asks for (go 1.25 for cosign) from the Go module proxy (GOTOOLCHAIN=auto).
backports_go() {
	local list=/etc/apt/sources.list.d/hardline-backports.list
	if [[ ! -x /usr/lib/go-1.23/bin/go ]]; then
		echo "install.sh: no Go >= 1.21 here; installing golang-1.23-go from bookworm-backports" >&2
		[[ -f "$list" ]] || echo "deb http://deb.debian.org/debian bookworm-backports main" >"$list"
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-1.23-go >/dev/null
	fi
	GO=/usr/lib/go-1.23/bin/go
}
if [[ -z "${GO:-}" ]]; then
	for g in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go /usr/lib/go-1.23/bin/go; do
		if [[ -n "$g" && -x "$g" ]] && go_usable "$g"; then GO="$g"; break; fi
	done
	[[ -n "${GO:-}" ]] || backports_go
	go_usable "$GO" || { echo "install.sh: no usable go toolchain (set GO=...)" >&2; exit 2; }
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

goversion="$(GOFLAGS= GOTOOLCHAIN=local "$GO" env GOVERSION)"
# The local toolchain when it is new enough for every module here (go 1.25 at most), else the one each module
# names, fetched through the module proxy.
gominor="${goversion#go1.}"; gominor="${gominor%%[.a-z]*}"
if (( gominor >= 25 )); then export GOTOOLCHAIN=local; else export GOTOOLCHAIN=auto; fi
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
