#!/usr/bin/env python3
"""Check that checkpoints written by zoo load in the real libraries.

Runs a built zoo binary on the bundled sample model, then loads every output
with safetensors and transformers and compares it, bit for bit, with what
torch itself produces for the same conversion.

PyTorch section: zoo reads the torch-written fixtures in Tests/Fixtures/torch/
(pytorch_model.bin, a legacy pre-1.6 file) and writes `--to pytorch` output,
which must load with torch.load(weights_only=True), with and without mmap=True,
and in transformers.  Until zoo supports a step (it exits with an
"unsupported"/"not readable" error, or a usage error for `--to pytorch`), that
step prints SKIP instead of FAIL; skips are counted in the last line.

TensorFlow section: zoo reads the Mesh-TF checkpoints in Tests/Fixtures/tf/
(written by TensorFlow; the result must equal what transformers'
load_tf_weights_in_t5 makes of them, Tests/Fixtures/tf/expected/) and writes
`--to tf` output, which must load with tf.train.load_checkpoint (every
variable, Mesh-TF name and [in, out] layout, equal to the sample's weights)
and with transformers' load_tf_weights_in_t5.  Skipped step by step like the
PyTorch section while zoo does not support it, and as a whole when TensorFlow
is not installed.

Hub-snapshot section: zoo converts Tests/Fixtures/companions/hub_snapshot (a
tiny model directory as the hub serves it) with --dtype bf16; transformers
must load the output with from_pretrained (model, AutoTokenizer,
GenerationConfig) and get what it gets from the source, and every companion
file must be byte-identical.

llama.cpp section: zoo converts the sample (tied head, relu) and a gated-GELU model with an
untied head (made here by transformers, seed 0) to GGUF in F32, F16 and Q8_0 with the
fixtures' SentencePiece tokenizer (Tests/Fixtures/spm/spiece.model). gguf-py must read every
tensor back as the source's values (F32 equal, F16 torch's rounding, Q8_0 bytes equal to
gguf.quants.quantize of the same floats, the tied head the embedding times d_model^-0.5);
llama-cpp-python (Scripts/llama_t5.py) must load each file, tokenize as sentencepiece does, and
give logits that match transformers' on the same ids, max |difference| as a fraction of the
largest |logit|: F32 1e-3 (llama.cpp's GELU rounds through F16: 2.6e-4 measured; 3e-7 with
relu), F16 5e-3, Q8_0 5e-2. Skipped when llama-cpp-python or gguf-py is missing.

GGUF section: gguf-py's GGUFReader reads Tests/Fixtures/gguf_zoo/zoo_written.gguf,
written by zoo's GGUFWriter (a FormatsTests test keeps it equal to what zoo writes), and
every metadata value and tensor must equal its source (Q8_0 bytes equal to
gguf.quants.quantize of the same floats). It needs no zoo binary:
`check-interop.py --gguf-only` runs it alone.

Setup: the same venv as Scripts/make-fixtures.py, the repository's .venv/ (torch 2.13.0+cpu,
safetensors, transformers 4.57.6, numpy; tensorflow-cpu 2.21.0 for the TensorFlow section;
Scripts/python-env.sh --llama adds llama-cpp-python for the llama.cpp section):

    Scripts/python-env.sh

Run (from any directory):

    .venv/bin/python Scripts/check-interop.py .build/debug/zoo [--keep]

Prints one PASS/FAIL/SKIP line per check and exits 1 if any check failed.
--keep leaves the temporary output directory in place and prints its path.
"""

import os

os.environ["USE_TF"] = "0"  # before importing transformers
# torch's scalar CPU kernels, as in make-fixtures.py: same cast rules as
# Tests/Fixtures/casts (matters only for NaNs, which the sample has none of).
os.environ["ATEN_CPU_CAPABILITY"] = "default"

import argparse
import json
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import T5Config, T5ForConditionalGeneration

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "Sources" / "zoo" / "Sample" / "t5-efficient-sample"
SAMPLE_SHARDED = ROOT / "Tests" / "Fixtures" / "sample_sharded"
TORCH_FIXTURES = ROOT / "Tests" / "Fixtures" / "torch"
SAMPLE_BIN = TORCH_FIXTURES / "sample_bin"          # save_pretrained(safe_serialization=False)
LEGACY_BIN = TORCH_FIXTURES / "legacy.bin"          # torch.save(..., _use_new_zipfile_serialization=False)
TF_FIXTURES = ROOT / "Tests" / "Fixtures" / "tf"
HUB_SNAPSHOT = ROOT / "Tests" / "Fixtures" / "companions" / "hub_snapshot"
# The files of HUB_SNAPSHOT that are neither weights nor config.json: carried byte for byte.
HUB_COMPANIONS = ("README.md", "generation_config.json", "operative_config.gin", "special_tokens_map.json",
                  "spiece.model", "tokenizer.json", "tokenizer_config.json")
# Each Mesh-TF fixture and the Hugging Face checkpoint it was made from.
MESHTF_FIXTURES = {
    "sample_meshtf": SAMPLE,
    "gated_untied_meshtf": ROOT / "Tests" / "Fixtures" / "t5_gated_untied",
}
# The sample ties these to shared.weight (tie_word_embeddings); torch checkpoints
# usually store them as extra names for shared.weight's storage.
T5_TIED = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight")

F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16
INT_OF_SIZE = {8: torch.int64, 4: torch.int32, 2: torch.int16, 1: torch.int8}

failures = 0
skipped = 0


def report(ok: bool, what: str, detail: str = "") -> bool:
    global failures
    if not ok:
        failures += 1
    print(f"{'PASS' if ok else 'FAIL'}  {what}" + (f"  ({detail})" if detail else ""), flush=True)
    return ok


def skip(what: str, detail: str) -> None:
    global skipped
    skipped += 1
    print(f"SKIP  {what}  ({detail})", flush=True)


# ---------------------------------------------------------------------------
# Loading and comparing
# ---------------------------------------------------------------------------

def load_checkpoint(path: Path) -> dict:
    """All tensors of a .safetensors file or a checkpoint directory (sharded:
    follow model.safetensors.index.json and check each shard holds exactly the
    tensors the index assigns to it)."""
    if path.is_file():
        return load_file(path)
    index_path = path / "model.safetensors.index.json"
    if not index_path.exists():
        return load_file(path / "model.safetensors")
    index = json.loads(index_path.read_text())
    by_shard = {}
    for name, shard in index["weight_map"].items():
        by_shard.setdefault(shard, set()).add(name)
    tensors = {}
    for shard, names in sorted(by_shard.items()):
        loaded = load_file(path / shard)
        if set(loaded) != names:
            raise ValueError(f"{shard} holds {sorted(set(loaded) ^ names)} contrary to the index")
        tensors.update(loaded)
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    declared = index.get("metadata", {}).get("total_size")
    if declared != total:
        raise ValueError(f"index total_size {declared} != {total} bytes of tensors")
    return tensors


def cast_chain(tensor: torch.Tensor, dtypes: list) -> torch.Tensor:
    for dtype in dtypes:
        tensor = tensor.to(dtype)
    return tensor


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal dtype, shape and bits; NaNs match NaNs at the same positions
    (whatever their payload).  Stricter than torch.equal: -0.0 != +0.0."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if not a.is_floating_point():
        return torch.equal(a, b)
    nan_a, nan_b = torch.isnan(a), torch.isnan(b)
    if not torch.equal(nan_a, nan_b):
        return False
    int_type = INT_OF_SIZE[a.element_size()]
    return torch.equal(a[~nan_a].view(int_type), b[~nan_b].view(int_type))


def compare_tensors(what: str, actual: dict, expected: dict) -> None:
    if not report(set(actual) == set(expected), f"{what}: tensor names",
                  f"missing {sorted(set(expected) - set(actual))}, "
                  f"unexpected {sorted(set(actual) - set(expected))}"
                  if set(actual) != set(expected) else f"{len(actual)} tensors"):
        return
    bad = [name for name in sorted(expected) if not same_bits(actual[name], expected[name])]
    dtypes = sorted({str(t.dtype).removeprefix("torch.") for t in actual.values()})
    report(not bad, f"{what}: dtypes, shapes and values equal torch's cast",
           f"mismatched: {bad[:5]}{' ...' if len(bad) > 5 else ''}" if bad else f"dtypes {dtypes}")


def load_model(path: Path, dtype: torch.dtype) -> T5ForConditionalGeneration:
    # transformers 4.57 calls this argument `dtype` (`torch_dtype` is its
    # deprecated alias).
    return T5ForConditionalGeneration.from_pretrained(path, dtype=dtype).eval()


def logits(model: T5ForConditionalGeneration) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=torch.tensor([[5, 6, 7, 1]]),
                     decoder_input_ids=torch.tensor([[0, 5]])).logits


def compare_models(what: str, out_dir: Path, source_dir: Path, casts: list) -> None:
    """from_pretrained(out_dir) must give the same state_dict and the same
    logits as the source model cast by torch through the same dtypes."""
    final = casts[-1] if casts else F32
    reference = load_model(source_dir, F32)
    for dtype in casts:
        reference = reference.to(dtype)
    try:
        model = load_model(out_dir, final)
    except Exception as error:  # noqa: BLE001 -- report any loader failure
        report(False, f"{what}: T5ForConditionalGeneration.from_pretrained", repr(error))
        return
    # transformers keeps some modules in float32 when loading as float16 (T5:
    # _keep_in_fp32_modules = ["wo"]), upcasting the stored fp16 values.  Do
    # the same to the reference so both models hold the same numbers.
    ref_params = dict(reference.named_parameters())
    upcast = []
    for name, param in model.named_parameters():
        if name in ref_params and ref_params[name].dtype != param.dtype:
            ref_params[name].data = ref_params[name].data.to(param.dtype)
            upcast.append(name)
    report(True, f"{what}: T5ForConditionalGeneration.from_pretrained", f"dtype {final}" + (
        f"; transformers kept {len(upcast)} parameters in {model._keep_in_fp32_modules} "
        f"as float32" if upcast else ""))
    ref_state, state = reference.state_dict(), model.state_dict()
    bad = sorted(n for n in ref_state if n not in state or not same_bits(state[n], ref_state[n]))
    report(not bad and set(state) == set(ref_state), f"{what}: state_dict equals torch's",
           f"mismatched: {bad[:5]}" if bad else f"{len(state)} entries")
    got, want = logits(model), logits(reference)
    diff = (got.float() - want.float()).abs().max().item()
    report(torch.equal(got, want), f"{what}: logits equal", f"max abs diff {diff:g}")


# ---------------------------------------------------------------------------
# PyTorch checkpoints
# ---------------------------------------------------------------------------

def torch_load(path: Path, mmap: bool = False) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)


def fold_aliases(tensors: dict) -> dict:
    """Drop every tensor that is exactly the same view of the same storage as an
    earlier one (tied weights: torch files list encoder.embed_tokens.weight etc.
    as extra names for shared.weight's storage; safetensors output keeps one)."""
    seen, kept = set(), {}
    for name, t in tensors.items():
        view = (t.untyped_storage().data_ptr(), t.dtype, t.storage_offset(), tuple(t.shape), t.stride())
        if t.untyped_storage().nbytes() > 0 and view in seen:
            continue
        seen.add(view)
        kept[name] = t
    return kept


def load_torch_output(path: Path, mmap: bool) -> tuple:
    """All tensors of a PyTorch checkpoint directory zoo wrote -- pytorch_model.bin,
    or the shards pytorch_model.bin.index.json lists, each checked to hold exactly
    the tensors the index assigns to it -- loaded with torch.load(weights_only=True),
    and name -> file name."""
    index_path = path / "pytorch_model.bin.index.json"
    if not index_path.exists():
        state = torch_load(path / "pytorch_model.bin", mmap)
        return dict(state), {name: "pytorch_model.bin" for name in state}
    index = json.loads(index_path.read_text())
    by_shard = {}
    for name, shard in index["weight_map"].items():
        by_shard.setdefault(shard, set()).add(name)
    tensors, files = {}, {}
    for shard, names in sorted(by_shard.items()):
        loaded = torch_load(path / shard, mmap)
        if set(loaded) != names:
            raise ValueError(f"{shard} holds {sorted(set(loaded) ^ names)} contrary to the index")
        tensors.update(loaded)
        files.update({name: shard for name in loaded})
    return tensors, files


def unsupported(result: subprocess.CompletedProcess) -> bool:
    """zoo said it cannot do this yet: a recognised-but-unreadable format, an
    unsupported feature, or (exit 64) a command-line usage error such as an
    unknown --to value."""
    text = result.stderr + result.stdout
    return result.returncode == 64 or bool(
        re.search(r"unsupported|not supported|not readable|invalid for '--to", text, re.IGNORECASE))


def run_zoo_optional(zoo: Path, args: list, feature: str):
    """run_zoo for a step zoo may not support yet: True (ran), False (FAIL) or
    None (SKIP: zoo reports `feature` as unsupported)."""
    command = [str(zoo), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True)
    what = "zoo " + " ".join(map(str, args))
    if result.returncode != 0 and unsupported(result):
        message = (result.stderr or result.stdout).strip().splitlines()
        skip(what, f"zoo does not support {feature} yet: {message[0] if message else 'exit ' + str(result.returncode)}")
        return None
    detail = "" if result.returncode == 0 else (
        f"exit {result.returncode}: {(result.stderr or result.stdout).strip()[-500:]}")
    return report(result.returncode == 0, what, detail)


def check_torch_output(label: str, output: Path, casts: list, sharded: bool) -> None:
    """zoo's `--to pytorch` output: loads with torch.load(weights_only=True), with
    and without mmap=True; holds the sample's tensors cast by torch as `casts`;
    any tied alias it adds equals shared.weight and shares its storage; and
    transformers loads it to the same state_dict and logits."""
    expected = {name: cast_chain(t, casts) for name, t in load_checkpoint(SAMPLE).items()}
    if sharded:
        shards = sorted(output.glob("pytorch_model-*-of-*.bin"))
        report(len(shards) >= 2 and (output / "pytorch_model.bin.index.json").exists()
               and not (output / "pytorch_model.bin").exists(),
               f"{label}: written as pytorch_model.bin.index.json + shards", f"{len(shards)} shards")
    else:
        report((output / "pytorch_model.bin").exists() and not (output / "pytorch_model.bin.index.json").exists(),
               f"{label}: written as a single pytorch_model.bin")
    for mmap in (False, True):
        how = "torch.load(weights_only=True" + (", mmap=True)" if mmap else ")")
        try:
            tensors, files = load_torch_output(output, mmap)
        except Exception as error:  # noqa: BLE001 -- report any loader failure
            report(False, f"{label}: {how}", repr(error))
            continue
        report(True, f"{label}: {how}", f"{len(tensors)} tensors in {len(set(files.values()))} file(s)")
        compare_tensors(f"{label} [{how}]", {n: t for n, t in tensors.items() if n in expected}, expected)
        extra = [n for n in tensors if n not in expected]
        if not extra:
            continue
        unknown = [n for n in extra if n not in T5_TIED]
        shared = tensors["shared.weight"]
        unshared = [n for n in extra if n in T5_TIED and (
            files[n] != files["shared.weight"]
            or tensors[n].untyped_storage().data_ptr() != shared.untyped_storage().data_ptr()
            or not same_bits(tensors[n], shared))]
        report(not unknown and not unshared, f"{label} [{how}]: tied aliases share shared.weight's storage",
               f"unexpected names {unknown}, not sharing {unshared}" if unknown or unshared else
               f"{', '.join(extra)}")
    compare_models(label, output, SAMPLE, casts)


def torch_checks(zoo: Path, out: Path) -> None:
    """The PyTorch section (see the module docstring)."""
    print("--- from-bin (read pytorch_model.bin)")
    if run_zoo_optional(zoo, ["convert", SAMPLE_BIN, out / "from-bin"], "reading PyTorch zip checkpoints"):
        try:
            actual = load_checkpoint(out / "from-bin")
            report(True, "from-bin: safetensors load", "from-bin")
            source = torch_load(SAMPLE_BIN / "pytorch_model.bin")
            compare_tensors("from-bin (tied aliases folded into shared.weight)", actual, fold_aliases(source))
            compare_models("from-bin", out / "from-bin", SAMPLE_BIN, [])
        except Exception as error:  # noqa: BLE001
            report(False, "from-bin: safetensors load", repr(error))

    print("--- from-legacy (read a pre-1.6 torch.save file)")
    if run_zoo_optional(zoo, ["convert", LEGACY_BIN, out / "from-legacy.safetensors"],
                        "reading legacy PyTorch checkpoints"):
        try:
            actual = load_checkpoint(out / "from-legacy.safetensors")
            report(True, "from-legacy: safetensors load", "from-legacy.safetensors")
            compare_tensors("from-legacy (tied aliases folded into shared.weight)", actual,
                            fold_aliases(dict(torch_load(LEGACY_BIN))))
        except Exception as error:  # noqa: BLE001
            report(False, "from-legacy: safetensors load", repr(error))

    # (label, extra zoo arguments, dtype casts torch applies to get the expected result, sharded)
    for label, extra, casts, sharded in [
        ("to-pytorch", [], [], False),
        ("to-pytorch-bf16", ["--dtype", "bf16"], [BF16], False),
        ("to-pytorch-sharded", ["--shard-size", "300KB"], [], True),
    ]:
        print(f"--- {label}")
        if run_zoo_optional(zoo, ["convert", SAMPLE, out / label, "--to", "pytorch", *extra], "--to pytorch"):
            check_torch_output(label, out / label, casts, sharded)


# ---------------------------------------------------------------------------
# TensorFlow (Mesh-TF) checkpoints
# ---------------------------------------------------------------------------

def import_tensorflow():
    """tensorflow, or None when it is not installed (the section is then skipped)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf


def meshtf_name(hf_name: str) -> tuple:
    """(Mesh-TF variable name, stored transposed?) of an HF T5 tensor name: the
    table of Documentation/TensorFlow.md as the fixture generator implements it
    (Scripts/fixtures/tf_checkpoints.py, whose fixtures are checked against transformers' own
    load_tf_weights_in_t5)."""
    import importlib
    global _MAKE_FIXTURES
    if _MAKE_FIXTURES is None:
        scripts = str(ROOT / "Scripts")
        if scripts not in sys.path:
            sys.path.insert(0, scripts)
        _MAKE_FIXTURES = importlib.import_module("fixtures.tf_checkpoints")
    return _MAKE_FIXTURES.meshtf_name(hf_name)


_MAKE_FIXTURES = None


def from_numpy(array) -> torch.Tensor:
    """A numpy array read by TensorFlow as a torch tensor, bits preserved (TF's
    bfloat16 is ml_dtypes.bfloat16, which torch.from_numpy does not know)."""
    if array.dtype.name == "bfloat16":
        return torch.from_numpy(array.view("int16").copy()).view(BF16)
    return torch.from_numpy(array.copy())


def check_from_tf(tf, name: str, output: Path) -> None:
    """zoo's conversion of Tests/Fixtures/tf/<name> against what transformers'
    load_tf_weights_in_t5 made of the same checkpoint (expected/<name>): the
    same tensor names, and the same values -- the checkpoint holds bfloat16, so
    zoo may keep bf16 or widen to fp32 as transformers does; either way the
    values are exact.  Then transformers loads the directory (config.json
    included) to the same state_dict and logits as the HF fixture cast alike."""
    label = f"from-tf-{name}"
    try:
        actual = load_checkpoint(output)
    except Exception as error:  # noqa: BLE001
        report(False, f"{label}: safetensors load", repr(error))
        return
    report(True, f"{label}: safetensors load", output.name)
    expected = load_file(TF_FIXTURES / "expected" / f"{name}.safetensors")
    missing, unexpected = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    if missing or unexpected:
        report(False, f"{label}: tensor names are transformers'",
               f"{len(missing)} missing {missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}")
        return
    stored = actual["shared.weight"].dtype
    compare_tensors(f"{label} (vs transformers' load_tf_weights_in_t5, as {str(stored).removeprefix('torch.')})",
                    actual, {n: t.to(stored) for n, t in expected.items()})
    source = MESHTF_FIXTURES[name]
    if not report((output / "config.json").exists(), f"{label}: config.json written",
                  "" if (output / "config.json").exists() else
                  "transformers cannot load the directory without it (zoo must infer it from the "
                  "checkpoint's shapes and operative_config.gin)"):
        return
    # As transformers reads them (fields left out of config.json take T5Config's defaults).
    got, want = T5Config.from_pretrained(output), T5Config.from_pretrained(source)
    fields = ("vocab_size", "d_model", "d_kv", "d_ff", "num_heads", "num_layers", "num_decoder_layers",
              "feed_forward_proj", "tie_word_embeddings", "relative_attention_num_buckets",
              "relative_attention_max_distance", "layer_norm_epsilon")
    wrong = {f: (getattr(got, f), getattr(want, f)) for f in fields if getattr(got, f) != getattr(want, f)}
    report(not wrong, f"{label}: config.json architecture equals the original's",
           f"(zoo's, original): {wrong}" if wrong else
           ", ".join(f"{f}={getattr(want, f)}" for f in fields[:9]))
    compare_models(label, output, source, [BF16] if stored == BF16 else [BF16, F32])


def check_to_tf(tf, label: str, output: Path, dtype) -> None:
    """zoo's `--to tf` output of the sample: a `checkpoint` file naming the
    prefix; tf.train.load_checkpoint reads exactly the Mesh-TF names of the
    sample's tensors (plus an optional int64 global_step; no object graph, no
    optimizer slots), each in Mesh-TF layout ([in, out]: transposed kernels)
    and equal to the sample's values cast by torch to the dtype zoo wrote
    (`dtype` when zoo was asked for one); transformers' load_tf_weights_in_t5
    reads it back to the sample's weights."""
    prefix = tf.train.latest_checkpoint(str(output))
    if not report(prefix is not None, f"{label}: `checkpoint` file names the checkpoint (tf.train.latest_checkpoint)",
                  prefix and Path(prefix).name or f"files: {sorted(p.name for p in output.iterdir())}"):
        indexes = sorted(output.glob("*.index"))
        if len(indexes) != 1:
            return
        prefix = str(indexes[0].with_suffix(""))
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    except Exception as error:  # noqa: BLE001
        report(False, f"{label}: tf.train.load_checkpoint", repr(error))
        return
    shards = sorted(Path(prefix).parent.glob(Path(prefix).name + ".data-*"))
    report(True, f"{label}: tf.train.load_checkpoint", f"{len(shapes)} variables in {len(shards)} data file(s)")
    source = load_checkpoint(SAMPLE)
    names = {meshtf_name(n)[0]: n for n in source}
    missing = sorted(set(names) - set(shapes))
    unexpected = sorted(set(shapes) - set(names) - {"global_step"})
    if not report(not missing and not unexpected, f"{label}: variable names are the sample's Mesh-TF names",
                  f"missing {missing[:5]}, unexpected {unexpected[:5]}" if missing or unexpected else
                  f"{len(names)} weights" + (" + global_step" if "global_step" in shapes else "")):
        return
    if "global_step" in shapes:
        report(dtypes["global_step"] == tf.int64 and shapes["global_step"] == [],
               f"{label}: global_step is an int64 scalar", f"{dtypes['global_step'].name} {shapes['global_step']}")
    bad, wrong_dtype, kinds = [], [], set()
    for tf_name, hf_name in sorted(names.items()):
        tensor = from_numpy(reader.get_tensor(tf_name))
        kinds.add(str(tensor.dtype).removeprefix("torch."))
        if dtype is not None and tensor.dtype != dtype:
            wrong_dtype.append(tf_name)
        want = source[hf_name].t() if meshtf_name(hf_name)[1] else source[hf_name]
        if tensor.dtype not in (F32, F16, BF16) or not same_bits(tensor, want.contiguous().to(tensor.dtype)):
            bad.append(tf_name)
    if dtype is not None:
        report(not wrong_dtype, f"{label}: every variable is {str(dtype).removeprefix('torch.')}",
               f"not: {wrong_dtype[:5]}" if wrong_dtype else "")
    report(not bad, f"{label}: shapes ([in, out]) and values equal the sample's, cast by torch",
           f"mismatched: {bad[:5]}" if bad else f"dtypes {sorted(kinds)}")

    from transformers.models.t5.modeling_t5 import load_tf_weights_in_t5
    config = T5Config.from_pretrained(SAMPLE)
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config).eval()
    try:
        load_tf_weights_in_t5(model, config, prefix)
    except Exception as error:  # noqa: BLE001
        report(False, f"{label}: transformers' load_tf_weights_in_t5", repr(error))
        return
    state = model.state_dict()
    cast = [BF16, F32] if kinds == {"bfloat16"} else []
    wrong = sorted(n for n, t in source.items() if not same_bits(state[n], cast_chain(t, cast)))
    report(not wrong, f"{label}: transformers' load_tf_weights_in_t5 reads back the sample"
           + (" (as bf16 -> fp32)" if cast else ""), f"mismatched: {wrong[:5]}" if wrong else f"{len(source)} tensors")


def tf_checks(zoo: Path, out: Path) -> None:
    """The TensorFlow section (see the module docstring)."""
    tf = import_tensorflow()
    if tf is None:
        skip("TensorFlow section", "tensorflow is not installed: pip install tensorflow-cpu")
        return
    for name in MESHTF_FIXTURES:
        label = f"from-tf-{name}"
        print(f"--- {label} (read a Mesh-TF TensorFlow checkpoint)")
        if run_zoo_optional(zoo, ["convert", TF_FIXTURES / name, out / label], "reading TensorFlow checkpoints"):
            check_from_tf(tf, name, out / label)

    # (label, extra zoo arguments, dtype every variable must have, or None: zoo's choice)
    for label, extra, dtype in [("to-tf", [], None), ("to-tf-bf16", ["--dtype", "bf16"], BF16)]:
        print(f"--- {label}")
        if run_zoo_optional(zoo, ["convert", SAMPLE, out / label, "--to", "tf", *extra], "--to tf"):
            check_to_tf(tf, label, out / label, dtype)

    print("--- to-tf round trip (zoo reads its own --to tf output)")
    if not (out / "to-tf").is_dir():
        skip("to-tf round trip", "no to-tf output to read back")
    elif run_zoo_optional(zoo, ["convert", out / "to-tf", out / "to-tf-back"], "reading TensorFlow checkpoints"):
        try:
            actual = load_checkpoint(out / "to-tf-back")
        except Exception as error:  # noqa: BLE001
            report(False, "to-tf-back: safetensors load", repr(error))
            return
        # Whatever dtype zoo wrote the TF checkpoint in, and then the safetensors in.
        written = from_numpy(tf.train.load_variable(tf.train.latest_checkpoint(str(out / "to-tf"))
                                                    or str(next((out / "to-tf").glob("*.index")).with_suffix("")),
                                                    "shared/embedding")).dtype
        stored = actual["shared.weight"].dtype if "shared.weight" in actual else F32
        compare_tensors("to-tf-back", actual,
                        {n: cast_chain(t, [written, stored]) for n, t in load_checkpoint(SAMPLE).items()})


# ---------------------------------------------------------------------------
# The conversions
# ---------------------------------------------------------------------------

DTYPES_FIXTURE = ROOT / "Tests" / "Fixtures" / "dtypes.safetensors"


def dtype_checks(zoo: Path, out: Path) -> None:
    """Every writer x every dtype: one tensor of each of safetensors' 15 dtypes (dtypes.safetensors)
    written by zoo as PyTorch (read back with torch.load(weights_only=True): the dtype torch
    returns must be the source's, the bytes identical) and as safetensors; and torch's own files of
    the classes zoo used to refuse (v3 dtypes, expand() views, CRC-less, protocol 4/5 legacy,
    big-endian) read by zoo into safetensors equal to what torch.load returns."""
    source = load_file(str(DTYPES_FIXTURE))
    for label, target, load in [
        ("dtypes-to-pytorch", out / "dtypes.bin", lambda p: torch.load(p, weights_only=True)),
        ("dtypes-to-safetensors", out / "dtypes-copy.safetensors", lambda p: load_file(str(p))),
    ]:
        print(f"--- {label}")
        if not run_zoo(zoo, ["convert", DTYPES_FIXTURE, target, "--no-verify"]):
            continue
        try:
            actual = load(target)
        except Exception as error:  # noqa: BLE001
            report(False, f"{label}: load", repr(error))
            continue
        for name, tensor in source.items():
            got = actual.get(name)
            report(got is not None and got.dtype == tensor.dtype and got.shape == tensor.shape
                   and same_bits(got, tensor), f"{label}: {name} ({tensor.dtype})",
                   "" if got is None else f"read back as {got.dtype} {tuple(got.shape)}")

    for fixture in ["dtypes_v3.bin", "expanded.bin", "no_crc.bin", "legacy_proto4.bin", "legacy_proto5.bin",
                    "big_endian.bin"]:
        label = f"from-{fixture}"
        print(f"--- {label}")
        target = out / f"{fixture}.safetensors"
        if not run_zoo(zoo, ["convert", TORCH_FIXTURES / fixture, target]):
            continue
        # FRAME opcodes (protocol 4/5 legacy files) load only without weights_only.
        expected = torch.load(TORCH_FIXTURES / fixture, weights_only="legacy" not in fixture)
        compare_tensors(label, load_file(str(target)), {k: v.contiguous() for k, v in expected.items()})


def hub_snapshot_checks(zoo: Path, out: Path) -> None:
    """A converted model directory is whole: transformers loads it like the source."""
    from transformers import AutoTokenizer, GenerationConfig

    print("--- hub snapshot (companions)")
    output = out / "hub-bf16"
    if not run_zoo(zoo, ["convert", HUB_SNAPSHOT, str(output) + "/", "--dtype", "bf16"]):
        return
    for name in HUB_COMPANIONS:
        report((output / name).read_bytes() == (HUB_SNAPSHOT / name).read_bytes(),
               f"hub snapshot: {name} carried byte for byte")
    manifest = (output / "SHA256SUMS").read_text().split("\n")
    listed = sorted(line.split("  ", 1)[1] for line in manifest if line)
    report(listed == sorted([*HUB_COMPANIONS, "config.json", "model.safetensors"]),
           "hub snapshot: SHA256SUMS lists the companions", ", ".join(listed))
    try:
        tokenizer = AutoTokenizer.from_pretrained(output)
        expected = AutoTokenizer.from_pretrained(HUB_SNAPSHOT)
        text = "the cat sat on a dog"
        report(tokenizer(text).input_ids == expected(text).input_ids and type(tokenizer) is type(expected),
               "hub snapshot: AutoTokenizer.from_pretrained(output)", type(tokenizer).__name__)
        report(GenerationConfig.from_pretrained(output).to_dict() == GenerationConfig.from_pretrained(
            HUB_SNAPSHOT).to_dict(), "hub snapshot: GenerationConfig.from_pretrained(output)")
        model = T5ForConditionalGeneration.from_pretrained(output, dtype="auto")
        report(model.dtype == BF16, "hub snapshot: from_pretrained(output, dtype=\"auto\") takes config.json's dtype", str(model.dtype))
    except Exception as error:  # noqa: BLE001
        report(False, "hub snapshot: transformers from_pretrained(output)", repr(error))
        return
    compare_models("hub snapshot", output, HUB_SNAPSHOT, [BF16])


def run_zoo(zoo: Path, args: list) -> bool:
    command = [str(zoo), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True)
    detail = "" if result.returncode == 0 else (
        f"exit {result.returncode}: {(result.stderr or result.stdout).strip()[-500:]}")
    return report(result.returncode == 0, "zoo " + " ".join(map(str, args)), detail)


# ---------------------------------------------------------------------------
# GGUF: a file zoo wrote, read by gguf-py
# ---------------------------------------------------------------------------

GGUF_FIXTURES = ROOT / "Tests" / "Fixtures" / "gguf"
# Written by zoo's GGUFWriter in FormatsTests (GGUFWriterTests.writesTheInteropFixture, which
# fails when its output differs from this file; ZOO_WRITE_GGUF_FIXTURE=1 rewrites it): every
# metadata value of gguf/metadata.gguf plus empty arrays, metadata.gguf's tensors copied, the Q8_0
# inputs of gguf/expected.safetensors quantized by zoo, q8_0.gguf's q.1d dequantized by zoo,
# alignment 64. Until the CLI writes GGUF, this committed file is how zoo's output reaches gguf-py.
GGUF_ZOO_WRITTEN = ROOT / "Tests" / "Fixtures" / "gguf_zoo" / "zoo_written.gguf"


def gguf_flatten(value, kind: str) -> list:
    """expected.json's encoding of a value (floats as bit patterns, arrays as {"element_type",
    "items"}) flattened the way gguf-py's ReaderField.contents() flattens nested arrays."""
    if kind == "array":
        return [x for item in value["items"] for x in gguf_flatten(item, value["element_type"])]
    if kind == "float32":
        return [struct.unpack("<f", struct.pack("<I", value))[0]]
    if kind == "float64":
        return [struct.unpack("<d", struct.pack("<Q", value))[0]]
    return [value]


def gguf_bits(values: list) -> list:
    """Floats as their float64 bits (so -0.0 and 0.0 differ), everything else as is."""
    return [struct.pack("<d", v) if isinstance(v, float) else v for v in values]


def gguf_checks(path: Path = GGUF_ZOO_WRITTEN) -> None:
    print("--- gguf: zoo-written file read by gguf-py")
    try:
        import gguf
        from gguf.quants import dequantize, quantize
        from safetensors.numpy import load_file as load_numpy
    except ImportError as error:
        skip("gguf", f"gguf-py is not installed: {error}")
        return
    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as error:  # noqa: BLE001
        report(False, "gguf: GGUFReader opens zoo's file", repr(error))
        return
    report(True, "gguf: GGUFReader opens zoo's file", str(path.relative_to(ROOT)))
    expected = json.loads((GGUF_FIXTURES / "expected.json").read_text())["metadata.gguf"]
    arrays = load_numpy(str(GGUF_FIXTURES / "expected.safetensors"))
    source_q8 = {t.name: t for t in gguf.GGUFReader(str(GGUF_FIXTURES / "q8_0.gguf")).tensors}

    entries = [(e["key"], e["type"], gguf_flatten(e["value"], e["type"])) for e in expected["metadata"]]
    entries += [("zoo.empty", "array", []), ("zoo.empty_string", "string", [""]),
                ("zoo.nested_empty", "array", [2.5]), ("general.alignment", "uint32", [64])]
    bad = []
    for key, kind, values in entries:
        field = reader.fields.get(key)
        contents = None if field is None else field.contents()
        actual = contents if isinstance(contents, list) else [contents]
        if field is None or field.types[0].name.lower() != kind or gguf_bits(actual) != gguf_bits(values):
            bad.append(key)
    extra = [k for k in reader.fields if not k.startswith("GGUF.") and k not in {e[0] for e in entries}]
    report(not bad and not extra, "gguf: every metadata key, type and value", f"differ: {bad}, extra: {extra}")
    report(reader.alignment == 64, "gguf: general.alignment 64 honoured", f"alignment {reader.alignment}")

    tensors = {t.name: t for t in reader.tensors}
    for info in expected["tensors"]:
        name = info["name"]
        t = tensors.get(name)
        ok = (t is not None and int(t.tensor_type) == info["ggml_type"]
              and [int(d) for d in reversed(t.shape)] == info["shape"]
              and t.data.tobytes() == arrays[f"metadata.gguf/{name}.raw"].tobytes())
        report(ok, f"gguf: tensor {name} (type, numpy shape, bytes)")
    for name in ["q.mixed", "q.1d", "q.3d"]:
        source = arrays[f"q8_0.gguf/{name}.input"]
        with np.errstate(all="ignore"):
            want = quantize(source, gguf.GGMLQuantizationType.Q8_0)
        t = tensors.get(name)
        ok = (t is not None and t.tensor_type == gguf.GGMLQuantizationType.Q8_0
              and [int(d) for d in reversed(t.shape)] == list(source.shape) and t.data.tobytes() == want.tobytes())
        report(ok, f"gguf: {name} quantized by zoo == gguf.quants.quantize")
    t = tensors.get("q.1d.dequantized")
    want = dequantize(source_q8["q.1d"].data, gguf.GGMLQuantizationType.Q8_0)
    report(t is not None and t.data.tobytes() == want.astype(np.float32).tobytes(),
           "gguf: q.1d dequantized by zoo == gguf.quants.dequantize")


# llama.cpp: zoo's GGUF files loaded and run by llama-cpp-python
SPM = ROOT / "Tests" / "Fixtures" / "spm" / "spiece.model"
# Largest |llama.cpp logit - transformers logit| as a fraction of the largest |logit|.
LLAMA_LIMITS = {"fp32": 1e-3, "fp16": 5e-3, "q8_0": 5e-2}


def gated_model(out: Path) -> Path:
    """A gated-GELU T5 with an untied head and more encoder than decoder layers (llama-cpp-python
    0.3.36's llama.cpp cannot load files with more decoder layers; newer llama.cpp can)."""
    torch.manual_seed(0)
    config = T5Config(vocab_size=512, d_model=64, d_kv=16, d_ff=128, num_layers=3, num_decoder_layers=2,
                      num_heads=4, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    model = T5ForConditionalGeneration(config).eval()
    directory = out / "gated-source"
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def gguf_llama_checks(zoo: Path, out: Path) -> None:
    print("--- llama.cpp: zoo's GGUF files in llama-cpp-python")
    try:
        import gguf
        from gguf.quants import quantize
        import sentencepiece
        sys.path.insert(0, str(ROOT / "Scripts"))
        from llama_t5 import llama_t5_logits, llama_t5_tokenize
    except ImportError as error:
        skip("llama.cpp", f"gguf-py, sentencepiece or llama-cpp-python is not installed: {error}")
        return
    processor = sentencepiece.SentencePieceProcessor(model_file=str(SPM))
    text = "the quick brown fox jumps over the lazy dog"
    encoder_ids = [5, 17, 33, 99, 7, 42, 61, 1]
    decoder_ids = [0, 12, 45, 3]
    for label, source in (("sample", SAMPLE), ("gated-untied", gated_model(out))):
        config = json.loads((source / "config.json").read_text())
        names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.T5, config["num_layers"])
        weights = load_checkpoint(source)
        transformers_name = {names.get_name(k, try_suffixes=(".weight",)): k for k in weights
                             if k not in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")}
        model = load_model(source, F32)
        with torch.no_grad():
            expected = model(input_ids=torch.tensor([encoder_ids]),
                             decoder_input_ids=torch.tensor([decoder_ids])).logits[0].numpy()
        scale = float(np.abs(expected).max())
        for dtype in ("fp32", "fp16", "q8_0"):
            what = f"llama.cpp: {label} {dtype}"
            output = out / f"{label}-{dtype}.gguf"
            if not run_zoo(zoo, ["convert", source, output, "--dtype", dtype, "--tokenizer", SPM]):
                continue
            # gguf-py reads every tensor as the source's values.
            bad = []
            for tensor in gguf.GGUFReader(str(output)).tensors:
                hf = transformers_name.get(tensor.name)
                if tensor.name == "output.weight" and config.get("tie_word_embeddings", True):
                    values = (weights["shared.weight"].double() * config["d_model"] ** -0.5).float().numpy()
                elif hf is None:
                    bad.append(f"{tensor.name} (no source)")
                    continue
                else:
                    values = weights[hf].float().numpy()
                kind = tensor.tensor_type
                if kind == gguf.GGMLQuantizationType.Q8_0:
                    ok = tensor.data.tobytes() == quantize(values, kind).tobytes()
                elif kind == gguf.GGMLQuantizationType.F16:
                    ok = tensor.data.tobytes() == torch.from_numpy(values).half().numpy().tobytes()
                else:
                    ok = tensor.data.tobytes() == values.astype(np.float32).tobytes()
                if not ok:
                    bad.append(tensor.name)
            report(not bad, f"{what}: gguf-py reads every tensor as the source's values", f"differ: {bad[:5]}")
            try:
                tokens = llama_t5_tokenize(str(output), text)
                actual = llama_t5_logits(str(output), encoder_ids, decoder_ids)
            except Exception as error:  # noqa: BLE001
                report(False, f"{what}: llama.cpp loads and runs it", repr(error))
                continue
            want = processor.encode(text) + [1]
            report(tokens == want, f"{what}: llama.cpp tokenizes as sentencepiece (+ </s>)", f"{tokens} vs {want}")
            error = float(np.abs(actual - expected).max())
            report(error <= LLAMA_LIMITS[dtype] * scale,
                   f"{what}: logits match transformers'",
                   f"max abs {error:.3e}, {error / scale:.2e} of the largest logit (limit {LLAMA_LIMITS[dtype]:.0e})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zoo", nargs="?", help="path to the zoo binary")
    parser.add_argument("--keep", action="store_true", help="keep the output directory")
    parser.add_argument("--gguf-only", action="store_true", help="run only the GGUF section (no zoo binary needed)")
    parser.add_argument("--llama-only", action="store_true", help="run only the llama.cpp section")
    options = parser.parse_args()
    if options.gguf_only:
        gguf_checks()
        print(f"{'FAILED' if failures else 'OK'}: {failures} failed check(s)")
        return 1 if failures else 0
    if options.zoo is None:
        parser.error("the zoo binary is required (unless --gguf-only)")
    zoo = Path(options.zoo).resolve()
    if not (zoo.is_file() and os.access(zoo, os.X_OK)):
        parser.error(f"{zoo} is not an executable file")

    if options.keep:
        out = Path(tempfile.mkdtemp(prefix="zoo-interop-"))
        print(f"output directory: {out}")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="zoo-interop-")  # removed at exit
        out = Path(tmp.name)

    if options.llama_only:
        gguf_llama_checks(zoo, out)
        print(f"{'FAILED' if failures else 'OK'}: {failures} failed check(s)")
        return 1 if failures else 0

    # (label, zoo arguments, source checkpoint, output, dtype casts applied to
    #  the source by torch to get the expected result, is a model directory)
    cases = [
        ("bf16", [SAMPLE, out / "bf16", "--dtype", "bf16"], SAMPLE, out / "bf16", [BF16], True),
        ("fp16", [SAMPLE, out / "fp16", "--dtype", "fp16"], SAMPLE, out / "fp16", [F16], True),
        ("fp32-sharded", [SAMPLE, out / "fp32-sharded", "--shard-size", "300KB"],
         SAMPLE, out / "fp32-sharded", [], True),
        ("bf16-to-fp32", [out / "bf16", out / "bf16-to-fp32", "--dtype", "fp32"],
         SAMPLE, out / "bf16-to-fp32", [BF16, F32], True),
        ("single", [SAMPLE / "model.safetensors", out / "single.safetensors", "--dtype", "bf16"],
         SAMPLE / "model.safetensors", out / "single.safetensors", [BF16], False),
        ("unsharded", [SAMPLE_SHARDED, out / "unsharded"],
         SAMPLE_SHARDED, out / "unsharded", [], True),
    ]
    for label, args, source, output, casts, is_model_dir in cases:
        print(f"--- {label}")
        if not run_zoo(zoo, ["convert", *args]):
            continue
        try:
            actual = load_checkpoint(output)
        except Exception as error:  # noqa: BLE001
            report(False, f"{label}: safetensors load", repr(error))
            continue
        report(True, f"{label}: safetensors load", str(output.relative_to(out)))
        expected = {name: cast_chain(t, casts) for name, t in load_checkpoint(source).items()}
        compare_tensors(label, actual, expected)
        if label == "fp32-sharded":
            shards = sorted(output.glob("model-*-of-*.safetensors"))
            report(len(shards) >= 2 and (output / "model.safetensors.index.json").exists(),
                   f"{label}: written as index + shards", f"{len(shards)} shards")
        if label == "unsharded":
            report(not (output / "model.safetensors.index.json").exists()
                   and (output / "model.safetensors").exists(),
                   f"{label}: written as a single model.safetensors")
        if is_model_dir:
            compare_models(label, output, source, casts)

    torch_checks(zoo, out)
    dtype_checks(zoo, out)
    hub_snapshot_checks(zoo, out)
    tf_checks(zoo, out)
    gguf_checks()
    gguf_llama_checks(zoo, out)

    print(f"{'FAILED' if failures else 'OK'}: {failures} failed check(s)"
          + (f", {skipped} skipped (not supported by this zoo yet)" if skipped else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
