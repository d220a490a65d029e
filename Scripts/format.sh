#!/usr/bin/env bash
# Formats every Swift file with the toolchain's swift-format (config in .swift-format), then lints
# them strictly: any finding (a force unwrap or force try, a name, a layout the formatter would
# change) fails, as it fails the test command (Scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
swift format --in-place --recursive Package.swift Sources Tests FuzzTesting/Package.swift FuzzTesting/Sources
swift format lint --strict --recursive Package.swift Sources Tests
