#!/usr/bin/env bash
# Formats every Swift file with the toolchain's swift-format (config in .swift-format), then lints
# Sources/ for force unwraps and force tries, which are not allowed there.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format --in-place --recursive Package.swift Sources Tests
swift format lint --recursive Sources 2>&1 | grep -E "NeverForceUnwrap|NeverUseForceTry" || true
