# Sourced by every integration test: TAP-style results that tests/run.sh counts, the built binaries, scratch
# directories removed at exit, and processes started by the test ended by PID at exit.
#   t_ok NAME | t_fail NAME WHY | t_skip NAME WHY | t_check NAME CMD... | t_done
set -uo pipefail
HL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HL_BUILD=${HARDLINE_BUILD:-$HL_ROOT/build}
HARDLINE=$HL_BUILD/hardline
HARDLINE_STATIC=$HL_BUILD/hardline-static
HARDLINE_WEBHOOK=$HL_BUILD/hardline-webhook
HL_CACHE=${HARDLINE_CACHE:-$HOME/.cache/hardline}
_t_n=0 _t_failed=0 _t_pids=() _t_dirs=()

t_ok() { _t_n=$((_t_n + 1)); echo "ok $_t_n - $1"; }
t_fail() { _t_n=$((_t_n + 1)); _t_failed=$((_t_failed + 1)); echo "not ok $_t_n - $1"; echo "# $2"; }
t_skip() { _t_n=$((_t_n + 1)); echo "ok $_t_n - $1 # SKIP $2"; }
# t_check NAME CMD...: ok when CMD exits 0; its output is shown on failure.
t_check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then t_ok "$name"; else t_fail "$name" "command failed: $* :: $(echo "$out" | tail -5)"; fi
}
# t_refute NAME CMD...: ok when CMD exits non-zero.
t_refute() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then t_fail "$name" "command unexpectedly succeeded: $*"; else t_ok "$name"; fi
}
# t_tmpdir VAR: a scratch directory removed at exit.
t_tmpdir() { local d; d=$(mktemp -d /tmp/hardline-t.XXXXXX); _t_dirs+=("$d"); printf -v "$1" '%s' "$d"; }
# t_bg PID: a process of this test, ended at exit.
t_bg() { _t_pids+=("$1"); }
_t_cleanup() {
	local p d
	for p in "${_t_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_t_pids[@]}"; do wait "$p" 2>/dev/null; done
	for d in "${_t_dirs[@]}"; do chmod -R u+rwx "$d" 2>/dev/null; rm -rf "$d"; done
}
trap _t_cleanup EXIT
# t_done: ends the suite; exit status 1 when any case failed.
t_done() { echo "1..$_t_n"; [ "$_t_failed" -eq 0 ]; }
