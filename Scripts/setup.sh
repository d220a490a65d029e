#!/usr/bin/env bash
# Installs what a fresh machine lacks to build zoo: the system packages below (apt), after
# putting the Swift toolchain on PATH (Scripts/find-swift.sh says where it looks). Safe to run
# again: it installs only what is missing.
set -euo pipefail

# System libraries zoo links: libdeflate (CRC-32 of zip members), ISA-L (CRC-32C of TensorFlow
# checkpoints), protobuf-c (TensorFlow index entries), OpenBLAS (the reference forward pass),
# zstd (compressed checkpoints), libcurl (Foundation's HTTP client, for `zoo pull`); python3 runs
# the tests' local HTTP mirror.
APT_PACKAGES=(libdeflate-dev libopenblas-dev libzstd-dev libisal-dev libprotobuf-c-dev libcurl4 python3)

source "$(dirname "${BASH_SOURCE[0]}")/find-swift.sh"

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
