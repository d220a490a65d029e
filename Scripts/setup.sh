#!/usr/bin/env bash
# Installs what a fresh machine lacks to build zoo: the system packages below (apt), after
# checking that the Swift toolchain is on PATH. Safe to run again: it installs only what is missing.
set -euo pipefail

# System libraries zoo links: libdeflate (CRC-32 of zip members), ISA-L (CRC-32C of TensorFlow
# checkpoints), protobuf-c (TensorFlow index entries), OpenBLAS (the reference forward pass),
# zstd (compressed checkpoints), libcurl (Foundation's HTTP client, for `zoo pull`); python3 runs
# the tests' local HTTP mirror.
APT_PACKAGES=(libdeflate-dev libopenblas-dev libzstd-dev libisal-dev libprotobuf-c-dev libcurl4 python3)

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    else
        echo "setup: swift is not on PATH; install the Swift 6 toolchain first (https://www.swift.org/install/)" >&2
        exit 1
    fi
fi

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
