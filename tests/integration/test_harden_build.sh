#!/usr/bin/env bash
# harden-rootfs in real container builds: a Debian minbase and a busybox root imported into podman, the demo app and
# build/hardline-static copied in, `RUN ["/hardline", "harden-rootfs", ...]` as the last step (no shell needed), then
# the image runs read-only as uid 1000 and does its job, has no shell or tools, and its exported rootfs is checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/podman.sh"

if [ ! -x "$HARDLINE_STATIC" ]; then
	t_skip "container builds" "$HARDLINE_STATIC not built (make)"; t_done; exit $?
fi
if ! hl_podman_available; then
	t_skip "container builds" "needs podman and runc (make deps)"; t_done; exit $?
fi
t_tmpdir T
hl_podman_init "$T/podman"
if ! APP=$("$HL_ROOT/tests/demo-app/build.sh" 2>"$T/app.err"); then
	t_fail "demo app builds (cc -static)" "$(tail -5 "$T/app.err")"; t_done; exit $?
fi

# build_image NAME BASE RUN-JSON [FILE...]: a build context with the demo app, the static hardener and FILEs, a
# Containerfile whose last step is RUN-JSON, built with no network as localhost/NAME. Output in $T/NAME.build
# (":" in NAME is "_" in file names, which podman requires).
build_image() {
	local name=$1 base=$2 run=$3 ctx=$T/ctx-${1//:/_} f; shift 3
	mkdir -p "$ctx"
	cp "$APP" "$ctx/hello-app"; cp "$HARDLINE_STATIC" "$ctx/hardline"
	for f in "$@"; do cp "$f" "$ctx/"; done
	{
		echo "FROM $base"
		echo "COPY hello-app /app/hello-app"
		for f in "$@"; do echo "COPY $(basename "$f") /$(basename "$f")"; done
		echo "COPY hardline /hardline"
		echo 'ENTRYPOINT ["/app/hello-app"]'
		echo "RUN $run"
	} >"$ctx/Containerfile"
	# shellcheck disable=SC2016 # the inner script takes its arguments as $1..$4
	timeout 600 bash -c 'source "$1/tests/integration/podman.sh"; hl_podman_init "$2";
		hl_podman build --network none -t "localhost/$3" "$4"' _ "$HL_ROOT" "$T/podman" "$name" "$ctx" \
		>"$T/${name//:/_}.build" 2>&1
}

# export_rootfs NAME: the image's root filesystem extracted under $T/NAME.root (modes and owners kept, /dev left out).
export_rootfs() {
	local cid f=$T/${1//:/_}
	cid=$(hl_podman create "localhost/$1") || return 1
	hl_podman export -o "$f.tar" "$cid" || return 1
	hl_podman rm "$cid" >/dev/null
	mkdir -p "$f.root"
	tar --numeric-owner -xpf "$f.tar" -C "$f.root" --exclude='./dev' --exclude='dev/*'
	rm -f "$f.tar"
}

# refute_exec IMAGE PROG: PROG cannot be executed in IMAGE; the failure must be podman's "not found" (exit 127), not
# any other error.
refute_exec() {
	local img=$1 prog=$2 out rc
	out=$(hl_podman run --rm --network none --read-only --user 1000 --entrypoint "$prog" "localhost/$img" 2>&1)
	rc=$?
	if [ "$rc" -eq 127 ] && echo "$out" | grep -qiE 'not found|no such file'; then
		t_ok "$img: $prog cannot be executed (not found)"
	else
		t_fail "$img: $prog cannot be executed" "exit $rc: $(echo "$out" | tail -3)"
	fi
}

# run_app IMAGE: the demo app does its job read-only as uid 1000 with a tmpfs at /data.
run_app() {
	local out
	if out=$(hl_podman run --rm --read-only --user 1000 --network none --tmpfs /data "localhost/$1" 2>&1) &&
	    echo "$out" | grep -q '^hello-app: ok (uid=1000, wrote [0-9]* bytes to /data)'; then
		t_ok "$1: the demo app runs read-only as uid 1000 and writes to its tmpfs"
	else
		t_fail "$1: the demo app runs read-only as uid 1000" "$out"
	fi
}

# check_rootfs NAME: the exported root filesystem has the properties every hardened image must have.
check_rootfs() {
	local r=$T/${1//:/_}.root users suid
	users=$(cut -d: -f1 "$r/etc/passwd" | sort | tr '\n' ' ')
	if [ "$users" = "appuser root " ]; then t_ok "$1: /etc/passwd holds only root and appuser"
	else t_fail "$1: /etc/passwd holds only root and appuser" "users: $users"; fi
	if awk -F: '$1 == "root" { exit !($2 ~ /^[!*]/) }' "$r/etc/shadow" && grep -q '^root:' "$r/etc/shadow"; then
		t_ok "$1: root's password is locked"
	else
		t_fail "$1: root's password is locked" "$(grep '^root:' "$r/etc/shadow" | cut -d: -f1-2)"
	fi
	suid=$(find "$r" -xdev -perm /6000 ! -type d | sed "s|^$r||")
	if [ -z "$suid" ]; then t_ok "$1: no setuid or setgid file is left"
	else t_fail "$1: no setuid or setgid file is left" "$(echo "$suid" | head -5)"; fi
	t_refute "$1: /hardline deleted itself" test -e "$r/hardline"
	t_check "$1: /tmp is 1777" test "$(stat -c %a "$r/tmp")" = 1777
	t_check "$1: the demo app is there" test -x "$r/app/hello-app"
}

# ---------------------------------------------------------------------------------------------------------------
# 1. Debian bookworm minbase, the default profile plus --keep hello-app.
if hl_podman_import debian 2>"$T/import.err"; then
	t_ok "debian: the cached debootstrap rootfs is imported"
	if build_image hl-debian:hardened localhost/hl-debian:base \
	    '["/hardline", "harden-rootfs", "--keep", "hello-app", "/"]'; then
		t_ok "debian: podman build --network none with harden-rootfs as the last step"
		t_check "debian: the build prints the facts after hardening" \
			grep -q '^facts after: .*shells 0.*setuid 0, setgid 0' "$T/hl-debian_hardened.build"
		run_app hl-debian:hardened
		for p in sh bash ls wget curl apt apt-get dpkg su chmod; do refute_exec hl-debian:hardened "$p"; done
		if export_rootfs hl-debian:hardened; then
			check_rootfs hl-debian:hardened
			t_check "debian: the dpkg status is kept (scanners still see the packages)" \
				grep -q '^Package: libc6$' "$T/hl-debian_hardened.root/var/lib/dpkg/status"
		else
			t_fail "debian: podman export" "create/export failed"
		fi
	else
		t_fail "debian: podman build" "$(tail -n 20 "$T/hl-debian_hardened.build")"
	fi
else
	t_fail "debian: import the cached rootfs" "$(tail -n 10 "$T/import.err")"
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. busybox-static root. With only hello-app allowed, nothing needs busybox: the binary and every applet link go.
#    (The default allow list holds nologin, itself a busybox applet, which keeps busybox: variant 3.)
if hl_podman_import busybox 2>"$T/import.err"; then
	t_ok "busybox: the cached busybox rootfs is imported"
	echo '{ "profile": "busybox-app", "steps": { "executables": { "allow": ["hello-app"] } } }' \
		>"$T/hardline-policy.json"
	if build_image hl-busybox:hardened localhost/hl-busybox:base \
	    '["/hardline", "harden-rootfs", "--policy", "/hardline-policy.json", "/"]' "$T/hardline-policy.json"; then
		t_ok "busybox: podman build --network none with harden-rootfs as the last step"
		run_app hl-busybox:hardened
		# The demo app's own checks are real: its home /app (appuser's, on the read-only root) is not writable,
		# and it will not run as root.
		out=$(hl_podman run --rm --read-only --user 1000 --network none -e DATA_DIR=/app \
			localhost/hl-busybox:hardened 2>&1)
		if [ $? -eq 1 ] && echo "$out" | grep -q 'cannot write /app/hello.txt: Read-only file system'; then
			t_ok "busybox: without a tmpfs the demo app cannot write (read-only root)"
		else
			t_fail "busybox: without a tmpfs the demo app cannot write" "$out"
		fi
		t_refute "busybox: the demo app refuses to run as root" \
			hl_podman run --rm --network none --user 0 --tmpfs /data localhost/hl-busybox:hardened
		for p in sh ls wget su chmod busybox /bin/busybox; do refute_exec hl-busybox:hardened "$p"; done
		if export_rootfs hl-busybox:hardened; then
			check_rootfs hl-busybox:hardened
			r=$T/hl-busybox_hardened.root
			t_refute "busybox: the busybox binary is gone" test -e "$r/bin/busybox"
			links=$(find "$r" -xdev -type l -lname '*busybox*' | sed "s|^$r||")
			if [ -z "$links" ]; then t_ok "busybox: no applet link is left"
			else t_fail "busybox: no applet link is left" "$(echo "$links" | head -5)"; fi
		else
			t_fail "busybox: podman export" "create/export failed"
		fi
	else
		t_fail "busybox: podman build" "$(tail -n 20 "$T/hl-busybox_hardened.build")"
	fi

	# 3. The default profile with --keep true: an allowed applet keeps the busybox binary, and the report says
	#    which applets stay reachable through it.
	if build_image hl-busybox:keep-true localhost/hl-busybox:base \
	    '["/hardline", "harden-rootfs", "--keep", "true", "--report", "/hardline-report.json", "/"]'; then
		t_ok "busybox --keep true: podman build"
		t_check "busybox --keep true: the kept applet runs" \
			hl_podman run --rm --network none --read-only --user 1000 --entrypoint /bin/true \
			localhost/hl-busybox:keep-true
		refute_exec hl-busybox:keep-true sh
		if export_rootfs hl-busybox:keep-true; then
			r=$T/hl-busybox_keep-true.root
			t_check "busybox --keep true: the busybox binary is kept" test -x "$r/bin/busybox"
			t_check "busybox --keep true: the report lists busybox as kept, with sh among its reachable applets" \
				jq -e '[.steps[] | select(.name == "executables") | .details.multicall[] |
				    select(.path == "/bin/busybox" and .kept == true and (.applets | index("sh")))] | length == 1' \
				"$r/hardline-report.json"
			t_check "busybox --keep true: the summary notes the reachable applets" \
				grep -q 'applets stay reachable' "$T/hl-busybox_keep-true.build"
			check_rootfs hl-busybox:keep-true
		else
			t_fail "busybox --keep true: podman export" "create/export failed"
		fi
	else
		t_fail "busybox --keep true: podman build" "$(tail -n 20 "$T/hl-busybox_keep-true.build")"
	fi
else
	t_fail "busybox: import the cached rootfs" "$(tail -n 10 "$T/import.err")"
fi
t_done
