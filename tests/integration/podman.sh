# Sourced by the container tests and the demo: podman with what works on these machines (runc, vfs storage,
# cgroupfs, no default ulimits; see tests/fixtures/containers.conf) and storage private to one run.
#   hl_podman_init DIR       use DIR/root and DIR/runroot as this run's storage
#   hl_podman ARGS...        podman with the flags above
#   hl_podman_import NAME    import a cached rootfs tarball (debian|busybox, built when missing) as localhost/NAME:base
#   hl_podman_available      exit 0 when podman and runc are installed
HL_PODMAN_ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HL_PODMAN_STATE=${HL_PODMAN_STATE:-}

hl_podman_init() {
	HL_PODMAN_STATE=$1
	mkdir -p "$HL_PODMAN_STATE/root" "$HL_PODMAN_STATE/runroot"
}

hl_podman() {
	if [ -z "$HL_PODMAN_STATE" ]; then
		echo "hl_podman: call hl_podman_init DIR first" >&2
		return 2
	fi
	CONTAINERS_CONF=$HL_PODMAN_ROOT_DIR/tests/fixtures/containers.conf podman --runtime runc --storage-driver vfs \
		--root "$HL_PODMAN_STATE/root" --runroot "$HL_PODMAN_STATE/runroot" "$@"
}

hl_podman_available() {
	command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1
}

# hl_podman_import debian|busybox [IMAGE]: builds the fixture tarball if it is not cached yet, then imports it
# (default IMAGE: localhost/hl-<name>:base). Prints nothing on success; the build's messages go to stderr.
hl_podman_import() {
	local name=$1 image=${2:-localhost/hl-$1:base} tarball
	tarball=$("$HL_PODMAN_ROOT_DIR/tests/fixtures/build-rootfs.sh" "$name") || return 1
	hl_podman import -q "$tarball" "$image" >/dev/null
}
