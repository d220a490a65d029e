#!/usr/bin/env bash
# Source rules a compiler cannot enforce, run by Scripts/test.sh (and so by CI) before the build.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

# Every number read from a file goes through ByteReader, the one place that checks the range
# before loading: a raw unaligned load anywhere else is a read nobody bounds-checked.
if raw=$(grep -rn --include='*.swift' 'loadUnaligned' Sources | grep -v '^Sources/Formats/Core/ByteReader.swift:'); then
    echo "check-sources: raw loadUnaligned outside Sources/Formats/Core/ByteReader.swift (read through ByteReader):" >&2
    echo "$raw" >&2
    status=1
fi

exit $status
