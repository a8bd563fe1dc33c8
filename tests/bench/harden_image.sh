#!/usr/bin/env bash
# `hardline harden` on a ~200 MB (uncompressed) Debian image, side by side in one run with (a) umoci unpack + the
# shell steps of the article (tests/bench/article-steps.sh) + umoci repack and (b) the I/O floor: every layer blob
# decompressed and hashed once (gzip -dc | sha256sum), and hardline image-inspect (which reads every blob verified).
# Wall time (median of BENCH_RUNS, default 3) and peak RSS (GNU time %M) of each; then --squash, and the same harden
# on a 2x and 4x larger image to show that peak RSS does not grow with the bytes. Figures are printed, not asserted.
# The images are built once and cached under $HL_CACHE/bench-harden-image-v1 (one OCI layout, tags base, x2, x4).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${BENCH_RUNS:-3}
HL_CACHE=${HARDLINE_CACHE:-${HL_CACHE:-$HOME/.cache/hardline}}
LAYOUT=$HL_CACHE/bench-harden-image-v1
for tool in umoci gzip sha256sum openssl busybox; do
	command -v "$tool" >/dev/null || { echo "harden_image bench: $tool missing (make deps)"; exit 0; }
done
[ -x /usr/bin/time ] || { echo "harden_image bench: GNU time missing (make deps: package time)"; exit 0; }
if [ "$(id -u)" -ne 0 ]; then echo "harden_image bench: umoci unpack needs root here"; exit 0; fi

# A release build of hardline (no sanitizers), whatever build/ was made with (see tests/bench/webhook.sh).
REL=build/release
relmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s BUILD=$REL SAN= WERROR= $REL/hardline >/dev/null; }
if ! relmake 2>/dev/null || ldd "$REL/hardline" | grep -q libasan; then
	rm -rf "$REL"
	relmake || { echo "harden_image bench: release build failed"; exit 1; }
fi
HL=$ROOT/$REL/hardline

T=$(mktemp -d /tmp/hardline-bench-image.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- the images ----
# add_blob FILE: moves FILE into the layout's blob store; prints its digest (sha256:HEX).
add_blob() {
	local h
	h=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$LAYOUT/blobs/sha256/$h"
	echo "sha256:$h"
}
# gz_layer NAME DIR: a reproducible gzip tar layer of DIR's contents; sets LAYER_DIGEST, LAYER_DIFF, LAYER_SIZE.
gz_layer() {
	tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@1700000000 -C "$2" -cf "$T/$1.tar" .
	LAYER_DIFF=sha256:$(sha256sum "$T/$1.tar" | cut -d' ' -f1)
	gzip -n -6 -c "$T/$1.tar" >"$T/$1.tar.gz"
	rm -f "$T/$1.tar"
	LAYER_SIZE=$(stat -c %s "$T/$1.tar.gz")
	LAYER_DIGEST=$(add_blob "$T/$1.tar.gz")
}
# app_part K: layer K of application files, about 80 MB: 600 text files of 128 KiB (base64 of a fixed AES-CTR
# stream, so that they compress like real data and are the same on every machine), 3 static ELF programs in
# /app/partK/bin, and 2 in /usr/local/bin that the hardening deletes.
app_part() {
	local k=$1 d=$T/part$1
	mkdir -p "$d/app/part$k/data" "$d/app/part$k/bin" "$d/usr/local/bin"
	openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$k")" -iv 0 </dev/zero 2>/dev/null | head -c 58982400 |
		base64 -w 76 | split -b 131072 -d -a 4 - "$d/app/part$k/data/file-"
	for i in 1 2 3; do cp "$(command -v busybox)" "$d/app/part$k/bin/tool$i"; done
	cp "$(command -v busybox)" "$d/usr/local/bin/extra$k-a"
	cp "$(command -v busybox)" "$d/usr/local/bin/extra$k-b"
	printf 'part %s\n' "$k" >"$d/app/part$k/VERSION"
	gz_layer "part$k" "$d"
	rm -rf "$d"
}
# image TAG NPARTS: an image of the Debian layer and app parts 1..NPARTS, tagged TAG.
image() {
	local tag=$1 n=$2 k cfg man diffs="" layers="" hist=""
	diffs="\"${LAYERS_DIFF[0]}\""
	layers=$(printf '{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}' \
		"${LAYERS_DIGEST[0]}" "${LAYERS_SIZE[0]}")
	hist='{"created":"2026-01-01T00:00:00Z","created_by":"debootstrap --variant=minbase bookworm"}'
	for ((k = 1; k <= n; k++)); do
		diffs+=",\"${LAYERS_DIFF[$k]}\""
		layers+=$(printf ',{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}' \
			"${LAYERS_DIGEST[$k]}" "${LAYERS_SIZE[$k]}")
		hist+=",{\"created\":\"2026-01-01T00:00:00Z\",\"created_by\":\"COPY app/part$k /app/part$k\"}"
	done
	printf '{"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/app/part1/bin/tool1","sh"],"WorkingDir":"/app"},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
		"$diffs" "$hist" >"$T/config.json"
	cfg=$(add_blob "$T/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
		"$cfg" "$(stat -c %s "$LAYOUT/blobs/sha256/${cfg#sha256:}")" "$layers" >"$T/manifest.json"
	man=$(stat -c %s "$T/manifest.json")
	MANIFESTS+=("$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}' \
		"$(add_blob "$T/manifest.json")" "$man" "$tag")")
}
build_images() {
	local debian k
	debian=$("$ROOT/tests/fixtures/build-rootfs.sh" debian) || return 1
	rm -rf "$LAYOUT.tmp"
	mkdir -p "$LAYOUT.tmp/blobs/sha256"
	LAYOUT=$LAYOUT.tmp
	echo '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
	echo "harden_image bench: building the bench images under $HL_CACHE (once; about 2 minutes)" >&2
	LAYERS_DIGEST=(); LAYERS_DIFF=(); LAYERS_SIZE=(); MANIFESTS=()
	LAYER_DIFF=sha256:$(sha256sum "$debian" | cut -d' ' -f1)
	gzip -n -6 -c "$debian" >"$T/debian.tar.gz"
	LAYER_SIZE=$(stat -c %s "$T/debian.tar.gz")
	LAYER_DIGEST=$(add_blob "$T/debian.tar.gz")
	LAYERS_DIGEST+=("$LAYER_DIGEST"); LAYERS_DIFF+=("$LAYER_DIFF"); LAYERS_SIZE+=("$LAYER_SIZE")
	for k in 1 2 3 4 5 6 7 8 9; do
		app_part "$k" || return 1
		LAYERS_DIGEST+=("$LAYER_DIGEST"); LAYERS_DIFF+=("$LAYER_DIFF"); LAYERS_SIZE+=("$LAYER_SIZE")
	done
	image base 1 && image x2 4 && image x4 9 || return 1
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s,%s]}\n' \
		"${MANIFESTS[0]}" "${MANIFESTS[1]}" "${MANIFESTS[2]}" >"$LAYOUT/index.json"
	LAYOUT=${LAYOUT%.tmp}
	mv "$LAYOUT.tmp" "$LAYOUT"
}
if [ ! -f "$LAYOUT/index.json" ]; then
	build_images || { echo "harden_image bench: building the images failed"; exit 1; }
fi

# layer_blobs TAG: the layer blob paths of image TAG.
layer_blobs() {
	local m
	m=$(jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
		"$LAYOUT/index.json")
	jq -r '.layers[].digest' "$LAYOUT/blobs/sha256/${m#sha256:}" | sed "s#^sha256:#$LAYOUT/blobs/sha256/#"
}
# expanded TAG: uncompressed bytes of TAG's layers (counted once, then cached beside the layout).
expanded() {
	local b s=0 f=$LAYOUT/expanded-$1
	if [ ! -s "$f" ]; then
		for b in $(layer_blobs "$1"); do s=$((s + $(gzip -dc "$b" | wc -c))); done
		echo "$s" >"$f"
	fi
	cat "$f"
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "-") print 0; else printf "%.4f", a / b }'; }
# measure NAME CMD...: runs CMD once under GNU time; appends "NAME wall-ms peak-RSS-KB CPU-ms" (CPU: user + system
# of CMD and its children, which the other load on a shared machine does not inflate) to $T/results.
measure() {
	local name=$1 t0 t1 rc
	shift
	sync
	t0=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$T/rss" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	t1=$(date +%s%N)
	if [ "$rc" -ne 0 ]; then
		echo "harden_image bench: $name failed (exit $rc):" >&2
		tail -n 5 "$T/err" >&2
		return "$rc"
	fi
	echo "$name $(((t1 - t0) / 1000000)) $(tail -n 1 "$T/rss" | awk '{ printf "%d %d", $1, ($2 + $3) * 1000 }')" \
		>>"$T/results"
}
# median NAME FIELD: median of the FIELD (2 = wall ms, 3 = KB, 4 = CPU ms) of NAME's runs.
median() {
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$T/results" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'
}

floor_gzip() {   # TAG
	local b
	for b in $(layer_blobs "$1"); do gzip -dc "$b" | sha256sum >/dev/null || return 1; done
}
# floor_zlib TAG: the same with the libraries hardline uses (zlib inflate, OpenSSL SHA-256 through python's hashlib)
# in one process: the floor for hardline's own read pass.
floor_zlib() {
	layer_blobs "$1" | python3 -c '
import hashlib, sys, zlib
for path in sys.stdin.read().split():
    d, h = zlib.decompressobj(31), hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 16), b""):
            h.update(d.decompress(b))
'
}
# umoci_path TAG DIR: a private copy of the layout (blobs hard-linked), unpack, the article's steps, repack.
umoci_prepare() {
	mkdir -p "$2/layout"
	cp -al "$LAYOUT/blobs" "$2/layout/"
	cp "$LAYOUT/index.json" "$LAYOUT/oci-layout" "$2/layout/"
}
umoci_path() {
	umoci unpack --image "$2/layout:$1" "$2/bundle" >/dev/null &&
		bash "$ROOT/tests/bench/article-steps.sh" "$2/bundle/rootfs" &&
		umoci repack --image "$2/layout:hardened" "$2/bundle" >/dev/null
}
export -f umoci_path floor_gzip floor_zlib layer_blobs
export ROOT LAYOUT

echo "load before: $(uptime | sed 's/.*load average/load average/') on $(nproc) cores"
BASE_BYTES=$(expanded base)
printf 'image base: %d layers, %.1f MB uncompressed, %.1f MB compressed\n' "$(layer_blobs base | wc -l)" \
	"$(div "$BASE_BYTES" 1000000)" "$(div "$(layer_blobs base | xargs stat -c %s | awk '{ s += $1 } END { print s }')" 1000000)"
: >"$T/results"
for ((i = 1; i <= RUNS; i++)); do
	rm -rf "$T/o"; mkdir -p "$T/o"
	measure floor-gzip bash -c 'floor_gzip base' || exit 1
	if command -v python3 >/dev/null; then measure floor-zlib bash -c 'floor_zlib base' || exit 1; fi
	measure floor-inspect "$HL" image-inspect "oci:$LAYOUT:base" || exit 1
	measure harden "$HL" harden --quiet "oci:$LAYOUT:base" "oci:$T/o/h:x" || exit 1
	measure harden-squash "$HL" harden --quiet --squash "oci:$LAYOUT:base" "oci:$T/o/s:x" || exit 1
	measure harden-squash-zstd "$HL" harden --quiet --squash --compression zstd "oci:$LAYOUT:base" "oci:$T/o/z:x" ||
		exit 1
	umoci_prepare base "$T/o/u"
	measure umoci-path bash -c 'umoci_path base "$1"' _ "$T/o/u" || exit 1
done
rm -rf "$T/o"
for tag in x2 x4; do
	mkdir -p "$T/o"
	b=$(expanded "$tag")
	measure "harden-$tag" "$HL" harden --quiet "oci:$LAYOUT:$tag" "oci:$T/o/h:x" || exit 1
	measure "harden-squash-$tag" "$HL" harden --quiet --squash "oci:$LAYOUT:$tag" "oci:$T/o/s:x" || exit 1
	printf 'image %s: %d layers, %.1f MB uncompressed\n' "$tag" "$(layer_blobs "$tag" | wc -l)" \
		"$(div "$b" 1000000)"
	rm -rf "$T/o"
done
echo "load after: $(uptime | sed 's/.*load average/load average/')"

printf '\n%-36s %10s %10s %12s\n' "run (median of $RUNS)" "wall ms" "CPU ms" "peak RSS MB"
row() {
	[ "$(median "$2" 2)" = - ] && return
	printf '%-36s %10s %10s %12.1f\n' "$1" "$(median "$2" 2)" "$(median "$2" 4)" "$(div "$(median "$2" 3)" 1024)"
}
row "floor: gzip -dc | sha256sum" floor-gzip
row "floor: zlib + OpenSSL (python3)" floor-zlib
row "hash only: hardline image-inspect" floor-inspect
row "hardline harden" harden
row "hardline harden --squash" harden-squash
row "hardline harden --squash (zstd)" harden-squash-zstd
row "umoci unpack + steps + repack" umoci-path
row "hardline harden, 2x image (1 run)" harden-x2
row "harden --squash, 2x image (1 run)" harden-squash-x2
row "hardline harden, 4x image (1 run)" harden-x4
row "harden --squash, 4x image (1 run)" harden-squash-x4
h=$(median harden 2); f=$(median floor-gzip 2); u=$(median umoci-path 2)
printf '\nharden / floor (gzip): %.2f   (target <= 1.5)\n' "$(div "$h" "$f")"
printf 'squash / floor (gzip): %.2f\n' "$(div "$(median harden-squash 2)" "$f")"
printf 'CPU: harden / floor (gzip) %.2f, harden / floor (zlib) %.2f, umoci path / harden %.2f\n' \
	"$(div "$(median harden 4)" "$(median floor-gzip 4)")" "$(div "$(median harden 4)" "$(median floor-zlib 4)")" \
	"$(div "$(median umoci-path 4)" "$(median harden 4)")"
printf 'umoci path / harden:   %.2f   (target >= 3)\n' "$(div "$u" "$h")"
printf 'peak RSS of harden: base %.1f MB, 2x %.1f MB, 4x %.1f MB   (target < 64 MB)\n' \
	"$(div "$(median harden 3)" 1024)" "$(div "$(median harden-x2 3)" 1024)" \
	"$(div "$(median harden-x4 3)" 1024)"
