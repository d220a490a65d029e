#!/usr/bin/env bash
# README command 2: set up and run the whole test suite (fixtures are committed; no Python needed).
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/setup.sh
bash Scripts/check-sources.sh
swift build --build-tests
swift test --skip-build
