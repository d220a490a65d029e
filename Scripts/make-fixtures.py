#!/usr/bin/env python3
"""Generate zoo's committed test fixtures (and the bundled sample model).

zoo is written in Swift; it reads and writes T5 checkpoints itself.  These
fixtures are the ground truth it is tested against: files written by the real
libraries (transformers, safetensors, torch), the results of torch's own dtype
casts, and a corpus of deliberately broken files.

Setup (once; needs CPython 3.11, because the torch wheel in /opt/wheels is cp311):

    python3 -m venv /work/pyenv
    /work/pyenv/bin/pip install --find-links /opt/wheels torch==2.13.0+cpu safetensors transformers==4.57.6 numpy

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
"""

import os

# transformers must not try to import TensorFlow (it is not installed, and
# probing for it is slow and noisy).  Must be set before importing transformers.
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

import json
import math
import random
import shutil
import struct
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import T5Config, T5ForConditionalGeneration

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

    source.safetensors:      edge_<D>, random_<D> for D in F64 F32 F16 BF16
    torch_casts.safetensors: <name>__to__<T> = torch's cast of source[name] to T,
                             for every T != the source tensor's own dtype.
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

    write_manifest(out / "manifest.json", cases)


def main() -> None:
    model = sample_model()      # A
    sample_sharded(model)       # B
    gated_untied()              # C
    casts()                     # D
    dtypes()                    # E
    bad_files()                 # F
    bad_sharded()               # F (sharded)
    written = [f for d in (SAMPLE_DIR, FIXTURES) for f in d.rglob("*") if f.is_file()]
    for path in sorted(written):
        print(f"{path.stat().st_size:>10}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
