#!/usr/bin/env bash
# make demo: the first five minutes of hardline. Builds the demo app into a Debian image twice, without and with
# `hardline harden-rootfs` as the last build step, runs both, and shows the difference (hardline scan --diff).
# Needs root, podman and runc (make deps); the Debian base is debootstrapped once and cached under ~/.cache/hardline.
set -euo pipefail
HL_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HARDLINE_BUILD:-$HL_ROOT/build}
HARDLINE=$BUILD/hardline
export HARDLINE_BUILD=$BUILD
source "$HL_ROOT/tests/integration/podman.sh"

n=0
step() { n=$((n + 1)); printf '\n== %d. %s\n' "$n" "$*"; }
# show CMD...: prints "$ podman ARGS" for an hl_podman call (the storage flags left out), then runs it.
show() { local a=("$@"); [ "${a[0]}" = hl_podman ] && a[0]=podman; printf '$ %s\n' "${a[*]}"; "$@"; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (podman with vfs storage and runc, as the tests do)"
hl_podman_available || die "podman and runc are needed: run 'make deps'"
if [ ! -x "$HARDLINE" ] || [ ! -x "$BUILD/hardline-static" ]; then die "build the binaries first: make"; fi

work=$(mktemp -d /var/tmp/hardline-demo.XXXXXX)
cleanup() { chmod -R u+rwx "$work" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
hl_podman_init "$work/podman"

step "The base image: Debian bookworm minbase (debootstrap, built once and cached)"
base=$("$HL_ROOT/tests/fixtures/build-rootfs.sh" debian)
echo "rootfs tarball: $base ($(du -h "$base" | cut -f1))"
hl_podman_import debian localhost/demo-debian:base
echo "imported as localhost/demo-debian:base"

step "The demo app: tests/demo-app/hello-app.c, a static binary that writes to /data and refuses to run as root"
app=$("$HL_ROOT/tests/demo-app/build.sh")
echo "built $app"

step "Two Containerfiles: the app as it is, and the same with harden-rootfs as the last step"
mkdir -p "$work/plain" "$work/hardened"
cp "$app" "$work/plain/hello-app"; cp "$app" "$work/hardened/hello-app"
cp "$BUILD/hardline-static" "$work/hardened/hardline"
printf '%s\n' 'FROM localhost/demo-debian:base' 'COPY hello-app /app/hello-app' \
	'ENTRYPOINT ["/app/hello-app"]' >"$work/plain/Containerfile"
printf '%s\n' 'FROM localhost/demo-debian:base' 'COPY hello-app /app/hello-app' 'COPY hardline /hardline' \
	'ENTRYPOINT ["/app/hello-app"]' 'RUN ["/hardline", "harden-rootfs", "--keep", "hello-app", "/"]' \
	>"$work/hardened/Containerfile"
echo "--- hardened/Containerfile"; cat "$work/hardened/Containerfile"

step "podman build --network none (plain)"
hl_podman build -q --network none -t localhost/demo-hello:plain "$work/plain" >/dev/null
echo "built localhost/demo-hello:plain"

step "podman build --network none (hardened; the hardener reports each step, and the upgrade fails offline)"
hl_podman build --network none -t localhost/demo-hello:hardened "$work/hardened" 2>&1 |
	grep -vE '^(STEP|COMMIT|-->|Successfully|[0-9a-f]{64}$|Ign:|Err:|E: |W: |  Temporary|Reading package)'

step "Both images run the app read-only as uid 1000, with a tmpfs at /data"
for tag in plain hardened; do
	echo "[$tag]"
	show hl_podman run --rm --read-only --user 1000 --network none --tmpfs /data localhost/demo-hello:$tag
done

step "What an intruder finds: a shell in the plain image, none in the hardened one"
echo "[plain]"
echo '$ podman run --rm --read-only --user 1000 --network none --entrypoint /bin/sh localhost/demo-hello:plain -c ...'
# shellcheck disable=SC2016 # expanded by the shell in the container
hl_podman run --rm --read-only --user 1000 --network none --entrypoint /bin/sh localhost/demo-hello:plain \
	-c 'echo "sh runs as uid $(id -u): $(ls /usr/bin | wc -l) programs in /usr/bin, among them:" \
	    $(for p in su passwd apt-get dpkg perl chmod; do command -v $p; done)'
echo "[hardened]"
if out=$(hl_podman run --rm --read-only --user 1000 --network none --entrypoint /bin/sh \
    localhost/demo-hello:hardened -c true 2>&1); then
	die "the hardened image ran a shell: $out"
fi
echo '$ podman run --rm --read-only --user 1000 --network none --entrypoint /bin/sh localhost/demo-hello:hardened -c true'
echo "$out"

step "Before and after, measured on the exported root filesystems (hardline scan --diff)"
for tag in plain hardened; do
	cid=$(hl_podman create localhost/demo-hello:$tag)
	mkdir -p "$work/$tag.root"
	hl_podman export "$cid" | tar --numeric-owner -xpf - -C "$work/$tag.root" --exclude='./dev' --exclude='dev/*'
	hl_podman rm "$cid" >/dev/null
done
# The table only (the lists of what was removed follow it, after a blank line).
"$HARDLINE" scan --diff "dir:$work/hardened.root" "dir:$work/plain.root" >"$work/diff.txt"
awk 'NF == 0 { blank++; if (blank == 2) exit; next } blank == 1' "$work/diff.txt"
printf '  %-20s %12s %12s\n' "image size (podman)" \
	"$(hl_podman image inspect --format '{{.Size}}' localhost/demo-hello:plain)" \
	"$(hl_podman image inspect --format '{{.Size}}' localhost/demo-hello:hardened)"
printf '  %-20s %12s %12s\n' "passwd users" "$(cut -d: -f1 "$work/plain.root/etc/passwd" | wc -l)" \
	"$(cut -d: -f1 "$work/hardened.root/etc/passwd" | paste -sd, -)"
echo "  (the full list of what was removed: hardline scan --diff dir:BEFORE dir:AFTER)"
echo
echo "The hardened image still carries the base layer underneath: a last RUN step can only add whiteouts, so its"
echo "size grows and the removed files stay in the lower layer. 'hardline harden --squash' rewrites a built image into"
echo "one layer with only what remains."
echo
echo "demo: done"
