#!/usr/bin/env bash
# Lays out the root filesystem of the webhook's image: the binary at /usr/bin/hardline-webhook, the shared libraries
# it loads (from ldd, at their paths), the CA certificates and minimal passwd/group files with appuser (uid 1000).
# Used by deploy/Containerfile's build stage; run on the build host it makes the same tree.
#   deploy/image-rootfs.sh BINARY OUTDIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: deploy/image-rootfs.sh BINARY OUTDIR" >&2; exit 2; }
bin=$1 out=$2
[ -x "$bin" ] || { echo "image-rootfs.sh: $bin is not an executable (build it: make build/hardline-webhook)" >&2; exit 1; }
command -v ldd >/dev/null || { echo "image-rootfs.sh: ldd is needed (libc-bin)" >&2; exit 1; }
if ldd "$bin" | grep -q 'not found'; then
	echo "image-rootfs.sh: $bin needs libraries this system lacks:" >&2
	ldd "$bin" | grep 'not found' >&2
	exit 1
fi
mkdir -p "$out/usr/bin" "$out/etc/ssl/certs" "$out/tmp"
install -m 0755 "$bin" "$out/usr/bin/hardline-webhook"
# "libx.so.1 => /lib/.../libx.so.1 (0x...)" and the loader "/lib64/ld-linux-x86-64.so.2 (0x...)"
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do
	cp -L --parents "$lib" "$out/"
done
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
printf 'root:x:0:0:root:/nonexistent:/nonexistent\nappuser:x:1000:1000:appuser:/nonexistent:/nonexistent\n' \
	>"$out/etc/passwd"
printf 'root:x:0:\nappuser:x:1000:\n' >"$out/etc/group"
chmod 1777 "$out/tmp"
