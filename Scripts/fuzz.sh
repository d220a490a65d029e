#!/usr/bin/env bash
# Builds the libFuzzer harnesses in FuzzTesting/ and runs them one after another.
#
#   Scripts/fuzz.sh [harness...] [--runs N | --time SECONDS] [--no-build]
#
# Harnesses: safetensors torchzip pickle legacy tensorflow json gguf (default: all). Each starts from a
# corpus seeded with the committed fixtures (FuzzTesting/.build/corpus/<harness>, kept between
# runs); crash, timeout and leak inputs land in FuzzTesting/.build/artifacts/<harness>/. Prints the
# executions of each harness and exits non-zero if any found a crash, timeout or leak.
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/find-swift.sh

all=(safetensors torchzip pickle legacy tensorflow json gguf)
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
        gguf) echo FuzzGGUF ;;
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
import glob, hashlib, io, os, struct, sys, zipfile

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

def rebuild_v3_pickles():
    """State dicts as torch 2.x pickles the dtypes without a storage class (no committed fixture
    has one): `_rebuild_tensor_v3(UntypedStorage, ..., torch.<dtype>)`, built without torch."""
    import collections, io, pickle, types
    def module(name):
        return sys.modules.setdefault(name, types.ModuleType(name))
    def global_class(module_name, name):
        cls = type(name, (), {"__module__": module_name, "__qualname__": name})
        setattr(module(module_name), name, cls)
        return cls
    module("torch")
    rebuild = global_class("torch._utils", "_rebuild_tensor_v3")
    untyped = global_class("torch.storage", "UntypedStorage")
    class DType:
        __module__ = "torch"
        def __init__(self, name): self.name = name
        def __reduce__(self): return self.name
    class Storage:
        def __init__(self, key, size): self.key, self.size = key, size
    class Tensor:
        def __init__(self, storage, shape, stride, dtype): self.args = (storage, 0, shape, stride, dtype)
        def __reduce__(self):
            storage, offset, shape, stride, dtype = self.args
            return (rebuild, (storage, offset, shape, stride, False, collections.OrderedDict(), dtype))
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", untyped, obj.key, "cpu", obj.size) if isinstance(obj, Storage) else None
    cases = [("uint16", 2, (2,), (1,)), ("uint32", 4, (2, 2), (1, 2)), ("float8_e4m3fn", 1, (3,), (1,)),
             ("uint64", 8, (1, 2), (2, 1))]
    for name, size, shape, stride in cases:
        dtype = DType(name)
        setattr(module("torch"), name, dtype)
        count = 1
        for dimension in shape:
            count *= dimension
        state = collections.OrderedDict(w=Tensor(Storage("0", count * size), shape, stride, dtype))
        buffer = io.BytesIO()
        Pickler(buffer, protocol=2).dump(state)
        yield buffer.getvalue(), bytes(range(count * size))

def torch_zip(pickled, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pickled)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/data/0", data)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()

if harness == "safetensors":
    for path in files("**/*.safetensors"):
        save(read(path))
elif harness == "torchzip":
    for path in torch_files():
        save(read(path))
    for pickled, data in rebuild_v3_pickles():
        save(torch_zip(pickled, data))
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
    for pickled, _ in rebuild_v3_pickles():
        save(pickled)
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
elif harness == "gguf":
    for path in files("gguf/*.gguf", "gguf_bad/*.gguf", "gguf_zoo/*.gguf", "gguf_t5/*.gguf", "fuzz/gguf/*"):
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
