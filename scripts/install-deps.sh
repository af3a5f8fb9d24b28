#!/usr/bin/env bash
# Installs every build and test dependency of reattest from Debian 12 packages.
# Idempotent and non-interactive; run as root (or through sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libuv1-dev libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libcpp-httplib-dev prometheus-cpp-dev catch2 libssl-dev libyaml-cpp-dev
  libsimdjson-dev nlohmann-json3-dev libspdlog-dev
  clang-format-14 openssl
  prometheus  # promtool: the metrics unit test lints a scrape with `promtool check metrics`
  docker.io busybox-static  # a private dockerd and a busybox image for the Docker tests
)
# The interop test's client runs on Node.js; machines of this kind ship one.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
