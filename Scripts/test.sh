#!/usr/bin/env bash
# README command 2: set up and run the whole test suite (fixtures are committed; no Python needed).
# Hygiene is part of it: the sources must pass the checks of Scripts/check-sources.sh and
# `swift format lint --strict`, and the build must print no warning.
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/setup.sh
bash Scripts/check-sources.sh
swift format lint --strict --recursive Package.swift Sources Tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests 2>&1 | tee "$log"
# Warnings of zoo's own code (dependencies' are suppressed by SwiftPM). A fresh clone, as CI
# uses, compiles everything, so every warning is seen.
if grep -E "^(/[^:]*/)?(Sources|Tests|Package\.swift)[^:]*:[0-9]+:[0-9]+: warning:" "$log" | grep -v "/.build/" >/dev/null; then
    echo "error: the build printed warnings (see above); zoo builds warning-free" >&2
    exit 1
fi
swift test --skip-build
