#!/usr/bin/env bash
# Builds the libFuzzer harnesses in FuzzTesting/ and runs them one after another.
#
#   Scripts/fuzz.sh [harness...] [--runs N | --time SECONDS] [--no-build]
#
# Harnesses: safetensors torchzip pickle legacy tensorflow json (default: all). Each starts from a
# corpus seeded with the committed fixtures (FuzzTesting/.build/corpus/<harness>, kept between
# runs); crash, timeout and leak inputs land in FuzzTesting/.build/artifacts/<harness>/. Prints the
# executions of each harness and exits non-zero if any found a crash, timeout or leak.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

all=(safetensors torchzip pickle legacy tensorflow json)
harnesses=()
limit=(-runs=1000000)
build=1
while (($#)); do
    case "$1" in
        --runs) limit=("-runs=$2"); shift 2 ;;
        --time) limit=("-max_total_time=$2"); shift 2 ;;
        --no-build) build=0; shift ;;
        -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
        *)
            [[ " ${all[*]} " == *" $1 "* ]] || { echo "unknown harness '$1' (one of: ${all[*]})" >&2; exit 2; }
            harnesses+=("$1"); shift ;;
    esac
done
((${#harnesses[@]})) || harnesses=("${all[@]}")

scratch=FuzzTesting/.build
if ((build)); then
    swift build -c release --package-path FuzzTesting --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
fi
bin="$scratch/release"

product() {
    case "$1" in
        safetensors) echo FuzzSafetensors ;; torchzip) echo FuzzTorchZip ;; pickle) echo FuzzPickle ;;
        legacy) echo FuzzTorchLegacy ;; tensorflow) echo FuzzTensorFlow ;; json) echo FuzzJSON ;;
    esac
}

max_len() {
    case "$1" in
        safetensors | pickle | legacy) echo 4096 ;; *) echo 8192 ;;
    esac
}

# Seeds come from the committed fixtures at run time (nothing duplicated in the repository), no
# larger than the harness's max_len, so libFuzzer never truncates one.
seed() {
    local harness=$1 corpus=$2 limit
    limit=$(max_len "$harness")
    python3 - "$harness" "$corpus" "$limit" <<'PY'
import glob, hashlib, os, struct, sys, zipfile

harness, corpus, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
fixtures = "Tests/Fixtures"

def save(data):
    if len(data) <= limit:
        with open(os.path.join(corpus, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)

def files(*patterns):
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(fixtures, pattern), recursive=True)):
            if os.path.isfile(path) and os.path.getsize(path) <= 1 << 22:
                yield path

def read(path):
    with open(path, "rb") as f:
        return f.read()

def torch_files():
    return files("torch/**/*.bin", "torch_bad/*.bin")

if harness == "safetensors":
    for path in files("**/*.safetensors"):
        save(read(path))
elif harness == "torchzip":
    for path in torch_files():
        save(read(path))
elif harness == "legacy":
    for path in torch_files():
        if read(path)[:2] == b"\x80\x02":
            save(read(path))
elif harness == "pickle":
    for path in torch_files():
        try:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.endswith("/data.pkl"):
                        save(archive.read(name))
        except Exception:
            pass  # legacy or deliberately broken archives
elif harness == "tensorflow":
    # [u16 index length][index] then each shard as [u32 length][bytes], in shard order.
    for index in files("tf/**/*.index", "tf_bad/**/*.index"):
        prefix = index[: -len(".index")]
        shards = sorted(glob.glob(glob.escape(prefix) + ".data-*"))
        data = read(index)
        if len(data) > 0xFFFF:
            continue
        seed = struct.pack("<H", len(data)) + data
        tail = b""
        for shard in shards:
            tail += struct.pack("<I", os.path.getsize(shard)) + read(shard)
        save(seed + tail if len(seed + tail) <= limit else seed + b"".join(struct.pack("<I", 0) for _ in shards))
elif harness == "json":
    for path in files("**/*.json"):
        save(read(path))
PY
}

status=0
summary=()
for harness in "${harnesses[@]}"; do
    corpus="$scratch/corpus/$harness"
    artifacts="$scratch/artifacts/$harness"
    log="$scratch/logs/$harness.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    seed "$harness" "$corpus"
    echo "== $harness: $(ls "$corpus" | wc -l) corpus inputs, ${limit[*]}"
    # SWIFT_BACKTRACE=enable=no: let ASan and libFuzzer report a trap, not Swift's backtracer.
    set +e
    SWIFT_BACKTRACE=enable=no "$bin/$(product "$harness")" "$corpus" "${limit[@]}" \
        -max_len="$(max_len "$harness")" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1
    code=$?
    set -e
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if ((code != 0)); then
        status=1
        grep -E "^==[0-9]+==ERROR|^SUMMARY|Test unit written|^Fatal error|ALARM|out-of-memory" "$log" | head -8
        summary+=("$harness: FAILED (exit $code) after ${executions:-?} executions; see $log")
    else
        summary+=("$harness: ${executions:-?} executions, no crash, timeout or leak")
    fi
    tail -n 12 "$log" | grep -E "^#[0-9]+.*(DONE|cov:)" | tail -1 || true
done

echo
printf '%s\n' "${summary[@]}"
exit "$status"
