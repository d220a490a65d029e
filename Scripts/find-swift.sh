# Sourced by Scripts/setup.sh and Scripts/fuzz.sh: puts the Swift 6 toolchain on PATH, or exits.
# Where it looks, in order:
#   1. $SWIFT_TOOLCHAIN, the toolchain's root (the folder holding usr/bin/swift), when set;
#   2. PATH as it is;
#   3. PATH as a login shell sets it: a toolchain installed outside the usual bin folders is
#      often put on PATH by the system's login profile, which a non-login shell (CI's, cron's,
#      `env -i`) has not read. Asking a login shell finds it without naming its folder here.
if [ -n "${SWIFT_TOOLCHAIN:-}" ]; then
    export PATH="$SWIFT_TOOLCHAIN/usr/bin:$PATH"
elif ! command -v swift >/dev/null 2>&1; then
    # The last line only: a profile may print; stdin closed so it cannot wait for input.
    login_swift=$(bash -lc 'command -v swift' </dev/null 2>/dev/null | tail -n 1 || true)
    if [ -n "$login_swift" ] && [ -x "$login_swift" ]; then
        export PATH="$(dirname "$login_swift"):$PATH"
    fi
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "swift is not on PATH; install the Swift 6 toolchain first (https://www.swift.org/install/)," >&2
    echo "or set SWIFT_TOOLCHAIN to its root (the folder holding usr/bin/swift)" >&2
    exit 1
fi
