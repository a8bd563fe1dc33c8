#!/usr/bin/env bash
# lib/oci against real tools: images made by podman (docker-archive and oci-archive of a busybox-static image made
# with `podman import`) and skopeo are read and verified by `hardline image-inspect`; what `hardline image-copy`
# writes is read back by skopeo, umoci and podman; corruption is refused with no partial output; output is
# byte-reproducible; a multi-platform index is kept whole or narrowed with --platform.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ocifix.sh"

for tool in podman skopeo umoci runc jq sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "oci io" "$tool is not installed (make deps)"
		t_done
		exit 0
	fi
done
BUSYBOX=/bin/busybox   # busybox-static: runs in an image with no libc
if [ ! -x "$BUSYBOX" ]; then
	t_skip "oci io" "busybox-static is not installed (make deps)"
	t_done
	exit 0
fi

t_tmpdir T
CONF=$T/containers.conf
printf '[containers]\ndefault_ulimits = []\npids_limit = 0\n[engine]\ncgroup_manager = "cgroupfs"\n' >"$CONF"
export CONTAINERS_CONF=$CONF
pod() { podman --runtime runc --storage-driver vfs --root "$T/root" --runroot "$T/runroot" "$@"; }

# Fixtures: a one-layer busybox image saved both ways by podman, cached between runs.
FIX=$HL_CACHE/oci-io-v1
if [ ! -s "$FIX/docker.tar" ] || [ ! -s "$FIX/oci.tar" ]; then
	mkdir -p "$FIX" "$T/rootfs/bin" "$T/rootfs/etc" "$T/rootfs/tmp"
	cp "$BUSYBOX" "$T/rootfs/bin/busybox"
	ln -s busybox "$T/rootfs/bin/sh"
	ln -s busybox "$T/rootfs/bin/ls"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$T/rootfs/etc/passwd"
	if ! tar -C "$T/rootfs" -c . | pod import - localhost/hl-bb:1 >/dev/null 2>"$T/import.err" ||
	    ! pod save --format docker-archive -o "$FIX/docker.tar.new" localhost/hl-bb:1 >/dev/null 2>&1 ||
	    ! pod save --format oci-archive -o "$FIX/oci.tar.new" localhost/hl-bb:1 >/dev/null 2>&1; then
		t_fail "podman makes the fixture images" "$(tail -3 "$T/import.err")"
		t_done
		exit 1
	fi
	mv "$FIX/docker.tar.new" "$FIX/docker.tar"
	mv "$FIX/oci.tar.new" "$FIX/oci.tar"
fi
cp "$FIX/docker.tar" "$FIX/oci.tar" "$T/"
cd "$T" || exit 1

# ---- reading what podman and skopeo write ----
t_check "inspect podman docker-archive (legacy manifest.json, layer behind a symlink)" \
	"$HARDLINE" image-inspect docker-archive:docker.tar
t_check "inspect docker-archive by RepoTag" "$HARDLINE" image-inspect docker-archive:docker.tar:hl-bb:1
t_check "inspect podman oci-archive" "$HARDLINE" image-inspect oci-archive:oci.tar
t_check "inspect oci-archive by ref.name" "$HARDLINE" image-inspect oci-archive:oci.tar:localhost/hl-bb:1
out=$("$HARDLINE" image-inspect oci-archive:oci.tar:nope 2>&1)
if [ $? -ne 0 ] && [[ $out == *'no image is tagged "nope"'* ]]; then t_ok "unknown tag is refused, naming the tags"
else t_fail "unknown tag is refused, naming the tags" "$out"; fi
t_check "skopeo copies oci-archive to an oci layout" skopeo copy -q oci-archive:oci.tar oci:sk:v1
t_check "inspect skopeo's oci layout" "$HARDLINE" image-inspect oci:sk:v1
diff_docker=$("$HARDLINE" image-inspect docker-archive:docker.tar | awk '/ layer /{print $NF}')
diff_oci=$("$HARDLINE" image-inspect oci:sk:v1 | awk '/ layer /{print $NF}')
if [ -n "$diff_docker" ] && [ "$diff_docker" = "$diff_oci" ]; then t_ok "both saves have the same diff_id"
else t_fail "both saves have the same diff_id" "$diff_docker vs $diff_oci"; fi

# ---- writing: read back by skopeo, umoci and podman ----
t_check "image-copy docker-archive -> oci layout" "$HARDLINE" image-copy docker-archive:docker.tar oci:out:v1
mt=$(skopeo inspect --raw oci:out:v1 | jq -r .mediaType)
if [ "$mt" = application/vnd.oci.image.manifest.v1+json ]; then t_ok "docker media types converted to OCI"
else t_fail "docker media types converted to OCI" "manifest mediaType $mt"; fi
lt=$(skopeo inspect --raw oci:out:v1 | jq -r '.layers[0].mediaType')
[ "$lt" = application/vnd.oci.image.layer.v1.tar ] && t_ok "uncompressed docker layer written as OCI tar" ||
	t_fail "uncompressed docker layer written as OCI tar" "$lt"
t_check "skopeo inspects our layout" skopeo inspect oci:out:v1
t_check "umoci unpacks our layout" umoci unpack --image out:v1 bundle
[ -x bundle/rootfs/bin/busybox ] && t_ok "unpacked rootfs has /bin/busybox" ||
	t_fail "unpacked rootfs has /bin/busybox" "$(ls -la bundle/rootfs/bin 2>&1)"
t_check "image-copy oci layout -> oci-archive" "$HARDLINE" image-copy oci:out:v1 oci-archive:out.tar:v1
t_check "skopeo inspects our oci-archive" skopeo inspect oci-archive:out.tar:v1
t_check "image-copy podman oci-archive (gzip layer) -> oci layout" "$HARDLINE" image-copy oci-archive:oci.tar oci:gz:v1
src_layer=$(tar -xOf oci.tar index.json | jq -r '.manifests[0].digest')
src_layer=$(tar -xOf oci.tar "blobs/sha256/${src_layer#sha256:}" | jq -c '.layers[0] | [.mediaType, .digest]')
dst_layer=$(skopeo inspect --raw oci:gz:v1 | jq -c '.layers[0] | [.mediaType, .digest]')
[ -n "$src_layer" ] && [ "$src_layer" = "$dst_layer" ] && t_ok "gzip layer copied as is (same media type and digest)" ||
	t_fail "gzip layer copied as is (same media type and digest)" "$src_layer vs $dst_layer"
loaded=$(pod load -i out.tar 2>&1 | sed -n 's/^Loaded image[^:]*: //p' | head -1)
if [ -n "$loaded" ] && pod run --rm --network none --read-only "$loaded" /bin/busybox true >/dev/null 2>&1; then
	t_ok "podman loads and runs our oci-archive"
else
	t_fail "podman loads and runs our oci-archive" "loaded: '$loaded'"
fi

# ---- reproducible ----
SOURCE_DATE_EPOCH=1700000000 "$HARDLINE" image-copy oci-archive:oci.tar oci-archive:r1.tar:v1 >/dev/null
SOURCE_DATE_EPOCH=1700000000 "$HARDLINE" image-copy oci-archive:oci.tar oci-archive:r2.tar:v1 >/dev/null
t_check "same input, byte-identical oci-archive" cmp r1.tar r2.tar
bad=$(tar --utc -tvf r1.tar | awk '$2 != "0/0" || $4 != "2023-11-14" {print}')
[ -z "$bad" ] && t_ok "archive entries: uid/gid 0, mtime = SOURCE_DATE_EPOCH" ||
	t_fail "archive entries: uid/gid 0, mtime = SOURCE_DATE_EPOCH" "$bad"
tar -tf r1.tar >names.txt
sort -c names.txt 2>/dev/null && t_ok "archive entries sorted" || t_fail "archive entries sorted" "$(cat names.txt)"
d1=$("$HARDLINE" image-copy docker-archive:docker.tar oci:rep1)
d2=$("$HARDLINE" image-copy docker-archive:docker.tar oci:rep2)
[ -n "$d1" ] && [ "$d1" = "$d2" ] && t_ok "same input, same manifest digest" || t_fail "same input, same manifest digest" "$d1 $d2"

# ---- existing layouts: another tag is kept ----
"$HARDLINE" image-copy oci-archive:oci.tar oci:out:v2 >/dev/null
t_check "second tag added to an existing layout" skopeo inspect oci:out:v2
t_check "first tag still there" skopeo inspect oci:out:v1

# ---- corruption: refused, naming the blob; no partial output ----
skopeo copy -q oci-archive:oci.tar oci:bad:v1
layer=$(skopeo inspect --raw oci:bad:v1 | jq -r '.layers[0].digest')
printf 'X' | dd of="bad/blobs/sha256/${layer#sha256:}" bs=1 seek=4000 conv=notrunc status=none
out=$("$HARDLINE" image-inspect oci:bad:v1 2>&1)
if [ $? -ne 0 ] && [[ $out == *"blob $layer: content does not match its digest"* ]]; then
	t_ok "corrupt layer refused, naming the blob"
else
	t_fail "corrupt layer refused, naming the blob" "$out"
fi
t_refute "image-copy of a corrupt image fails (oci)" "$HARDLINE" image-copy oci:bad:v1 oci:never:v1
t_refute "image-copy of a corrupt image fails (oci-archive)" "$HARDLINE" image-copy oci:bad:v1 oci-archive:never.tar
left=$(ls -d never* 2>/dev/null)
[ -z "$left" ] && t_ok "a failed copy leaves no partial destination" ||
	t_fail "a failed copy leaves no partial destination" "$left"

# ---- multi-platform: an index of amd64 and arm64 (arm64 config made here) ----
skopeo copy -q oci-archive:oci.tar oci:multi:base
ocifix_multi multi all
n=$("$HARDLINE" image-inspect oci:multi:all | grep -c '^image ')
[ "$n" = 2 ] && t_ok "multi-platform index: both platforms listed" || t_fail "multi-platform index: both platforms listed" "$n"
plat=$("$HARDLINE" image-inspect --platform linux/arm64 oci:multi:all | awk '/^image /{print $2}')
[ "$plat" = linux/arm64/v8 ] && t_ok "--platform selects linux/arm64" || t_fail "--platform selects linux/arm64" "$plat"
t_check "image-copy keeps every platform" "$HARDLINE" image-copy oci:multi:all oci:mout:all
mt=$(skopeo inspect --raw oci:mout:all | jq -r '.mediaType + " " + (.manifests | length | tostring)')
[ "$mt" = "application/vnd.oci.image.index.v1+json 2" ] && t_ok "our index lists 2 platforms" ||
	t_fail "our index lists 2 platforms" "$mt"
t_check "skopeo copy --all reads our index" skopeo copy -q --all oci:mout:all oci:mout2:all
t_check "image-copy --platform writes one platform" "$HARDLINE" image-copy --platform linux/arm64 oci:multi:all oci:arm:v1
arch=$(skopeo inspect oci:arm:v1 | jq -r .Architecture)
[ "$arch" = arm64 ] && t_ok "the arm64 image alone" || t_fail "the arm64 image alone" "$arch"

# ---- harden of a multi-platform index: every platform hardened, one index out, reproducible ----
export SOURCE_DATE_EPOCH=1700000000
d1=$("$HARDLINE" harden --quiet --report hmp.json oci:multi:all oci:hmp:all 2>hmp.err)
d2=$("$HARDLINE" harden --quiet oci:multi:all oci:hmp2:all 2>/dev/null)
unset SOURCE_DATE_EPOCH
np=$(skopeo inspect --raw oci:hmp:all | jq -r '[.manifests[].platform.architecture] | sort | join(",")')
[ "$np" = "amd64,arm64" ] && t_ok "harden: every platform of an index is hardened" ||
	t_fail "harden: every platform of an index is hardened" "$np $(cat hmp.err)"
[ -n "$d1" ] && [ "$d1" = "$d2" ] && t_ok "harden: multi-platform output is reproducible" ||
	t_fail "harden: multi-platform output is reproducible" "$d1 vs $d2"
nr=$(jq -r '[.platforms[] | select(.facts.shells.count == 0) | .platform] | join(",")' hmp.json)
[ "$nr" = "linux/amd64,linux/arm64/v8" ] && t_ok "harden: one report per platform, no shells left" ||
	t_fail "harden: one report per platform, no shells left" "$nr"
t_check "skopeo copy --all reads the hardened index" skopeo copy -q --all oci:hmp:all oci:hmp3:all

t_done
