#!/usr/bin/env python3
"""Generate zoo's committed test fixtures (and the bundled sample model).

zoo is written in Swift; it reads and writes T5 checkpoints itself.  These
fixtures are the ground truth it is tested against: files written by the real
libraries (transformers, safetensors, torch), the results of torch's own dtype
casts, and a corpus of deliberately broken files.

Setup (once; needs CPython 3.11, because the torch wheel in /opt/wheels is cp311):

    python3 -m venv /work/pyenv
    /work/pyenv/bin/pip install --find-links /opt/wheels torch==2.13.0+cpu safetensors transformers==4.57.6 numpy
    /work/pyenv/bin/pip install tensorflow-cpu==2.21.0
    /work/pyenv/bin/pip install sentencepiece==0.2.3 gguf==0.19.0   # group M only

TensorFlow (group J only) goes into the same venv: tensorflow-cpu 2.21.0
accepts numpy 2 (the venv keeps numpy 2.4.6; pip changes none of the packages
above, it adds keras, protobuf, ml_dtypes, h5py and the like).  It is imported
only when group J runs, after every other group, with USE_TF=0 still keeping
transformers away from it.

Run (from any directory; output paths are relative to the repository root,
which is found from this file's location):

    /work/pyenv/bin/python Scripts/make-fixtures.py

The script deletes and rewrites only the directories/files it owns (listed in
main()).  It is deterministic: every random draw uses a fixed seed and torch's
portable scalar kernels (see ATEN_CPU_CAPABILITY below), so a rerun with the
same library versions produces byte-identical files.  The one injected
randomness -- safetensors orders __metadata__ keys randomly -- is undone by
save_file_deterministic().  transformers writes its version number into
config.json / generation_config.json, so those change with the version.

Fixture groups (one function each):
    A  sample_model()      Sources/zoo/Sample/t5-efficient-sample/
    B  sample_sharded()    Tests/Fixtures/sample_sharded/
    C  gated_untied()      Tests/Fixtures/t5_gated_untied/
    D  casts()             Tests/Fixtures/casts/{source,torch_casts}.safetensors
    E  dtypes()            Tests/Fixtures/dtypes.safetensors
    F  bad_files()         Tests/Fixtures/bad/            (+ manifest.json)
       bad_sharded()       Tests/Fixtures/bad_sharded/    (+ manifest.json)
    G  torch_*()           Tests/Fixtures/torch/          (+ expected/<fixture>.{safetensors,json})
    H  torch_bad_files()   Tests/Fixtures/torch_bad/      (+ manifest.json)
    I  forward_references() Tests/Fixtures/forward/       (transformers' forward outputs)
       overflow_fp16()     Tests/Fixtures/overflow_fp16/  (+ forward/overflow_fp16*)
    J  tf_checkpoints()    Tests/Fixtures/tf/{sample_meshtf,gated_untied_meshtf}/
                           (A and C as Mesh-TF TensorFlow checkpoints, written by TF;
                           + tf/expected/<name>.{safetensors,json}: transformers'
                           load_tf_weights_in_t5 result)
       tf_bad_files()      Tests/Fixtures/tf_bad/         (+ manifest.json; valid/ is the base)
    K  hub_snapshot()      Tests/Fixtures/companions/hub_snapshot/ (a tiny model dir as the hub
                           serves it: weights, config, tokenizer files, generation config,
                           operative_config.gin, README.md)
    L  foreign_files()     Tests/Fixtures/foreign/        (formats zoo names and refuses: a TF2
                           object-based checkpoint, Keras tf_model.h5, Flax flax_model.msgpack,
                           a TorchScript archive; L's TF part runs with J, after the others)
    N  spm_tokenizer()     Tests/Fixtures/spm/            (SentencePiece models trained by the
                           sentencepiece package, + expected_vocab.json: what sentencepiece reads
                           and the GGUF tokenizer llama.cpp's converter writes for them)
                           Tests/Fixtures/spm_bad/        (+ manifest.json)

    M  gguf_files()        Tests/Fixtures/gguf/           (GGUF files written by gguf-py's GGUFWriter:
                           every metadata type, F32/F16/BF16/Q8_0 tensors, alignment 64;
                           + expected.{json,safetensors}: what gguf-py reads back, Q8_0 inputs
                           and gguf.quants' dequantized values)
       gguf_bad_files()    Tests/Fixtures/gguf_bad/       (+ manifest.json)
    O  gguf_t5()           Tests/Fixtures/gguf_t5/        (T5 GGUF files as llama.cpp's converter,
                           convert_hf_to_gguf.py's T5Model, writes them, with gguf-py's writer
                           (Scripts/llama_t5.py write_t5_gguf): the sample in F32 and Q8_0, the
                           gated-GELU untied model in F16, a tiny T5 (< 8 KB) that seeds the GGUF
                           fuzzer; + expected_q8_0.safetensors, the Q8_0 file's tensors
                           dequantized by gguf.quants under transformers names)

Groups can be run alone: `make-fixtures.py hub_snapshot foreign_files` runs K and L
only, leaving every other fixture as it is (`make-fixtures.py spm_tokenizer` runs N,
`make-fixtures.py gguf_t5` runs O).

TensorFlow's checkpoint bytes are deterministic too (no timestamps, no random
names; the `checkpoint` file is checked to hold only the two path lines), and
the Adafactor slot values come from a seeded numpy Generator.
"""

import os

# transformers must not try to import TensorFlow (group J imports it itself,
# last; probing for it is slow and noisy).  Must be set before importing transformers.
os.environ["USE_TF"] = "0"

# Force torch's portable scalar CPU kernels.  Must be set before importing torch.
# With the default (auto-detected AVX2/AVX512) kernels on x86, two things
# depend on the machine instead of only on the seed:
#   * random numbers: torch.randn / normal_ (used by the T5 initialiser) give
#     different values under the vectorised kernels than under the scalar ones,
#     so model weights would differ between, e.g., an AVX2 and a non-AVX2 box;
#   * NaN casts: the vectorised F32->BF16 kernel turns every NaN into 0xFFFF,
#     and F64->BF16 / F64->F16 / BF16->F16 give different NaN bits for elements
#     in full vector chunks than for the leftover tail elements, i.e. the result
#     depends on the element's position in the tensor.
# The scalar kernels are position-independent (NaN -> canonical 0x7FC0 for
# BF16), and finite values cast identically under both.  Set unconditionally:
# the committed fixtures were generated this way.
os.environ["ATEN_CPU_CAPABILITY"] = "default"

import collections
import io
import json
import linecache
import logging
import math
import pickle
import pickletools
import random
import re
import shutil
import struct
import sys
import subprocess  # names subprocess.Popen in a hostile fixture; runs llama.cpp's converter (gguf_t5)
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import T5Config, T5ForConditionalGeneration
from transformers.models.t5.modeling_t5 import T5Attention

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures"
SAMPLE_DIR = ROOT / "Sources" / "zoo" / "Sample" / "t5-efficient-sample"

# safetensors dtype name <-> torch dtype, for the four float types zoo casts between.
FLOAT_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
}


def seed_everything(seed: int = 0) -> None:
    """Fix every RNG anything here might touch, so reruns produce the same bytes."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def save_file_deterministic(tensors: dict, path: Path, metadata: dict) -> None:
    """safetensors.torch.save_file, then put the __metadata__ keys in sorted order.

    The one library-injected randomness here: safetensors (Rust) keeps
    __metadata__ in a HashMap with a per-process random seed, so with two or
    more metadata keys their order in the header -- and so the file bytes --
    changes from run to run.  Tensor entries are written in a fixed order.
    Sorting the keys keeps the header's length, so only the header text is
    rewritten in place; offsets and data are untouched.
    """
    save_file(tensors, path, metadata=metadata)
    raw = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", raw[:8])
    text = raw[8:8 + n].decode("utf-8")
    key = '"__metadata__":'
    start = text.index(key) + len(key)
    meta, end = json.JSONDecoder().raw_decode(text, start)
    assert meta == metadata
    canonical = json.dumps(dict(sorted(meta.items())), separators=(",", ":"))
    assert len(canonical) == end - start, "metadata must be plain ASCII strings"
    raw[8 + start:8 + end] = canonical.encode("utf-8")
    path.write_bytes(bytes(raw))


def fresh_dir(path: Path) -> Path:
    """Delete and recreate an output directory, so no stale shard survives a rerun."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------------------
# A, B, C: models written by transformers itself
# ---------------------------------------------------------------------------

def sample_config() -> T5Config:
    """The bundled sample: a tiny 'T5-efficient'-shaped model (deep-narrow encoder,
    shallow decoder, tied embeddings, ReLU FFN), small enough (~1.8 MB) to ship
    inside the zoo binary's resources."""
    return T5Config(
        vocab_size=2048,
        d_model=64,
        d_kv=16,
        num_heads=4,
        d_ff=256,
        num_layers=4,
        num_decoder_layers=2,
        feed_forward_proj="relu",
        tie_word_embeddings=True,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        dropout_rate=0.1,
        layer_norm_epsilon=1e-6,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        is_encoder_decoder=True,
    )


def build_model(config: T5Config) -> T5ForConditionalGeneration:
    """Construct a randomly initialised model; weights depend only on the seed."""
    seed_everything(0)
    return T5ForConditionalGeneration(config).eval()


def sample_model() -> T5ForConditionalGeneration:
    """A. The sample model zoo bundles (`zoo convert` demo input, CLI tests).

    Written by transformers' own save_pretrained, so its key names, tying
    behaviour (only `shared.weight` is stored for tied embeddings) and
    `__metadata__` are exactly what real Hugging Face checkpoints look like.
    """
    placeholder = SAMPLE_DIR.parent / "readme.txt"
    if placeholder.exists():
        placeholder.unlink()
    model = build_model(sample_config())
    out = fresh_dir(SAMPLE_DIR)
    # Writes config.json, generation_config.json and model.safetensors.
    # config.json / generation_config.json contain "transformers_version", so
    # they change (only) if the transformers version changes.
    model.save_pretrained(out, safe_serialization=True)
    size = (out / "model.safetensors").stat().st_size
    assert size < 5_000_000, f"sample too big: {size} bytes"
    return model


def sample_sharded(reference: T5ForConditionalGeneration) -> None:
    """B. The same sample weights, sharded by transformers (index + N shards).

    Tests reading sharded checkpoints and `zoo convert` unsharding; because the
    weights are identical to A, the result can be compared with A byte for byte.
    """
    model = build_model(sample_config())
    # Same seed -> identical weights; make sure (guards against a library
    # starting to draw extra random numbers during construction).
    ref = reference.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, ref[name]), f"rebuild differs at {name}"
    out = fresh_dir(FIXTURES / "sample_sharded")
    model.save_pretrained(out, safe_serialization=True, max_shard_size="400KB")
    shards = sorted(out.glob("model-*-of-*.safetensors"))
    assert len(shards) >= 3, f"expected >= 3 shards, got {len(shards)}"
    assert (out / "model.safetensors.index.json").exists()


def gated_untied() -> None:
    """C. A second architecture variant: gated-GELU FFN (wi_0 / wi_1 instead of
    wi) and untied embeddings (a separate lm_head.weight is stored), with more
    decoder than encoder layers.  Exercises the name-scheme code paths the
    sample model cannot."""
    config = T5Config(
        vocab_size=512,
        d_model=32,
        d_kv=8,
        num_heads=4,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=3,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        is_encoder_decoder=True,
    )
    model = build_model(config)
    out = fresh_dir(FIXTURES / "t5_gated_untied")
    model.save_pretrained(out, safe_serialization=True)
    names = load_file(out / "model.safetensors").keys()
    assert "lm_head.weight" in names
    assert "encoder.block.0.layer.1.DenseReluDense.wi_0.weight" in names


# ---------------------------------------------------------------------------
# D: dtype casts, with torch as the reference implementation
# ---------------------------------------------------------------------------

def f32_bits(x: float) -> int:
    """The float32 bit pattern nearest to a Python float (round-to-nearest-even)."""
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


# Raw float32 bit patterns, each chosen for a reason.
EDGE_F32_BITS = [
    0x00000000,  # +0
    0x80000000,  # -0
    0x3F800000,  # 1
    0xBF800000,  # -1
    0x00000001,  # smallest subnormal (2^-149); -> 0 in bf16 and f16
    0x80000001,  # -smallest subnormal; -> -0
    0x00008000,  # subnormal exactly at a bf16 tie (-> 0, even)
    0x00018000,  # subnormal bf16 tie (-> 0x0002, even)
    0x007FFFFF,  # largest subnormal; bf16 rounds up to the smallest normal
    0x00800000,  # smallest normal (2^-126)
    0x7F7FFFFF,  # float32 max; rounds up to bf16 inf; f16 inf
    0xFF7FFFFF,  # -float32 max
    0x7F800000,  # +inf
    0xFF800000,  # -inf
    0x7FC00000,  # canonical quiet NaN
    0xFFC00000,  # negative quiet NaN
    0x7F800001,  # signalling NaN, payload only in the lowest bit (lost by truncation)
    0x7FA00000,  # signalling NaN, payload in a high bit
    0x7FFFFFFF,  # quiet NaN, all payload bits set
    0xFF812345,  # negative signalling NaN with a payload
    0x7FC00001,  # quiet NaN, payload only in the lowest bit
    0x7FE00000,  # quiet NaN, high payload bit (survives bf16/f16 truncation)
    0x3F808000,  # 1 + 2^-8: bf16 tie, even -> down to 1.0
    0x3F818000,  # 1 + 3*2^-8: bf16 tie, even -> up to 1 + 2^-6
    0x3F808001,  # just above the tie -> up
    0x3F807FFF,  # just below the tie -> down
    0xBF808000,  # negative bf16 tie
    0x7F7F8000,  # bf16 max + half ulp: tie -> rounds up to bf16 inf
    0x7F7F7FFF,  # just below that tie -> bf16 max (0x7F7F)
    0x7F7F0000,  # exactly bf16 max
    0x477FE000,  # 65504: f16 max
    0x477FEFFF,  # largest float32 below 65520 -> f16 max
    0x477FF000,  # 65520: f16 tie with "65536" -> inf
    0x38800000,  # 2^-14: f16 smallest normal
    0x387FC000,  # 2^-14 - 2^-24: f16 largest subnormal
    0x33800000,  # 2^-24: f16 smallest subnormal
    0x33000000,  # 2^-25: f16 tie between 0 and 2^-24 -> 0 (even)
    0x33000001,  # 2^-25 * (1 + 2^-23): just above the tie -> 2^-24
    0x33400000,  # 3*2^-26 = 1.5 * 2^-25 -> 2^-24
    0x33C00000,  # 3*2^-25: f16 subnormal tie 1.5 units -> 2 units (even)
    0x3F801000,  # 1 + 2^-11: f16 tie -> 1 (even)
    0x3F803000,  # 1 + 3*2^-11: f16 tie -> 1 + 2^-9 (even)
    0x3F801001,  # just above an f16 tie
    0x3F800FFF,  # just below an f16 tie
]

# Float values (converted to float32 with round-to-nearest-even).
EDGE_F32_VALUES = [
    65504.0, 65519.99, 65520.0, 1e5, -1e5, 65536.0, -65504.0,
    6.1e-5,       # just below the f16 smallest normal: becomes an f16 subnormal
    6.0e-8,       # ~2^-24
    2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 3 * 2.0 ** -26,
    2.0 ** -14, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11,
    2049.0, 2051.0, 4097.0,     # f16 integer ties
    257.0, 259.0,               # bf16 integer ties
    # ~30 spread values of ordinary magnitudes and signs
    math.pi, -math.pi, math.e, 0.1, -0.1, 1 / 3, -2 / 3, 0.5, -0.5, 2.0, -2.5,
    1e-3, -1e-4, 1e-8, 1e-10, -1e-20, 1e-30, 1e-38, 1e-40, 1e-45,
    10.0, 100.0, 1000.0, 12345.678, -98765.43, 1e10, -3e20, 1e30, 3e38, -3.3e38,
    0.333251953125, 7.62939453125e-06, 1234.5,
]


def edge_f32() -> torch.Tensor:
    bits = EDGE_F32_BITS + [f32_bits(v) for v in EDGE_F32_VALUES]
    return torch.from_numpy(np.array(bits, dtype=np.uint32).view(np.float32).copy())


# Raw float64 bit patterns.
EDGE_F64_BITS = [
    0x0000000000000000,  # +0
    0x8000000000000000,  # -0
    0x0000000000000001,  # smallest subnormal double (4.9e-324)
    0x000FFFFFFFFFFFFF,  # largest subnormal double
    0x0010000000000000,  # smallest normal double
    0x7FEFFFFFFFFFFFFF,  # double max
    0xFFEFFFFFFFFFFFFF,  # -double max
    0x7FF0000000000000,  # +inf
    0xFFF0000000000000,  # -inf
    0x7FF8000000000000,  # canonical quiet NaN
    0xFFF8000000000000,  # negative quiet NaN
    0x7FF0000000000001,  # signalling NaN, lowest payload bit only (lost when narrowing)
    0x7FF4000000000000,  # signalling NaN, high payload bit
    0x7FFFFFFFFFFFFFFF,  # quiet NaN, all payload bits
    0xFFF0000012345678,  # negative signalling NaN, payload only in low bits
    0x7FF8000020000000,  # quiet NaN with a payload bit that survives narrowing to f32
    0x7FFC000000000000,  # quiet NaN, high payload bit (survives into f16/bf16)
]

# Double values, chosen around float32/bf16/f16 rounding boundaries.
_F32_MAX = 3.4028234663852886e38          # (2 - 2^-23) * 2^127
_F32_MAX_HALF_ULP = 2.0 ** 103            # half a float32 ulp at the top binade
EDGE_F64_VALUES = [
    1.0, -1.0, 1e300, -1e300, -1e-300, 1e-300, 1e-320,
    math.pi, math.e, 0.1, 1 / 3, -2 / 3, 1e-5, 123456789.123456789,
    _F32_MAX,                                 # exactly float32 max
    _F32_MAX + _F32_MAX_HALF_ULP,             # tie -> float32 inf
    _F32_MAX + _F32_MAX_HALF_ULP * (1 - 2.0 ** -20),  # just below the tie -> f32 max
    2.0 ** 128,                               # first power of two past float32
    2.0 ** -149,                              # float32 smallest subnormal
    2.0 ** -150,                              # tie between 0 and 2^-149 -> 0
    2.0 ** -150 * (1 + 2.0 ** -40),           # just above that tie -> 2^-149
    2.0 ** -160,                              # underflows float32
    1 + 2.0 ** -24,                           # float32 tie -> 1
    1 + 2.0 ** -24 + 2.0 ** -50,              # between two float32 values, near the tie
    1 + 3 * 2.0 ** -24,                       # float32 tie -> 1 + 2^-22
    0.1 + 2.0 ** -40,                         # between two float32 values
    # Double rounding: direct F64->BF16 vs F64->F32->BF16 disagree for these.
    1 + 2.0 ** -8 + 2.0 ** -40,               # direct -> 1+2^-7; via f32 -> tie -> 1
    1 + 2.0 ** -7 + 2.0 ** -8 - 2.0 ** -40,   # direct -> 1+2^-7; via f32 -> tie -> 1+2^-6
    -(1 + 2.0 ** -8 + 2.0 ** -40),
    (2 - 2.0 ** -8) * 2.0 ** 127 - 2.0 ** 90, # direct -> bf16 max; via f32 -> tie -> inf
    # Double rounding: direct F64->F16 vs F64->F32->F16 disagree for these.
    1 + 2.0 ** -11 + 2.0 ** -40,              # direct -> 1+2^-10; via f32 -> tie -> 1
    1 + 3 * 2.0 ** -11 - 2.0 ** -40,          # direct -> 1+2^-10; via f32 -> tie -> 1+2^-9
    65520.0 - 2.0 ** -20,                     # direct -> 65504; via f32 -> 65520 -> inf
    2.0 ** -25 + 2.0 ** -60,                  # direct -> 2^-24; via f32 -> tie -> 0
    # Ordinary f16/bf16 edges, as doubles.
    65504.0, 65520.0, 2.0 ** -24, 2.0 ** -25, 2.0 ** -14, 1 + 2.0 ** -11,
]


def edge_f64() -> torch.Tensor:
    bits = EDGE_F64_BITS + [f64_bits(v) for v in EDGE_F64_VALUES]
    return torch.from_numpy(np.array(bits, dtype=np.uint64).view(np.float64).copy())


def all_16bit_patterns(dtype: torch.dtype) -> torch.Tensor:
    """Every one of the 65536 bit patterns of a 16-bit float type, in bit order.
    (int32 -> int16 wraps, so 0x8000..0xFFFF come out as the negative int16s.)"""
    return torch.arange(65536, dtype=torch.int32).to(torch.int16).view(dtype).clone()


def random_f64() -> torch.Tensor:
    """100000 doubles, randn * 10**uniform(-9, 6): magnitudes from ~1e-10 to ~5e6,
    so casting to f16 both overflows (> 65504) and underflows (< 2^-24), and the
    low mantissa bits are random (so F64->F32 rounding is exercised)."""
    g = torch.Generator().manual_seed(1234)
    normal = torch.randn(100_000, generator=g, dtype=torch.float64)
    exponent = torch.empty(100_000, dtype=torch.float64).uniform_(-9.0, 6.0, generator=g)
    return normal * torch.pow(10.0, exponent)


def casts() -> None:
    """D. Cast reference data.  zoo implements F64/F32/F16/BF16 conversions in
    Swift; the goal is bit-for-bit agreement with torch's `Tensor.to(dtype)`
    (what users of transformers get), including rounding ties, overflow to inf,
    subnormals, signed zeros and NaN payload handling.

    source.safetensors:      edge_<D>, random_<D> for D in F64 F32 F16 BF16, and
                             edge_<D> (all 256 bit patterns) for D in F8_E4M3 F8_E5M2
    torch_casts.safetensors: <name>__to__<T> = torch's cast of source[name] to T,
                             for every T in F64 F32 F16 BF16 other than the source
                             tensor's own dtype (zoo casts float8 from, never to).
    """
    seed_everything(0)
    r64 = random_f64()
    r32 = r64.to(torch.float32)
    source = {
        "edge_F64": edge_f64(),
        "random_F64": r64,
        "edge_F32": edge_f32(),
        "random_F32": r32,
        "edge_F16": all_16bit_patterns(torch.float16),
        "random_F16": r32.to(torch.float16),
        "edge_BF16": all_16bit_patterns(torch.bfloat16),
        "random_BF16": r32.to(torch.bfloat16),
        "edge_F8_E4M3": torch.arange(256, dtype=torch.int32).to(torch.uint8).view(torch.float8_e4m3fn).clone(),
        "edge_F8_E5M2": torch.arange(256, dtype=torch.int32).to(torch.uint8).view(torch.float8_e5m2).clone(),
    }
    # safetensors refuses tensors that share storage; every tensor above owns
    # its storage (.copy()/.clone()/fresh results), and NaN/inf values are
    # stored as plain bytes, so no workaround is needed.
    assert torch.backends.cpu.get_cpu_capability() == "DEFAULT"
    expected = {}
    for name, tensor in source.items():
        for dname, dtype in FLOAT_DTYPES.items():
            if dtype != tensor.dtype:
                expected[f"{name}__to__{dname}"] = tensor.to(dtype).contiguous()
    out = fresh_dir(FIXTURES / "casts")
    save_file(source, out / "source.safetensors", metadata={"format": "pt"})
    save_file_deterministic(expected, out / "torch_casts.safetensors", metadata={
        "format": "pt",
        "torch_version": torch.__version__,
        "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    })


# ---------------------------------------------------------------------------
# E: one tensor of every dtype safetensors knows
# ---------------------------------------------------------------------------

DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
    "U16": torch.uint16,
    "U32": torch.uint32,
    "U64": torch.uint64,
    "F8_E4M3": torch.float8_e4m3fn,
    "F8_E5M2": torch.float8_e5m2,
}
# With safetensors 0.8.0 + torch 2.13 all of the above can be written; none
# had to be left out.  (F8_E5M2 cannot represent 9 or 11 exactly: arange(12)
# becomes [... 8, 8, 10, 12] -- that rounding is torch's and is kept.)


def dtypes() -> None:
    """E. Header parsing / dtype tables: every dtype zoo must at least
    recognise, plus a 0-d scalar and an empty tensor (zero-length data)."""
    tensors = {}
    for name, dtype in DTYPES.items():
        if dtype == torch.bool:
            tensors[f"t_{name}"] = (torch.arange(12) % 2 == 1).reshape(3, 4)
        else:
            tensors[f"t_{name}"] = torch.arange(12).reshape(3, 4).to(dtype)
    tensors["scalar"] = torch.tensor(3.5, dtype=torch.float32)
    tensors["empty"] = torch.zeros(0, 4, dtype=torch.float32)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    save_file_deterministic(tensors, FIXTURES / "dtypes.safetensors",
                            metadata={"format": "pt", "origin": "zoo fixture"})


# ---------------------------------------------------------------------------
# F: files a safetensors reader must reject, with the error it must report
# ---------------------------------------------------------------------------

# The valid base every bad file is derived from: two F32 tensors, 28 data bytes.
DATA_A = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)    # "a": shape [2, 2], bytes [0, 16)
DATA_B = struct.pack("<3f", 5.0, 6.0, 7.0)         # "b": shape [3],    bytes [16, 28)
BASE_DATA = DATA_A + DATA_B


def entry(shape, offsets, dtype="F32") -> str:
    return json.dumps({"dtype": dtype, "shape": shape, "data_offsets": offsets})


def header(*entries: str) -> str:
    """Join 'name: entry' JSON fragments into an object.  Built as text rather
    than with json.dumps(dict) so duplicate keys and raw bytes are possible."""
    return "{" + ", ".join(entries) + "}"


BASE_HEADER = header('"a": ' + entry([2, 2], [0, 16]), '"b": ' + entry([3], [16, 28]))


def safetensors_bytes(hdr, data: bytes) -> bytes:
    """length (u64 LE) + header padded with spaces to a multiple of 8 + data,
    the layout the reference writer produces."""
    h = hdr.encode("utf-8") if isinstance(hdr, str) else hdr
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def bad_files() -> None:
    """F. Malformed single files.  Each isolates one defect in an otherwise
    valid file, so a reader can be tested to report the specific error case.
    manifest.json maps file name -> {"error": <case name>, "why": <sentence>}."""
    out = fresh_dir(FIXTURES / "bad")
    valid = safetensors_bytes(BASE_HEADER, BASE_DATA)
    cases = {}

    def bad(name, error, why, content: bytes):
        (out / name).write_bytes(content)
        cases[name] = {"error": error, "why": why}

    bad("empty_file.safetensors", "fileTooSmall",
        "A zero-byte file cannot even hold the 8-byte header length.",
        b"")
    bad("truncated_length.safetensors", "fileTooSmall",
        "Only 5 bytes: the 8-byte little-endian header length is cut short.",
        valid[:5])
    bad("header_length_past_eof.safetensors", "headerLengthOutOfBounds",
        "The header length says 1000 bytes but the whole file is only 100 bytes.",
        (struct.pack("<Q", 1000) + BASE_HEADER.encode())[:100].ljust(100, b" "))
    bad("header_length_near_2_64.safetensors", "headerTooLarge",
        "The header length is 2^64 - 8: over the cap (as the reference loader also says), and 8 + length "
        "would overflow a 64-bit integer, so the check must come before any addition.",
        struct.pack("<Q", 2**64 - 8) + b"{}      ")
    bad("header_length_over_cap.safetensors", "headerTooLarge",
        "The header length 100,000,001 exceeds the 100,000,000-byte cap of the "
        "reference implementation (checked before comparing with the file size).",
        struct.pack("<Q", 100_000_001) + b"{}      ")
    bad("header_not_json.safetensors", "invalidJSON",
        "The header is truncated JSON: an unterminated array inside an object.",
        safetensors_bytes('{"a": [1, 2', b""))
    bad("header_not_object.safetensors", "invalidHeader",
        "The header is valid JSON but an array, not an object of tensors.",
        safetensors_bytes("[1, 2, 3]", b""))
    bad("header_trailing_garbage.safetensors", "invalidJSON",
        "A complete valid header object is followed by '}x' before the padding, "
        "so the header as a whole is not one JSON value.",
        safetensors_bytes(BASE_HEADER + "}x", BASE_DATA))
    bad("bad_utf8_name.safetensors", "invalidUTF8",
        "The tensor name contains the byte 0xFF, which is never valid UTF-8.",
        safetensors_bytes(BASE_HEADER.replace('"b"', '"b\xff"').encode("latin-1"), BASE_DATA))
    bad("unknown_dtype.safetensors", "unknownDType",
        "Tensor 'a' has dtype 'F12', which is not a safetensors dtype.",
        safetensors_bytes(header('"a": ' + entry([2, 2], [0, 16], "F12"),
                                 '"b": ' + entry([3], [16, 28])), BASE_DATA))
    bad("duplicate_key.safetensors", "duplicateTensor",
        "The key 'a' appears twice with identical entries; a parser that keeps the "
        "last value would see a valid file, so only duplicate detection catches it "
        "(the reference safetensors loader does accept this file).",
        safetensors_bytes(header('"a": ' + entry([2, 2], [0, 16]),
                                 '"b": ' + entry([3], [16, 28]),
                                 '"a": ' + entry([2, 2], [0, 16])), BASE_DATA))
    bad("size_mismatch.safetensors", "sizeMismatch",
        "Tensor 'a' is F32 [2, 2] (16 bytes) but its offsets [0, 12] span 12 bytes; "
        "the offsets are otherwise contiguous and cover all 24 data bytes.",
        safetensors_bytes(header('"a": ' + entry([2, 2], [0, 12]),
                                 '"b": ' + entry([3], [12, 24])),
                          DATA_A[:12] + DATA_B))
    bad("overlapping_offsets.safetensors", "overlappingOffsets",
        "Tensor 'b' occupies bytes [12, 24) but 'a' occupies [0, 16): they overlap.",
        safetensors_bytes(header('"a": ' + entry([2, 2], [0, 16]),
                                 '"b": ' + entry([3], [12, 24])),
                          BASE_DATA[:24]))
    bad("gap_in_offsets.safetensors", "gapInOffsets",
        "Tensor 'a' ends at byte 16 but 'b' starts at 20, leaving 4 unowned bytes.",
        safetensors_bytes(header('"a": ' + entry([2, 2], [0, 16]),
                                 '"b": ' + entry([3], [20, 32])),
                          DATA_A + b"\0" * 4 + DATA_B))
    bad("offsets_past_eof.safetensors", "offsetsOutOfBounds",
        "Tensor 'b' ends at data byte 28 but the file has only 20 data bytes.",
        safetensors_bytes(BASE_HEADER, BASE_DATA[:20]))
    bad("trailing_bytes.safetensors", "trailingBytes",
        "There are 8 bytes after the end of the last tensor that no tensor owns.",
        safetensors_bytes(BASE_HEADER, BASE_DATA + b"\0" * 8))
    bad("begin_after_end.safetensors", "invalidOffsets",
        "Tensor 'a' has data_offsets [16, 0]: its begin is after its end.",
        safetensors_bytes(header('"a": ' + entry([2, 2], [16, 0]),
                                 '"b": ' + entry([3], [16, 28])), BASE_DATA))
    bad("negative_dim.safetensors", "invalidShape",
        "Tensor 'a' has shape [-1, 4]; dimensions must be non-negative integers.",
        safetensors_bytes(header('"a": ' + entry([-1, 4], [0, 16]),
                                 '"b": ' + entry([3], [16, 28])), BASE_DATA))
    bad("shape_overflow.safetensors", "shapeOverflow",
        "Tensor 'a' has shape [2^32, 2^32, 16]: the element count (2^68) overflows "
        "a 64-bit integer, so the size check must detect the overflow, not wrap.",
        safetensors_bytes(header('"a": ' + entry([4294967296, 4294967296, 16], [0, 16]),
                                 '"b": ' + entry([3], [16, 28])), BASE_DATA))
    bad("missing_data_offsets.safetensors", "invalidHeader",
        "Tensor 'a' has dtype and shape but no data_offsets field.",
        safetensors_bytes(header('"a": {"dtype": "F32", "shape": [2, 2]}',
                                 '"b": ' + entry([3], [16, 28])), BASE_DATA))
    bad("metadata_not_strings.safetensors", "invalidMetadata",
        "__metadata__ must map strings to strings, but 'format' maps to the number 1.",
        safetensors_bytes(header('"__metadata__": {"format": 1}',
                                 '"a": ' + entry([2, 2], [0, 16]),
                                 '"b": ' + entry([3], [16, 28])), BASE_DATA))
    bad("non_integer_offset.safetensors", "invalidHeader",
        "Tensor 'a' has data_offsets [0, 16.5]; offsets must be integers.",
        safetensors_bytes(header('"a": ' + entry([2, 2], [0, 16.5]),
                                 '"b": ' + entry([3], [16, 28])), BASE_DATA))
    bad("first_offset_not_zero.safetensors", "gapInOffsets",
        "Tensor 'a' starts at data byte 4, leaving 4 unowned padding bytes at the "
        "start of the data section.",
        safetensors_bytes(header('"a": ' + entry([2, 2], [4, 20]),
                                 '"b": ' + entry([3], [20, 32])),
                          b"\0" * 4 + BASE_DATA))

    # Sanity: the base really is valid for the reference implementation.
    (out / "_base_check.tmp").write_bytes(valid)
    assert list(load_file(out / "_base_check.tmp")) == ["a", "b"]
    (out / "_base_check.tmp").unlink()

    write_manifest(out / "manifest.json", cases)


def write_manifest(path: Path, cases: dict) -> None:
    path.write_text(json.dumps(cases, indent=2, sort_keys=True, ensure_ascii=True) + "\n")


def write_index(directory: Path, weight_map: dict, total_size: int) -> None:
    """model.safetensors.index.json in transformers' layout."""
    index = {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")


def nbytes(*tensors: torch.Tensor) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def bad_sharded() -> None:
    """F (sharded).  Broken sharded checkpoints: every shard is a valid
    safetensors file; the defect is in the index or in how index and shards
    disagree.  Where the defect makes total_size ambiguous, total_size is the
    byte sum of the tensors the index lists that actually exist, so that a
    reader checking total_size last reports the intended error.
    """
    out = fresh_dir(FIXTURES / "bad_sharded")
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = torch.tensor([5.0, 6.0, 7.0])
    c = torch.tensor([8.0, 9.0, 10.0, 11.0])
    z = torch.tensor([0.5])
    S1, S2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    meta = {"format": "pt"}
    cases = {}

    def case(name, error, why):
        cases[name] = {"error": error, "why": why}
        return fresh_dir(out / name)

    d = case("missing_shard", "missingShard",
             f"The index maps 'c' to {S2}, which does not exist.")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    write_index(d, {"a": S1, "b": S1, "c": S2}, nbytes(a, b, c))

    d = case("index_names_absent_tensor", "tensorNotInShard",
             f"The index maps 'c' to {S1}, but that shard holds only 'a' and 'b' "
             "(and 'c' is in no shard).")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"d": z}, d / S2, metadata=meta)
    write_index(d, {"a": S1, "b": S1, "c": S1, "d": S2}, nbytes(a, b, z))

    d = case("unindexed_tensor", "tensorNotIndexed",
             f"{S2} holds a tensor 'z' that the weight_map does not mention.")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"c": c, "z": z}, d / S2, metadata=meta)
    write_index(d, {"a": S1, "b": S1, "c": S2}, nbytes(a, b, c))

    d = case("index_not_json", "invalidIndex",
             "The index file is truncated JSON: '{\"weight_map\": '.")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"c": c}, d / S2, metadata=meta)
    (d / "model.safetensors.index.json").write_text('{"weight_map": ')

    d = case("index_without_weight_map", "invalidIndex",
             "The index is a JSON object with metadata but no 'weight_map'.")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"c": c}, d / S2, metadata=meta)
    (d / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": nbytes(a, b, c)}}, indent=2) + "\n")

    d = case("shard_path_escapes", "invalidIndex",
             "The weight_map maps 'c' to '../outside.safetensors', a path outside the "
             "checkpoint directory; that file exists (bad_sharded/outside.safetensors, "
             "holding a valid 'c'), so only a path check catches it.")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"c": c}, out / "outside.safetensors", metadata=meta)
    write_index(d, {"a": S1, "b": S1, "c": "../outside.safetensors"}, nbytes(a, b, c))

    d = case("same_tensor_in_two_shards", "tensorNotIndexed",
             f"Both shards contain 'a'; the index maps 'a' to {S1} only, so the 'a' "
             f"in {S2} is a tensor the index does not account for.")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"a": a, "c": c}, d / S2, metadata=meta)
    write_index(d, {"a": S1, "b": S1, "c": S2}, nbytes(a, b, c))

    d = case("total_size_wrong", "indexTotalSizeMismatch",
             f"Everything is consistent except metadata.total_size, which is "
             f"{nbytes(a, b, c) + 4} while the tensors hold {nbytes(a, b, c)} bytes.")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"c": c}, d / S2, metadata=meta)
    write_index(d, {"a": S1, "b": S1, "c": S2}, nbytes(a, b, c) + 4)

    d = case("total_size_huge", "invalidIndex",
             "Everything is consistent except metadata.total_size, which is 1e300: a JSON number no byte "
             "count can be (it once trapped converting to an integer).")
    save_file({"a": a, "b": b}, d / S1, metadata=meta)
    save_file({"c": c}, d / S2, metadata=meta)
    write_index(d, {"a": S1, "b": S1, "c": S2}, 0)
    huge = (d / "model.safetensors.index.json").read_text().replace('"total_size": 0', '"total_size": 1e300')
    (d / "model.safetensors.index.json").write_text(huge)

    write_manifest(out / "manifest.json", cases)


# ---------------------------------------------------------------------------
# G: PyTorch checkpoints written by torch itself, with the values torch reads back
# ---------------------------------------------------------------------------

TORCH_DIR = FIXTURES / "torch"
TORCH_EXPECTED = TORCH_DIR / "expected"
# Written with torch.save(..., _use_new_zipfile_serialization=False); see save_legacy().
LEGACY_FILES = ("legacy.bin", "legacy_views.bin")


def reset_torch_dir() -> dict:
    """Clear Tests/Fixtures/torch/ (so no stale file survives), first keeping the
    committed legacy files' bytes in memory for save_legacy()."""
    previous = {}
    for name in LEGACY_FILES:
        if (TORCH_DIR / name).exists():
            previous[name] = (TORCH_DIR / name).read_bytes()
    fresh_dir(TORCH_DIR)
    TORCH_EXPECTED.mkdir()
    return previous


def rebuild_sample(reference: T5ForConditionalGeneration) -> T5ForConditionalGeneration:
    """A fresh copy of the sample model (A), checked to hold exactly A's weights
    (a copy, because .half() and friends convert a model in place)."""
    model = build_model(sample_config())
    ref = reference.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, ref[name]), f"rebuild differs at {name}"
    return model


def torch_load(path: Path):
    """torch.load of a fixture this script has just written with torch (never of
    anything in torch_bad/)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def flatten(obj, prefix: str = ""):
    """(dotted path, leaf) pairs of nested dicts, lists and tuples, in order; list
    indices are path components ("history.0")."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        yield prefix, obj
        return
    for key, value in items:
        yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))


def same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same dtype, shape, strides, storage offset and bits."""
    if (a.dtype, a.shape, a.stride(), a.storage_offset()) != (b.dtype, b.shape, b.stride(), b.storage_offset()):
        return False
    return torch.equal(a.contiguous().reshape(-1).view(torch.uint8), b.contiguous().reshape(-1).view(torch.uint8))


def storage_groups(entries: list) -> list:
    """Names of tensors grouped by the storage they view (storages with bytes only:
    empty storages all have data_ptr 0)."""
    groups = {}
    for path, value in entries:
        if isinstance(value, torch.Tensor) and value.untyped_storage().nbytes() > 0:
            groups.setdefault(value.untyped_storage().data_ptr(), []).append(path)
    return list(groups.values())


def same_checkpoint(a, b) -> bool:
    """Two loaded checkpoints hold the same thing: same container types, paths,
    non-tensor values, tensors (see same_tensor) and storage sharing."""
    ea, eb = list(flatten(a)), list(flatten(b))
    if type(a) is not type(b) or getattr(a, "_metadata", None) != getattr(b, "_metadata", None):
        return False
    if [p for p, _ in ea] != [p for p, _ in eb] or storage_groups(ea) != storage_groups(eb):
        return False
    for (_, x), (_, y) in zip(ea, eb):
        if isinstance(x, torch.Tensor) != isinstance(y, torch.Tensor):
            return False
        if isinstance(x, torch.Tensor) and not same_tensor(x, y):
            return False
        if not isinstance(x, torch.Tensor) and (type(x) is not type(y) or x != y):
            return False
    return True


def write_expected(name: str, entries: list) -> Path:
    """expected/<name>.safetensors + expected/<name>.json: what torch.load reads
    from the fixture, as plain data a Swift test can compare with its reader.

    entries are (dotted path, value) pairs from flatten().  The .safetensors file
    holds each tensor made contiguous, under its dotted path.  The .json file:
        tensors         every tensor's path, in the file's order
        skipped         paths of non-tensor values (ints, floats, strings, None)
        aliases         path -> earlier path, for a tensor that is exactly the same
                        view (storage, dtype, offset, shape, strides) of the same
                        storage as an earlier one, e.g. tied embeddings; its values
                        are stored once, under the earlier path (safetensors cannot
                        share storage, and copying the sample's 512 KB embedding
                        three more times per fixture would add 1.5 MB each)
        shared_storage  groups of paths (>= 2) whose tensors view one storage
    The tensors of the fp32 sample fixtures come out byte-identical to the
    bundled model.safetensors (asserted by the callers), so git stores them once.
    """
    tensors, order, skipped, aliases, views = {}, [], [], {}, {}
    for path, value in entries:
        if not isinstance(value, torch.Tensor):
            skipped.append(path)
            continue
        order.append(path)
        storage = value.untyped_storage()
        view = (storage.data_ptr(), value.dtype, value.storage_offset(), tuple(value.shape), value.stride())
        if storage.nbytes() > 0 and view in views:
            aliases[path] = views[view]
            continue
        views[view] = path
        tensors[path] = value.contiguous().clone()
    path = TORCH_EXPECTED / f"{name}.safetensors"
    save_file(tensors, path, metadata={"format": "pt"})
    info = {
        "tensors": order,
        "skipped": skipped,
        "aliases": aliases,
        "shared_storage": [group for group in storage_groups(entries) if len(group) > 1],
    }
    (TORCH_EXPECTED / f"{name}.json").write_text(json.dumps(info, indent=2) + "\n")
    return path


def save_and_expect(obj, name: str) -> None:
    """torch.save(obj) (zip format) as <name>.bin, check torch reads back the same
    object, and write its expected values."""
    path = TORCH_DIR / f"{name}.bin"
    torch.save(obj, path)
    loaded = torch_load(path)
    assert same_checkpoint(loaded, obj), f"{path.name} does not load back as saved"
    write_expected(name, list(flatten(loaded)))


def torch_sample_bin(reference: T5ForConditionalGeneration) -> None:
    """G1. The sample (A) as transformers writes it with safe_serialization=False:
    pytorch_model.bin (+ config.json, generation_config.json).  This is what most
    older Hugging Face checkpoints look like: a plain dict (no OrderedDict, no
    _metadata) holding all 66 names, the three tied aliases of shared.weight
    (encoder/decoder.embed_tokens.weight, lm_head.weight) included, all four
    naming one storage.

    Reproducible: torch's zip writer is deterministic; its .data/serialization_id
    record looks random but is a hash of the record names followed by the
    combined CRC-32 of the records, so a rerun writes the same bytes."""
    model = rebuild_sample(reference)
    out = fresh_dir(TORCH_DIR / "sample_bin")
    model.save_pretrained(out, safe_serialization=False)
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "generation_config.json", "pytorch_model.bin"]
    state = torch_load(out / "pytorch_model.bin")
    assert list(state) == list(model.state_dict()), "save_pretrained changed the key set or order"
    expected = write_expected("sample_bin", list(flatten(state)))
    assert expected.read_bytes() == (SAMPLE_DIR / "model.safetensors").read_bytes()


def torch_sample_bin_sharded(reference: T5ForConditionalGeneration) -> None:
    """G2. The same, sharded by transformers: pytorch_model-0000K-of-0000N.bin +
    pytorch_model.bin.index.json.  One expected file for the whole model, tensors
    listed shard by shard."""
    model = rebuild_sample(reference)
    out = fresh_dir(TORCH_DIR / "sample_bin_sharded")
    model.save_pretrained(out, safe_serialization=False, max_shard_size="400KB")
    shards = sorted(out.glob("pytorch_model-*-of-*.bin"))
    assert len(shards) >= 3, f"expected >= 3 shards, got {len(shards)}"
    weight_map = json.loads((out / "pytorch_model.bin.index.json").read_text())["weight_map"]
    entries = []
    for shard in shards:
        names = list(flatten(torch_load(shard)))
        assert all(weight_map[p] == shard.name for p, _ in names), f"{shard.name} disagrees with the index"
        entries += names
    assert sorted(p for p, _ in entries) == sorted(weight_map) == sorted(model.state_dict())
    expected = write_expected("sample_bin_sharded", entries)
    assert expected.read_bytes() == (SAMPLE_DIR / "model.safetensors").read_bytes()


TORCH_DTYPES = {
    "t_float": torch.float32,
    "t_half": torch.float16,
    "t_bfloat16": torch.bfloat16,
    "t_double": torch.float64,
    "t_long": torch.int64,
    "t_int": torch.int32,
    "t_short": torch.int16,
    "t_char": torch.int8,
    "t_byte": torch.uint8,
    "t_bool": torch.bool,
}


def torch_dtypes() -> None:
    """G3. dtypes.bin: one tensor per storage class torch.save names
    (FloatStorage, HalfStorage, BFloat16Storage, DoubleStorage, LongStorage,
    IntStorage, ShortStorage, CharStorage, ByteStorage, BoolStorage), in a
    hand-made OrderedDict (pickled without a _metadata BUILD)."""
    tensors = collections.OrderedDict()
    for name, dtype in TORCH_DTYPES.items():
        if dtype == torch.bool:
            tensors[name] = (torch.arange(12) % 2 == 1).reshape(3, 4)
        else:
            tensors[name] = torch.arange(12).reshape(3, 4).to(dtype)
    save_and_expect(tensors, "dtypes")


def views_dict() -> dict:
    """Tensors that are not simply 'the whole storage, contiguous': five views of
    one 60-element storage (transposed strides, an offset with strides, an
    offset alone, a step), a 0-d scalar, an empty tensor (an empty storage), and
    one tensor object under two names."""
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10)
    tied = torch.tensor([[1.5, -2.0], [0.25, 8.0]])
    return {
        "base": base,
        "transposed": base.t(),        # size (10, 6), stride (1, 10)
        "sliced": base[2:5, 3:7],      # offset 23, size (3, 4), stride (10, 1)
        "row": base[4],                # offset 40, size (10,)
        "strided": base[:, ::3],       # size (6, 4), stride (10, 3)
        "scalar": torch.tensor(2.5),   # size (), stride ()
        "empty": torch.zeros(0, 3),    # a storage of 0 bytes
        "tied_a": tied,
        "tied_b": tied,                # the same object: pickled as a memo reference
    }


def torch_views() -> None:
    """G4. views.bin: storage offsets, strides, shared and empty storages.
    torch.save writes each storage once, whole, and every tensor as a view of it."""
    state = views_dict()
    assert state["sliced"].storage_offset() == 23 and state["strided"].stride() == (10, 3)
    save_and_expect(state, "views")


def torch_nested() -> None:
    """G5. nested.bin: a training-style checkpoint.  Tensors inside a nested dict
    and a list, next to values a reader must skip (int, float, str, None)."""
    checkpoint = {
        "model": {
            "w": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4,
            "b": torch.tensor([0.5, -0.5]),
        },
        "epoch": 3,
        "lr": 0.1,
        "name": "x",
        "history": [torch.tensor([0.9, 0.7]), torch.tensor([3, 4], dtype=torch.int64)],
        "none": None,
    }
    save_and_expect(checkpoint, "nested")


def save_legacy(obj, name: str, previous: dict) -> None:
    """torch.save(obj, <name>.bin, _use_new_zipfile_serialization=False), the
    pre-1.6 format, plus its expected values.

    The one randomness torch injects into these fixtures: the legacy writer keys
    each storage by its memory address (str(storage._cdata)) and writes the raw
    storages sorted by that key, so the keys, the order of the raw data and so the
    bytes change from run to run.  The previously committed file (read by
    reset_torch_dir()) is therefore kept, byte for byte, when it has the same size
    and torch loads the same thing from it: same container, names, values,
    dtypes, shapes, strides, offsets and storage sharing."""
    path = TORCH_DIR / f"{name}.bin"
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    loaded = torch_load(path)
    assert same_checkpoint(loaded, obj), f"{path.name} does not load back as saved"
    old = previous.get(path.name)
    if old is not None and len(old) == path.stat().st_size:
        if same_checkpoint(torch.load(io.BytesIO(old), map_location="cpu", weights_only=True), loaded):
            path.write_bytes(old)
    write_expected(name, list(flatten(torch_load(path))))


def torch_legacy(reference: T5ForConditionalGeneration, previous: dict) -> None:
    """G6. The legacy (pre-1.6, not a zip) format: five pickles in a row, then the
    raw storages.  legacy.bin is the sample's state dict (an OrderedDict with
    _metadata, as nn.Module.state_dict() returns it; fp32, aliases included);
    legacy_views.bin is views.bin's dict."""
    state = rebuild_sample(reference).state_dict()
    save_legacy(state, "legacy", previous)
    expected = TORCH_EXPECTED / "legacy.safetensors"
    assert expected.read_bytes() == (SAMPLE_DIR / "model.safetensors").read_bytes()
    save_legacy(views_dict(), "legacy_views", previous)


def torch_half(reference: T5ForConditionalGeneration) -> None:
    """G7. The sample converted with model.half() / model.bfloat16() and saved with
    plain torch.save(model.state_dict()): HalfStorage / BFloat16Storage, an
    OrderedDict with _metadata, the tied names sharing one storage (converting
    the model, not each tensor, keeps the tie)."""
    for name, dtype in (("sample_fp16", torch.float16), ("sample_bf16", torch.bfloat16)):
        model = rebuild_sample(reference).to(dtype)
        save_and_expect(model.state_dict(), name)


# ---------------------------------------------------------------------------
# H: PyTorch files a reader must reject, with the error it must report
# ---------------------------------------------------------------------------
#
# These files are hostile on purpose (some name os.system).  They are only ever
# built here, as bytes; nothing in this script loads them with torch.load or
# pickle.load, and nothing should.  The commands they would run are harmless
# echoes anyway.

class FakeStorage:
    """Stands in for a torch storage in a hand-built pickle.  Pickled, as torch's
    own pickler does it, as the persistent id ('storage', <storage class>, key,
    location, numel) -- legacy files add a sixth element, the view metadata,
    which torch always writes as None.  numel can be any number: a lie, too."""

    def __init__(self, key: str, numel: int, storage_class=None):
        self.key, self.numel = key, numel
        self.storage_class = storage_class or torch.FloatStorage


class FakeTensor:
    """Pickles exactly as torch pickles a tensor: a REDUCE of
    torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
    requires_grad, backward_hooks), with any values, consistent or not."""

    def __init__(self, storage: FakeStorage, offset: int, size: tuple, stride: tuple, hooks=None):
        self.args = (storage, offset, size, stride, False,
                     collections.OrderedDict() if hooks is None else hooks)

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class FakeTensorV3(FakeTensor):
    """Pickles as torch 2.x pickles uint16/32/64 and float8 tensors:
    torch._utils._rebuild_tensor_v3(storage, offset, size, stride, requires_grad,
    backward_hooks, dtype), storage usually a torch.storage.UntypedStorage."""

    def __init__(self, storage: FakeStorage, offset: int, size: tuple, stride: tuple, dtype):
        super().__init__(storage, offset, size, stride)
        self.args = self.args + (dtype,)

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v3, self.args)


class FakeCall:
    """Pickles as a REDUCE of any callable: GLOBAL <module> <name>, args, REDUCE."""

    def __init__(self, func, args: tuple):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def state_pickle(obj, legacy: bool = False) -> bytes:
    """Pickle obj (FakeTensors in dicts) as torch.save does: protocol 2, storages
    as persistent ids.  With the real tensors of a valid file this reproduces
    torch's data.pkl byte for byte (asserted in torch_bad_files())."""
    buf = io.BytesIO()

    class Pickler(pickle.Pickler):
        def persistent_id(self, value):
            if not isinstance(value, FakeStorage):
                return None
            pid = ("storage", value.storage_class, value.key, "cpu", value.numel)
            return pid + (None,) if legacy else pid

    # fix_imports=False: at protocol 2 pickle would otherwise rename Python 3
    # modules to their Python 2 names ('subprocess' -> 'commands').  No name
    # torch writes is affected, so valid pickles are unchanged.
    Pickler(buf, protocol=2, fix_imports=False).dump(obj)
    return buf.getvalue()


def torch_zip(pkl, storages: dict, byteorder: bytes = b"little") -> bytes:
    """A zip container made by torch's own writer (torch._C.PyTorchFileWriter, which
    torch.save uses), with the records torch.save writes in its order: data.pkl,
    .format_version, .storage_alignment, byteorder, data/<key>..., then version and
    .data/serialization_id.  The archive folder is 'archive/', torch's name when
    saving to a buffer.  pkl=None leaves data.pkl out."""
    buf = io.BytesIO()
    writer = torch._C.PyTorchFileWriter(buf, True, 64)
    records = [] if pkl is None else [("data.pkl", pkl)]
    records += [(".format_version", b"1"), (".storage_alignment", b"64"), ("byteorder", byteorder)]
    records += [(f"data/{key}", data) for key, data in storages.items()]
    for name, data in records:
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()
    return buf.getvalue()


def zip_directory(data: bytes) -> dict:
    """name -> byte offset of its central-directory entry, for a valid zip built
    here (parsed with zipfile only to find where the directory starts)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    entries, pos = {}, archive.start_dir
    for _ in archive.infolist():
        assert data[pos:pos + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        entries[data[pos + 46:pos + 46 + name_len].decode()] = pos
        pos += 46 + name_len + extra_len + comment_len
    return entries


def patched(data: bytes, offset: int, fmt: str, *values) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def aligned_zip(members: list, deflate: tuple = ()) -> bytes:
    """A zip written by Python's zipfile with the same member names and order,
    stored members' data 64-byte aligned through an 'FB' extra field as torch does
    it, except the members named in deflate, which are compressed (method 8)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            if name in deflate:
                info.compress_type = zipfile.ZIP_DEFLATED
            else:
                pad = -(buf.tell() + 30 + len(name) + 4) % 64
                info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
            archive.writestr(info, data)
    result = buf.getvalue()
    for info in zipfile.ZipFile(io.BytesIO(result)).infolist():
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        assert info.filename in deflate or start % 64 == 0, f"{info.filename} not aligned"
    return result


def deflated_size(data: bytes) -> int:
    """Bytes of raw deflate data zipfile's ZIP_DEFLATED writes for data."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return len(compressor.compress(data) + compressor.flush())


def split_pickles(data: bytes, count: int) -> list:
    """The byte ranges of the first `count` pickles in a row (pickletools.genops
    only parses opcodes; it executes nothing)."""
    ranges, pos = [], 0
    for _ in range(count):
        end = pos + [p for _, _, p in pickletools.genops(data[pos:])][-1] + 1
        ranges.append((pos, end))
        pos = end
    return ranges


def legacy_file(obj, storages: dict, magic: int = torch.serialization.MAGIC_NUMBER) -> bytes:
    """A legacy (pre-1.6) torch.save file, byte for byte as torch writes it: magic
    number, protocol version, sys info, the object (6-tuple persistent ids),
    the sorted list of storage keys, then per key an i64 element count and the
    raw bytes.  storages: key -> (numel, bytes)."""
    sys_info = {
        "protocol_version": torch.serialization.PROTOCOL_VERSION,
        "little_endian": True,
        "type_sizes": {"short": torch.serialization.SHORT_SIZE,
                       "int": torch.serialization.INT_SIZE,
                       "long": torch.serialization.LONG_SIZE},
    }
    keys = sorted(storages)
    out = pickle.dumps(magic, protocol=2) + pickle.dumps(torch.serialization.PROTOCOL_VERSION, protocol=2)
    out += pickle.dumps(sys_info, protocol=2) + state_pickle(obj, legacy=True) + pickle.dumps(keys, protocol=2)
    for key in keys:
        numel, raw = storages[key]
        out += struct.pack("<q", numel) + raw
    return out


# The valid base: an OrderedDict of two float32 tensors, like the safetensors base (F).
BAD_A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # storage "0", 16 bytes
BAD_B = torch.tensor([5.0, 6.0, 7.0])           # storage "1", 12 bytes
RAW_A, RAW_B = BAD_A.numpy().tobytes(), BAD_B.numpy().tobytes()
OS_COMMAND = "echo zoo fixture: this must never run"


def base_state(a=None, b=None) -> collections.OrderedDict:
    """The base state dict as FakeTensors, with 'a' and/or 'b' replaced."""
    return collections.OrderedDict(
        a=a or FakeTensor(FakeStorage("0", 4), 0, (2, 2), (2, 1)),
        b=b or FakeTensor(FakeStorage("1", 3), 0, (3,), (1,)),
    )


def unicode_op(text: str) -> bytes:
    """BINUNICODE: 'X', u32 length, UTF-8."""
    raw = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(raw)) + raw


def torch_bad_files() -> None:
    """H. Malformed or hostile PyTorch files.  Each isolates one defect in an
    otherwise valid file: pickle programs that call out (os.system, eval,
    subprocess), break the interpreter's bounds (memo, lengths, depth),
    tensors that lie about their storage, and zip containers that are cut,
    corrupted, compressed, encrypted or self-overlapping; plus legacy-format
    defects.  manifest.json maps file name -> {"error": <case>, "why": <sentence>}
    (case names: Sources/Formats/Torch/TorchError.swift)."""
    out = fresh_dir(FIXTURES / "torch_bad")
    cases = {}

    def bad(name, error, why, content: bytes):
        (out / name).write_bytes(content)
        cases[name] = {"error": error, "why": why}

    # The base, and proof that the hand-built pieces reproduce torch exactly.
    base_pkl = state_pickle(base_state())
    storages = {"0": RAW_A, "1": RAW_B}
    valid = torch_zip(base_pkl, storages)
    real = io.BytesIO()
    torch.save(collections.OrderedDict(a=BAD_A, b=BAD_B), real)
    assert valid == real.getvalue(), "torch_zip/state_pickle no longer match torch.save"
    directory = zip_directory(valid)
    pkl_entry, entry0, entry1 = (directory[f"archive/{n}"] for n in ("data.pkl", "data/0", "data/1"))

    # -- Pickles that name something other than the allowed globals.
    bad("global_os_system.bin", "forbiddenGlobal",
        "data.pkl is GLOBAL 'os system' applied by REDUCE to an echo command: "
        "unpickling it runs a shell command.",
        torch_zip(b"\x80\x02cos\nsystem\n" + unicode_op(OS_COMMAND) + b"\x85R.", {}))
    bad("global_builtins_eval.bin", "forbiddenGlobal",
        "data.pkl is GLOBAL 'builtins eval' applied to the string '0': arbitrary "
        "Python evaluation.",
        torch_zip(b"\x80\x02cbuiltins\neval\n" + unicode_op("0") + b"\x85R.", {}))
    bad("stack_global_posix_system.bin", "forbiddenGlobal",
        "data.pkl (protocol 4) pushes the strings 'posix' and 'system' and imports "
        "them with STACK_GLOBAL, then REDUCEs: os.system without a GLOBAL opcode.",
        torch_zip(b"\x80\x04\x8c\x05posix\x8c\x06system\x93" + unicode_op(OS_COMMAND) + b"\x85R.", {}))
    bad("inst_os_system.bin", "forbiddenGlobal",
        "data.pkl is protocol 0 (no PROTO opcode): MARK, a STRING argument, then "
        "INST 'os' 'system', which imports and calls in one opcode.",
        torch_zip(b"(S'" + OS_COMMAND.encode() + b"'\nios\nsystem\n.", {}))
    popen = FakeCall(subprocess.Popen, (["echo", "zoo fixture: this must never run"],))
    bad("global_in_nested_position.bin", "forbiddenGlobal",
        "A valid two-tensor state dict, except that the backward_hooks argument of "
        "tensor 'b''s _rebuild_tensor_v2 call is subprocess.Popen(['echo', ...]): "
        "GLOBAL 'subprocess Popen' after a complete valid tensor 'a'.",
        torch_zip(state_pickle(base_state(b=FakeTensor(FakeStorage("1", 3), 0, (3,), (1,), popen))),
                  storages))

    # -- Pickles that break the interpreter's bounds.
    bad("memo_get_unset.bin", "invalidMemo",
        "data.pkl stores memo entries 0 and 1 (BINPUT) and then reads entry 7 "
        "(BINGET), which was never stored.",
        torch_zip(b"\x80\x02}q\x00" + unicode_op("a") + b"q\x01h\x07s.", {}))
    bad("memo_long_get_huge.bin", "invalidMemo",
        "data.pkl reads memo entry 0xFFFFFFFF (LONG_BINGET); a memo kept as an array "
        "indexed by that number would need 4 billion slots.",
        torch_zip(b"\x80\x02}q\x00" + unicode_op("a") + b"q\x01j" + struct.pack("<I", 0xFFFFFFFF) + b"s.", {}))
    bad("huge_string_length.bin", "lengthTooLarge",
        "data.pkl has a BINUNICODE8 declaring 2^62 bytes of text with 8 bytes left; "
        "the length must be checked against the bytes remaining before allocating.",
        torch_zip(b"\x80\x04}\x8d" + struct.pack("<Q", 2**62) + b"abcdefs.", {}))
    bad("huge_bytes_length.bin", "lengthTooLarge",
        "data.pkl has a BINBYTES declaring 0xFFFFFFF0 bytes with 10 bytes left; the "
        "length must be checked against the bytes remaining before allocating.",
        torch_zip(b"\x80\x03}" + unicode_op("a") + b"B" + struct.pack("<I", 0xFFFFFFF0) + b"\0" * 8 + b"s.", {}))
    depth = 100_000
    bad("deep_nesting.bin", "stackTooDeep",
        f"data.pkl builds {{'deep': [[[...]]]}} with {depth} lists nested through "
        f"{depth} EMPTY_LIST/MARK pairs ({2 * depth} stack entries) closed by APPENDS; "
        "valid for Python's unpickler, so only a depth limit catches it.",
        torch_zip(b"\x80\x02}" + unicode_op("deep") + b"](" * depth + b"e" * depth + b"s.", {}))
    bad("truncated_pickle.bin", "truncatedPickle",
        "data.pkl is the valid base's pickle without its final STOP opcode; the "
        "zip member is otherwise intact (its CRC-32 matches the shortened data).",
        torch_zip(base_pkl[:-1], storages))

    # -- Tensors and storages that disagree.
    bad("storage_shorter_than_tensor.bin", "storageTooSmall",
        "Tensor 'a' has size (100,) and stride (1,) on storage '0', whose persistent "
        "id says 10 elements and whose member holds exactly those 40 bytes.",
        torch_zip(state_pickle(base_state(a=FakeTensor(FakeStorage("0", 10), 0, (100,), (1,)))),
                  {"0": bytes(40), "1": RAW_B}))
    bad("offset_past_storage.bin", "storageTooSmall",
        "Tensor 'a' has storage_offset 1000 and size (4,) on storage '0' of 10 "
        "elements (40 bytes, consistent with its member).",
        torch_zip(state_pickle(base_state(a=FakeTensor(FakeStorage("0", 10), 1000, (4,), (1,)))),
                  {"0": bytes(40), "1": RAW_B}))
    bad("storage_numel_lies.bin", "storageSizeMismatch",
        "Storage '0''s persistent id says 1000 float32 elements (4000 bytes) but "
        "member data/0 holds 40 bytes; tensor 'a' (size (10,)) would fit either.",
        torch_zip(state_pickle(base_state(a=FakeTensor(FakeStorage("0", 1000), 0, (10,), (1,)))),
                  {"0": bytes(40), "1": RAW_B}))
    # -- The classes torch 2.x writes that zoo reads (v3 rebuilds, byte order, expand()),
    #    each inconsistent in one way.
    untyped = torch.storage.UntypedStorage
    bad("v3_untyped_bytes_not_whole.bin", "invalidPickleValue",
        "Tensor 'a' is _rebuild_tensor_v3 of a 6-byte UntypedStorage as torch.uint32: 6 bytes are not a "
        "whole number of 4-byte elements.",
        torch_zip(state_pickle(base_state(a=FakeTensorV3(FakeStorage("0", 6, untyped), 0, (1,), (1,),
                                                          torch.uint32))),
                  {"0": bytes(6), "1": RAW_B}))
    bad("v3_dtype_contradicts_storage.bin", "invalidPickleValue",
        "Tensor 'a' is _rebuild_tensor_v3 of a FloatStorage as torch.uint16: a typed storage read as another dtype.",
        torch_zip(state_pickle(base_state(a=FakeTensorV3(FakeStorage("0", 4), 0, (2, 2), (2, 1), torch.uint16))),
                  storages))
    bad("v2_untyped_storage.bin", "invalidPickleValue",
        "Tensor 'a' is _rebuild_tensor_v2 of an UntypedStorage: nothing says what its 16 bytes hold.",
        torch_zip(state_pickle(base_state(a=FakeTensor(FakeStorage("0", 16, untyped), 0, (2, 2), (2, 1)))),
                  storages))
    bad("byteorder_unknown.bin", "invalidPickleValue",
        "The valid base with its byteorder record saying 'middle' (torch writes 'little' or 'big').",
        torch_zip(base_pkl, storages, byteorder=b"middle"))
    bad("expand_view_too_large.bin", "notAStateDict",
        "Tensor 'a' is a (65536, 65536) view with strides (0, 0) of one float32: 16 GiB to copy out of 4 bytes.",
        torch_zip(state_pickle(base_state(a=FakeTensor(FakeStorage("0", 4), 0, (65536, 65536), (0, 0)))),
                  storages))
    bad("missing_storage_member.bin", "missingMember",
        "The valid base's data.pkl refers to storage '0' but the archive has no "
        "member archive/data/0.",
        torch_zip(base_pkl, {"1": RAW_B}))
    bad("no_data_pkl.bin", "missingMember",
        "A torch-style archive (version, byteorder, data/0, data/1, ...) with no "
        "*/data.pkl member at all.",
        torch_zip(None, storages))
    scalar = io.BytesIO()
    torch.save(torch.tensor([1.0, 2.0, 3.0]), scalar)
    bad("top_level_not_dict.bin", "notAStateDict",
        "A valid torch.save of a single tensor: the pickle's top-level object is a "
        "tensor, not a dict of tensors.",
        scalar.getvalue())

    # -- The zip container.
    (crc0,) = struct.unpack_from("<I", valid, entry0 + 16)
    bad("bad_member_crc.bin", "crcMismatch",
        "The central directory's CRC-32 for archive/data/0 has its lowest bit "
        "flipped; data and sizes are intact.",
        patched(valid, entry0 + 16, "<I", crc0 ^ 1))
    central_start = zipfile.ZipFile(io.BytesIO(valid)).start_dir
    central_end = valid.index(b"PK\x06\x06", central_start)  # the zip64 end record follows it
    bad("truncated_central_directory.bin", "endOfCentralDirectoryMissing",
        "The file is cut in the middle of the central directory, so the zip64 and "
        "classic end-of-central-directory records are gone.",
        valid[:(central_start + central_end) // 2])
    zeros = 100
    while zeros * 4 < 1000 * deflated_size(bytes(zeros * 4)):
        zeros += 1024
    bomb_storages = {"0": bytes(zeros * 4), "1": RAW_B}
    bomb = torch_zip(state_pickle(base_state(a=FakeTensor(FakeStorage("0", zeros), 0, (zeros,), (1,)))),
                     bomb_storages)
    bomb_members = [(i.filename, zipfile.ZipFile(io.BytesIO(bomb)).read(i)) for i in
                    zipfile.ZipFile(io.BytesIO(bomb)).infolist()]
    bomb_zip = aligned_zip(bomb_members, deflate=("archive/data/0",))
    bomb_info = zipfile.ZipFile(io.BytesIO(bomb_zip)).getinfo("archive/data/0")
    ratio = bomb_info.file_size / bomb_info.compress_size
    assert ratio >= 1000, ratio
    bad("zip_bomb_ratio.bin", "compressedMember",
        f"archive/data/0 (tensor 'a', {zeros} zeros) is deflated (method 8): "
        f"{bomb_info.compress_size} bytes declared to inflate to {bomb_info.file_size} "
        f"({ratio:.0f}x); the archive is otherwise valid (written by Python's zipfile, "
        "stored members 64-byte aligned).",
        bomb_zip)
    # A zip64 locator 14 bytes into a 56-byte file: the 56-byte zip64 end record it points at
    # would have to start before the file does (this once trapped computing locator - 56).
    locator = struct.pack("<IIQI", 0x07064B50, 0, 0, 1)
    end_record = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0, 0, 0, 0, 0)
    bad("zip64_locator_near_start.bin", "invalidZip64",
        "A 56-byte file: a local-header signature and 10 zero bytes, a zip64 end locator at byte 14 "
        "(pointing at offset 0) and an empty end record; no zip64 end record fits before the locator.",
        b"PK\x03\x04" + bytes(10) + locator + end_record)
    bad("encrypted_member.bin", "encryptedMember",
        "archive/data.pkl has general-purpose flag bit 0 (encrypted) set, in both its "
        "local header and its central-directory entry; its bytes are in fact plain.",
        patched(patched(valid, 6, "<H", 0x0809), pkl_entry + 8, "<H", 0x0809))
    bad("member_past_eof.bin", "memberOutOfBounds",
        f"The central directory gives archive/data/0 a size of 1 MiB (stored and "
        f"uncompressed), running past the end of the {len(valid)}-byte file.",
        patched(valid, entry0 + 20, "<II", 1 << 20, 1 << 20))
    offset0 = struct.unpack_from("<I", valid, entry0 + 42)[0]
    overlap = patched(valid, entry1 + 16, "<III", *struct.unpack_from("<III", valid, entry0 + 16))
    bad("overlapping_members.bin", "overlappingMembers",
        f"The central-directory entry for archive/data/1 points at archive/data/0's "
        f"local header (offset {offset0}), with data/0's CRC-32 and sizes: two "
        "names for one byte range (data/1's own bytes become unreferenced).",
        patched(overlap, entry1 + 42, "<I", offset0))

    # -- The legacy format.  Storage keys look like the memory addresses torch
    # writes, chosen so that sorted order (the raw data's order) is b before a.
    legacy_keys = {"a": "94729024029728", "b": "94729021920656"}

    def legacy_state(keys):
        return collections.OrderedDict(
            a=FakeTensor(FakeStorage(keys["a"], 4), 0, (2, 2), (2, 1)),
            b=FakeTensor(FakeStorage(keys["b"], 3), 0, (3,), (1,)))

    def legacy_storages(keys):
        return {keys["a"]: (4, RAW_A), keys["b"]: (3, RAW_B)}

    real = io.BytesIO()
    torch.save(collections.OrderedDict(a=BAD_A, b=BAD_B), real, _use_new_zipfile_serialization=False)
    real = real.getvalue()
    (start, end), = split_pickles(real, 5)[3:4]
    real_keys = [arg for op, arg, _ in pickletools.genops(real[start:end])
                 if op.name == "BINUNICODE" and arg.isdigit()]
    assert legacy_file(legacy_state(dict(zip("ab", real_keys))),
                       legacy_storages(dict(zip("ab", real_keys)))) == real, "legacy_file no longer matches torch"
    legacy = legacy_file(legacy_state(legacy_keys), legacy_storages(legacy_keys))
    assert same_checkpoint(torch.load(io.BytesIO(legacy), weights_only=True),
                           collections.OrderedDict(a=BAD_A, b=BAD_B))
    bad("legacy_truncated.bin", "legacyTruncated",
        f"A valid legacy file (storages '{legacy_keys['b']}' then '{legacy_keys['a']}') "
        "cut 6 bytes before its end, inside the raw bytes of the last storage.",
        legacy[:-6])
    bad("legacy_bad_magic.bin", "legacyBadMagic",
        "A valid legacy file except that its first pickle is the number "
        "0x1950a86a20f9469cfc6d, one more than torch's magic number.",
        legacy_file(legacy_state(legacy_keys), legacy_storages(legacy_keys),
                    magic=torch.serialization.MAGIC_NUMBER + 1))
    bad("legacy_trailing_bytes.bin", "legacyTrailingBytes",
        "A valid legacy file followed by 16 extra bytes after the last storage's raw data.",
        legacy + b"TRAILING-BYTES!!")

    # Self-checks that parse (never run) the pickles: pickletools.dis tracks the
    # stack, marks and memo the way the interpreter would.  (indentlevel=0: by
    # default it indents each line by the mark depth -- gigabytes for deep_nesting.)
    for name, global_name in (("global_os_system.bin", "os system"), ("inst_os_system.bin", "os system"),
                              ("global_builtins_eval.bin", "builtins eval"), ("deep_nesting.bin", None),
                              ("global_in_nested_position.bin", "subprocess Popen"),
                              ("stack_global_posix_system.bin", None)):
        member = zipfile.ZipFile(out / name).read("archive/data.pkl")
        pickletools.dis(member, out=io.StringIO(), indentlevel=0)
        if global_name:
            assert global_name in [arg for op, arg, _ in pickletools.genops(member)
                                   if op.name in ("GLOBAL", "INST")], name
    try:
        pickletools.dis(zipfile.ZipFile(out / "memo_get_unset.bin").read("archive/data.pkl"),
                        out=io.StringIO(), indentlevel=0)
        raise AssertionError("memo_get_unset.bin: the memo read should be invalid")
    except ValueError:
        pass
    assert len(cases) >= 20 and all((out / name).stat().st_size < 400_000 for name in cases)
    write_manifest(out / "manifest.json", cases)


# ---------------------------------------------------------------------------
# I: reference forward passes, computed by transformers' own T5
# ---------------------------------------------------------------------------

FORWARD_DIR = FIXTURES / "forward"
OVERFLOW_DIR = FIXTURES / "overflow_fp16"
GATED_DIR = FIXTURES / "t5_gated_untied"

# The padded batch of cases sample_padded / gated_untied_padded: two sequences
# of different lengths, right-padded with pad_token_id 0.  Row 1 of the decoder
# side is padded too, and its last query row still sees unmasked keys, so no
# attention row is fully masked.  All ids are < 512 (the gated model's vocab).
PADDED_BATCH = dict(
    input_ids=[[5, 6, 7, 8, 9, 10, 11, 1], [12, 13, 14, 1, 0, 0, 0, 0]],
    attention_mask=[[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0]],
    decoder_input_ids=[[0, 5, 6, 7], [0, 12, 13, 0]],
    decoder_attention_mask=[[1, 1, 1, 1], [1, 1, 1, 0]],
)
SINGLE = dict(input_ids=[[5, 6, 7, 8, 9, 10, 11, 1]], decoder_input_ids=[[0, 5, 6]])

# Encoder weights multiplied for the overflow model.  4000 is not enough: the
# sample's largest encoder FFN output is ~10.5k after x4000, well inside fp16.
# 2**15 puts it at ~86k (> 65504, fp16's max) and, being a power of two, the
# scaled fp32 weights are the sample's weights exactly times 2**15 (no rounding).
OVERFLOW_SCALE = 2.0 ** 15
OVERFLOW_WEIGHTS = "encoder.block.{}.layer.1.DenseReluDense.wo.weight"


def load_t5(directory: Path, dtype: torch.dtype) -> T5ForConditionalGeneration:
    """A committed checkpoint, loaded the way a user loads it (so transformers'
    own loading rules apply, e.g. _keep_in_fp32_modules for fp16), in eval mode."""
    return T5ForConditionalGeneration.from_pretrained(directory, torch_dtype=dtype).eval()


def as_long(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.long)


def save_tensors(tensors: dict, path: Path) -> None:
    """save_file of detached, contiguous copies (copies: outputs such as
    encoder_hidden_states[-1] and encoder_last_hidden_state are one tensor, and
    safetensors refuses tensors that share memory)."""
    save_file({name: t.detach().clone().contiguous() for name, t in tensors.items()}, path)


def forward_case(model: T5ForConditionalGeneration, input_ids, decoder_input_ids,
                 attention_mask=None, decoder_attention_mask=None) -> dict:
    """One forward pass, called exactly as a user calls it (masks only where the
    case has padding on that side -- the encoder mask always, as a tokenizer
    returns one), plus the unmasked relative position biases the first
    self-attention layers compute.  Returns the tensors of one fixture file."""
    input_ids, decoder_input_ids = as_long(input_ids), as_long(decoder_input_ids)
    attention_mask = torch.ones_like(input_ids) if attention_mask is None else as_long(attention_mask)
    kwargs = {}
    if decoder_attention_mask is not None:
        kwargs["decoder_attention_mask"] = as_long(decoder_attention_mask)
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=attention_mask,
                    decoder_input_ids=decoder_input_ids, output_hidden_states=True, **kwargs)
        enc_len, dec_len = input_ids.shape[1], decoder_input_ids.shape[1]
        encoder_bias = model.encoder.block[0].layer[0].SelfAttention.compute_bias(enc_len, enc_len)
        decoder_bias = model.decoder.block[0].layer[0].SelfAttention.compute_bias(dec_len, dec_len)
    config = model.config
    # hidden_states: the embedding output, the output of every block but the
    # last, then final_layer_norm(last block) -- so the last entry IS
    # last_hidden_state, and the last block's un-normed output is not stored.
    assert len(out.encoder_hidden_states) == config.num_layers + 1
    assert len(out.decoder_hidden_states) == config.num_decoder_layers + 1
    assert torch.equal(out.encoder_hidden_states[-1], out.encoder_last_hidden_state)
    assert out.logits.shape == (input_ids.shape[0], dec_len, config.vocab_size)
    assert encoder_bias.shape == (1, config.num_heads, enc_len, enc_len)
    assert decoder_bias.shape == (1, config.num_heads, dec_len, dec_len)
    tensors = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "decoder_input_ids": decoder_input_ids,
        "decoder_attention_mask": kwargs.get("decoder_attention_mask", torch.ones_like(decoder_input_ids)),
        "encoder_last_hidden_state": out.encoder_last_hidden_state,
        "logits": out.logits,
        "encoder_position_bias": encoder_bias,
        "decoder_position_bias": decoder_bias,
    }
    for side in ("encoder", "decoder"):
        for i, hidden in enumerate(getattr(out, f"{side}_hidden_states")):
            tensors[f"{side}_hidden_states.{i}"] = hidden
    for name, t in tensors.items():
        assert t.dtype == (torch.long if "ids" in name or "mask" in name else torch.float32), name
        assert bool(torch.isfinite(t.float()).all()), name
    return tensors


def check_padding_honoured(model: T5ForConditionalGeneration, padded: dict) -> None:
    """Row 1 of the padded batch, run alone without its padding, must agree with
    the padded run where it is not padding (up to float rounding: the reductions
    run over different lengths), i.e. the masks really were applied."""
    enc, dec = 4, 3  # row 1's real lengths
    alone = forward_case(model, [PADDED_BATCH["input_ids"][1][:enc]], [PADDED_BATCH["decoder_input_ids"][1][:dec]])
    for name, length in (("encoder_last_hidden_state", enc), ("logits", dec)):
        assert torch.allclose(padded[name][1, :length], alone[name][0], rtol=1e-4, atol=1e-5), name


def probe_encoder(model: T5ForConditionalGeneration, inputs: dict) -> tuple:
    """Logits plus, per encoder block, what its FFN (DenseReluDense, before the
    residual add) and the whole block return: dtype, whether inf, max |x| over
    the finite elements (so the JSON holds no Infinity, which strict parsers
    such as Swift's JSONDecoder reject)."""
    seen = {"ffn": [], "block": []}

    def record(kind):
        def hook(module, args, output):
            t = output[0] if isinstance(output, tuple) else output
            finite = t[torch.isfinite(t)]
            seen[kind].append({"dtype": str(t.dtype).replace("torch.", ""),
                               "max_finite_abs": finite.abs().max().item() if finite.numel() else None,
                               "has_inf": bool(torch.isinf(t).any()),
                               "has_nan": bool(torch.isnan(t).any())})
        return hook

    handles = []
    for block in model.encoder.block:
        handles.append(block.layer[1].DenseReluDense.register_forward_hook(record("ffn")))
        handles.append(block.register_forward_hook(record("block")))
    with torch.no_grad():
        logits = model(**inputs).logits
    for handle in handles:
        handle.remove()
    return logits, seen


def overflow_fp16() -> None:
    """I (overflow).  overflow_fp16/: the sample with every encoder FFN output
    projection (encoder.block.*.layer.1.DenseReluDense.wo.weight) multiplied by
    OVERFLOW_SCALE, so the encoder FFN outputs exceed fp16's max (65504) -- a
    model that only runs in fp16 with T5's overflow handling.  References, for
    case sample_single's inputs: forward/overflow_fp16_fp32.safetensors (fp32
    logits), forward/overflow_fp16_half.safetensors (`logits`: what
    transformers gives when loading with torch_dtype=torch.float16, which keeps
    `wo` in fp32 via _keep_in_fp32_modules; `logits_model_half`: the model
    loaded in fp32 and then .half()-ed, every weight fp16, where T5Block's inf
    clamp does the work), forward/overflow_fp16.json (what happened in each)."""
    model = load_t5(SAMPLE_DIR, torch.float32)
    state = model.state_dict()
    with torch.no_grad():
        for i in range(model.config.num_layers):
            state[OVERFLOW_WEIGHTS.format(i)].mul_(OVERFLOW_SCALE)
    out = fresh_dir(OVERFLOW_DIR)
    model.save_pretrained(out, safe_serialization=True)
    stored = load_file(out / "model.safetensors")
    original = load_file(SAMPLE_DIR / "model.safetensors")
    assert stored.keys() == original.keys()
    for name, tensor in original.items():
        scaled = name in {OVERFLOW_WEIGHTS.format(i) for i in range(model.config.num_layers)}
        assert torch.equal(stored[name], tensor * OVERFLOW_SCALE if scaled else tensor), name

    inputs = {"input_ids": as_long(SINGLE["input_ids"]), "decoder_input_ids": as_long(SINGLE["decoder_input_ids"])}
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    reference, fp32_seen = probe_encoder(load_t5(out, torch.float32), inputs)
    assert not any(r["has_inf"] or r["has_nan"] for r in fp32_seen["ffn"] + fp32_seen["block"])
    assert max(r["max_finite_abs"] for r in fp32_seen["ffn"]) > torch.finfo(torch.float16).max, "no fp16 overflow"
    save_tensors(dict(inputs, decoder_attention_mask=torch.ones_like(inputs["decoder_input_ids"]),
                      logits=reference), FORWARD_DIR / "overflow_fp16_fp32.safetensors")

    half = load_t5(out, torch.float16)
    wo_dtypes = sorted({str(p.dtype).replace("torch.", "") for n, p in half.named_parameters() if n.endswith("wo.weight")})
    runs = {"transformers_fp16": half,
            "model_half": load_t5(out, torch.float32).half()}
    facts = {
        "inputs": "sample_single's: input_ids [[5, 6, 7, 8, 9, 10, 11, 1]], attention_mask all ones, "
                  "decoder_input_ids [[0, 5, 6]]",
        "scaled_weights": "encoder.block.*.layer.1.DenseReluDense.wo.weight",
        "scale": OVERFLOW_SCALE,
        "fp32": {
            "encoder_ffn_output_max_abs": [r["max_finite_abs"] for r in fp32_seen["ffn"]],
            "encoder_block_output_max_abs": [r["max_finite_abs"] for r in fp32_seen["block"]],
            "logits_max_abs": reference.abs().max().item(),
        },
        "far_means": "max_abs_diff_vs_fp32 > 1% of the fp32 logits' max |x|",
    }
    half_tensors = {}
    for name, run in runs.items():
        logits, seen = probe_encoder(run, inputs)
        finite = bool(torch.isfinite(logits).all())
        diff = (logits.float() - reference).abs().max().item()
        far = diff > 0.01 * facts["fp32"]["logits_max_abs"]
        facts[name] = {
            "how": {"transformers_fp16": "from_pretrained(dir, torch_dtype=torch.float16)",
                    "model_half": "from_pretrained(dir, torch_dtype=torch.float32).half()"}[name],
            "wo_weight_dtypes": wo_dtypes if name == "transformers_fp16" else ["float16"],
            "encoder_ffn_output": seen["ffn"],
            "encoder_block_output": seen["block"],
            "logits_dtype": str(logits.dtype).replace("torch.", ""),
            "logits_has_inf": bool(torch.isinf(logits).any()),
            "logits_has_nan": bool(torch.isnan(logits).any()),
            "max_abs_diff_vs_fp32": diff if finite else None,
            "verdict": ("non-finite" if not finite else
                        "finite but far from fp32" if far else "finite and close to fp32"),
        }
        half_tensors["logits" if name == "transformers_fp16" else "logits_model_half"] = logits
    save_tensors(dict(inputs, decoder_attention_mask=torch.ones_like(inputs["decoder_input_ids"]), **half_tensors),
                 FORWARD_DIR / "overflow_fp16_half.safetensors")
    (FORWARD_DIR / "overflow_fp16.json").write_text(
        json.dumps(facts, indent=2, sort_keys=True, ensure_ascii=True, allow_nan=False) + "\n")


def forward_references() -> None:
    """I. Reference outputs of transformers' own T5ForConditionalGeneration, for
    zoo's Swift T5 forward pass to be checked against: each model loaded from
    its committed checkpoint (A, C) with from_pretrained, fp32, eval mode.

    forward/<case>.safetensors holds the inputs (I64: input_ids, attention_mask,
    decoder_input_ids, decoder_attention_mask -- all ones where the case passes
    none), encoder_last_hidden_state, logits, encoder_/decoder_hidden_states.<i>
    (i = 0 is the embedding output; the last entry is after final_layer_norm)
    and encoder_/decoder_position_bias (compute_bias of the first self-attention
    layer, [1, heads, q, k], without any mask added).  Cases:
      sample_single        the sample, one unpadded sequence (8 -> 3 tokens)
      sample_padded        the sample, PADDED_BATCH (padding on both sides)
      gated_untied_padded  C (gated-gelu, untied lm_head), PADDED_BATCH
      sample_long          the sample, 41 -> 20 tokens: relative distances up to
                           40 / 19 reach the log-spaced buckets (exact buckets
                           cover |d| < 8 bidirectional, d < 16 causal)
    relative_position_buckets.safetensors: T5Attention._relative_position_bucket
    for relative positions -300..300 (beyond max_distance 128 on both sides),
    bidirectional and causal, 32 buckets.

    Float results come from torch's CPU kernels (MKL matmul); the matmul is
    pinned to one thread so the thread count cannot change the summation order,
    but another CPU or MKL version may still differ in the last bits -- compare
    with a tolerance, not bytewise.
    """
    fresh_dir(FORWARD_DIR)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = load_t5(SAMPLE_DIR, torch.float32)
        single = forward_case(model, **SINGLE)
        # Without padding, passing the masks or not must not change a bit.
        assert torch.equal(single["logits"], forward_case(model, **SINGLE, decoder_attention_mask=[[1, 1, 1]])["logits"])
        save_tensors(single, FORWARD_DIR / "sample_single.safetensors")

        padded = forward_case(model, **PADDED_BATCH)
        check_padding_honoured(model, padded)
        save_tensors(padded, FORWARD_DIR / "sample_padded.safetensors")

        long_input = list(range(2, 42)) + [1]
        long_decoder = [0] + list(range(3, 22))
        assert (len(long_input), len(long_decoder)) == (41, 20)
        save_tensors(forward_case(model, [long_input], [long_decoder]), FORWARD_DIR / "sample_long.safetensors")

        gated = load_t5(GATED_DIR, torch.float32)
        assert gated.config.is_gated_act and not gated.config.tie_word_embeddings
        gated_padded = forward_case(gated, **PADDED_BATCH)
        check_padding_honoured(gated, gated_padded)
        save_tensors(gated_padded, FORWARD_DIR / "gated_untied_padded.safetensors")

        relative_position = torch.arange(-300, 301, dtype=torch.long)
        bucket = T5Attention._relative_position_bucket
        save_tensors({
            "relative_position": relative_position,
            "bidirectional": bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128),
            "causal": bucket(relative_position, bidirectional=False, num_buckets=32, max_distance=128),
        }, FORWARD_DIR / "relative_position_buckets.safetensors")

        overflow_fp16()
    finally:
        torch.set_num_threads(threads)


# ---------------------------------------------------------------------------
# J: TensorFlow checkpoints (TensorBundle) with Mesh-TF T5 names, written by
#    TensorFlow itself; what transformers' TF loader makes of them; and a
#    corpus of broken bundles made by patching a small TF-written one
# ---------------------------------------------------------------------------

TF_DIR = FIXTURES / "tf"
TF_EXPECTED = TF_DIR / "expected"
TF_BAD_DIR = FIXTURES / "tf_bad"
MESHTF_STEP = 524288
MESHTF_PREFIX = f"model.ckpt-{MESHTF_STEP}"
# Mesh-TF's AdafactorOptimizer factors the second-moment slot of a variable
# whose two largest dimensions are both >= min_dim_size_to_factor (128 in the
# T5 gins).  The fixtures' dimensions are 4..2048 with d_model 64 / 32, so 128
# would factor nothing; 32 (also what their operative_config.gin says) factors
# every 2-D weight except relative_attention_bias [heads = 4, 32], so all three
# slot kinds (_slot_vr, _slot_vc, _slot_v) occur.
ADAFACTOR_MIN_DIM_SIZE_TO_FACTOR = 32
# TensorFlow's DataType enum (tensorflow/core/framework/types.proto), as far as used here.
TF_DTYPES = {1: "float32", 7: "string", 9: "int64", 14: "bfloat16"}
TABLE_MAGIC = 0xDB4775248B80FB57


def import_tensorflow():
    """TensorFlow, imported by group J only, after every other group has run
    (nothing else runs with it loaded; it is large and brings its own kernels)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # no C++ info/warning logs
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # no oneDNN banner; nothing here computes
    import tensorflow as tf
    return tf


# -- CRC-32C, varints, protobuf, LevelDB tables: enough to read what TF wrote and
#    to write the broken variants.  Checked against TF's own bytes before use.

def _crc32c_table() -> list:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bitwise-reflected, as TF and LevelDB compute it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The stored form: rotated right by 15 bits, plus a constant (mod 2^32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def varint(value: int) -> bytes:
    """Protobuf/LevelDB base-128 varint; negative numbers as 64-bit two's complement (10 bytes)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(data: bytes, pos: int) -> tuple:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def protobuf_fields(data: bytes) -> list:
    """(field number, wire type, value) of a serialized message: varints as
    unsigned ints, length-delimited fields as bytes, fixed32/64 as ints."""
    fields, pos = [], 0
    while pos < len(data):
        tag, pos = read_varint(data, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 2:
            size, pos = read_varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif wire == 5:
            (value,), pos = struct.unpack_from("<I", data, pos), pos + 4
        elif wire == 1:
            (value,), pos = struct.unpack_from("<Q", data, pos), pos + 8
        else:
            raise ValueError(f"wire type {wire}")
        fields.append((field, wire, value))
    assert pos == len(data), "truncated protobuf"
    return fields


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_bundle_header(data: bytes) -> dict:
    """BundleHeaderProto {int32 num_shards = 1; Endianness endianness = 2
    (LITTLE = 0, BIG = 1); VersionDef version = 3 {producer = 1,
    min_consumer = 2, repeated bad_consumers = 3}}, proto3 defaults filled in."""
    header = {"num_shards": 0, "endianness": "LITTLE", "version": {"producer": 0, "min_consumer": 0, "bad_consumers": []}}
    for field, _, value in protobuf_fields(data):
        if field == 1:
            header["num_shards"] = value
        elif field == 2:
            header["endianness"] = {0: "LITTLE", 1: "BIG"}[value]
        elif field == 3:
            for vfield, _, vvalue in protobuf_fields(value):
                key = {1: "producer", 2: "min_consumer", 3: "bad_consumers"}[vfield]
                if key == "bad_consumers":
                    header["version"][key].append(vvalue)
                else:
                    header["version"][key] = vvalue
        else:
            raise ValueError(f"unexpected header field {field}")
    return header


def encode_bundle_header(num_shards: int, producer: int = 1, min_consumer: int = 0) -> bytes:
    """What TF writes for a little-endian bundle: endianness LITTLE is proto3's default, so omitted."""
    version = (varint(1 << 3) + varint(producer)) if producer else b""
    version += (varint(2 << 3) + varint(min_consumer)) if min_consumer else b""
    out = (varint(1 << 3) + varint(num_shards)) if num_shards else b""
    return out + varint(3 << 3 | 2) + varint(len(version)) + version


def decode_bundle_entry(data: bytes) -> dict:
    """BundleEntryProto {DataType dtype = 1; TensorShapeProto shape = 2 {repeated
    Dim dim = 2 {int64 size = 1; string name = 2}}; int32 shard_id = 3; int64
    offset = 4; int64 size = 5; fixed32 crc32c = 6; repeated TensorSliceProto
    slices = 7}."""
    entry = {"dtype": 0, "shape": None, "shard_id": 0, "offset": 0, "size": 0, "crc32c": 0, "slices": []}
    for field, _, value in protobuf_fields(data):
        if field == 1:
            entry["dtype"] = value
        elif field == 2:
            entry["shape"] = [signed64(dict((f, v) for f, _, v in protobuf_fields(dim)).get(1, 0))
                              for f, _, dim in protobuf_fields(value) if f == 2]
        elif field in (3, 4, 5):
            entry[{3: "shard_id", 4: "offset", 5: "size"}[field]] = signed64(value)
        elif field == 6:
            entry["crc32c"] = value
        elif field == 7:
            entry["slices"].append(value)
        else:
            raise ValueError(f"unexpected entry field {field}")
    return entry


def encode_bundle_entry(entry: dict) -> bytes:
    """The inverse of decode_bundle_entry, in TF's field order with proto3's
    zero defaults omitted; the shape is always written (an empty message for a
    scalar), as TF does."""
    dims = b"".join(varint(2 << 3 | 2) + varint(len(d)) + d
                    for d in ((varint(1 << 3) + varint(size)) if size else b"" for size in entry["shape"]))
    out = (varint(1 << 3) + varint(entry["dtype"])) if entry["dtype"] else b""
    out += varint(2 << 3 | 2) + varint(len(dims)) + dims
    for field, key in ((3, "shard_id"), (4, "offset"), (5, "size")):
        if entry[key]:
            out += varint(field << 3) + varint(entry[key])
    if entry["crc32c"]:
        out += varint(6 << 3 | 5) + struct.pack("<I", entry["crc32c"])
    for piece in entry["slices"]:
        out += varint(7 << 3 | 2) + varint(len(piece)) + piece
    return out


def block_contents(entries: list, restart_interval: int) -> bytes:
    """A LevelDB block: entries prefix-compressed against the previous key
    (varint shared, varint non_shared, varint value length, key suffix, value),
    a full key every restart_interval entries, then the restart offsets (u32)
    and their count (u32).  Entries are written in the order given."""
    out, restarts, previous, count = bytearray(), [0], b"", 0
    for key, value in entries:
        if count == restart_interval:
            restarts.append(len(out))
            previous, count = b"", 0
        shared = 0
        while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
            shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        previous, count = key, count + 1
    return bytes(out) + b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))


def stored_block(contents: bytes, kind: int = 0) -> bytes:
    """A block as stored in the file: contents, the compression type byte, and
    the masked CRC-32C of contents + type."""
    return contents + bytes([kind]) + struct.pack("<I", masked_crc32c(contents + bytes([kind])))


def short_successor(key: bytes) -> bytes:
    """LevelDB's BytewiseComparator::FindShortSuccessor: the index key after the last block."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def snappy_literals(data: bytes) -> bytes:
    """A valid Snappy stream holding `data` as literals only (no copies): the
    uncompressed length as a varint, then literal elements of at most 64 KiB."""
    out = bytearray(varint(len(data)))
    for start in range(0, len(data), 65536):
        chunk = data[start:start + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
    return bytes(out)


def sstable(entries: list, compressed: bool = False, data_handle: bytes = None) -> bytes:
    """A table the way TF's table::TableBuilder writes a small checkpoint index
    (everything fits its 256 KiB data block): one data block (restart interval
    16), an empty metaindex block, an index block (restart interval 1) whose one
    entry maps the short successor of the last key to the data block's handle,
    and the 48-byte footer (two handles padded to 40 bytes, the magic number).
    compressed: store the data block Snappy-compressed (type 1) with a correct
    CRC; data_handle: write this handle in the index block instead of the real one."""
    data = block_contents(entries, 16)
    stored = snappy_literals(data) if compressed else data
    out = stored_block(stored, 1 if compressed else 0)
    handle = varint(0) + varint(len(stored))
    metaindex = block_contents([], 16)
    metaindex_handle = varint(len(out)) + varint(len(metaindex))
    out += stored_block(metaindex)
    index = block_contents([(short_successor(entries[-1][0]), data_handle or handle)], 1)
    index_handle = varint(len(out)) + varint(len(index))
    out += stored_block(index)
    return out + (metaindex_handle + index_handle).ljust(40, b"\0") + struct.pack("<Q", TABLE_MAGIC)


def read_block(data: bytes, offset: int, size: int) -> list:
    """(key, value) pairs of one uncompressed block of a valid table (CRC checked)."""
    contents, kind = data[offset:offset + size], data[offset + size]
    (crc,) = struct.unpack_from("<I", data, offset + size + 1)
    assert kind == 0 and crc == masked_crc32c(contents + bytes([kind])), f"block at {offset}"
    (restarts,) = struct.unpack_from("<I", contents, size - 4)
    limit, pos, key, entries = size - 4 * (restarts + 1), 0, b"", []
    while pos < limit:
        shared, pos = read_varint(contents, pos)
        non_shared, pos = read_varint(contents, pos)
        length, pos = read_varint(contents, pos)
        key = key[:shared] + contents[pos:pos + non_shared]
        pos += non_shared
        entries.append((key, contents[pos:pos + length]))
        pos += length
    return entries


def read_table(data: bytes) -> tuple:
    """(entries, data block handles) of a valid table."""
    (magic,) = struct.unpack_from("<Q", data, len(data) - 8)
    assert magic == TABLE_MAGIC
    footer = data[-48:]
    _, pos = read_varint(footer, 0)
    _, pos = read_varint(footer, pos)
    index_offset, pos = read_varint(footer, pos)
    index_size, pos = read_varint(footer, pos)
    entries, handles = [], []
    for _, handle in read_block(data, index_offset, index_size):
        offset, pos = read_varint(handle, 0)
        size, _ = read_varint(handle, pos)
        handles.append((offset, size))
        entries += read_block(data, offset, size)
    return entries, handles


def read_bundle(prefix: Path) -> tuple:
    """(header, {name: entry}, data block handles) of a TF-written bundle, each
    tensor's bytes checked against its entry's masked CRC-32C (so these helpers
    agree with TF on every field they are later used to forge)."""
    index = Path(f"{prefix}.index").read_bytes()
    entries, handles = read_table(index)
    assert len(handles) == 1 and sstable(entries) == index, "sstable() no longer writes what TF writes"
    assert entries[0][0] == b"", "the header key '' must come first"
    header = decode_bundle_header(entries[0][1])
    tensors = {}
    shards = [Path(f"{prefix}.data-{i:05d}-of-{header['num_shards']:05d}").read_bytes()
              for i in range(header["num_shards"])]
    for key, value in entries[1:]:
        entry = decode_bundle_entry(value)
        assert encode_bundle_entry(entry) == value, f"entry encoding differs from TF's for {key!r}"
        if not entry["slices"]:
            raw = shards[entry["shard_id"]][entry["offset"]:entry["offset"] + entry["size"]]
            assert len(raw) == entry["size"] and masked_crc32c(raw) == entry["crc32c"], key
        tensors[key.decode("latin-1")] = entry
    return header, tensors, handles


# -- Mesh-TF checkpoints of the HF fixtures.

def meshtf_name(hf_name: str) -> tuple:
    """(Mesh-TF variable name, whether it is stored transposed) for an HF T5
    tensor name: kernels are [in, out] in Mesh-TF, [out, in] in torch."""
    if hf_name == "shared.weight":
        return "shared/embedding", False
    if hf_name == "lm_head.weight":
        return "decoder/logits/kernel", True
    match = re.fullmatch(r"(encoder|decoder)\.final_layer_norm\.weight", hf_name)
    if match:
        return f"{match[1]}/final_layer_norm/scale", False
    match = re.fullmatch(r"(encoder|decoder)\.block\.(\d+)\.layer\.(\d+)\.(.+)\.weight", hf_name)
    assert match, f"no Mesh-TF name for {hf_name}"
    layer = f"{match[1]}/block_{int(match[2]):03d}/layer_{int(match[3]):03d}"
    if match[4] == "layer_norm":
        return f"{layer}/layer_norm/scale", False
    module, param = match[4].split(".")
    if module in ("SelfAttention", "EncDecAttention"):
        return f"{layer}/{module}/{param}", True
    assert module == "DenseReluDense" and param in ("wi", "wo", "wi_0", "wi_1"), hf_name
    return f"{layer}/{module}/{param}/kernel", True


def adafactor_slots(shape: tuple) -> list:
    """(suffix, shape) of the slot variables Mesh-TF's AdafactorOptimizer
    (beta1 = 0: no _slot_m) keeps for a variable of `shape`.  Factored when the
    second-largest dimension is >= min_dim_size_to_factor: _slot_vr drops the
    largest dimension (d0), _slot_vc the second largest (d1), ties broken by
    dimension order (mtf sorts with Python's stable sort).  Otherwise one
    _slot_v of the variable's shape (vectors, scalars, small matrices)."""
    if len(shape) < 2:
        return [("_slot_v", tuple(shape))]
    d0, d1 = sorted(range(len(shape)), key=lambda i: -shape[i])[:2]
    if shape[d1] < ADAFACTOR_MIN_DIM_SIZE_TO_FACTOR:
        return [("_slot_v", tuple(shape))]
    return [("_slot_vr", tuple(s for i, s in enumerate(shape) if i != d0)),
            ("_slot_vc", tuple(s for i, s in enumerate(shape) if i != d1))]


def bf16_array(tensor: torch.Tensor, bfloat16) -> np.ndarray:
    """torch's fp32 -> bf16 cast (round to nearest even), as a numpy array of
    TF's bfloat16 type (ml_dtypes)."""
    return tensor.to(torch.bfloat16).contiguous().view(torch.int16).numpy().view(bfloat16)


def meshtf_variables(tf, hf_checkpoint: Path) -> tuple:
    """(variables, mapping).  variables: Mesh-TF name -> numpy value, in this
    order: the weights of an HF model.safetensors as Mesh-TF stores them
    ([in, out], bfloat16: get_variable_dtype's master_dtype), their Adafactor
    slots (float32; deterministic positive values, as second moments are), and
    global_step (int64 scalar).  mapping: weight name -> (HF name, transposed)."""
    variables, mapping = {}, {}
    for hf_name, tensor in load_file(hf_checkpoint).items():
        name, transposed = meshtf_name(hf_name)
        variables[name] = bf16_array(tensor.t() if transposed else tensor, tf.bfloat16.as_numpy_dtype)
        mapping[name] = (hf_name, transposed)
        # TF's own cast rounds the same way (both round to nearest even).
        cast = tf.cast(tf.constant((tensor.t() if transposed else tensor).contiguous().numpy()), tf.bfloat16).numpy()
        assert cast.tobytes() == variables[name].tobytes(), f"tf.cast to bfloat16 differs from torch for {name}"
    rng = np.random.default_rng(MESHTF_STEP)
    for name in list(variables):
        for suffix, shape in adafactor_slots(variables[name].shape):
            variables[name + suffix] = (rng.random(shape, dtype=np.float32) * np.float32(1e-3)).astype(np.float32)
    variables["global_step"] = np.array(MESHTF_STEP, dtype=np.int64)
    return variables, mapping


def balanced_placement(variables: dict, num_shards: int) -> dict:
    """Variable -> device (= data shard) index: each variable, in order, onto the
    device holding the fewest bytes so far (as Mesh-TF's balanced variable
    placer spreads variables over the hosts); global_step on device 0."""
    loads, placement = [0] * num_shards, {}
    for name, value in variables.items():
        device = 0 if name == "global_step" else min(range(num_shards), key=lambda i: (loads[i], i))
        placement[name] = device
        loads[device] += value.nbytes
    return placement


def write_tf_checkpoint(tf, directory: Path, variables: dict, placement: dict, num_shards: int,
                        step=None) -> Path:
    """Save `variables` (name -> numpy value) with tf.compat.v1.train.Saver, in
    a graph, each variable pinned to /device:CPU:<placement>, in a session with
    num_shards CPU devices.  Saver(sharded=True) writes one data file per
    device (shard i = CPU:i: it sorts the devices) and merges their indexes into
    one; the dict's keys are the checkpoint keys, exactly (no object graph:
    that is tf.train.Checkpoint's).  No .meta graph is written; the
    `checkpoint` file names the prefix relatively (save_relative_paths)."""
    graph = tf.Graph()
    with graph.as_default():
        tf_variables = {}
        for name, value in variables.items():
            with tf.device(f"/device:CPU:{placement[name]}"):
                tf_variables[name] = tf.compat.v1.Variable(value, name=name, trainable=False)
        saver = tf.compat.v1.train.Saver(var_list=tf_variables, sharded=num_shards > 1,
                                         save_relative_paths=True, max_to_keep=None)
        config = tf.compat.v1.ConfigProto(device_count={"CPU": num_shards}, inter_op_parallelism_threads=1,
                                          intra_op_parallelism_threads=1)
        with tf.compat.v1.Session(graph=graph, config=config) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            prefix = saver.save(session, str(directory / "model.ckpt"), global_step=step, write_meta_graph=False)
    prefix = Path(prefix)
    assert prefix.parent == directory
    reader = tf.train.load_checkpoint(str(prefix))
    assert sorted(reader.get_variable_to_shape_map()) == sorted(variables)
    for name, value in variables.items():
        stored = reader.get_tensor(name)
        assert stored.dtype == value.dtype and stored.shape == value.shape and stored.tobytes() == value.tobytes(), name
    return prefix


def operative_config(config: T5Config, min_dim_size_to_factor: int) -> str:
    """operative_config.gin as a Mesh-TF T5 run writes it (the gin library's
    operative-config format: imports, macros, then one section per
    configurable, sorted, scoped ones as scope/Name), trimmed to what defines
    the model and its checkpoint.  Relu models: DenseReluDense.activation =
    'relu'; gated-GELU (T5 v1.1): ['gelu', 'linear'], whose two input kernels
    Mesh-TF names wi_0, wi_1.  Tied embeddings: Bitransformer.shared_embedding
    (encoder and decoder share shared/embedding) plus
    Unitransformer.shared_embedding_and_softmax_weights = True (no
    decoder/logits/kernel); untied: the latter False."""
    gated = config.is_gated_act
    assert config.dense_act_fn == ("gelu_new" if gated else "relu")
    activation = "['gelu', 'linear']" if gated else "'relu'"
    tied = config.tie_word_embeddings
    assert config.relative_attention_num_buckets == 32 and config.relative_attention_max_distance == 128
    rule = "# " + "=" * 78

    def section(name: str, *lines: str) -> str:
        return f"# Parameters for {name}:\n{rule}\n" + "\n".join(lines) + "\n"

    def layers(stack: str, *kinds: str) -> str:
        names = [f"@mesh_tensorflow.transformer.transformer_layers.{kind}" for kind in kinds]
        return f"{stack}/make_layer_stack.layers = \\\n    [" + ",\n     ".join(names) + "]"

    def per_stack(name: str, *lines: str) -> list:
        return [section(f"{stack}/{name}", *(f"{stack}/{name}.{line}" for line in lines))
                for stack in ("decoder", "encoder")]

    sections = [
        "# zoo test fixture (Scripts/make-fixtures.py): a Mesh-TF T5 run's operative config,\n"
        "# trimmed to the settings that define the model.  Like a real one it does not state\n"
        f"# the vocabulary size: that is the first dimension of shared/embedding (here {config.vocab_size}),\n"
        "# the SentencePiece vocabulary's size padded up to a multiple of vocab_divisor.\n"
        "import mesh_tensorflow.optimize\n"
        "import mesh_tensorflow.transformer.dataset\n"
        "import mesh_tensorflow.transformer.learning_rate_schedules\n"
        "import mesh_tensorflow.transformer.transformer\n"
        "import mesh_tensorflow.transformer.transformer_layers\n"
        "import mesh_tensorflow.transformer.utils\n"
        "import t5.models.mesh_transformer\n",
        f"# Macros:\n{rule}\n"
        f"d_ff = {config.d_ff}\n"
        f"d_kv = {config.d_kv}\n"
        f"d_model = {config.d_model}\n"
        f"dropout_rate = {config.dropout_rate}\n"
        f"num_heads = {config.num_heads}\n"
        f"num_layers = {config.num_decoder_layers}\n",
        section("AdafactorOptimizer",
                "AdafactorOptimizer.beta1 = 0.0",
                "AdafactorOptimizer.clipping_threshold = 1.0",
                "AdafactorOptimizer.decay_rate = None",
                "AdafactorOptimizer.epsilon1 = 1e-30",
                "AdafactorOptimizer.epsilon2 = 0.001",
                "AdafactorOptimizer.factored = True",
                f"AdafactorOptimizer.min_dim_size_to_factor = {min_dim_size_to_factor}",
                "AdafactorOptimizer.multiply_by_parameter_scale = True"),
        section("Bitransformer", "Bitransformer.shared_embedding = True"),
        *per_stack("DenseReluDense", f"activation = {activation}", "dropout_rate = %dropout_rate",
                   "hidden_size = %d_ff", "use_bias = False"),
        section("decoder/EncDecAttention", "decoder/EncDecAttention.relative_attention_type = None"),
        section("get_variable_dtype", "get_variable_dtype.activation_dtype = 'bfloat16'"),
        *per_stack("LayerStack", "dropout_rate = %dropout_rate", f"norm_epsilon = {config.layer_norm_epsilon}",
                   "recompute_grads = False"),
        section("make_bitransformer", "make_bitransformer.decoder_name = 'decoder'",
                "make_bitransformer.encoder_name = 'encoder'"),
        section("decoder/make_layer_stack", "decoder/make_layer_stack.block_scope = True",
                layers("decoder", "SelfAttention", "EncDecAttention", "DenseReluDense"),
                "decoder/make_layer_stack.num_layers = %num_layers"),
        section("encoder/make_layer_stack", "encoder/make_layer_stack.block_scope = True",
                layers("encoder", "SelfAttention", "DenseReluDense"),
                f"encoder/make_layer_stack.num_layers = {config.num_layers}"),
        section("run", "run.autostack = True", "run.model_type = 'bitransformer'",
                "run.optimizer = @optimize.AdafactorOptimizer", "run.save_checkpoints_steps = 5000",
                f"run.train_steps = {MESHTF_STEP}"),
        *per_stack("SelfAttention", "attention_func = None", "attention_kwargs = None", "combine_dims = True",
                   "dropout_rate = %dropout_rate", "keep_query_heads_dims = False", "key_value_size = %d_kv",
                   "num_heads = %num_heads", "num_memory_heads = 0",
                   f"relative_attention_num_buckets = {config.relative_attention_num_buckets}",
                   "relative_attention_type = 'bias_shared'", "shared_kv = False"),
        *per_stack("Unitransformer", "d_model = %d_model", "ensemble = None", "input_full_attention = False",
                   "label_smoothing = 0.0", "loss_denominator = None", "loss_fn = None",
                   "loss_on_targets_only = False", "max_length = 512", "positional_embedding = False",
                   f"shared_embedding_and_softmax_weights = {tied}", "sinusoid_positional_embedding = False",
                   "token_dropout_rate = 0.0", "vocab_divisor = 128", "z_loss = 0.0001"),
    ]
    # The two sections per_stack() makes come out decoder first, as gin sorts
    # scopes; the sections themselves are in gin's order (by configurable name,
    # case-insensitively).
    assert config.vocab_size % 128 == 0, "Mesh-TF pads the vocabulary to a multiple of vocab_divisor"
    return "\n".join(sections)


def capture_t5_loader_log():
    """A logging handler collecting the INFO messages of transformers' T5
    module (load_tf_weights_in_t5 logs what it skips and what it leaves),
    installed with propagation off so nothing is printed."""
    class Collect(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    logger = logging.getLogger("transformers.models.t5.modeling_t5")
    handler = Collect()
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def restore():
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    return handler.messages, restore


def tf_expected(tf, name: str, config: T5Config, prefix: Path, hf_checkpoint: Path, mapping: dict,
                bundle: tuple) -> None:
    """expected/<name>.safetensors: what transformers' own TF -> PyTorch path
    (convert_t5_original_tf_checkpoint_to_pytorch.py) makes of the checkpoint:
    T5ForConditionalGeneration(config), load_tf_weights_in_t5, save_pretrained
    (safetensors; tied aliases of shared.weight are not stored).  The loader
    casts every array to float32 (bf16 -> fp32 is exact), so the result is the
    HF fixture's weights rounded to bf16, as float32.
    expected/<name>.json: the loader's report (what it skipped, what it left),
    which TF variable became which HF tensor, and the bundle as TF wrote it
    (header, and every entry's dtype, shape, shard, offset, size)."""
    from transformers.models.t5.modeling_t5 import load_tf_weights_in_t5

    seed_everything(0)
    model = T5ForConditionalGeneration(config).eval()
    messages, restore = capture_t5_loader_log()
    try:
        load_tf_weights_in_t5(model, config, str(prefix))
    finally:
        restore()
    skipped = [m.removeprefix("Skipping ") for m in messages if m.startswith("Skipping ")]
    (left,) = [m for m in messages if m.startswith("Weights not copied to PyTorch model: ")]
    left = left.removeprefix("Weights not copied to PyTorch model: ").removesuffix(".")
    not_copied = left.split(", ") if left else []

    # Every parameter came from the checkpoint: equal to the HF fixture's
    # weights rounded to bf16 (nothing left at its random initial value).
    source = load_file(hf_checkpoint)
    state = model.state_dict()
    for hf_name, tensor in source.items():
        assert state[hf_name].dtype == torch.float32
        assert torch.equal(state[hf_name], tensor.to(torch.bfloat16).float()), f"{hf_name} not loaded"
    tied = sorted(n for n in state if n not in source)
    for alias in tied:
        assert state[alias].data_ptr() == state["shared.weight"].data_ptr(), alias

    out = TF_EXPECTED / f"{name}.safetensors"
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        shutil.copyfile(Path(tmp) / "model.safetensors", out)
    assert sorted(load_file(out)) == sorted(source)

    header, entries, handles = bundle
    reader = tf.train.load_checkpoint(str(prefix))
    tf_dtypes = {n: d.name for n, d in reader.get_variable_to_dtype_map().items()}
    info = {
        "checkpoint": str(prefix.relative_to(TF_DIR)),
        "made_by": f"transformers {transformers.__version__}: T5ForConditionalGeneration(config), "
                   "load_tf_weights_in_t5(model, config, checkpoint), save_pretrained(safe_serialization=True); "
                   f"tensorflow {tf.__version__}",
        "hf_dtype": "float32",
        "loaded": {tf_name: {"hf": hf_name, "transposed": transposed, "tf_dtype": tf_dtypes[tf_name],
                             "tf_shape": entries[tf_name]["shape"], "hf_shape": list(state[hf_name].shape)}
                   for tf_name, (hf_name, transposed) in sorted(mapping.items())},
        "skipped": skipped,
        "not_copied": not_copied,
        "tied_not_stored": tied,
        "bundle": {
            "header": header,
            "index_data_blocks": len(handles),
            "entries": {key: {"dtype": TF_DTYPES[e["dtype"]], "shape": e["shape"], "shard_id": e["shard_id"],
                              "offset": e["offset"], "size": e["size"]} for key, e in entries.items()},
        },
    }
    (TF_EXPECTED / f"{name}.json").write_text(json.dumps(info, indent=2) + "\n")


def tf_meshtf(tf, name: str, hf_dir: Path, num_shards: int) -> None:
    """J1, J2.  An HF fixture as the original Mesh-TF T5 checkpoints look:
    tf/<name>/model.ckpt-524288.{index,data-0000K-of-0000N} + checkpoint +
    operative_config.gin, written by TensorFlow's Saver, plus what transformers'
    loader reads from it (tf_expected)."""
    config = T5Config.from_pretrained(hf_dir)
    out = fresh_dir(TF_DIR / name)
    variables, mapping = meshtf_variables(tf, hf_dir / "model.safetensors")
    placement = balanced_placement(variables, num_shards)
    prefix = write_tf_checkpoint(tf, out, variables, placement, num_shards, step=MESHTF_STEP)
    assert prefix.name == MESHTF_PREFIX
    assert (out / "checkpoint").read_text() == (f'model_checkpoint_path: "{MESHTF_PREFIX}"\n'
                                                f'all_model_checkpoint_paths: "{MESHTF_PREFIX}"\n')
    (out / "operative_config.gin").write_text(operative_config(config, ADAFACTOR_MIN_DIM_SIZE_TO_FACTOR))
    shards = [f"{MESHTF_PREFIX}.data-{i:05d}-of-{num_shards:05d}" for i in range(num_shards)]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["checkpoint", "operative_config.gin", f"{MESHTF_PREFIX}.index", *shards])
    bundle = read_bundle(prefix)
    header, entries, _ = bundle
    assert header == {"num_shards": num_shards, "endianness": "LITTLE",
                      "version": {"producer": 1, "min_consumer": 0, "bad_consumers": []}}, header
    assert sorted(entries) == sorted(variables)
    assert all(entries[n]["shard_id"] == placement[n] for n in variables), "Saver's shard order is not the device order"
    tf_expected(tf, name, config, prefix, hf_dir / "model.safetensors", mapping, bundle)


# -- J3: broken bundles.

def tf_bad_files(tf) -> None:
    """J3.  Malformed TensorFlow checkpoints, each a prefix tf_bad/<case>/model.ckpt
    (.index + .data-0000K-of-0000N).  All but one are the valid two-shard bundle
    in tf_bad/valid/ (written by TF's Saver; not in the manifest) with one
    defect patched in: CRCs are recomputed wherever the defect is not the CRC
    itself, so each case isolates one error.  The exception, sliced_entry, is a
    bundle TF itself writes for a partitioned variable.  None is ever loaded with
    TF.  manifest.json maps case directory -> {"error": <case>, "why": <sentence>}."""
    out = fresh_dir(TF_BAD_DIR)
    bfloat16 = tf.bfloat16.as_numpy_dtype
    variables = {
        "encoder/final_layer_norm/scale": np.array([1.0, 0.5], dtype=bfloat16),
        "encoder/final_layer_norm/scale_slot_v": np.array([0.25, 0.125], dtype=np.float32),
        "global_step": np.array(MESHTF_STEP, dtype=np.int64),
        "shared/embedding": np.arange(8, dtype=np.float32).reshape(4, 2).astype(bfloat16),
    }
    placement = {"encoder/final_layer_norm/scale": 0, "encoder/final_layer_norm/scale_slot_v": 1,
                 "global_step": 1, "shared/embedding": 0}
    valid_dir = fresh_dir(out / "valid")
    prefix = write_tf_checkpoint(tf, valid_dir, variables, placement, 2)
    (valid_dir / "checkpoint").unlink()
    header, entries, _ = read_bundle(prefix)
    assert header["num_shards"] == 2
    index = Path(f"{prefix}.index").read_bytes()
    shard_names = [f"model.ckpt.data-0000{i}-of-00002" for i in range(2)]
    shards = [(valid_dir / n).read_bytes() for n in shard_names]
    table, handles = read_table(index)
    assert table[0] == (b"", encode_bundle_header(2))
    keys = [k for k, _ in table]
    assert keys == [b"", b"encoder/final_layer_norm/scale", b"encoder/final_layer_norm/scale_slot_v",
                    b"global_step", b"shared/embedding"], keys
    values = dict(table)
    data_size = handles[0][1]
    cases = {}

    def case(name, error, why, index_bytes=index, data=None, missing=()):
        directory = fresh_dir(out / name)
        (directory / "model.ckpt.index").write_bytes(index_bytes)
        for i, shard in enumerate(data or shards):
            if i not in missing:
                (directory / shard_names[i]).write_bytes(shard)
        cases[name] = {"error": error, "why": why}

    def with_entry(key: bytes, **changes) -> list:
        entry = decode_bundle_entry(values[key])
        entry.update(changes)
        return [(k, encode_bundle_entry(entry) if k == key else v) for k, v in table]

    def replaced(data: bytes, offset: int, new: bytes) -> bytes:
        return data[:offset] + new + data[offset + len(new):]

    def reblocked(data: bytes, offset: int, new: bytes) -> bytes:
        """The index with bytes of the data block replaced and the block's CRC recomputed."""
        patched = replaced(data, offset, new)
        return replaced(patched, data_size + 1, struct.pack("<I", masked_crc32c(patched[:data_size + 1])))

    # -- The table (the .index file).
    at = index.index(b"global_step") + len("global_st")
    case("bad_block_checksum", "badBlockChecksum",
         "One byte of the data block is changed (the key 'global_step' becomes 'global_stop', still in "
         "order) and the block's stored masked CRC-32C is not updated.",
         replaced(index, at, b"o"))
    crc_at = len(index) - 48 - 4  # the index block is the last one before the footer
    (index_crc,) = struct.unpack_from("<I", index, crc_at)
    case("bad_index_block_checksum", "badBlockChecksum",
         "The index block's stored masked CRC-32C has its lowest bit flipped; every block's contents are intact.",
         replaced(index, crc_at, struct.pack("<I", index_crc ^ 1)))
    case("bad_footer_magic", "badFooterMagic",
         "The last byte of the footer's magic number 0xdb4775248b80fb57 is 0xdc instead of 0xdb.",
         index[:-1] + b"\xdc")
    case("too_small", "tooSmall",
         "The index is only its valid version's last 40 bytes: shorter than the 48-byte footer.",
         index[-40:])
    footer = index[-48:]
    pos = read_varint(footer, read_varint(footer, 0)[1])[1]
    index_offset, _ = read_varint(footer, pos)
    far = len(index) + 1000
    case("index_handle_past_eof", "blockHandleOutOfBounds",
         f"The footer's index-block handle says {far} bytes at offset {index_offset}, past the end of the "
         f"{len(index)}-byte file.",
         index[:-48] + (footer[:pos] + varint(index_offset) + varint(far)).ljust(40, b"\0") + footer[40:])
    case("index_handle_overflows", "blockHandleOutOfBounds",
         "The footer's index-block handle says 2 bytes at offset 2^64 - 1 (a 10-byte varint): offset plus "
         "size overflows 64 bits (the error message once trapped adding them).",
         index[:-48] + (footer[:pos] + varint((1 << 64) - 1) + varint(2)).ljust(40, b"\0") + footer[40:])
    case("data_block_handle_past_eof", "blockHandleOutOfBounds",
         "The index block maps the data block to offset 0, size 1 MiB (past the end of the file); the index "
         "block's CRC matches the changed handle.",
         sstable(table, data_handle=varint(0) + varint(1 << 20)))
    previous = b"encoder/final_layer_norm/scale"
    at = index.index(b"_slot_v") - 3  # varint shared (30), varint non_shared, varint value length
    assert index[at] == len(previous) == 30 and index[at + 1] == len(b"_slot_v")
    case("shared_prefix_too_long", "sharedPrefixTooLong",
         "The entry after 'encoder/final_layer_norm/scale' (30 bytes) claims to share 31 bytes with it; "
         "the block's CRC is recomputed.",
         reblocked(index, at, bytes([31])))
    at = data_size - 4
    assert struct.unpack_from("<I", index, at)[0] == 1
    case("malformed_block", "malformedBlock",
         "The data block's restart count (its last u32) is 1000: the restart array would be 4000 bytes, more "
         f"than the {data_size}-byte block; the block's CRC is recomputed.",
         reblocked(index, at, struct.pack("<I", 1000)))
    swapped = [table[0], table[1], table[2], table[4], table[3]]
    case("unsorted_keys", "unsortedKeys",
         "'shared/embedding' comes before 'global_step' in the data block; every CRC is valid.",
         sstable(swapped))
    case("duplicate_key", "unsortedKeys",
         "The entry 'global_step' appears twice in a row (same value): keys must be strictly increasing; "
         "every CRC is valid.",
         sstable(table[:4] + [table[3]] + table[4:]))
    case("compressed_block", "compressedBlock",
         "The data block is stored Snappy-compressed (compression type 1; a valid Snappy stream of literals "
         "that decompresses to the original block) with a correct CRC; TF writes checkpoint indexes "
         "uncompressed.",
         sstable(table, compressed=True))

    # -- The bundle header (key "").
    case("num_shards_2_31", "invalidHeader",
         "The header's num_shards is 2^31 (varint 80 80 80 80 08): as an int32 it is negative, as an "
         "unsigned count 2 billion data files; the data block's CRC is valid.",
         sstable([(b"", encode_bundle_header(1 << 31))] + table[1:]))
    case("num_shards_zero", "invalidHeader",
         "The header has no num_shards (proto3's default, 0), yet the entries name shards 0 and 1.",
         sstable([(b"", encode_bundle_header(0))] + table[1:]))
    case("unsupported_version", "unsupportedVersion",
         "The header's version is {producer: 1, min_consumer: 2}: the bundle needs a reader of format "
         "version 2 or later (TF's is 1, and TF refuses it).",
         sstable([(b"", encode_bundle_header(2, min_consumer=2))] + table[1:]))
    case("missing_header", "missingHeader",
         "The table has no entry with the empty key, so no BundleHeaderProto (num_shards, endianness, version).",
         sstable(table[1:]))

    # -- Entries (BundleEntryProto values).
    truncated = values[b"shared/embedding"][:-2]
    case("truncated_entry", "invalidEntry",
         "The value of 'shared/embedding' is cut 2 bytes short, in the middle of its fixed32 crc32c field.",
         sstable(table[:4] + [(b"shared/embedding", truncated)]))
    embedding = entries["shared/embedding"]
    case("entry_size_mismatch", "entrySizeMismatch",
         f"'shared/embedding' is bfloat16 [4, 2] (16 bytes) but its entry says size 14 (crc32c of those 14 "
         "bytes, so only the size check catches it).",
         sstable(with_entry(b"shared/embedding", size=14,
                            crc32c=masked_crc32c(shards[0][embedding["offset"]:embedding["offset"] + 14]))))
    case("string_dtype", "unsupportedDType",
         "'global_step' has dtype DT_STRING (7) instead of DT_INT64 (9); shape, size and CRC are unchanged.",
         sstable(with_entry(b"global_step", dtype=7)))
    case("shard_id_out_of_range", "shardIdOutOfRange",
         "'global_step' is in shard 2, but the header says num_shards 2 (shards 0 and 1).",
         sstable(with_entry(b"global_step", shard_id=2)))
    step = entries["global_step"]
    assert step["shard_id"] == 1 and step["offset"] + step["size"] == len(shards[1])
    case("entry_out_of_bounds", "entryOutOfBounds",
         f"'global_step' (8 bytes) is at offset {len(shards[1]) - 4} of the {len(shards[1])}-byte shard 1, so "
         "it runs 4 bytes past the end.",
         sstable(with_entry(b"global_step", offset=len(shards[1]) - 4)))
    case("entry_offset_negative", "entryOutOfBounds",
         "'global_step' has offset -8 (a 10-byte varint, as protobuf writes negative int64s).",
         sstable(with_entry(b"global_step", offset=-8)))
    case("truncated_shard", "entryOutOfBounds",
         "Shard 1 is cut 4 bytes short, inside 'global_step', the last tensor in it; the index is intact.",
         data=[shards[0], shards[1][:-4]])
    offset = embedding["offset"]
    case("bad_tensor_checksum", "badTensorChecksum",
         "The first byte of 'shared/embedding''s data in shard 0 has its lowest bit flipped; its entry's "
         "crc32c is unchanged.",
         data=[replaced(shards[0], offset, bytes([shards[0][offset] ^ 1])), shards[1]])
    case("missing_shard", "missingShard",
         "model.ckpt.data-00001-of-00002 is absent; the header says 2 shards and two entries are in shard 1.",
         missing=(1,))

    # -- A bundle TF writes for a partitioned variable: the full tensor's entry
    # lists its slices, whose data sit under separate binary keys.
    directory = fresh_dir(out / "sliced_entry")
    graph = tf.Graph()
    with graph.as_default():
        weight = tf.compat.v1.get_variable("w", initializer=tf.constant(np.arange(8, dtype=np.float32).reshape(4, 2)),
                                           partitioner=tf.compat.v1.fixed_size_partitioner(2))
        saver = tf.compat.v1.train.Saver(var_list={"w": weight}, save_relative_paths=True)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(directory / "model.ckpt"), write_meta_graph=False)
    (directory / "checkpoint").unlink()
    _, sliced, _ = read_bundle(directory / "model.ckpt")
    assert len(sliced["w"]["slices"]) == 2 and len(sliced) == 3, sliced
    cases["sliced_entry"] = {
        "error": "slicedEntry",
        "why": "Written by TF's Saver for a variable 'w' [4, 2] float32 split in two by fixed_size_partitioner: "
               "the entry 'w' has no data but two `slices` ([0:2, :] and [2:4, :]), stored under two binary "
               "keys (TF's EncodeTensorNameSlice: '\\x00w\\x00...') that sort before 'w'; one shard.",
    }

    for name in cases:
        assert sum(f.stat().st_size for f in (out / name).iterdir()) < 10_000
    assert len(cases) >= 12
    write_manifest(out / "manifest.json", cases)


def tf_checkpoints() -> None:
    """J.  See tf_meshtf and tf_bad_files."""
    tf = import_tensorflow()
    fresh_dir(TF_DIR)
    TF_EXPECTED.mkdir()
    tf_meshtf(tf, "sample_meshtf", SAMPLE_DIR, num_shards=4)        # J1
    tf_meshtf(tf, "gated_untied_meshtf", GATED_DIR, num_shards=2)   # J2
    tf_bad_files(tf)                                                # J3


def torch_compat() -> None:
    """G8. Files torch 2.13 writes (or loads) that the plain cases above do not
    cover, each checked to load back in torch as saved and given expected values:
      dtypes_v3.bin      uint16/32/64 and float8 (e4m3fn, e5m2): torch saves these
                         through _rebuild_tensor_v3 + torch.storage.UntypedStorage
                         (counted in bytes) + the dtype object
      expanded.bin       expand() views: strides (0, 1) and (0,) over small storages
      no_crc.bin         saved with torch.serialization.set_crc32_options(False):
                         every member's stored CRC-32 is 0
      legacy_proto4.bin  the legacy (pre-1.6) layout pickled with protocol 4 and 5
      legacy_proto5.bin  (FRAME opcodes, SHORT_BINUNICODE, MEMOIZE); legacy storage keys
                         are memory addresses, so a rerun rewrites these two files
                         (their expected values stay the same)
      big_endian.bin     a small state dict as a big-endian machine saves it: the
                         byteorder record says 'big' and every storage's elements are
                         byte-swapped (built from torch's own little-endian file and
                         its members re-zipped 64-byte aligned; torch.load swaps it
                         back, asserted)."""
    generator = torch.Generator().manual_seed(8)
    save_and_expect(collections.OrderedDict(
        u16=torch.tensor([0, 1, 65535, 40000], dtype=torch.int32).to(torch.uint16),
        u32=torch.tensor([0, 1, 4294967295, 3000000000], dtype=torch.int64).to(torch.uint32),
        u64=torch.tensor([0, 1, 2**63 - 1, 12345678901234], dtype=torch.int64).to(torch.uint64),
        f8e4m3=(torch.randn(3, 4, generator=generator) * 8).to(torch.float8_e4m3fn),
        f8e5m2=(torch.randn(3, 4, generator=generator) * 8).to(torch.float8_e5m2),
    ), "dtypes_v3")

    save_and_expect(collections.OrderedDict(
        rows=torch.arange(4, dtype=torch.float32).expand(3, 4),
        scalar=torch.tensor(2.5).expand(5),
        plain=torch.arange(6, dtype=torch.int64),
    ), "expanded")
    assert torch_load(TORCH_DIR / "expanded.bin")["rows"].stride() == (0, 1)

    torch.serialization.set_crc32_options(False)
    try:
        save_and_expect(views_dict(), "no_crc")
    finally:
        torch.serialization.set_crc32_options(True)
    with zipfile.ZipFile(TORCH_DIR / "no_crc.bin") as archive:
        assert all(info.CRC == 0 for info in archive.infolist())

    for protocol in (4, 5):
        name = f"legacy_proto{protocol}"
        state = collections.OrderedDict(a=torch.arange(6, dtype=torch.float32).reshape(2, 3),
                                        b=torch.tensor([1, -2], dtype=torch.int64))
        path = TORCH_DIR / f"{name}.bin"
        torch.save(state, path, _use_new_zipfile_serialization=False, pickle_protocol=protocol)
        assert path.read_bytes()[:2] == bytes([0x80, protocol])
        # torch's weights_only unpickler has no FRAME opcode, so torch.load reads these files only
        # with weights_only=False (safe here: this script just wrote them).
        loaded = torch.load(path, weights_only=False)
        assert same_checkpoint(loaded, state)
        write_expected(name, list(flatten(loaded)))

    state = collections.OrderedDict(
        f32=torch.tensor([1.0, -2.5, 3.25e-3]), f16=torch.tensor([0.5, -65504.0], dtype=torch.float16),
        bf16=torch.tensor([1.0, 3.0e38], dtype=torch.bfloat16), i64=torch.tensor([1, -2, 2**40]),
        u8=torch.tensor([1, 200], dtype=torch.uint8))
    little = io.BytesIO()
    torch.save(state, little)
    keys = {tensor.untyped_storage().data_ptr(): str(index) for index, tensor in enumerate(state.values())}
    widths = {str(index): tensor.element_size() for index, tensor in enumerate(state.values())}
    assert len(keys) == len(state)
    members = []
    with zipfile.ZipFile(io.BytesIO(little.getvalue())) as archive:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in info.filename and not info.filename.endswith("serialization_id"):
                width = widths[info.filename.rsplit("/", 1)[1]]
                data = b"".join(data[i:i + width][::-1] for i in range(0, len(data), width))
            members.append((info.filename.replace("archive/", "big_endian/"), data))
    path = TORCH_DIR / "big_endian.bin"
    path.write_bytes(aligned_zip(members))
    loaded = torch_load(path)
    assert same_checkpoint(loaded, state), "torch does not read the big-endian file back as saved"
    write_expected("big_endian", list(flatten(loaded)))


UNTIED_DIR = FIXTURES / "t5_untied_embeddings"


def untied_embeddings() -> None:
    """I2. t5_untied_embeddings/: the gated model (C) as transformers 5 writes a T5
    with tie_word_embeddings false -- shared.weight, encoder.embed_tokens.weight,
    decoder.embed_tokens.weight and lm_head.weight, four different matrices (the
    two input embeddings replaced by fresh random ones) -- and
    forward/untied_embeddings_padded.safetensors, the logits of that model on
    PADDED_BATCH.  transformers 4.57 ties the input embeddings to shared whatever
    the config says, so the model is untied by hand (as 5.x loads such a file) and
    saved with safetensors' save_file, which keeps all four names."""
    model = load_t5(GATED_DIR, torch.float32)
    assert not model.config.tie_word_embeddings
    generator = torch.Generator().manual_seed(11)
    for stack in (model.encoder, model.decoder):
        embedding = torch.nn.Embedding(model.config.vocab_size, model.config.d_model)
        with torch.no_grad():
            embedding.weight.copy_(torch.randn(embedding.weight.shape, generator=generator))
        stack.embed_tokens = embedding
    state = model.state_dict()
    names = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"]
    assert all(not torch.equal(state[a], state[b]) for a in names for b in names if a != b)
    out = fresh_dir(UNTIED_DIR)
    save_file({name: tensor.detach().clone().contiguous() for name, tensor in state.items()},
              out / "model.safetensors", metadata={"format": "pt"})
    shutil.copy(GATED_DIR / "config.json", out / "config.json")
    save_tensors(forward_case(model, **PADDED_BATCH), FORWARD_DIR / "untied_embeddings_padded.safetensors")


# ---------------------------------------------------------------------------
# K: a model directory as the hub serves it (the companions zoo carries)
# ---------------------------------------------------------------------------

COMPANIONS_DIR = FIXTURES / "companions"
FOREIGN_DIR = FIXTURES / "foreign"


def tiny_config() -> T5Config:
    """The smallest T5 zoo still reads as a model (a few KB of weights); vocabulary and relative attention as
    Mesh-TF's (a multiple of 128; 32 buckets, distance 128), so it also converts --to tf."""
    return T5Config(
        vocab_size=128, d_model=8, d_kv=4, num_heads=2, d_ff=16, num_layers=1, num_decoder_layers=1,
        feed_forward_proj="relu", tie_word_embeddings=True, relative_attention_num_buckets=32,
        relative_attention_max_distance=128, dropout_rate=0.0, layer_norm_epsilon=1e-6,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, is_encoder_decoder=True,
    )


TINY_PIECES = ["<pad>", "</s>", "<unk>"] + ["\u2581" + w for w in ("the", "a", "cat", "dog", "sat", "on")] + list(
    "abcdefghijklmnopqrstuvw")


def tiny_tokenizer():
    """A T5TokenizerFast over a 32-piece Unigram vocabulary, built offline with
    `tokenizers` (sentencepiece is not in the venv: the fast tokenizer's
    tokenizer.json is what AutoTokenizer loads; spiece.model is written apart)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    pieces = TINY_PIECES
    assert len(pieces) == 32, len(pieces)
    vocab = [(piece, 0.0 if i < 3 else -float(i)) for i, piece in enumerate(pieces)]
    backend = Tokenizer(models.Unigram(vocab, unk_id=2))
    backend.normalizer = normalizers.Sequence([normalizers.Replace("  ", " ")])
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)])
    return T5TokenizerFast(
        tokenizer_object=backend, eos_token="</s>", unk_token="<unk>", pad_token="<pad>", extra_ids=0,
        model_max_length=512)


def tiny_spiece(pieces: list) -> bytes:
    """spiece.model for the same vocabulary: a sentencepiece ModelProto (Unigram),
    serialised with the protobuf classes transformers ships
    (transformers.utils.sentencepiece_model_pb2_new; the sentencepiece library
    itself is not in the venv).  A binary companion, as every T5 repo has one."""
    from transformers.utils import sentencepiece_model_pb2_new as sentencepiece

    model = sentencepiece.ModelProto()
    for index, piece in enumerate(pieces):
        entry = model.pieces.add()
        entry.piece = piece
        entry.score = 0.0 if index < 3 else -float(index)
        entry.type = {0: 3, 1: 3, 2: 2}.get(index, 1)  # CONTROL <pad> </s>, UNKNOWN <unk>, NORMAL
    model.trainer_spec.model_type = 1  # UNIGRAM
    model.trainer_spec.vocab_size = len(pieces)
    model.trainer_spec.pad_id, model.trainer_spec.eos_id, model.trainer_spec.unk_id = 0, 1, 2
    model.trainer_spec.bos_id = -1
    model.normalizer_spec.add_dummy_prefix = True
    return model.SerializeToString()


def hub_snapshot() -> None:
    """K. Tests/Fixtures/companions/hub_snapshot/: what a T5-Efficient hub repo
    holds, tiny.  transformers writes the weights, config.json and
    generation_config.json (save_pretrained) and the tokenizer's files
    (tokenizer.json, tokenizer_config.json, special_tokens_map.json), plus a
    spiece.model for the same vocabulary (see tiny_spiece);
    operative_config.gin (every T5-Efficient repo carries its Mesh-TF training
    config) and README.md are written here.  `zoo convert` must carry all but
    the weights byte for byte."""
    from transformers import GenerationConfig

    out = fresh_dir(COMPANIONS_DIR / "hub_snapshot")
    model = build_model(tiny_config())
    model.save_pretrained(out, safe_serialization=True)
    GenerationConfig(decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, max_new_tokens=8).save_pretrained(out)
    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(out)
    assert tokenizer("the cat sat").input_ids[-1] == 1
    (out / "spiece.model").write_bytes(tiny_spiece(TINY_PIECES))
    # The same operative config group J's Mesh-TF checkpoints carry (as a Mesh-TF run writes it).
    (out / "operative_config.gin").write_text(operative_config(tiny_config(), ADAFACTOR_MIN_DIM_SIZE_TO_FACTOR))
    (out / "README.md").write_text(
        "---\nlanguage: en\nlicense: apache-2.0\n---\n\n# tiny-t5\n\n"
        "A 32-token T5 written by Scripts/make-fixtures.py to test that zoo keeps a model directory whole.\n")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
                 "config.json", "model.safetensors"):
        assert (out / name).exists(), name
    from transformers import AutoTokenizer
    assert AutoTokenizer.from_pretrained(out)("the cat").input_ids == tokenizer("the cat").input_ids


# ---------------------------------------------------------------------------
# N: SentencePiece tokenizers and the GGUF vocabulary llama.cpp makes of them
# ---------------------------------------------------------------------------

SPM_DIR = FIXTURES / "spm"
SPM_BAD_DIR = FIXTURES / "spm_bad"

# A fixed corpus, repeated so the Unigram trainer finds enough substrings for 100 pieces.
SPM_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A small cat sat on the warm mat by the door.",
    "Translate English to German: the house is wonderful.",
    "summarize: studies have shown that owning a dog is good for you.",
    "The weather today is sunny with a light breeze from the west.",
    "She sells sea shells by the sea shore every summer morning.",
    "Numbers like 12, 345 and 6789 appear in text too.",
    "T5 reframes every language problem as text to text.",
    "Efficient models scale deep and narrow rather than wide.",
    "Checkpoints are converted, cast and verified without Python.",
] * 3


def train_spm(**options) -> bytes:
    """A Unigram model trained by the sentencepiece package on SPM_CORPUS, as bytes.  One
    thread, the corpus unshuffled and the random generator seeded, so the bytes are the
    same on every run (checked by the caller)."""
    import sentencepiece

    sentencepiece.set_random_generator_seed(1234)
    out = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(SPM_CORPUS), model_writer=out, model_type="unigram", num_threads=1,
        shuffle_input_sentence=False, character_coverage=1.0, minloglevel=2, **options)
    return out.getvalue()


def spm_reading(data: bytes) -> dict:
    """What sentencepiece itself reads from a model: every piece (text, score, type) through
    SentencePieceProcessor, the special ids, and the normalizer fields llama.cpp copies (the
    charsmap by length and CRC-32, it is 240 kB for nmt_nfkc)."""
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    processor = sentencepiece.SentencePieceProcessor(model_proto=data)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(data)

    def kind(i: int) -> int:
        # The piece's SentencePiece type; processor's predicates agree with the proto's field.
        flags = {2: processor.is_unknown(i), 3: processor.is_control(i), 5: processor.is_unused(i),
                 6: processor.is_byte(i)}
        assert [k for k, v in flags.items() if v] in ([], [proto.pieces[i].type]), i
        return proto.pieces[i].type

    charsmap = proto.normalizer_spec.precompiled_charsmap
    return {
        "piece_count": processor.vocab_size(),
        "pieces": [{"text": processor.id_to_piece(i), "score": processor.get_score(i), "kind": kind(i)}
                   for i in range(processor.vocab_size())],
        "model_type": proto.trainer_spec.model_type,
        "byte_fallback": proto.trainer_spec.byte_fallback,
        "unk_id": processor.unk_id(), "bos_id": processor.bos_id(), "eos_id": processor.eos_id(),
        "pad_id": processor.pad_id(),
        "normalizer_name": proto.normalizer_spec.name,
        "add_dummy_prefix": proto.normalizer_spec.add_dummy_prefix,
        "remove_extra_whitespaces": proto.normalizer_spec.remove_extra_whitespaces,
        "escape_whitespaces": proto.normalizer_spec.escape_whitespaces,
        "precompiled_charsmap": {"length": len(charsmap), "crc32": zlib.crc32(charsmap)},
    }


def t5_gguf_vocab(model_path: Path, model_dir: Path, vocab_size: int) -> list:
    """The tokenizer key-values llama.cpp's converter writes for a T5 model whose directory is
    `model_dir` and whose tokenizer is `model_path`, read back from a real GGUF file: a
    re-implementation of convert_hf_to_gguf.py's T5Model.set_vocab (Unigram path;
    github.com/ggml-org/llama.cpp, convert_hf_to_gguf.py) writing through gguf-py's own
    GGUFWriter, with gguf-py's own SpecialVocab for the special tokens.  The converter itself is
    not importable from the venv (it is not part of the gguf package)."""
    import gguf
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model_path.read_bytes())
    assert proto.trainer_spec.model_type == 1  # the converter asserts UNIGRAM (BPE goes elsewhere)
    processor = sentencepiece.SentencePieceProcessor()
    processor.LoadFromFile(str(model_path))
    # set_vocab: a vocab_size-long list of [PAD<id>] / -10000.0 / UNUSED, overwritten by the pieces
    # (more pieces than vocab_size is an IndexError there); USER_DEFINED pieces come out NORMAL,
    # since only IsUnknown / IsControl / IsUnused / IsByte are asked.  No added_tokens.json here.
    tokens = [f"[PAD{i}]".encode() for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    types = [gguf.TokenType.UNUSED] * vocab_size
    for i in range(processor.vocab_size()):
        kind = gguf.TokenType.NORMAL
        if processor.IsUnknown(i):
            kind = gguf.TokenType.UNKNOWN
        elif processor.IsControl(i):
            kind = gguf.TokenType.CONTROL
        elif processor.IsUnused(i):
            kind = gguf.TokenType.UNUSED
        elif processor.IsByte(i):
            kind = gguf.TokenType.BYTE
        tokens[i], scores[i], types[i] = processor.IdToPiece(i).encode(), processor.GetScore(i), kind

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "vocab.gguf"
        writer = gguf.GGUFWriter(path, "t5")
        writer.add_tokenizer_model("t5")
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        writer.add_add_space_prefix(proto.normalizer_spec.add_dummy_prefix)
        writer.add_remove_extra_whitespaces(proto.normalizer_spec.remove_extra_whitespaces)
        if proto.normalizer_spec.precompiled_charsmap:
            writer.add_precompiled_charsmap(proto.normalizer_spec.precompiled_charsmap)
        gguf.SpecialVocab(model_dir, n_vocab=len(tokens)).add_to_gguf(writer, quiet=True)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.close()
        return gguf_entries(gguf.GGUFReader(path))


def gguf_entries(reader) -> list:
    """A GGUF file's tokenizer.* key-values as {"key", "type", "value"}, in file order; type is
    GGUFVocabulary.Entry's case name, the charsmap given by length and CRC-32."""
    import gguf

    scalar = {gguf.GGUFValueType.STRING: "string", gguf.GGUFValueType.UINT32: "uint32",
              gguf.GGUFValueType.INT32: "int32", gguf.GGUFValueType.BOOL: "bool"}
    arrays = {gguf.GGUFValueType.STRING: "stringArray", gguf.GGUFValueType.FLOAT32: "float32Array",
              gguf.GGUFValueType.INT32: "int32Array", gguf.GGUFValueType.UINT8: "uint8Array"}
    entries = []
    for field in reader.fields.values():
        if not field.name.startswith("tokenizer."):
            continue
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            kind = arrays[field.types[1]]
            if kind == "stringArray":
                value = [bytes(field.parts[i]).decode() for i in field.data]
            elif kind == "uint8Array":
                raw = bytes(b for i in field.data for b in field.parts[i])
                value = {"length": len(raw), "crc32": zlib.crc32(raw)}
            else:
                value = [field.parts[i].tolist()[0] for i in field.data]
        else:
            kind = scalar[field.types[0]]
            value = bytes(field.parts[-1]).decode() if kind == "string" else field.parts[-1].tolist()[0]
        entries.append({"key": field.name, "type": kind, "value": value})
    return entries


def special_tokens_dir(scratch: Path, source: str, model_path: Path, vocab_size: int) -> Path:
    """A model directory for SpecialVocab to read: "t5_tokenizer_files" is what transformers
    writes for the model (T5TokenizerFast.save_pretrained: tokenizer.json, tokenizer_config.json,
    special_tokens_map.json) plus config.json; "config_json" only config.json (eos 1, pad 0,
    as every T5 config.json); "none" an empty directory."""
    from transformers import T5TokenizerFast

    out = scratch / f"{source}-{vocab_size}"
    out.mkdir()
    if source in ("t5_tokenizer_files", "config_json"):
        T5Config(vocab_size=vocab_size, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0).save_pretrained(out)
    if source == "t5_tokenizer_files":
        T5TokenizerFast(vocab_file=str(model_path), extra_ids=0, legacy=True).save_pretrained(out)
    return out


def proto_field(number: int, value) -> bytes:
    """One protobuf field: a varint for an int (negative ones as 10-byte two's complement),
    length-delimited for bytes."""
    def varint(n: int) -> bytes:
        n &= (1 << 64) - 1
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def spm_piece(text: bytes, score: float, kind: int) -> bytes:
    return proto_field(1, proto_field(1, text) + bytes([2 << 3 | 5]) + struct.pack("<f", score) + proto_field(3, kind))


def spm_bad_files(valid: bytes) -> None:
    """spm_bad/: spiece.model files zoo must refuse, naming the file (+ manifest.json).  The
    hand-encoded ones use SentencePiece's field numbers (ModelProto.pieces 1, trainer_spec 2;
    SentencePiece.piece 1, score 2, type 3; TrainerSpec.model_type 3, unk_id 40, eos_id 42)."""
    from google.protobuf.message import DecodeError
    from sentencepiece import sentencepiece_model_pb2

    out = fresh_dir(SPM_BAD_DIR)
    trainer = proto_field(2, proto_field(3, 1) + proto_field(40, 2) + proto_field(41, -1) + proto_field(42, 1)
                          + proto_field(43, 0))
    specials = spm_piece(b"<pad>", 0.0, 3) + spm_piece(b"</s>", 0.0, 3) + spm_piece(b"<unk>", 0.0, 2)
    assert valid[0] == 0x0A and valid[1] < 0x80, "the first field is piece 0, a short message"
    cases = {
        "truncated.model": (valid[:2 + valid[1] // 2], "notAModelProto",
                            "The fixture spiece.model cut in the middle of its first piece."),
        "garbage.model": (b"\xff" * 64, "notAModelProto",
                          "64 bytes of 0xFF: a field tag whose varint never ends."),
        "no_pieces.model": (trainer, "noPieces", "A trainer_spec and no pieces."),
        "piece_type_out_of_range.model": (
            specials + spm_piece("\u2581a".encode(), -1.0, 1) + spm_piece(b"b", -2.0, 7) + trainer,
            "unknownPieceType", "Piece 4's type is 7; SentencePiece's types are 1 to 6."),
        "special_id_out_of_range.model": (
            specials + spm_piece(b"a", -1.0, 1) + trainer + proto_field(2, proto_field(42, 150)),
            "specialIDOutOfRange",
            "eos_id is 150 (a second trainer_spec, which protobuf merges) but there are 4 pieces."),
        "unknown_model_type.model": (specials + trainer + proto_field(2, proto_field(3, 9)), "unknownModelType",
                                     "trainer_spec.model_type is 9; SentencePiece's are 1 to 4."),
        "invalid_utf8.model": (specials + spm_piece(b"\xc3\x28", -1.0, 1) + trainer, "invalidUTF8",
                               "Piece 3's text is the bytes C3 28, not UTF-8."),
        "empty_piece.model": (specials + spm_piece(b"", -1.0, 1) + trainer, "emptyPiece",
                              "Piece 3's text is empty; SentencePiece requires every piece to have text."),
    }
    for name, (data, _, _) in cases.items():
        (out / name).write_bytes(data)
    for name in ("truncated.model", "garbage.model"):
        try:
            sentencepiece_model_pb2.ModelProto().ParseFromString(cases[name][0])
            raise AssertionError(f"{name} parses")
        except DecodeError:
            pass
    # The hand-encoded files are well-formed protobuf; only their contents are wrong.
    parsed = sentencepiece_model_pb2.ModelProto()
    parsed.ParseFromString(cases["special_id_out_of_range.model"][0])
    assert parsed.trainer_spec.eos_id == 150 and len(parsed.pieces) == 4
    write_manifest(out / "manifest.json", {name: {"error": error, "why": why}
                                          for name, (_, error, why) in cases.items()})


def spm_tokenizer() -> None:
    """N. Tests/Fixtures/spm/: SentencePiece models trained by the sentencepiece package and
    what llama.cpp makes of them.
      spiece.model   T5's settings: Unigram, 100 pieces, pad 0, eos 1, unk 2, no bos, nmt_nfkc
                     (so a precompiled charsmap), dummy prefix, extra whitespace removed;
      kinds.model    every piece type: bos 3, a control <ctl>, a user-defined <sep>, byte
                     fallback's 256 <0xXX> pieces, and the last piece edited to UNUSED; identity
                     normalizer (no charsmap), no dummy prefix, whitespace kept.
    expected_vocab.json has, for these and companions/hub_snapshot/spiece.model (group K),
    what sentencepiece reads from each and the GGUF tokenizer key-values for several vocab
    sizes and special-token sources (see t5_gguf_vocab, special_tokens_dir).  spm_bad/ holds
    files to refuse (spm_bad_files)."""
    from sentencepiece import sentencepiece_model_pb2

    out = fresh_dir(SPM_DIR)
    t5_options = dict(vocab_size=100, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    spiece = train_spm(**t5_options)
    assert train_spm(**t5_options) == spiece, "training is not deterministic"
    kinds_options = dict(
        vocab_size=340, pad_id=0, eos_id=1, unk_id=2, bos_id=3, byte_fallback=True, control_symbols=["<ctl>"],
        user_defined_symbols=["<sep>"], normalization_rule_name="identity", add_dummy_prefix=False,
        remove_extra_whitespaces=False)
    kinds = sentencepiece_model_pb2.ModelProto()
    kinds.ParseFromString(train_spm(**kinds_options))
    assert kinds.SerializeToString() == train_spm(**kinds_options)
    kinds.pieces[-1].type = sentencepiece_model_pb2.ModelProto.SentencePiece.UNUSED
    (out / "spiece.model").write_bytes(spiece)
    (out / "kinds.model").write_bytes(kinds.SerializeToString())

    # (fixture, cases of (vocab_size, special-token source)); hub_snapshot's own directory is the
    # special-token source for its model.
    plans = {
        "spm/spiece.model": [(128, "t5_tokenizer_files"), (100, "t5_tokenizer_files"), (128, "config_json")],
        "spm/kinds.model": [(340, "none"), (384, "config_json")],
        "companions/hub_snapshot/spiece.model": [(128, "hub_snapshot")],
    }
    expected = {}
    with tempfile.TemporaryDirectory() as scratch:
        for fixture, cases in plans.items():
            model_path = FIXTURES / fixture
            reading = spm_reading(model_path.read_bytes())
            gguf_cases = []
            for vocab_size, source in cases:
                model_dir = (model_path.parent if source == "hub_snapshot"
                             else special_tokens_dir(Path(scratch), source, model_path, vocab_size))
                gguf_cases.append({"vocab_size": vocab_size, "special_tokens": source,
                                   "entries": t5_gguf_vocab(model_path, model_dir, vocab_size)})
            expected[fixture] = {"sentencepiece": reading, "gguf": gguf_cases}
    (out / "expected_vocab.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    spm_bad_files(spiece)


# ---------------------------------------------------------------------------
# L: formats zoo recognises only to refuse them by name
# ---------------------------------------------------------------------------

def msgpack_bytes(value) -> bytes:
    """The msgpack encoding of nested dicts / str / bytes / ints / ExtType (1, ...),
    as `msgpack.packb(use_bin_type=True)` writes it: msgpack (and flax) are not
    in the venv, so the few types flax.serialization.to_bytes uses are written here."""
    if isinstance(value, dict):
        assert len(value) < 16
        return bytes([0x80 | len(value)]) + b"".join(msgpack_bytes(k) + msgpack_bytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        assert len(value) < 16
        return bytes([0x90 | len(value)]) + b"".join(msgpack_bytes(v) for v in value)
    if isinstance(value, str):
        raw = value.encode()
        assert len(raw) < 32
        return bytes([0xA0 | len(raw)]) + raw
    if isinstance(value, bytes):
        assert len(value) < 256
        return bytes([0xC4, len(value)]) + value
    if isinstance(value, int):
        assert 0 <= value < 128
        return bytes([value])
    raise AssertionError(value)


def flax_array(array: np.ndarray) -> bytes:
    """flax.serialization's ndarray: ExtType(1, packb((shape, dtype name, buffer)))."""
    payload = msgpack_bytes([list(array.shape), array.dtype.name, array.tobytes()])
    assert len(payload) < 256
    return bytes([0xC7, len(payload), 1]) + payload


def foreign_files() -> None:
    """L (torch, HDF5, msgpack parts). Tests/Fixtures/foreign/: files zoo must name
    and refuse (with what it reads instead), given directly or as the one file
    of a directory.  keras_h5/tf_model.h5 is written by h5py (installed with
    TensorFlow); flax/flax_model.msgpack by msgpack_bytes above (flax's layout:
    a map of maps down to ExtType(1) arrays); torchscript.pt by torch.jit.save."""
    out = fresh_dir(FOREIGN_DIR)
    import h5py

    (out / "keras_h5").mkdir()
    # One dataset in the root group, no timestamps: a group of its own would carry creation times.
    with h5py.File(out / "keras_h5" / "tf_model.h5", "w", libver="earliest") as f:
        f.create_dataset("shared_embedding", data=np.arange(8, dtype=np.float32).reshape(2, 4), track_times=False)
    assert (out / "keras_h5" / "tf_model.h5").read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"

    (out / "flax").mkdir()
    embedding = np.arange(8, dtype=np.float32).reshape(2, 4)
    inner = b"\x81" + msgpack_bytes("embedding") + flax_array(embedding)
    shared = b"\x81" + msgpack_bytes("shared") + inner
    (out / "flax" / "flax_model.msgpack").write_bytes(b"\x81" + msgpack_bytes("params") + shared)

    # TorchScript records each method's source file and line in its debug pickles: the module is
    # compiled from this fixed source under a fixed name (registered with linecache, where
    # inspect finds it), so the archive does not depend on where this script lives or its line
    # numbers.  A bare parameter, not nn.Linear: Linear's __constants__ set is scripted in hash order.
    source = (
        "import torch\n\n\n"
        "class Tiny(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.weight = torch.nn.Parameter(torch.arange(4, dtype=torch.float32).reshape(2, 2))\n\n"
        "    def forward(self, x):\n"
        "        return x @ self.weight\n")
    filename = "make_fixtures_torchscript.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "make_fixtures_torchscript"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 -- the fixed source above
    scripted = torch.jit.script(namespace["Tiny"]())
    torch.jit.save(scripted, str(out / "torchscript.pt"))
    with zipfile.ZipFile(out / "torchscript.pt") as archive:
        names = archive.namelist()
        serialization_id = archive.read("torchscript/.data/serialization_id")
    # The archive's one random part: its serialization id, fixed here (bytes and CRC-32, in the
    # local header and the central directory) so a rerun writes the same file.
    data = (out / "torchscript.pt").read_bytes()
    fixed = b"0" * len(serialization_id)
    old_crc, new_crc = (struct.pack("<I", zlib.crc32(x)) for x in (serialization_id, fixed))
    assert data.count(serialization_id) == 1 and data.count(old_crc) == 2
    (out / "torchscript.pt").write_bytes(data.replace(serialization_id, fixed).replace(old_crc, new_crc))
    assert torch.equal(torch.jit.load(str(out / "torchscript.pt")).weight, scripted.weight)
    assert any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names), names


def foreign_tf2(tf) -> None:
    """L (TensorFlow part). foreign/tf2_object/: tf.train.Checkpoint of one
    variable (keys `v/.ATTRIBUTES/VARIABLE_VALUE` and the string entry
    `_CHECKPOINTABLE_OBJECT_GRAPH`), the object-based format TF2 and Keras write."""
    out = FOREIGN_DIR / "tf2_object"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    checkpoint = tf.train.Checkpoint(v=tf.Variable(np.arange(4, dtype=np.float32)))
    prefix = checkpoint.write(str(out / "ckpt"))
    # write() leaves no `checkpoint` file: zoo finds the directory's checkpoint by its one .index.
    keys = sorted(tf.train.load_checkpoint(prefix).get_variable_to_shape_map())
    assert keys == ["_CHECKPOINTABLE_OBJECT_GRAPH", "v/.ATTRIBUTES/VARIABLE_VALUE"], keys


# --- M: GGUF ------------------------------------------------------------------------------------

GGUF_METADATA = [
    # (key, GGUFValueType name, value, array element type name for arrays)
    ("general.name", "STRING", "zoo gguf fixture", None),
    ("test.uint8", "UINT8", 200, None),
    ("test.int8", "INT8", -100, None),
    ("test.uint16", "UINT16", 60000, None),
    ("test.int16", "INT16", -30000, None),
    ("test.uint32", "UINT32", 4000000000, None),
    ("test.int32", "INT32", -2000000000, None),
    ("test.float32", "FLOAT32", 0.1, None),
    ("test.bool", "BOOL", True, None),
    ("test.string", "STRING", "h\u00e9llo \u2713", None),
    ("test.uint64", "UINT64", 2**64 - 1, None),
    ("test.int64", "INT64", -(2**63), None),
    ("test.float64", "FLOAT64", math.pi, None),
    ("test.array.uint8", "ARRAY", [0, 1, 255], "UINT8"),
    ("test.array.int8", "ARRAY", [-128, 127], "INT8"),
    ("test.array.uint16", "ARRAY", [0, 65535], "UINT16"),
    ("test.array.int16", "ARRAY", [-32768, 32767], "INT16"),
    ("test.array.uint32", "ARRAY", [0, 2**32 - 1], "UINT32"),
    ("test.array.int32", "ARRAY", [1, -2, 3], "INT32"),
    ("test.array.float32", "ARRAY", [0.5, -1.25, 1e-10], "FLOAT32"),
    ("test.array.bool", "ARRAY", [True, False, True], "BOOL"),
    ("test.array.string", "ARRAY", ["a", "", "\u00fcn\u00efcode", "\u2581with\u2581spaces"], "STRING"),
    ("test.array.uint64", "ARRAY", [2**64 - 1, 0], "UINT64"),
    ("test.array.int64", "ARRAY", [-1, 2**62], "INT64"),
    ("test.array.float64", "ARRAY", [1e300, -0.0], "FLOAT64"),
    ("test.array.nested", "ARRAY", [[1, 2, 3], [4]], "ARRAY"),
    ("test.array.nested_strings", "ARRAY", [["x", "y"], ["z"]], "ARRAY"),
    ("test.array.nested_twice", "ARRAY", [[[1], [2, 3]], [[4]]], "ARRAY"),
    ("tokenizer.ggml.tokens", "ARRAY", [f"tok{i}" for i in range(40)], "STRING"),
]


def gguf_value_json(value, vtype: str, gguf):
    """The expected value as the Swift tests compare it: floats as bit patterns, arrays as
    {"element_type", "items"} (nested arrays' element types from gguf-py's own inference)."""
    if vtype == "FLOAT32":
        return struct.unpack("<I", struct.pack("<f", value))[0]
    if vtype == "FLOAT64":
        return struct.unpack("<Q", struct.pack("<d", value))[0]
    if vtype == "ARRAY":
        raise AssertionError("arrays go through gguf_array_json")
    return value


def gguf_array_json(items, element: str, gguf):
    if element == "ARRAY":
        inner = [gguf.GGUFValueType.get_type(item[0]).name for item in items]
        return {"element_type": "array",
                "items": [gguf_array_json(item, kind, gguf) for item, kind in zip(items, inner)]}
    return {"element_type": element.lower(), "items": [gguf_value_json(item, element, gguf) for item in items]}


def gguf_add_metadata(writer, gguf, entries) -> list:
    expected = [{"key": "general.architecture", "type": "string", "value": "t5"}]
    for key, vtype, value, element in entries:
        kind = gguf.GGUFValueType[vtype]
        if vtype == "ARRAY":
            sub = None if element == "ARRAY" else gguf.GGUFValueType[element]
            writer.add_key_value(key, value, kind, sub_type=sub)
            expected.append({"key": key, "type": "array", "value": gguf_array_json(value, element, gguf)})
        else:
            writer.add_key_value(key, value, kind)
            expected.append({"key": key, "type": vtype.lower(), "value": gguf_value_json(value, vtype, gguf)})
    return expected


def q8_0_input() -> np.ndarray:
    """[4, 64] float32: eight blocks of 32 covering Q8_0's corner cases, row by row."""
    rng = np.random.default_rng(8)
    blocks = np.zeros((8, 32), dtype=np.float32)
    # 0: all zeros (d = 0, so 1/d is taken as 0).
    # 1: max 127 makes d exactly 1: every x.5 is a tie, rounded away from zero (banker's would not).
    blocks[1, :8] = [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5]
    blocks[1, 8:] = np.arange(24, dtype=np.float32) - 11.5
    # 2: large values (d = 7874.0 still fits fp16) and one block whose d overflows fp16 to inf.
    blocks[2] = rng.uniform(-1e6, 1e6, 32).astype(np.float32)
    blocks[2, 0] = 1e6
    blocks[3] = rng.uniform(-1e9, 1e9, 32).astype(np.float32)
    # 4: tiny values (d underflows fp16 to 0 while q is computed from the float32 d).
    blocks[4] = rng.uniform(-1e-30, 1e-30, 32).astype(np.float32)
    # 5: below ~3.7e-37, 1/d overflows to inf: numpy gives all-zero q.
    blocks[5, :4] = [1e-38, -3e-38, 2e-39, 0]
    # 6: all negative, the largest magnitude negative.
    blocks[6] = -np.abs(rng.normal(0, 1, 32)).astype(np.float32)
    # 7: ordinary weights.
    blocks[7] = rng.normal(0, 0.02, 32).astype(np.float32)
    return blocks.reshape(4, 64)


def gguf_files() -> None:
    """M: GGUF files written by gguf-py's own GGUFWriter (every metadata type, F32/F16/BF16/Q8_0
    tensors, a custom alignment), what gguf-py reads back, and hostile files (gguf_bad/)."""
    import gguf
    from gguf.quants import dequantize, quantize
    from safetensors.numpy import save_file as save_numpy

    out = fresh_dir(FIXTURES / "gguf")
    Q = gguf.GGMLQuantizationType
    rng = np.random.default_rng(3)
    arrays = {}  # name in expected.safetensors -> array
    expected = {}

    def bf16_bits(values: np.ndarray) -> np.ndarray:
        return torch.from_numpy(values.astype(np.float32)).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)

    def write(name: str, metadata, tensors, alignment=None):
        """tensors: (name, numpy data to write, ggml type, numpy shape, dequantized/float values)."""
        path = out / name
        writer = gguf.GGUFWriter(str(path), "t5")
        meta = gguf_add_metadata(writer, gguf, metadata)
        if alignment is not None:
            writer.add_custom_alignment(alignment)
            meta.append({"key": "general.alignment", "type": "uint32", "value": alignment})
        for tensor_name, data, qtype, _, _ in tensors:
            writer.add_tensor(tensor_name, data, raw_dtype=qtype if qtype in (Q.BF16, Q.Q8_0) else None)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        reader = gguf.GGUFReader(str(path))
        infos = []
        for (tensor_name, data, qtype, shape, values), read in zip(tensors, reader.tensors):
            assert read.name == tensor_name and read.tensor_type == qtype, (read.name, read.tensor_type)
            assert list(reversed([int(d) for d in read.shape])) == list(shape), (tensor_name, read.shape, shape)
            assert bytes(read.data.tobytes()) == data.tobytes(), tensor_name
            infos.append({"name": tensor_name, "ggml_type": int(qtype), "shape": list(shape),
                          "file_offset": int(read.data_offset)})
            arrays[f"{name}/{tensor_name}.raw"] = np.frombuffer(data.tobytes(), dtype=np.uint8).copy()
            arrays[f"{name}/{tensor_name}.values"] = np.ascontiguousarray(values.astype(np.float32))
        alignment_read = int(reader.alignment)
        expected[name] = {"alignment": alignment_read, "data_offset": int(reader.data_offset),
                          "metadata": meta, "tensors": infos}

    f16 = np.concatenate([rng.normal(0, 1, 21), [6e-8, -6e-8, 65504]]).astype(np.float16).reshape(4, 6)
    bf16_source = np.concatenate([rng.normal(0, 1, 14), [1e30, -1e-30]]).astype(np.float32).reshape(2, 8)
    bf16 = bf16_bits(bf16_source)
    bf16_values = (bf16.astype(np.uint32) << 16).view(np.float32)
    plain = [
        ("t.f32.1d", np.arange(7, dtype=np.float32), Q.F32, (7,)),
        ("t.f32.2d", rng.normal(0, 1, (3, 5)).astype(np.float32), Q.F32, (3, 5)),
        ("t.f32.3d", rng.normal(0, 1, (2, 3, 4)).astype(np.float32), Q.F32, (2, 3, 4)),
        ("t.f16.2d", f16, Q.F16, (4, 6)),
        ("t.bf16.2d", bf16, Q.BF16, (2, 8)),
        ("t.f32.4d", rng.normal(0, 1, (1, 2, 3, 2)).astype(np.float32), Q.F32, (1, 2, 3, 2)),
    ]
    write("metadata.gguf", GGUF_METADATA,
          [(n, d, q, s, bf16_values if q == Q.BF16 else d) for n, d, q, s in plain])

    quantized = []
    for tensor_name, values in [("q.mixed", q8_0_input()),
                                ("q.1d", rng.normal(0, 1, 96).astype(np.float32)),
                                ("q.3d", rng.normal(0, 0.1, (2, 2, 32)).astype(np.float32))]:
        with np.errstate(all="ignore"):
            blocks = quantize(values, Q.Q8_0)
            back = dequantize(blocks, Q.Q8_0)
        arrays[f"q8_0.gguf/{tensor_name}.input"] = values
        quantized.append((tensor_name, blocks, Q.Q8_0, values.shape, back))
    write("q8_0.gguf", [("general.name", "STRING", "q8_0", None)],
          quantized + [("t.f32", np.linspace(-1, 1, 8, dtype=np.float32), Q.F32, (8,),
                        np.linspace(-1, 1, 8, dtype=np.float32))])

    small = [("a.f32", np.array([1, 2, 3], dtype=np.float32), Q.F32, (3,)),
             ("b.f16", np.arange(5, dtype=np.float16), Q.F16, (5,))]
    with np.errstate(all="ignore"):
        q = quantize(np.linspace(-4, 4, 32, dtype=np.float32), Q.Q8_0)
    write("aligned64.gguf", [],
          [(n, d, t, s, d) for n, d, t, s in small]
          + [("c.q8_0", q, Q.Q8_0, (32,), dequantize(q, Q.Q8_0)),
             ("d.f32", np.ones((2, 2), dtype=np.float32), Q.F32, (2, 2), np.ones((2, 2), dtype=np.float32))],
          alignment=64)
    assert expected["aligned64.gguf"]["alignment"] == 64

    save_numpy(arrays, str(out / "expected.safetensors"))
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    gguf_bad_files(gguf)


def g_str(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def g_kv(key: bytes, vtype: int, payload: bytes) -> bytes:
    return g_str(key) + struct.pack("<I", vtype) + payload


def g_tensor(name: bytes, dims: list, ggml_type: int, offset: int) -> bytes:
    return (g_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            + struct.pack("<IQ", ggml_type, offset))


def g_file(kvs: list, tensors: list, data: bytes, version: int = 3, alignment: int = 32,
           tensor_count=None, kv_count=None, endian: str = "<") -> bytes:
    head = b"GGUF" + struct.pack(endian + "IQQ", version, len(tensors) if tensor_count is None else tensor_count,
                                 len(kvs) if kv_count is None else kv_count)
    head += b"".join(kvs) + b"".join(tensors)
    head += b"\0" * (-len(head) % alignment)
    return head + data


def gguf_bad_files(gguf) -> None:
    """gguf_bad/: one defect per file, built byte by byte around a valid two-tensor base."""
    out = fresh_dir(FIXTURES / "gguf_bad")
    arch = g_kv(b"general.architecture", 8, g_str(b"t5"))
    a = np.arange(4, dtype=np.float32).tobytes()   # [4] at 0, padded to 32
    b = np.arange(8, dtype=np.float32).tobytes()   # [2, 4] (ne [4, 2]) at 32
    data = a + b"\0" * 16 + b
    ta = g_tensor(b"a", [4], 0, 0)
    tb = g_tensor(b"b", [4, 2], 0, 32)
    valid = g_file([arch], [ta, tb], data)
    (out / "_base.tmp").write_bytes(valid)
    base = gguf.GGUFReader(str(out / "_base.tmp"))
    assert [t.name for t in base.tensors] == ["a", "b"]
    (out / "_base.tmp").unlink()
    header_end = len(valid) - len(data)
    kv_end = 24 + len(arch)

    cases = {}

    def case(name: str, content: bytes, error: str, why: str) -> None:
        (out / name).write_bytes(content)
        cases[name] = {"error": error, "why": why}

    case("empty.gguf", b"", "notGGUF", "A zero-byte file has no magic.")
    case("not_gguf.gguf", b"GGML" + valid[4:], "notGGUF", "The magic is 'GGML' (the pre-GGUF format), not 'GGUF'.")
    case("truncated_in_version.gguf", valid[:6], "truncated", "The file ends two bytes into the version.")
    # Truncations inside the metadata cut a file without tensors: with tensors, the tensor count
    # alone already claims more bytes than a cut file holds (refused as countTooLarge).
    metadata_only = g_file([arch], [], b"")
    case("truncated_in_counts.gguf", metadata_only[:20], "truncated", "The file ends inside the metadata count.")
    case("truncated_in_value_type.gguf", metadata_only[:24 + 8 + 20 + 2], "truncated",
         "The file ends inside the value type of 'general.architecture'.")
    case("truncated_in_string.gguf", metadata_only[:kv_end - 1], "stringTooLong",
         "The file ends one byte before the end of the string value 't5': its length runs past the end.")
    case("truncated_with_tensors.gguf", valid[:kv_end], "countTooLarge",
         "The file ends after the metadata: the two tensor infos the header counts cannot fit in 0 bytes.")
    case("truncated_in_tensor_info.gguf", valid[:kv_end + len(ta) - 4], "truncated",
         "The file ends inside tensor 'a''s data offset.")
    case("truncated_in_data.gguf", valid[:-4], "tensorOutOfBounds",
         "The last 4 bytes of tensor 'b' are missing.")
    case("version_1.gguf", g_file([arch], [ta, tb], data, version=1), "unsupportedVersion", "GGUF version 1.")
    case("version_2.gguf", g_file([arch], [ta, tb], data, version=2), "unsupportedVersion",
         "GGUF version 2 (64-bit counts like v3, but zoo reads v3 only, as the brief decides).")
    big = (b"GGUF" + struct.pack(">IQQ", 3, 2, 1) + valid[24:])
    case("big_endian.gguf", big, "bigEndian",
         "The header is big-endian: the version bytes 00 00 00 03 read as 50331648 little-endian.")
    case("huge_string_length.gguf", valid[:24] + struct.pack("<Q", 2**63) + valid[32:], "stringTooLong",
         "The first key's length is 2^63 bytes.")
    huge_array = g_kv(b"tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2**62))
    case("huge_array_count.gguf", g_file([arch, huge_array], [ta, tb], data), "arrayTooLong",
         "An array of 2^62 strings in a file of a few hundred bytes: refused before anything is allocated.")
    case("huge_tensor_count.gguf", g_file([arch], [ta, tb], data, tensor_count=2**60), "countTooLarge",
         "The tensor count is 2^60.")
    case("huge_kv_count.gguf", g_file([arch], [ta, tb], data, kv_count=2**40), "countTooLarge",
         "The metadata count is 2^40.")
    case("n_dims_0.gguf", g_file([arch], [g_tensor(b"a", [], 0, 0), tb], data), "invalidDimensionCount",
         "Tensor 'a' has 0 dimensions.")
    case("n_dims_5.gguf", g_file([arch], [g_tensor(b"a", [1, 1, 1, 2, 2], 0, 0), tb], data),
         "invalidDimensionCount", "Tensor 'a' has 5 dimensions; ggml allows at most 4 (GGML_MAX_DIMS).")
    case("size_overflow.gguf", g_file([arch], [g_tensor(b"a", [2**40, 2**40], 0, 0), tb], data),
         "shapeOverflow", "Tensor 'a' is 2^40 x 2^40 floats: the byte count overflows 64 bits.")
    case("dimension_over_int64.gguf", g_file([arch], [g_tensor(b"a", [2**63], 0, 0), tb], data),
         "shapeOverflow", "Tensor 'a' has a dimension of 2^63, beyond ggml's int64_t.")
    case("unknown_value_type.gguf", g_file([arch, g_kv(b"x", 13, b"\0" * 8)], [ta, tb], data),
         "unknownValueType", "Metadata 'x' has value type 13 (types are 0 to 12).")
    case("unknown_array_type.gguf", g_file([arch, g_kv(b"x", 9, struct.pack("<IQ", 99, 1) + b"\0")], [ta, tb], data),
         "unknownValueType", "Metadata array 'x' has element type 99.")
    case("unknown_ggml_type.gguf", g_file([arch], [g_tensor(b"a", [4], 99, 0), tb], data), "unknownTensorType",
         "Tensor 'a' has ggml type 99, which no ggml version defines.")
    case("q4_k.gguf", g_file([arch], [g_tensor(b"a", [256], 12, 0)], b"\0" * 160), "unsupportedTensorType",
         "Tensor 'a' is Q4_K (type 12): a real ggml type that zoo does not read, named in the error.")
    case("iq2_xxs.gguf", g_file([arch], [g_tensor(b"a", [256], 16, 0)], b"\0" * 96), "unsupportedTensorType",
         "Tensor 'a' is IQ2_XXS (type 16).")
    case("q8_0_partial_block.gguf", g_file([arch], [g_tensor(b"a", [16], 8, 0)], b"\0" * 32), "rowNotWholeBlocks",
         "Q8_0 tensor 'a' has rows of 16 elements, half a block.")
    case("misaligned_offset.gguf", g_file([arch], [ta, g_tensor(b"b", [4, 2], 0, 16)], data), "misalignedOffset",
         "Tensor 'b' starts at data offset 16, not a multiple of the alignment 32.")
    case("offset_past_eof.gguf", g_file([arch], [ta, g_tensor(b"b", [4, 2], 0, 1 << 20)], data),
         "tensorOutOfBounds", "Tensor 'b' starts 1 MiB into a data section of 64 bytes.")
    case("offset_overflow.gguf", g_file([arch], [ta, g_tensor(b"b", [4, 2], 0, 2**64 - 32)], data),
         "tensorOutOfBounds", "Tensor 'b''s offset 2^64 - 32 overflows when added to the data section's start.")
    case("overlapping_tensors.gguf", g_file([arch], [ta, g_tensor(b"b", [4, 2], 0, 0)], data),
         "overlappingTensors", "Tensors 'a' and 'b' both start at data offset 0.")
    case("duplicate_key.gguf", g_file([arch, arch], [ta, tb], data), "duplicateKey",
         "'general.architecture' appears twice (gguf-py's reader keeps the last one).")
    case("duplicate_tensor.gguf", g_file([arch], [ta, g_tensor(b"a", [4, 2], 0, 32)], data), "duplicateTensor",
         "Two tensors are named 'a'.")
    case("empty_tensor_name.gguf", g_file([arch], [g_tensor(b"", [4], 0, 0), tb], data), "emptyTensorName",
         "The first tensor's name is empty.")
    case("alignment_not_power_of_two.gguf",
         g_file([arch, g_kv(b"general.alignment", 4, struct.pack("<I", 48))], [ta, tb], data, alignment=48),
         "invalidAlignment", "general.alignment is 48.")
    case("alignment_zero.gguf", g_file([arch, g_kv(b"general.alignment", 4, struct.pack("<I", 0))], [ta, tb], data),
         "invalidAlignment", "general.alignment is 0.")
    case("alignment_wrong_type.gguf",
         g_file([arch, g_kv(b"general.alignment", 10, struct.pack("<Q", 64))], [ta, tb], data, alignment=64),
         "invalidAlignment", "general.alignment is a uint64, not the uint32 ggml requires.")
    case("invalid_bool.gguf", g_file([arch, g_kv(b"flag", 7, b"\x02")], [ta, tb], data), "invalidBool",
         "Metadata 'flag' is a bool of 2.")
    nested = struct.pack("<IQ", 9, 1) * 17 + struct.pack("<IQ", 0, 0)
    case("arrays_nested_too_deep.gguf", g_file([arch, g_kv(b"deep", 9, nested)], [ta, tb], data),
         "arrayNestedTooDeeply", "Metadata 'deep' nests arrays 18 deep (zoo allows 16).")
    case("invalid_utf8_key.gguf", g_file([arch, g_kv(b"bad\xff", 4, b"\0" * 4)], [ta, tb], data), "invalidUTF8",
         "A key holds the byte 0xFF, never valid UTF-8 (gguf-py's reader fails to decode it too).")
    write_manifest(out / "manifest.json", cases)


def gguf_t5() -> None:
    """O: T5 GGUF files laid out as llama.cpp's converter lays them out (names from gguf-py's
    tensor map, tied head left out, norms F32, Q8_0 rows that are not whole blocks F16, the
    vocabulary from Tests/Fixtures/spm/spiece.model padded to vocab_size), for zoo to read."""
    import gguf
    from gguf.quants import dequantize
    from safetensors.numpy import save_file as save_numpy

    sys.path.insert(0, str(ROOT / "Scripts"))
    from llama_t5 import write_t5_gguf

    # The real converter's output is only rewritten when a llama.cpp checkout is given.
    real_name = "llamacpp_converter_q8_0.gguf"
    kept = {name: (FIXTURES / "gguf_t5" / name).read_bytes() for name in (real_name, real_name + ".txt")
            if (FIXTURES / "gguf_t5" / name).exists()}
    out = fresh_dir(FIXTURES / "gguf_t5")
    spm = str(FIXTURES / "spm" / "spiece.model")
    llama_cpp = os.environ.get("LLAMA_CPP_DIR")
    if llama_cpp:
        # llama.cpp's own convert_hf_to_gguf.py with its own gguf-py, on the sample plus the
        # fixtures' tokenizer (the converter reads spiece.model from the model directory).
        with tempfile.TemporaryDirectory() as scratch:
            model_dir = Path(scratch) / "t5-efficient-sample"
            shutil.copytree(SAMPLE_DIR, model_dir)
            shutil.copy(spm, model_dir / "spiece.model")
            subprocess.run([sys.executable, str(Path(llama_cpp) / "convert_hf_to_gguf.py"), str(model_dir),
                            "--outfile", str(out / real_name), "--outtype", "q8_0"], check=True,
                           env={**os.environ, "PYTHONPATH": str(Path(llama_cpp) / "gguf-py")},
                           capture_output=True)
        (out / (real_name + ".txt")).write_text(
            f"Written by llama.cpp's convert_hf_to_gguf.py --outtype q8_0 ({os.environ.get('LLAMA_CPP_REVISION', 'unknown revision')})\n"
            "from Sources/zoo/Sample/t5-efficient-sample plus Tests/Fixtures/spm/spiece.model.\n")
    else:
        for name, data in kept.items():
            (out / name).write_bytes(data)
    write_t5_gguf(str(SAMPLE_DIR), str(out / "converter_f32.gguf"), "f32", spm_path=spm)
    write_t5_gguf(str(SAMPLE_DIR), str(out / "converter_q8_0.gguf"), "q8_0", spm_path=spm)
    write_t5_gguf(str(FIXTURES / "t5_gated_untied"), str(out / "converter_gated_f16.gguf"), "f16", spm_path=spm)

    # A T5 as small as the format allows (one head of width 1, d_ff 1, vocabulary 4, no
    # tokenizer), in Q8_0: small enough (< 8 KB) to seed the GGUF fuzzer with a whole T5 model.
    torch.manual_seed(0)
    tiny = T5ForConditionalGeneration(T5Config(
        vocab_size=4, d_model=32, d_kv=1, d_ff=1, num_layers=1, num_decoder_layers=1, num_heads=1,
        feed_forward_proj="relu", decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)).eval()
    with tempfile.TemporaryDirectory() as scratch:
        tiny.save_pretrained(scratch, safe_serialization=True)
        write_t5_gguf(scratch, str(out / "tiny_q8_0.gguf"), "q8_0", spm_path=None)

    config = json.loads((SAMPLE_DIR / "config.json").read_text())
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.T5, config["num_layers"])
    reference = load_file(str(SAMPLE_DIR / "model.safetensors"))
    to_transformers = {names.get_name(name, try_suffixes=(".weight",)): name for name in reference
                       if name not in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")}
    expected = {}
    for tensor in gguf.GGUFReader(str(out / "converter_q8_0.gguf")).tensors:
        values = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        expected[to_transformers[tensor.name]] = np.ascontiguousarray(values.reshape(reference[to_transformers[tensor.name]].shape))
    save_numpy(expected, str(out / "expected_q8_0.safetensors"))


def main() -> None:
    if len(sys.argv) > 1:
        # Named groups only (K, L, M and N have no dependencies on the others; N reads K's spiece.model).
        groups = {"hub_snapshot": hub_snapshot, "foreign_files": foreign_files, "gguf_files": gguf_files,
                  "spm_tokenizer": spm_tokenizer, "gguf_t5": gguf_t5}
        for name in sys.argv[1:]:
            groups[name]()
        if "foreign_files" in sys.argv[1:]:
            foreign_tf2(import_tensorflow())
        return
    model = sample_model()      # A
    sample_sharded(model)       # B
    gated_untied()              # C
    casts()                     # D
    dtypes()                    # E
    bad_files()                 # F
    bad_sharded()               # F (sharded)
    previous_legacy = reset_torch_dir()
    torch_sample_bin(model)     # G1
    torch_sample_bin_sharded(model)  # G2
    torch_dtypes()              # G3
    torch_views()               # G4
    torch_nested()              # G5
    torch_legacy(model, previous_legacy)  # G6
    torch_half(model)           # G7
    torch_bad_files()           # H
    forward_references()        # I
    torch_compat()              # G8 (after H: reset_torch_dir() above owns torch/)
    untied_embeddings()         # I2
    hub_snapshot()              # K
    foreign_files()             # L
    gguf_files()                # M
    spm_tokenizer()             # N (after K, whose spiece.model it reads)
    gguf_t5()                   # O (after A, C and N, whose files it reads)
    tf_checkpoints()            # J (last: imports TensorFlow)
    foreign_tf2(import_tensorflow())  # L (TensorFlow part)
    written = [f for d in (SAMPLE_DIR, FIXTURES) for f in d.rglob("*") if f.is_file()]
    for path in sorted(written):
        print(f"{path.stat().st_size:>10}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
