#!/usr/bin/env python3
"""Check that checkpoints written by zoo load in the real libraries.

Runs a built zoo binary on the bundled sample model, then loads every output
with safetensors and transformers and compares it, bit for bit, with what
torch itself produces for the same conversion.

Setup: the same venv as Scripts/make-fixtures.py:

    python3 -m venv /work/pyenv
    /work/pyenv/bin/pip install --find-links /opt/wheels torch==2.13.0+cpu safetensors transformers==4.57.6 numpy

Run (from any directory):

    /work/pyenv/bin/python Scripts/check-interop.py .build/debug/zoo [--keep]

Prints one PASS/FAIL line per check and exits 1 if any check failed.
--keep leaves the temporary output directory in place and prints its path.
"""

import os

os.environ["USE_TF"] = "0"  # before importing transformers
# torch's scalar CPU kernels, as in make-fixtures.py: same cast rules as
# Tests/Fixtures/casts (matters only for NaNs, which the sample has none of).
os.environ["ATEN_CPU_CAPABILITY"] = "default"

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import T5ForConditionalGeneration

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "Sources" / "zoo" / "Sample" / "t5-efficient-sample"
SAMPLE_SHARDED = ROOT / "Tests" / "Fixtures" / "sample_sharded"

F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16
INT_OF_SIZE = {8: torch.int64, 4: torch.int32, 2: torch.int16, 1: torch.int8}

failures = 0


def report(ok: bool, what: str, detail: str = "") -> bool:
    global failures
    if not ok:
        failures += 1
    print(f"{'PASS' if ok else 'FAIL'}  {what}" + (f"  ({detail})" if detail else ""), flush=True)
    return ok


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
# The conversions
# ---------------------------------------------------------------------------

def run_zoo(zoo: Path, args: list) -> bool:
    command = [str(zoo), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True)
    detail = "" if result.returncode == 0 else (
        f"exit {result.returncode}: {(result.stderr or result.stdout).strip()[-500:]}")
    return report(result.returncode == 0, "zoo " + " ".join(map(str, args)), detail)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zoo", help="path to the zoo binary")
    parser.add_argument("--keep", action="store_true", help="keep the output directory")
    options = parser.parse_args()
    zoo = Path(options.zoo).resolve()
    if not (zoo.is_file() and os.access(zoo, os.X_OK)):
        parser.error(f"{zoo} is not an executable file")

    if options.keep:
        out = Path(tempfile.mkdtemp(prefix="zoo-interop-"))
        print(f"output directory: {out}")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="zoo-interop-")  # removed at exit
        out = Path(tmp.name)

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

    print(f"{'FAILED' if failures else 'OK'}: {failures} failed check(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
