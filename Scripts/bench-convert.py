#!/usr/bin/env python3
"""Benchmark `zoo convert` against cp and a Python (torch / transformers) peer.

The question this answers: is zoo's fp32 -> bf16 conversion close to the cost
of just copying the bytes, how does it compare with what people do today in
Python, and does it stay within its memory budget (64 MB + the largest tensor)?

The input is an fp32 checkpoint with the exact shape of
google/t5-efficient-large-dm128 (92,209,408 parameters, ~369 MB), built the
way transformers builds it (random init, fixed seed) and cached in the work
directory, so no download is needed and every run sees the same file.

Setup (once): the repository's venv, .venv/ (torch 2.13.0+cpu, safetensors,
transformers 4.57.6, numpy; tensorflow-cpu for the tf scenario):

    Scripts/python-env.sh

and a release build of zoo:

    swift build -c release --product zoo

Run (from any directory):

    .venv/bin/python Scripts/bench-convert.py [--scenario safetensors|pytorch|tf|all]
                                              [--zoo .build/release/zoo] [--work /tmp/zoo-bench]
                                              [--repeat 5] [--markdown FILE]

Scenarios (--scenario; `all` runs every one, and --markdown then holds every table):

  verify                 What verification costs (issue 9): WORK/<shape>-fp32 -> bf16 with
                         zoo's parity check and manifest, and the same --no-verify, next to
                         cp and cp + fsync of the source.  Target: verified at most 1.5x
                         cp + fsync, peak RSS below 64 MB + the largest tensor.  One more
                         verified run, untimed, gives the phases (`--json` timings).
                         --shape xl runs it on a t5-efficient-xl-shaped model (2,851,598,336
                         parameters, 11.4 GB fp32), generated streaming once into WORK/xl-fp32/.

  gguf                   WORK/large-dm128-fp32 -> GGUF for llama.cpp, F16 and Q8_0 (with the
                         fixtures' spiece.model as its tokenizer), verified and --no-verify,
                         next to cp / cp + fsync of the source and, when --llama-cpp DIR (a
                         llama.cpp checkout) is given, llama.cpp's own convert_hf_to_gguf.py
                         --outtype f16 / q8_0 on the same directory (time, peak RSS, file size).

  safetensors (default)  WORK/large-dm128-fp32/model.safetensors (fp32) -> bf16 safetensors.
  pytorch                The same model saved by transformers as pytorch_model.bin
                         (save_pretrained(dir, safe_serialization=False): a torch.save
                         zip whose tied embeddings -- shared, encoder/decoder.embed_tokens,
                         lm_head -- are aliases of one storage), cached in
                         WORK/large-dm128-bin/ -> bf16 safetensors.  A second table
                         times the writer, fp32 safetensors -> pytorch_model.bin
                         (`--to pytorch`), for information (no target).
  tf                     The same model as an original Mesh-TF T5 checkpoint, cached in
                         WORK/large-dm128-meshtf/: model.ckpt-524288.index + 4 data shards
                         (+ `checkpoint`, operative_config.gin for the model: relu, tied
                         embeddings, so no decoder/logits/kernel), written by real
                         TensorFlow with Scripts/fixtures/tf_checkpoints.py's Mesh-TF writers
                         (imported, not copied): bf16 weights with [in, out] kernels,
                         float32 Adafactor slots (_slot_vr/_slot_vc for factored
                         variables, _slot_v otherwise; min_dim_size_to_factor 128 as
                         in the T5 gins) and an int64 global_step
                         -> fp32 transformers checkpoint (model.safetensors + config.json).
                         Peer: transformers' own TF -> PyTorch path.

What is measured, per command: the median wall time over --repeat runs, after
one untimed warm-up run of every command (so the source is in the page cache
for all of them), and the peak RSS (max over the timed runs).  Before every
run, untimed: the command's output is deleted and `sync` flushes dirty pages,
so no run pays for the previous run's writeback.

  cp            cp SRC_FILE WORK/cp-out.EXT  (tf: cp of the index and every data shard
                into a fresh WORK/cp-out-tf/)
  cp + fsync    the same, then `sync FILE` (fsync).  zoo fsyncs its output
                before renaming it into place and cp does not, so the fair
                "copy the bytes durably" baseline is this one.
  zoo (dir)     zoo convert SRC_DIR WORK/zoo-bf16 --dtype bf16 --force
                (pytorch: WORK/large-dm128-bin -> WORK/zoo-bin-bf16)
  zoo (file)    zoo convert SRC_FILE WORK/zoo-bf16.safetensors --dtype bf16 --force
                (pytorch: .../pytorch_model.bin -> WORK/zoo-bin-bf16.safetensors)
  zoo (tf)      zoo convert WORK/large-dm128-meshtf WORK/zoo-tf-fp32 --dtype fp32 --force
                (with zoo's own parity check), and the same with --no-verify
                (WORK/zoo-tf-fp32-no-verify).  A failing parity check (exit 1)
                is still timed, and reported as a FAIL.
  peer          python -c PEER_CODE: what a user would write.  safetensors:
                load_file, .to(bfloat16) on every float tensor, save_file.
                pytorch: torch.load(weights_only=True) -- and a second peer
                with mmap=True -- then the same cast, dropping every tensor
                whose storage an earlier one already uses (safetensors refuses
                shared storage; like transformers this keeps shared.weight),
                then save_file.  Timed as a whole process (including
                `import torch`), and also as reported by the peer itself
                excluding imports, so the comparison is fair both ways.  The
                "peer ÷ this" columns use the fastest peer.  (Peers do not fsync.)
                tf: T5ForConditionalGeneration(T5Config.from_json_file(config.json)),
                load_tf_weights_in_t5(model, config, prefix),
                save_pretrained(WORK/peer-tf-fp32, safe_serialization=True), with
                USE_TF=0 and tensorflow imported before its own clock starts.

  writer table (pytorch scenario): cp / cp + fsync of model.safetensors,
                zoo convert WORK/large-dm128-fp32 WORK/zoo-to-bin --to pytorch --force,
                and a peer that runs load_file + torch.save of the state dict.

Targets, printed under each conversion table (a miss is reported, not an
error): zoo at most 1.5x the time of cp, at least 3x faster than the
(fastest) peer end to end, and peak RSS below 64 MB + the largest tensor.

Peak RSS: a child's ru_maxrss on Linux starts from the RSS of the process
that spawned it (exec records the old address space's high-water mark; with
vfork/posix_spawn, which Python's subprocess uses, that is the parent's
all-time peak).  Spawned from this Python process, even `true` reports ~11 MB.
So each command runs under GNU time (/usr/bin/time -f %M), a ~1 MB process
whose %M is wait4's ru_maxrss of its own child; without GNU time the script
falls back to os.wait4 on the command directly and says the numbers carry
that floor.  This parent never imports torch (generation and verification run
in child processes) to keep that floor low in the fallback as well.

Correctness, checked in the same run: every zoo bf16 output (and the mmap
peer's) must hold the same tensor names as the peer's output, every tensor
bf16 and bit-identical to torch's cast.  The `--to pytorch` output must load
with torch.load(weights_only=True) and hold every source tensor with the same
dtype, shape and bits; extra names are allowed only as aliases sharing a
source tensor's storage (transformers' tied names).  tf: every zoo output
must hold the peer's tensor names, all fp32 and bit-identical, with a
config.json beside it, and `zoo convert` must exit 0 saying "parity: passed".  Exit status 1 if not (or
if a command fails).
"""

import argparse
import collections
import datetime
import fcntl
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"

# google/t5-efficient-large-dm128: the T5 "efficient" large model with d_model
# shrunk to 128.  All other T5Config fields keep their defaults (dropout 0.1,
# layer_norm_epsilon 1e-6, relative_attention_max_distance 128, ...).
T5_CONFIG = dict(
    vocab_size=32128, d_model=128, d_kv=64, num_heads=16, d_ff=4096,
    num_layers=24, num_decoder_layers=24, feed_forward_proj="relu",
    tie_word_embeddings=True, relative_attention_num_buckets=32,
)
EXPECTED_PARAMETERS = 92_209_408
# google/t5-efficient-xl (registry.json): 2,851,598,336 parameters, 11.4 GB in fp32. Generated
# streaming (random normal weights, std 0.05, written chunk by chunk; no model in RAM), for the
# verify scenario only: the Python peer would need the whole model in memory twice.
XL_CONFIG = dict(
    vocab_size=32128, d_model=1024, d_kv=128, num_heads=32, d_ff=16384,
    num_layers=24, num_decoder_layers=24, feed_forward_proj="relu",
    tie_word_embeddings=True, relative_attention_num_buckets=32,
)
XL_PARAMETERS = 2_851_598_336
SHAPES = {"large-dm128": (T5_CONFIG, EXPECTED_PARAMETERS), "xl": (XL_CONFIG, XL_PARAMETERS)}
SEED = 0
MB = 1_000_000
RSS_BUDGET_MB = 64  # zoo's target: peak RSS below this + the largest tensor
MAX_TIMES_CP = 1.5  # zoo's target: at most this many times the time of cp
MIN_TIMES_FASTER = 3.0  # zoo's target: at least this many times faster than the peer
MISMATCH = 3  # the verify steps' exit status for a mismatch (1 is Python's for a crash)
SCENARIOS = ("safetensors", "pytorch", "tf", "verify", "gguf")
MAX_TIMES_CP_SYNC_VERIFIED = 1.5  # issue 9: a verified convert within this many times cp + fsync
# The tf scenario's Mesh-TF checkpoint: as many data shards as Mesh-TF spreads
# a model over hosts (>= 2), and the min_dim_size_to_factor of the T5 gins.
MESHTF_SHARDS = 4
MESHTF_MIN_DIM_SIZE_TO_FACTOR = 128

# The Python peers, run as `python -c CODE SRC DST [mmap]`.  What a user would
# write; each prints its own timing, excluding interpreter start and imports.
PEER_CODE = """\
import sys, time
import torch
from safetensors.torch import load_file, save_file
start = time.perf_counter()
tensors = load_file(sys.argv[1])
tensors = {name: t.to(torch.bfloat16) if t.is_floating_point() else t for name, t in tensors.items()}
save_file(tensors, sys.argv[2], metadata={"format": "pt"})
print(f"peer_seconds_excluding_imports {time.perf_counter() - start:.6f}")
"""

PEER_CODE_PYTORCH = """\
import sys, time
import torch
from safetensors.torch import save_file
start = time.perf_counter()
state_dict = torch.load(sys.argv[1], weights_only=True, mmap=sys.argv[3:] == ["mmap"])
tensors, storages = {}, set()
for name, t in state_dict.items():
    if t.untyped_storage().data_ptr() in storages:
        continue  # a tied alias of an earlier tensor: safetensors stores each storage once
    storages.add(t.untyped_storage().data_ptr())
    tensors[name] = t.to(torch.bfloat16) if t.is_floating_point() else t
save_file(tensors, sys.argv[2], metadata={"format": "pt"})
print(f"peer_seconds_excluding_imports {time.perf_counter() - start:.6f}")
"""

PEER_CODE_WRITER = """\
import sys, time
import torch
from safetensors.torch import load_file
start = time.perf_counter()
torch.save(load_file(sys.argv[1]), sys.argv[2])
print(f"peer_seconds_excluding_imports {time.perf_counter() - start:.6f}")
"""

# transformers' own TF -> PyTorch path (convert_t5_original_tf_checkpoint_to_pytorch.py),
# run as `python -c CODE TF_PREFIX OUT_DIR CONFIG_JSON`.  tensorflow is imported
# up front (load_tf_weights_in_t5 imports it itself) so that the peer's own
# timing excludes it, like every other import.
PEER_CODE_TF = """\
import os, sys, time
os.environ["USE_TF"] = "0"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow
from transformers import T5Config, T5ForConditionalGeneration
from transformers.models.t5.modeling_t5 import load_tf_weights_in_t5
start = time.perf_counter()
config = T5Config.from_json_file(sys.argv[3])
model = T5ForConditionalGeneration(config)
load_tf_weights_in_t5(model, config, sys.argv[1])
model.save_pretrained(sys.argv[2], safe_serialization=True)
print(f"peer_seconds_excluding_imports {time.perf_counter() - start:.6f}")
"""


# ---------------------------------------------------------------------------
# Child-process steps (these import torch; the parent must not)
# ---------------------------------------------------------------------------

def generate_checkpoint(directory: str) -> None:
    """Writes the fp32 t5-efficient-large-dm128-shaped checkpoint to `directory`."""
    os.environ["USE_TF"] = "0"  # transformers must not probe for TensorFlow
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(SEED)
    model = T5ForConditionalGeneration(T5Config(**T5_CONFIG))
    model.save_pretrained(directory, safe_serialization=True)


def generate_streamed_checkpoint(shape: str, directory: str) -> None:
    """Writes an fp32 checkpoint of `shape` (SHAPES) to `directory` without holding the model:
    the tensor names and shapes of T5ForConditionalGeneration built on the meta device (no
    memory), then a safetensors header and random normal weights (std 0.05, seed SEED), 64 MiB
    at a time; config.json from the same T5Config.  The shared embedding is stored once, as
    save_pretrained stores a tied model."""
    os.environ["USE_TF"] = "0"
    import numpy as np
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(**SHAPES[shape][0])
    with torch.device("meta"):
        model = T5ForConditionalGeneration(config)
    tied = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"}
    entries, offset = {}, 0
    for name, tensor in model.state_dict().items():
        if name in tied:
            continue
        size = 4 * tensor.numel()
        entries[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    header = json.dumps({"__metadata__": {"format": "pt"}, **entries}, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    rng = np.random.default_rng(SEED)
    chunk = 16 << 20  # elements
    with open(Path(directory) / "model.safetensors", "wb") as out:
        out.write(len(header).to_bytes(8, "little") + header)
        for entry in entries.values():
            left = numel(entry["shape"])
            while left:
                count = min(chunk, left)
                out.write((rng.standard_normal(count, dtype=np.float32) * np.float32(0.05)).tobytes())
                left -= count
    config.to_json_file(str(Path(directory) / "config.json"))


def generate_pytorch_checkpoint(source: str, directory: str) -> None:
    """Loads the fp32 safetensors checkpoint from `source` (so both scenarios
    convert the same weights) and saves it to `directory` as pytorch_model.bin."""
    os.environ["USE_TF"] = "0"
    import torch
    from transformers import T5ForConditionalGeneration

    model = T5ForConditionalGeneration.from_pretrained(source, dtype=torch.float32)
    model.save_pretrained(directory, safe_serialization=False)


def make_fixtures_module():
    """The fixture generator's Mesh-TF group, Scripts/fixtures/tf_checkpoints.py, imported as a
    module (its Mesh-TF writers are reused, not copied; it also holds the bundle reader and
    TF_DTYPES it imports).  Importing the fixtures package imports torch and transformers and
    sets USE_TF=0 and ATEN_CPU_CAPABILITY=default."""
    import importlib
    scripts = str(ROOT / "Scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    return importlib.import_module("fixtures.tf_checkpoints")


def generate_meshtf_checkpoint(source: str, directory: str) -> None:
    """Writes the fp32 safetensors checkpoint in `source` to `directory` as an
    original Mesh-TF T5 checkpoint, with make-fixtures.py's writers and real
    TensorFlow: model.ckpt-524288.index + MESHTF_SHARDS data shards (Saver,
    one shard per device, variables balanced over them), `checkpoint`, and an
    operative_config.gin for the model.  Weights bf16 in Mesh-TF's layout
    ([in, out] kernels; tied embeddings: no decoder/logits/kernel), Adafactor
    slots float32 (_slot_vr/_slot_vc when factored, else _slot_v, with
    min_dim_size_to_factor 128 as in the T5 gins), global_step int64."""
    fixtures = make_fixtures_module()
    from transformers import T5Config

    fixtures.ADAFACTOR_MIN_DIM_SIZE_TO_FACTOR = MESHTF_MIN_DIM_SIZE_TO_FACTOR  # adafactor_slots reads it
    tf = fixtures.import_tensorflow()
    out = Path(directory)
    variables, _ = fixtures.meshtf_variables(tf, Path(source) / "model.safetensors")
    placement = fixtures.balanced_placement(variables, MESHTF_SHARDS)
    prefix = fixtures.write_tf_checkpoint(tf, out, variables, placement, MESHTF_SHARDS, step=fixtures.MESHTF_STEP)
    assert prefix.name == fixtures.MESHTF_PREFIX, prefix
    config = T5Config.from_json_file(str(Path(source) / "config.json"))
    gin = fixtures.operative_config(config, MESHTF_MIN_DIM_SIZE_TO_FACTOR)
    gin = gin.replace("# zoo test fixture (Scripts/make-fixtures.py)",
                      "# zoo benchmark source (Scripts/bench-convert.py, via make-fixtures.py)", 1)
    (out / "operative_config.gin").write_text(gin)


def describe_meshtf_checkpoint(directory: str) -> None:
    """Prints, as JSON, what the Mesh-TF checkpoint in `directory` holds, read
    from its index with make-fixtures.py's bundle reader: the prefix, shards,
    weight parameters and dtypes, slot variables by kind, and the largest weight."""
    fixtures = make_fixtures_module()
    prefix = Path(directory) / fixtures.MESHTF_PREFIX
    header, entries, _ = fixtures.read_bundle(prefix)
    weights = {n: e for n, e in entries.items() if "_slot_" not in n and n != "global_step"}
    slots = collections.Counter(n[n.index("_slot_"):] for n in entries if "_slot_" in n)
    largest = max(weights, key=lambda n: numel(weights[n]["shape"]))
    print(json.dumps({
        "prefix": str(prefix),
        "num_shards": header["num_shards"],
        "weights": len(weights),
        "parameters": sum(numel(e["shape"]) for e in weights.values()),
        "dtypes": sorted({fixtures.TF_DTYPES[e["dtype"]] for e in weights.values()}),
        "slots": dict(sorted(slots.items())),
        "slot_dtypes": sorted({fixtures.TF_DTYPES[entries[n]["dtype"]] for n in entries if "_slot_" in n}),
        "global_step": fixtures.TF_DTYPES[entries["global_step"]["dtype"]] if "global_step" in entries else None,
        "largest": [largest, weights[largest]["shape"]],
    }))


def describe_pytorch_checkpoint(path: str) -> None:
    """Prints, as JSON, what a pytorch_model.bin holds, counting each storage
    once: unique parameters, dtypes, tensor names, and the largest storage."""
    import torch

    state_dict = torch.load(path, weights_only=True, mmap=True)
    first_user = {}  # storage address -> first tensor name using it
    for name, tensor in state_dict.items():
        first_user.setdefault(tensor.untyped_storage().data_ptr(), name)
    unique = [state_dict[name] for name in first_user.values()]
    largest = max(first_user.values(), key=lambda name: state_dict[name].untyped_storage().nbytes())
    print(json.dumps({
        "tensors": len(state_dict),
        "parameters": sum(tensor.numel() for tensor in unique),
        "dtypes": sorted({str(tensor.dtype) for tensor in state_dict.values()}),
        "largest": [largest, state_dict[largest].untyped_storage().nbytes()],
    }))


def verify_outputs(peer: str, *zoo_outputs: str, dtype: str = "bf16") -> None:
    """Prints PASS/FAIL per zoo output: same tensor names as the peer, all of
    `dtype` (bf16 or fp32), bit-identical (compared as integer bit patterns:
    stricter than torch.equal, which calls -0.0 and +0.0 equal).  Exits
    MISMATCH on any FAIL."""
    import torch
    from safetensors.torch import load_file

    float_type, bits_type = {"bf16": (torch.bfloat16, torch.int16), "fp32": (torch.float32, torch.int32)}[dtype]
    expected = load_file(peer)
    failed = False
    for path in zoo_outputs:
        actual = load_file(path)
        problems = []
        if set(actual) != set(expected):
            problems.append(f"missing {sorted(set(expected) - set(actual))}, "
                            f"unexpected {sorted(set(actual) - set(expected))}")
        common = sorted(set(actual) & set(expected))
        wrong_dtype = [n for n in common if actual[n].dtype != float_type or expected[n].dtype != float_type]
        wrong_shape = [n for n in common if actual[n].shape != expected[n].shape]
        checkable = [n for n in common if n not in wrong_dtype and n not in wrong_shape]
        wrong_bits = [n for n in checkable
                      if not torch.equal(actual[n].view(bits_type), expected[n].view(bits_type))]
        for label, names in ((f"not {dtype}", wrong_dtype), ("shape differs", wrong_shape), ("bits differ", wrong_bits)):
            if names:
                problems.append(f"{label}: {names[:5]}{' ...' if len(names) > 5 else ''}")
        failed |= bool(problems)
        detail = "; ".join(problems) if problems else f"{len(actual)} tensors, all {dtype}, bit-identical"
        print(f"{'FAIL' if problems else 'PASS'}  {path} == {peer}  ({detail})")
    sys.exit(MISMATCH if failed else 0)


def verify_fp32_outputs(peer: str, *zoo_outputs: str) -> None:
    """verify_outputs for the fp32 outputs of the tf scenario."""
    verify_outputs(peer, *zoo_outputs, dtype="fp32")


def verify_pytorch_output(source: str, output: str) -> None:
    """Prints PASS/FAIL: `output` (a pytorch_model.bin) loads with
    torch.load(weights_only=True) and holds every tensor of the safetensors
    `source` with the same dtype, shape and bytes; any extra name must be an
    alias sharing the storage of a source tensor.  Exits MISMATCH on FAIL."""
    import torch
    from safetensors.torch import load_file

    def same_bits(a, b) -> bool:
        return (a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(a.contiguous().reshape(-1).view(torch.uint8),
                                b.contiguous().reshape(-1).view(torch.uint8)))

    expected = load_file(source)
    try:
        actual = torch.load(output, weights_only=True)
    except Exception as error:  # noqa: BLE001 -- any failure to load is the finding
        print(f"FAIL  {output}: torch.load(weights_only=True) raised {type(error).__name__}: {error}")
        sys.exit(MISMATCH)
    problems = []
    missing = sorted(set(expected) - set(actual))
    if missing:
        problems.append(f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    differ = sorted(n for n in set(expected) & set(actual) if not same_bits(actual[n], expected[n]))
    if differ:
        problems.append(f"dtype, shape or bits differ: {differ[:5]}{' ...' if len(differ) > 5 else ''}")
    storage_owner = {actual[n].untyped_storage().data_ptr(): n for n in expected if n in actual}
    aliases, unexpected = [], []
    for name in sorted(set(actual) - set(expected)):
        owner = storage_owner.get(actual[name].untyped_storage().data_ptr())
        if owner is not None and same_bits(actual[name], actual[owner]):
            aliases.append(f"{name} -> {owner}")
        else:
            unexpected.append(name)
    if unexpected:
        problems.append(f"unexpected (not aliases of a source tensor): {unexpected[:5]}")
    detail = "; ".join(problems) if problems else (
        f"{len(expected)} tensors equal the source bit for bit; "
        f"{len(aliases)} tied aliases share storage: {', '.join(aliases) or 'none'}")
    print(f"{'FAIL' if problems else 'PASS'}  {output} == {source}, loaded with torch.load(weights_only=True)  "
          f"({detail})")
    sys.exit(MISMATCH if problems else 0)


def print_versions() -> None:
    import safetensors
    import torch
    import transformers
    from importlib import metadata
    tensorflow = next((f"{name} {metadata.version(name)}" for name in ("tensorflow-cpu", "tensorflow")
                       if metadata.distributions(name=name)), "no tensorflow")
    print(f"Python {sys.version.split()[0]}, torch {torch.__version__}, "
          f"safetensors {safetensors.__version__}, transformers {transformers.__version__}, {tensorflow}")


CHILD_STEPS = {
    "_generate": generate_checkpoint,
    "_generate_streamed": generate_streamed_checkpoint,
    "_generate_pytorch": generate_pytorch_checkpoint,
    "_describe_pytorch": describe_pytorch_checkpoint,
    "_generate_meshtf": generate_meshtf_checkpoint,
    "_describe_meshtf": describe_meshtf_checkpoint,
    "_verify_fp32": verify_fp32_outputs,
    "_verify": verify_outputs,
    "_verify_pytorch": verify_pytorch_output,
    "_versions": print_versions,
}


def run_step(step: str, *arguments: str, allowed_status: tuple = (0,)) -> subprocess.CompletedProcess:
    """Runs one of CHILD_STEPS in a fresh interpreter; exits if its status is not allowed."""
    result = subprocess.run([sys.executable, __file__, step, *arguments], capture_output=True, text=True)
    if result.returncode not in allowed_status:
        sys.exit(f"{step} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


# ---------------------------------------------------------------------------
# The source checkpoints
# ---------------------------------------------------------------------------

def read_header(path: Path) -> dict:
    """The safetensors header (tensor name -> {dtype, shape, data_offsets}), without metadata."""
    with open(path, "rb") as file:
        length = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(length))
    header.pop("__metadata__", None)
    return header


def numel(shape: list) -> int:
    count = 1
    for dimension in shape:
        count *= dimension
    return count


def generate_once(target: Path, step: str, *arguments: str) -> None:
    """Runs the generation `step` into a temporary directory next to `target`
    and renames it into place, so an interrupted run leaves no half source."""
    print(f"generating {target} (once) ...", flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it 0700
    run_step(step, *arguments, str(staging))
    staging.rename(target)


def ensure_source(work: Path, shape: str = "large-dm128") -> Path:
    """The cached source directory of `shape`, generated on first use, and checked to have
    exactly its parameter count, all F32."""
    source = work / f"{shape}-fp32"
    expected = SHAPES[shape][1]
    if not (source / "model.safetensors").exists():
        if shape == "large-dm128":
            generate_once(source, "_generate")
        else:
            generate_once(source, "_generate_streamed", shape)
    header = read_header(source / "model.safetensors")
    parameters = sum(numel(entry["shape"]) for entry in header.values())
    dtypes = {entry["dtype"] for entry in header.values()}
    if parameters != expected or dtypes != {"F32"}:
        sys.exit(f"{source}/model.safetensors has {parameters:,} parameters of {sorted(dtypes)}, "
                 f"expected {expected:,} F32; delete it to regenerate")
    return source


def ensure_pytorch_source(work: Path, source: Path) -> tuple:
    """The cached pytorch_model.bin directory (made from `source` on first use),
    checked by torch in a child process to hold EXPECTED_PARAMETERS unique fp32
    parameters.  Returns (directory, its description from the child)."""
    directory = work / "large-dm128-bin"
    if not (directory / "pytorch_model.bin").exists():
        generate_once(directory, "_generate_pytorch", str(source))
    description = json.loads(run_step("_describe_pytorch", str(directory / "pytorch_model.bin")).stdout)
    if description["parameters"] != EXPECTED_PARAMETERS or description["dtypes"] != ["torch.float32"]:
        sys.exit(f"{directory}/pytorch_model.bin has {description['parameters']:,} unique parameters of "
                 f"{description['dtypes']}, expected {EXPECTED_PARAMETERS:,} float32; delete it to regenerate")
    return directory, description


def ensure_meshtf_source(work: Path, source: Path) -> tuple:
    """The cached Mesh-TF checkpoint directory (made from `source` on first
    use), checked from its index to hold EXPECTED_PARAMETERS bf16 weight
    parameters over MESHTF_SHARDS shards, Adafactor slots and global_step.
    Returns (directory, its description from the child)."""
    directory = work / "large-dm128-meshtf"
    if not (directory / "operative_config.gin").exists():
        generate_once(directory, "_generate_meshtf", str(source))
    description = json.loads(run_step("_describe_meshtf", str(directory)).stdout)
    if (description["parameters"] != EXPECTED_PARAMETERS or description["dtypes"] != ["bfloat16"]
            or description["num_shards"] != MESHTF_SHARDS or description["global_step"] != "int64"
            or not description["slots"]):
        sys.exit(f"{directory} holds {description}, expected {EXPECTED_PARAMETERS:,} bfloat16 weight parameters "
                 f"in {MESHTF_SHARDS} shards with Adafactor slots and an int64 global_step; delete it to regenerate")
    return directory, description


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def run_once(argv: list, output: Path, work: Path, allowed_status: tuple = (0,)) -> tuple:
    """One run of `argv` from a clean state; returns (seconds, peak RSS in KiB,
    stdout + stderr, exit status).  Exits if the status is not allowed."""
    remove(output)
    os.sync()
    launcher = [GNU_TIME, "-f", "%M", "-o", str(work / "rss.txt")] if Path(GNU_TIME).exists() else []
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(launcher + argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode not in allowed_status:
        sys.exit(f"command failed ({process.returncode}): {shlex.join(argv)}\n{stdout}{stderr}")
    # GNU time writes %M on the last line (after a "Command exited ..." line on failure).
    rss_kib = int((work / "rss.txt").read_text().split()[-1]) if launcher else usage.ru_maxrss
    return seconds, rss_kib, stdout + stderr, process.returncode


def measure(commands: list, repeat: int, work: Path) -> dict:
    """Warm-up run of every command, then `repeat` rounds over all commands.

    Rounds (rather than all runs of one command back to back) spread slow
    drift -- other load, CPU frequency, disk state -- over every command.
    A command marked "discard" has its output removed right after each run:
    left in the page cache, an xl-sized copy (11.4 GB) evicted part of the
    source before the next command read it, so that command read from disk."""
    results = {c["name"]: {"seconds": [], "rss_kib": [], "inner": []} for c in commands}
    for command in commands:
        print(f"warm-up: {command['name']}", flush=True)
        run_once(command["argv"], command["output"], work, command.get("allowed_status", (0,)))
        if command.get("discard"):
            remove(command["output"])
    for round_number in range(1, repeat + 1):
        print(f"round {round_number}/{repeat}", flush=True)
        for command in commands:
            seconds, rss_kib, stdout, status = run_once(command["argv"], command["output"], work,
                                                        command.get("allowed_status", (0,)))
            if command.get("discard"):
                remove(command["output"])
            result = results[command["name"]]
            result["seconds"].append(seconds)
            result["rss_kib"].append(rss_kib)
            result["stdout"], result["status"] = stdout, status
            for line in stdout.splitlines():
                if line.startswith("peer_seconds_excluding_imports "):
                    result["inner"].append(float(line.split()[1]))
    remove(work / "rss.txt")
    return results


def copy_commands(source_file: Path, output: Path) -> list:
    """The two baselines: cp, and cp followed by an fsync of the copy."""
    return [
        {"name": "cp", "output": output, "argv": ["cp", str(source_file), str(output)]},
        {"name": "cp + fsync", "output": output,
         "argv": ["sh", "-c", 'cp "$1" "$2" && sync "$2"', "sh", str(source_file), str(output)]},
    ]


def copy_files_commands(source_files: list, output: Path) -> list:
    """The baselines for a multi-file source: cp of every file into a fresh
    directory, and the same followed by an fsync of every copy."""
    files = [str(path) for path in source_files]
    return [
        {"name": "cp", "output": output,
         "argv": ["sh", "-c", 'out="$1"; shift; mkdir "$out" && cp "$@" "$out"/', "sh", str(output), *files]},
        {"name": "cp + fsync", "output": output,
         "argv": ["sh", "-c", 'out="$1"; shift; mkdir "$out" && cp "$@" "$out"/ && sync "$out"/*',
                  "sh", str(output), *files]},
    ]


def zoo_command(name: str, zoo: Path, source: Path, output: Path, *options: str) -> dict:
    return {"name": name, "output": output, "argv": [str(zoo), "convert", str(source), str(output), *options, "--force"]}


def peer_command(name: str, code: str, *arguments: Path | str) -> dict:
    """A Python peer: `python -c code SRC DST [...]`; its output is the second argument."""
    return {"name": name, "output": Path(arguments[1]), "peer": True,
            "argv": [sys.executable, "-c", code, *map(str, arguments)]}


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def machine_info(work: Path, zoo: Path, load_before: float) -> list:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:")), "0")
    df = subprocess.run(["df", "-T", str(work)], capture_output=True, text=True).stdout.splitlines()[-1].split()
    tree = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                          capture_output=True, text=True).stdout.strip() or "unknown"
    built = datetime.datetime.fromtimestamp(zoo.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    return [
        f"nproc {len(os.sched_getaffinity(0))}, CPU {cpu}, {int(memory) // 1024} MiB RAM, kernel {os.uname().release}",
        f"work dir {work}: {df[0]} ({df[1]})",
        f"zoo {zoo} (built {built}, tree {tree})",
        # Other work on the machine skews everything (torch's thread pool most of all): check this.
        f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after",
        run_step("_versions").stdout.strip(),
    ]


def versus(peer: float, seconds: float) -> str:
    """How much faster than the peer this is, e.g. "10.2x faster" (or "1.3x slower")."""
    return f"{peer / seconds:.1f}x faster" if peer >= seconds else f"{seconds / peer:.1f}x slower"


def summarize(results: dict, commands: list) -> dict:
    """Per row name: median, (min, max) and peak RSS in MB (None: not its own process).
    Every peer gets a second row, "<peer>, excluding imports", from its own timing;
    `fastest peer` and `fastest peer inner` name the rows the peer columns divide."""
    rows = {}
    for command in commands:
        result = results[command["name"]]
        rows[command["name"]] = (statistics.median(result["seconds"]), min(result["seconds"]),
                                 max(result["seconds"]), max(result["rss_kib"]) * 1024 / MB)
        if command.get("peer"):
            inner = result["inner"]
            rows[f"{command['name']}, excluding imports"] = (statistics.median(inner), min(inner), max(inner), None)
    peers = [c["name"] for c in commands if c.get("peer")]
    return {"rows": rows,
            "fastest peer": min(peers, key=lambda name: rows[name][0]),
            "fastest peer inner": min((f"{name}, excluding imports" for name in peers), key=lambda n: rows[n][0])}


def table(summary: dict, zoo_names: list) -> list:
    """Markdown rows: one per command, plus each peer's own figure excluding imports."""
    rows = summary["rows"]
    cp, cp_sync = rows["cp"][0], rows["cp + fsync"][0]
    peer, peer_inner = rows[summary["fastest peer"]][0], rows[summary["fastest peer inner"]][0]
    lines = ["| command | median s | min–max s | ÷ cp | ÷ cp+fsync | peer ÷ this | peer (excl. imports) ÷ this | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, (seconds, low, high, rss) in rows.items():
        faster = (versus(peer, seconds), versus(peer_inner, seconds)) if name in zoo_names else ("", "")
        lines.append(f"| {name} | {seconds:.3f} | {low:.3f}–{high:.3f} | {seconds / cp:.2f} | {seconds / cp_sync:.2f} "
                     f"| {faster[0]} | {faster[1]} | {'' if rss is None else f'{rss:.1f}'} |")
    return lines


def targets(summary: dict, zoo_names: list, largest_name: str, largest: int) -> tuple:
    """Markdown lines stating the targets and each zoo command's standing, and
    one line per missed target (for the console)."""
    rows = summary["rows"]
    cp = rows["cp"][0]
    peer, peer_inner = rows[summary["fastest peer"]][0], rows[summary["fastest peer inner"]][0]
    budget = RSS_BUDGET_MB + largest / MB
    lines = [f"Largest tensor: {largest_name}, {largest / MB:.1f} MB. "
             f"Targets: at most {MAX_TIMES_CP}x cp; at least {MIN_TIMES_FASTER:.0f}x faster than the "
             f"peer ({summary['fastest peer']}, the fastest); peak RSS below {RSS_BUDGET_MB} MB + largest tensor "
             f"= {budget:.1f} MB.", ""]
    misses = []
    for name in zoo_names:
        seconds, _, _, rss = rows[name]
        checks = [
            (seconds / cp <= MAX_TIMES_CP, f"{seconds / cp:.2f}x cp",
             f"{seconds:.3f} s is {seconds / cp:.2f}x cp, over {MAX_TIMES_CP}x by {seconds - MAX_TIMES_CP * cp:.3f} s"),
            (peer / seconds >= MIN_TIMES_FASTER, f"{peer / seconds:.1f}x faster than the peer "
             f"({peer_inner / seconds:.1f}x excluding its imports)",
             f"only {peer / seconds:.1f}x faster than the peer, target {MIN_TIMES_FASTER:.0f}x"),
            (rss < budget, f"peak RSS {rss:.1f} MB",
             f"peak RSS {rss:.1f} MB >= {budget:.1f} MB (over by {rss - budget:.1f} MB)"),
        ]
        lines.append(f"- {name}: " + "; ".join(f"{shown} ({'met' if ok else 'MISSED'})" for ok, shown, _ in checks))
        misses += [f"TARGET MISSED  {name}: {missed}" for ok, _, missed in checks if not ok]
    return lines, misses


@dataclass
class Outcome:
    """What one scenario hands back to main."""
    report: list  # markdown lines
    checks: str  # the verification steps' PASS/FAIL lines
    misses: list  # one line per missed target
    passed: bool  # every verification passed


FOOTNOTE = "MB = 10^6 bytes. zoo and `cp + fsync` fsync their output; cp and the peers do not."


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

def safetensors_scenario(zoo: Path, work: Path, repeat: int, source: Path) -> Outcome:
    """fp32 model.safetensors -> bf16 safetensors."""
    source_file = source / "model.safetensors"
    header = read_header(source_file)
    largest_name, largest = max(((name, e["data_offsets"][1] - e["data_offsets"][0]) for name, e in header.items()),
                                key=lambda item: item[1])
    zoo_dir, zoo_file, peer_out = work / "zoo-bf16", work / "zoo-bf16.safetensors", work / "peer-bf16.safetensors"
    zoo_names = ["zoo convert (dir)", "zoo convert (file)"]
    commands = [
        *copy_commands(source_file, work / "cp-out.safetensors"),
        zoo_command(zoo_names[0], zoo, source, zoo_dir, "--dtype", "bf16"),
        zoo_command(zoo_names[1], zoo, source_file, zoo_file, "--dtype", "bf16"),
        peer_command("python peer", PEER_CODE, source_file, peer_out),
    ]
    results = measure(commands, repeat, work)
    remove(work / "cp-out.safetensors")
    verification = run_step("_verify", str(peer_out), str(zoo_dir / "model.safetensors"), str(zoo_file),
                            allowed_status=(0, MISMATCH))  # a mismatch is reported by main

    summary = summarize(results, commands)
    target_lines, misses = targets(summary, zoo_names, largest_name, largest)
    report = [
        f"fp32 -> bf16, t5-efficient-large-dm128 shape: {EXPECTED_PARAMETERS:,} parameters, "
        f"{source_file.stat().st_size / MB:.1f} MB; median of {repeat} runs after a warm-up (warm page cache).",
        "",
        *table(summary, zoo_names),
        "",
        *target_lines,
        "",
        FOOTNOTE,
    ]
    return Outcome(report, verification.stdout, misses, verification.returncode == 0)


def verify_scenario(zoo: Path, work: Path, repeat: int, source: Path, shape: str) -> Outcome:
    """What verification costs (issue 9): fp32 -> bf16 with zoo's parity check and manifest, next
    to the same conversion --no-verify and to cp + fsync of the source; one more verified run,
    untimed, reports the phases (`--json` timings)."""
    source_file = source / "model.safetensors"
    header = read_header(source_file)
    largest_name, largest = max(((name, e["data_offsets"][1] - e["data_offsets"][0])
                                 for name, e in header.items() if name != "__metadata__"), key=lambda item: item[1])
    verified, unverified = work / f"zoo-{shape}-verified", work / f"zoo-{shape}-unverified"
    names = ["zoo convert (verified)", "zoo convert --no-verify"]
    commands = [
        *copy_commands(source_file, work / "cp-out.safetensors"),
        zoo_command(names[0], zoo, source, verified, "--dtype", "bf16"),
        zoo_command(names[1], zoo, source, unverified, "--dtype", "bf16", "--no-verify"),
    ]
    for command in commands:
        command["discard"] = True  # every command starts from the source alone in the page cache
    results = measure(commands, repeat, work)
    remove(work / "cp-out.safetensors")
    phases = subprocess.run([str(zoo), "convert", str(source), str(verified), "--dtype", "bf16", "--force", "--json"],
                            capture_output=True, text=True)
    report_json = json.loads(phases.stdout) if phases.returncode == 0 else {}
    parity = report_json.get("parity", {})
    rows = {}
    for command in commands:
        times, rss_kib = results[command["name"]]["seconds"], results[command["name"]]["rss_kib"]
        rows[command["name"]] = (statistics.median(times), min(times), max(times), max(rss_kib) * 1024 / MB)
    cp_sync = rows["cp + fsync"][0]
    budget = RSS_BUDGET_MB + largest / MB
    lines = ["| command | median s | min–max s | ÷ cp+fsync | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for name, (seconds, low, high, rss) in rows.items():
        lines.append(f"| {name} | {seconds:.3f} | {low:.3f}–{high:.3f} | {seconds / cp_sync:.2f} | "
                     f"{'' if rss is None else f'{rss:.1f}'} |")
    seconds, _, _, rss = rows[names[0]]
    misses = []
    if seconds / cp_sync > MAX_TIMES_CP_SYNC_VERIFIED:
        misses.append(f"TARGET MISSED  {names[0]}: {seconds:.3f} s is {seconds / cp_sync:.2f}x cp + fsync, "
                      f"over {MAX_TIMES_CP_SYNC_VERIFIED}x")
    if rss is not None and rss >= budget:
        misses.append(f"TARGET MISSED  {names[0]}: peak RSS {rss:.1f} MB >= {budget:.1f} MB")
    timings = report_json.get("timings", {})
    phase_text = ", ".join(f"{phase} {timings[phase]:.3f} s" for phase in
                           ("plan", "write", "manifest+parity", "commit") if phase in timings)
    logits = parity.get("logits") or {}
    report = [
        f"verified fp32 -> bf16, {shape} shape: {SHAPES[shape][1]:,} parameters, "
        f"{source_file.stat().st_size / MB:.1f} MB; median of {repeat} runs after a warm-up.",
        "",
        *lines,
        "",
        f"Targets: verified convert at most {MAX_TIMES_CP_SYNC_VERIFIED}x cp + fsync "
        f"({seconds / cp_sync:.2f}x: {'met' if seconds / cp_sync <= MAX_TIMES_CP_SYNC_VERIFIED else 'MISSED'}); "
        f"peak RSS below {RSS_BUDGET_MB} MB + largest tensor ({largest_name}, {largest / MB:.1f} MB) = {budget:.1f} MB "
        f"({'n/a' if rss is None else f'{rss:.1f} MB: ' + ('met' if rss < budget else 'MISSED')}).",
        f"Phases of one more verified run (`--json` timings): {phase_text or 'n/a'}; parity "
        f"{'passed' if parity.get('passed') else 'FAILED'}: {parity.get('tensors', {}).get('compared', 0)} tensors, "
        f"max ULP error {parity.get('tensors', {}).get('max_ulp_error', float('nan')):.2f}, logits max abs "
        f"{logits.get('max_abs_error', float('nan')):.2e}, cosine {logits.get('cosine_similarity', float('nan')):.6f}.",
        "",
        FOOTNOTE,
    ]
    passed = phases.returncode == 0 and bool(parity.get("passed"))
    checks = f"{'PASS' if passed else 'FAIL'}  {verified}: zoo's own parity check {'passed' if passed else 'did not pass'}\n"
    return Outcome(report, checks, misses, passed)


def gguf_scenario(zoo: Path, work: Path, repeat: int, source: Path, llama_cpp: Path | None) -> Outcome:
    """GGUF outputs (issue 13): zoo's F16 and Q8_0 conversions (verified and not) against cp and
    llama.cpp's converter, which reads the tokenizer from the model directory, so both get a
    directory holding the source's files and the fixtures' spiece.model."""
    source_file = source / "model.safetensors"
    model_dir = work / "gguf-source"
    if not model_dir.exists():
        model_dir.mkdir()
        os.link(source / "model.safetensors", model_dir / "model.safetensors")
        # The hub's T5-Efficient configs name the decoder start token; the converter requires it.
        config = json.loads((source / "config.json").read_text())
        config.setdefault("decoder_start_token_id", 0)
        (model_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        shutil.copy(ROOT / "Tests" / "Fixtures" / "spm" / "spiece.model", model_dir / "spiece.model")
    names = ["zoo F16 (verified)", "zoo F16 --no-verify", "zoo Q8_0 (verified)", "zoo Q8_0 --no-verify"]
    commands = [
        *copy_commands(source_file, work / "cp-out.safetensors"),
        zoo_command(names[0], zoo, model_dir, work / "zoo-f16.gguf", "--dtype", "fp16"),
        zoo_command(names[1], zoo, model_dir, work / "zoo-f16.gguf", "--dtype", "fp16", "--no-verify"),
        zoo_command(names[2], zoo, model_dir, work / "zoo-q8_0.gguf", "--dtype", "q8_0"),
        zoo_command(names[3], zoo, model_dir, work / "zoo-q8_0.gguf", "--dtype", "q8_0", "--no-verify"),
    ]
    if llama_cpp:
        converter = str(llama_cpp / "convert_hf_to_gguf.py")
        for outtype in ("f16", "q8_0"):
            commands.append({
                "name": f"llama.cpp convert_hf_to_gguf.py --outtype {outtype}", "output": work / f"llama-{outtype}.gguf",
                "argv": ["env", f"PYTHONPATH={llama_cpp / 'gguf-py'}", sys.executable, converter, str(model_dir),
                         "--outfile", str(work / f"llama-{outtype}.gguf"), "--outtype", outtype]})
    results = measure(commands, repeat, work)
    remove(work / "cp-out.safetensors")
    # One more run of each, untimed, to keep the files and measure them.
    sizes = {}
    for command in commands[2:]:
        run_once(command["argv"], command["output"], work)
        sizes[command["name"]] = command["output"].stat().st_size / MB
    cp_sync = statistics.median(results["cp + fsync"]["seconds"])
    lines = ["| command | median s | min–max s | ÷ cp+fsync | peak RSS MB | file MB |", "|---|---:|---:|---:|---:|---:|"]
    for command in commands:
        times, rss_kib = results[command["name"]]["seconds"], results[command["name"]]["rss_kib"]
        size = sizes.get(command["name"])
        lines.append(f"| {command['name']} | {statistics.median(times):.3f} | {min(times):.3f}–{max(times):.3f} | "
                     f"{statistics.median(times) / cp_sync:.2f} | {max(rss_kib) * 1024 / MB:.1f} | "
                     f"{'' if size is None else f'{size:.1f}'} |")
    # The tensors both write must be the same bytes (zoo adds the rescaled tied head).
    checks = ""
    passed = True
    if llama_cpp:
        import gguf
        for outtype in ("f16", "q8_0"):
            ours = {t.name: t for t in gguf.GGUFReader(str(work / f"zoo-{outtype}.gguf")).tensors}
            theirs = {t.name: t for t in gguf.GGUFReader(str(work / f"llama-{outtype}.gguf")).tensors}
            differ = [name for name, t in theirs.items()
                      if name not in ours or ours[name].data.tobytes() != t.data.tobytes()]
            extra = sorted(set(ours) - set(theirs))
            ok = not differ and extra == ["output.weight"]
            passed &= ok
            checks += (f"{'PASS' if ok else 'FAIL'}  {outtype}: zoo's tensors equal llama.cpp's converter's "
                       f"(differ: {differ[:3]}, zoo only: {extra})\n")
    report = [
        f"GGUF, fp32 large-dm128 shape ({source_file.stat().st_size / MB:.1f} MB) -> F16 and Q8_0; median of {repeat} "
        "runs after a warm-up.", "", *lines, "", FOOTNOTE,
    ]
    return Outcome(report, checks, [], passed)


def pytorch_scenario(zoo: Path, work: Path, repeat: int, source: Path, bin_source: Path, described: dict) -> Outcome:
    """fp32 pytorch_model.bin -> bf16 safetensors; then, for information, the
    writer: fp32 safetensors -> pytorch_model.bin."""
    bin_file = bin_source / "pytorch_model.bin"
    zoo_dir, zoo_file = work / "zoo-bin-bf16", work / "zoo-bin-bf16.safetensors"
    peer_out, peer_mmap_out = work / "peer-bin-bf16.safetensors", work / "peer-bin-mmap-bf16.safetensors"
    zoo_names = ["zoo convert (dir)", "zoo convert (file)"]
    commands = [
        *copy_commands(bin_file, work / "cp-out.bin"),
        zoo_command(zoo_names[0], zoo, bin_source, zoo_dir, "--dtype", "bf16"),
        zoo_command(zoo_names[1], zoo, bin_file, zoo_file, "--dtype", "bf16"),
        peer_command("python peer (torch.load)", PEER_CODE_PYTORCH, bin_file, peer_out),
        peer_command("python peer (torch.load mmap)", PEER_CODE_PYTORCH, bin_file, peer_mmap_out, "mmap"),
    ]
    results = measure(commands, repeat, work)
    remove(work / "cp-out.bin")

    source_file, zoo_bin = source / "model.safetensors", work / "zoo-to-bin"
    writer_names = ["zoo convert --to pytorch"]
    writer_commands = [
        *copy_commands(source_file, work / "cp-out.safetensors"),
        zoo_command(writer_names[0], zoo, source, zoo_bin, "--to", "pytorch"),
        peer_command("python peer (load_file + torch.save)", PEER_CODE_WRITER, source_file, work / "peer-to-bin.bin"),
    ]
    writer_results = measure(writer_commands, repeat, work)
    remove(work / "cp-out.safetensors")

    verifications = [
        run_step("_verify", str(peer_out), str(zoo_dir / "model.safetensors"), str(zoo_file), str(peer_mmap_out),
                 allowed_status=(0, MISMATCH)),
        run_step("_verify_pytorch", str(source_file), str(zoo_bin / "pytorch_model.bin"),
                 allowed_status=(0, MISMATCH)),
    ]

    summary = summarize(results, commands)
    target_lines, misses = targets(summary, zoo_names, *described["largest"])
    report = [
        f"fp32 pytorch_model.bin -> bf16 safetensors, t5-efficient-large-dm128 shape: {EXPECTED_PARAMETERS:,} "
        f"unique parameters ({described['tensors']} names, tied ones sharing storage), "
        f"{bin_file.stat().st_size / MB:.1f} MB; median of {repeat} runs after a warm-up (warm page cache).",
        "",
        *table(summary, zoo_names),
        "",
        *target_lines,
        "",
        f"fp32 safetensors -> pytorch_model.bin (`--to pytorch`), same model, "
        f"{source_file.stat().st_size / MB:.1f} MB; for information, no target.",
        "",
        *table(summarize(writer_results, writer_commands), writer_names),
        "",
        FOOTNOTE,
    ]
    return Outcome(report, "".join(v.stdout for v in verifications), misses,
                   all(v.returncode == 0 for v in verifications))


def tf_scenario(zoo: Path, work: Path, repeat: int, source: Path, tf_source: Path, described: dict) -> Outcome:
    """Mesh-TF checkpoint (bf16 weights, Adafactor slots, 4 data shards) ->
    fp32 transformers checkpoint (model.safetensors + config.json)."""
    prefix = Path(described["prefix"])
    tf_files = sorted(tf_source.glob(f"{prefix.name}.*"))  # the index and every data shard
    assert len(tf_files) == MESHTF_SHARDS + 1, tf_files
    zoo_out, zoo_out_unverified, peer_out = work / "zoo-tf-fp32", work / "zoo-tf-fp32-no-verify", work / "peer-tf-fp32"
    zoo_names = ["zoo convert", "zoo convert --no-verify"]
    commands = [
        *copy_files_commands(tf_files, work / "cp-out-tf"),
        # Status 1 is allowed (and reported as a FAIL below): zoo exits 1 when its parity check fails.
        {**zoo_command(zoo_names[0], zoo, tf_source, zoo_out, "--dtype", "fp32"), "allowed_status": (0, 1)},
        zoo_command(zoo_names[1], zoo, tf_source, zoo_out_unverified, "--dtype", "fp32", "--no-verify"),
        peer_command("python peer (load_tf_weights_in_t5)", PEER_CODE_TF, prefix, peer_out, source / "config.json"),
    ]
    results = measure(commands, repeat, work)
    remove(work / "cp-out-tf")
    zoo_outputs = [out for out in (zoo_out, zoo_out_unverified) if (out / "model.safetensors").exists()]
    verification = run_step("_verify_fp32", str(peer_out / "model.safetensors"),
                            *(str(out / "model.safetensors") for out in zoo_outputs), allowed_status=(0, MISMATCH))
    zoo_result = results[zoo_names[0]]
    parity_ok = zoo_result["status"] == 0 and "parity: passed" in zoo_result["stdout"]
    config_ok = all((out / "config.json").exists() for out in zoo_outputs)
    checks = verification.stdout + f"{'PASS' if config_ok else 'FAIL'}  zoo wrote config.json beside model.safetensors\n"
    checks += (f"{'PASS' if parity_ok else 'FAIL'}  {zoo_names[0]}: exit status {zoo_result['status']} "
               "(last timed run); it said:\n")
    checks += "".join(f"    {line}\n" for line in zoo_result["stdout"].strip().splitlines())

    # The largest tensor zoo holds: the biggest weight, as written (fp32).
    largest_name, largest_shape = described["largest"]
    largest = numel(largest_shape) * 4
    summary = summarize(results, commands)
    target_lines, misses = targets(summary, zoo_names, f"{largest_name} (fp32, as written)", largest)
    source_bytes = sum(path.stat().st_size for path in tf_files)
    slots = ", ".join(f"{count} {kind}" for kind, count in described["slots"].items())
    report = [
        f"Mesh-TF -> fp32 transformers checkpoint, t5-efficient-large-dm128 shape: {EXPECTED_PARAMETERS:,} bf16 "
        f"weight parameters in {described['weights']} variables, plus float32 Adafactor slots ({slots}) and "
        f"int64 global_step; {prefix.name}.index + {described['num_shards']} data shards, "
        f"{source_bytes / MB:.1f} MB (cp copies all of it); median of {repeat} runs after a warm-up "
        "(warm page cache).",
        "",
        *table(summary, zoo_names),
        "",
        *target_lines,
        "",
        FOOTNOTE + " `zoo convert` includes its parity check (tensor comparison and forward pass); "
        "`--no-verify` skips it.",
    ]
    if not parity_ok:
        report[-1] += (f" **`{zoo_names[0]}` exited {zoo_result['status']} (parity: FAILED, nothing written)**; "
                       "its time is that of the whole conversion and check, without the final rename.")
    return Outcome(report, checks, misses, verification.returncode == 0 and config_ok and parity_ok
                   and zoo_out_unverified in zoo_outputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="safetensors",
                        help="source format to convert from (default: safetensors); all runs every scenario")
    parser.add_argument("--zoo", type=Path, default=ROOT / ".build" / "release" / "zoo", help="zoo binary")
    parser.add_argument("--work", type=Path, default=Path("/tmp/zoo-bench"), help="work directory (cache + outputs)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="large-dm128",
                        help="model shape (xl: the verify scenario only; generated streaming, 11.4 GB)")
    parser.add_argument("--markdown", type=Path, help="also write the tables, command line and date to this file")
    parser.add_argument("--llama-cpp", type=Path, help="a llama.cpp checkout (gguf scenario: its converter as the peer)")
    arguments = parser.parse_args()
    work, zoo = arguments.work.resolve(), arguments.zoo.resolve()
    scenarios = SCENARIOS if arguments.scenario == "all" else (arguments.scenario,)
    if arguments.shape != "large-dm128" and scenarios != ("verify",):
        sys.exit("--shape xl runs with --scenario verify only (the other scenarios hold the model in Python)")

    if not zoo.exists():
        sys.exit(f"no zoo binary at {zoo}; build it with: swift build -c release --product zoo")
    # A hint only (a checkout or commit also touches files): swift build knows for sure.
    sources = [path for path in [ROOT / "Package.swift", *(ROOT / "Sources").rglob("*")] if path.is_file()]
    if any(source.stat().st_mtime > zoo.stat().st_mtime for source in sources):
        print(f"WARNING: some sources are newer than {zoo}; if they changed, rebuild with: "
              "swift build -c release --product zoo")
    if not Path(GNU_TIME).exists():
        print(f"WARNING: no GNU time at {GNU_TIME}: peak RSS is os.wait4's ru_maxrss, which includes "
              "this Python process's own RSS (~10 MB floor; see the docstring)")

    # Two runs sharing a work directory delete each other's outputs and skew each other's times.
    work.mkdir(parents=True, exist_ok=True)
    lock = open(work / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"another bench-convert run is using {work}; wait for it or pass another --work")
    source = ensure_source(work, arguments.shape)
    if "pytorch" in scenarios:
        bin_source, described = ensure_pytorch_source(work, source)
    if "tf" in scenarios:
        tf_source, tf_described = ensure_meshtf_source(work, source)
    load_before = os.getloadavg()[0]

    outcomes = []
    for scenario in scenarios:
        print(f"== scenario: {scenario}", flush=True)
        if scenario == "safetensors":
            outcomes.append(safetensors_scenario(zoo, work, arguments.repeat, source))
        elif scenario == "pytorch":
            outcomes.append(pytorch_scenario(zoo, work, arguments.repeat, source, bin_source, described))
        elif scenario == "verify":
            outcomes.append(verify_scenario(zoo, work, arguments.repeat, source, arguments.shape))
        elif scenario == "gguf":
            outcomes.append(gguf_scenario(zoo, work, arguments.repeat, source, arguments.llama_cpp))
        else:
            outcomes.append(tf_scenario(zoo, work, arguments.repeat, source, tf_source, tf_described))

    command_line = shlex.join([sys.executable, *sys.argv])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = [line for outcome in outcomes for line in [*outcome.report, ""]]
    report += [
        *[f"- {line}" for line in machine_info(work, zoo, load_before)],
        "",
        f"Command: `{command_line}`  ",
        f"Date: {date}",
    ]
    print()
    print("\n".join(report))
    print()
    for outcome in outcomes:
        print(outcome.checks, end="")
    for outcome in outcomes:
        for miss in outcome.misses:
            print(miss)
    if arguments.markdown:
        arguments.markdown.write_text("\n".join(report) + "\n")
        print(f"wrote {arguments.markdown}")
    sys.exit(0 if all(outcome.passed for outcome in outcomes) else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in CHILD_STEPS:
        CHILD_STEPS[sys.argv[1]](*sys.argv[2:])
    else:
        main()
