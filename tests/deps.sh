#!/usr/bin/env bash
# make deps: installs the Debian packages that the build, the tests and the demo need; skips what is installed.
# The Go peers (kube-apiserver, etcd, cosign, helm) are built and cached by tests/peers/install.sh.
set -euo pipefail
pkgs=(
	build-essential pkg-config git ca-certificates curl openssl jq
	libmicrohttpd-dev libgnutls28-dev libjansson-dev libssl-dev libcmocka-dev libarchive-dev libcurl4-openssl-dev libzstd-dev
	zlib1g-dev clang clang-format cppcheck
	podman buildah skopeo umoci runc uidmap docker-registry debootstrap busybox-static
	wrk nginx-light hyperfine apache2-utils time python3
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages installed"
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -q
# With recommends: podman's (conmon, catatonit, containernetworking-plugins, ...) are what the tests ran with.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
