# shellcheck shell=bash
# ocifix.sh — OCI layout fixtures the integration tests build by hand with jq: blobs added to a layout, and a
# multi-platform index (amd64 + a made-up arm64/v8) made from a one-platform layout. Source it after lib.sh.

# ocifix_blob LAYOUT: stores stdin as a blob of the oci layout directory LAYOUT; prints "sha256:<hex> <size>".
ocifix_blob() {
	local f d
	f=$(mktemp "$1/blobs/.blob.XXXXXX"); cat >"$f"
	d=$(sha256sum "$f" | cut -d' ' -f1); mv "$f" "$1/blobs/sha256/$d"
	echo "sha256:$d $(stat -c %s "$1/blobs/sha256/$d")"
}

# ocifix_multi LAYOUT TAG: turns LAYOUT, whose index.json names one amd64 manifest first, into a layout whose only
# entry, tagged TAG, is an image index of that manifest and an arm64/v8 one (its config is the amd64 config with
# the architecture changed; the layers are shared). The JSON is compact, so the digests are the same on every run.
ocifix_multi() {
	local dir=$1 tag=$2 m1 m1size cfg c2 c2size m2 m2size ix ixsize
	m1=$(jq -r '.manifests[0].digest' "$dir/index.json")
	m1size=$(jq -r '.manifests[0].size' "$dir/index.json")
	cfg=$(jq -r .config.digest "$dir/blobs/sha256/${m1#sha256:}")
	read -r c2 c2size < <(jq -c '.architecture = "arm64" | .variant = "v8"' "$dir/blobs/sha256/${cfg#sha256:}" |
		tr -d '\n' | ocifix_blob "$dir")
	read -r m2 m2size < <(jq -c --arg d "$c2" --argjson s "$c2size" '.config.digest = $d | .config.size = $s' \
		"$dir/blobs/sha256/${m1#sha256:}" | tr -d '\n' | ocifix_blob "$dir")
	read -r ix ixsize < <(jq -nc --arg m1 "$m1" --argjson s1 "$m1size" --arg m2 "$m2" --argjson s2 "$m2size" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
		 {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m1, size: $s1,
		  platform: {architecture: "amd64", os: "linux"}},
		 {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m2, size: $s2,
		  platform: {architecture: "arm64", os: "linux", variant: "v8"}}]}' | tr -d '\n' | ocifix_blob "$dir")
	jq -nc --arg d "$ix" --argjson s "$ixsize" --arg tag "$tag" '{schemaVersion: 2, manifests: [{mediaType:
		"application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
		annotations: {"org.opencontainers.image.ref.name": $tag}}]}' >"$dir/index.json"
}
