#!/usr/bin/env bash
# README command 1: set up, build zoo in release mode, and run `zoo demo` on the bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/setup.sh
swift build -c release --product zoo
.build/release/zoo demo "$@"
