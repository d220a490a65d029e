#!/usr/bin/env python3
"""Run a T5 encoder-decoder GGUF file in llama.cpp and return decoder logits.

Uses llama-cpp-python's low-level ctypes bindings (module ``llama_cpp``) rather
than the high-level ``Llama`` class, because the high-level class has no
notion of a separate encoder pass with its own input ids.

Public API:

    llama_t5_logits(gguf_path, encoder_ids, decoder_ids, threads=2)
        -> numpy float32 array [len(decoder_ids), n_vocab]

Running this file as a script performs a self-test: it writes GGUF files for
two small transformers T5 checkpoints the way llama.cpp's convert_hf_to_gguf.py
(class T5Model) would, and compares llama.cpp's logits to transformers'.

Set LLAMA_T5_VERBOSE=1 to see llama.cpp's own log output.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

import llama_cpp as ll

__all__ = ["llama_t5_logits", "llama_t5_tokenize", "LlamaT5Error"]


class LlamaT5Error(RuntimeError):
    """A llama.cpp call failed (model load, context creation, encode, decode)."""


# The callback object must outlive every llama.cpp call that might log, or
# llama.cpp would call into freed memory; keep it at module level.
@ll.llama_log_callback
def _silent_log(level, text, user_data):  # noqa: ARG001
    pass


_backend_ready = False


def _init_backend() -> None:
    global _backend_ready
    if _backend_ready:
        return
    # Logging must be redirected before backend init / model load, which are the
    # noisiest calls.
    if not os.environ.get("LLAMA_T5_VERBOSE"):
        ll.llama_log_set(_silent_log, ctypes.c_void_p())
    ll.llama_backend_init()
    _backend_ready = True


def _fill_batch(batch: ll.llama_batch, ids: list[int], want_logits: bool) -> None:
    for i, tok in enumerate(ids):
        batch.token[i] = int(tok)
        batch.pos[i] = i
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = 0
        batch.logits[i] = 1 if want_logits else 0
    batch.n_tokens = len(ids)


def llama_t5_logits(
    gguf_path: str,
    encoder_ids: list[int],
    decoder_ids: list[int],
    threads: int = 2,
) -> np.ndarray:
    """Encode ``encoder_ids`` then decode ``decoder_ids`` in one batch.

    Returns float32 logits [len(decoder_ids), n_vocab], one row per decoder
    position (teacher forcing, like transformers with ``decoder_input_ids``).
    """
    if not encoder_ids or not decoder_ids:
        raise ValueError("encoder_ids and decoder_ids must both be non-empty")
    if not os.path.isfile(gguf_path):
        raise FileNotFoundError(gguf_path)

    _init_backend()

    n_max = max(len(encoder_ids), len(decoder_ids))
    model = ctx = None
    batch = None
    try:
        mparams = ll.llama_model_default_params()
        mparams.n_gpu_layers = 0  # CPU-only: results must be reproducible
        mparams.use_mmap = False  # the file may be rewritten between calls
        model = ll.llama_model_load_from_file(gguf_path.encode(), mparams)
        if not model:
            raise LlamaT5Error(
                f"llama.cpp failed to load {gguf_path} (set LLAMA_T5_VERBOSE=1 for details)"
            )
        if not ll.llama_model_has_encoder(model):
            raise LlamaT5Error(f"{gguf_path}: model has no encoder (not a T5 GGUF?)")

        cparams = ll.llama_context_default_params()
        # llama_encode cannot split its input: with n_tokens > n_ubatch it hits
        # GGML_ASSERT and aborts the whole process (no error code), so size
        # n_batch/n_ubatch to the longest sequence; n_ctx holds the decoder KV.
        n_ctx = max(64, n_max)
        cparams.n_ctx = n_ctx
        cparams.n_batch = n_ctx
        cparams.n_ubatch = n_ctx
        cparams.n_seq_max = 1
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.embeddings = False  # we want logits, not pooled embeddings
        # This is a reference for checking converters, so keep attention exact:
        # flash attention (chosen by the default "auto" on CPU) rounds Q/K/V to
        # F16 and costs ~3e-4 relative logit error even with F32 weights; with
        # it off and an F32 KV cache, F32 GGUFs match transformers to ~1e-6.
        cparams.flash_attn_type = ll.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cparams.type_k = ll.GGML_TYPE_F32
        cparams.type_v = ll.GGML_TYPE_F32
        cparams.no_perf = True
        ctx = ll.llama_init_from_model(model, cparams)
        if not ctx:
            raise LlamaT5Error("llama_init_from_model failed")

        vocab = ll.llama_model_get_vocab(model)
        n_vocab = ll.llama_vocab_n_tokens(vocab)
        for name, ids in (("encoder_ids", encoder_ids), ("decoder_ids", decoder_ids)):
            bad = [t for t in ids if not 0 <= int(t) < n_vocab]
            if bad:
                raise ValueError(f"{name} out of range [0, {n_vocab}): {bad[:5]}")

        # One owned batch reused for both passes; llama_batch_get_one would
        # leave logits=NULL, which means "output only the last token".
        batch = ll.llama_batch_init(n_max, 0, 1)

        _fill_batch(batch, encoder_ids, want_logits=False)
        rc = ll.llama_encode(ctx, batch)
        if rc != 0:
            raise LlamaT5Error(f"llama_encode returned {rc}")

        # Request logits at every decoder position so one decode call gives
        # teacher-forced logits for the whole sequence.
        _fill_batch(batch, decoder_ids, want_logits=True)
        rc = ll.llama_decode(ctx, batch)
        if rc != 0:
            raise LlamaT5Error(f"llama_decode returned {rc}")

        out = np.empty((len(decoder_ids), n_vocab), dtype=np.float32)
        for i in range(len(decoder_ids)):
            ptr = ll.llama_get_logits_ith(ctx, i)
            if not ptr:
                raise LlamaT5Error(f"llama_get_logits_ith({i}) returned NULL")
            out[i] = np.ctypeslib.as_array(ptr, shape=(n_vocab,))
        return out
    finally:
        if batch is not None:
            ll.llama_batch_free(batch)
        if ctx:
            ll.llama_free(ctx)
        if model:
            ll.llama_model_free(model)


def llama_t5_tokenize(gguf_path: str, text: str, add_special: bool = True) -> list[int]:
    """The ids llama.cpp's tokenizer (the GGUF's own vocabulary) gives ``text``.

    With ``add_special`` llama.cpp adds what the file asks for (T5: ``</s>`` at the end,
    ``tokenizer.ggml.add_eos_token``), as transformers' T5 tokenizer does.
    """
    _init_backend()
    mparams = ll.llama_model_default_params()
    mparams.n_gpu_layers = 0
    mparams.vocab_only = True  # the tokenizer alone: no weights are loaded
    model = ll.llama_model_load_from_file(gguf_path.encode(), mparams)
    if not model:
        raise LlamaT5Error(f"llama.cpp failed to load {gguf_path}")
    try:
        vocab = ll.llama_model_get_vocab(model)
        data = text.encode()
        capacity = len(data) + 8
        tokens = (ll.llama_token * capacity)()
        count = ll.llama_tokenize(vocab, data, len(data), tokens, capacity, add_special, False)
        if count < 0:
            raise LlamaT5Error(f"llama_tokenize needs {-count} tokens, more than {capacity}")
        return [int(tokens[i]) for i in range(count)]
    finally:
        ll.llama_model_free(model)


# --------------------------------------------------------------------------
# Self-test: GGUF writing (mirrors convert_hf_to_gguf.py T5Model) + comparison
# --------------------------------------------------------------------------

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SPM = os.path.join(_REPO, "Tests/Fixtures/spm/spiece.model")


def _add_t5_vocab(writer, spm_path: str, vocab_size: int) -> None:
    # Same steps as T5Model.set_vocab (Unigram path).
    os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
    import gguf
    from sentencepiece import SentencePieceProcessor
    from sentencepiece import sentencepiece_model_pb2 as spm_pb2

    proto = spm_pb2.ModelProto()
    with open(spm_path, "rb") as f:
        proto.ParseFromString(f.read())
    assert proto.trainer_spec.model_type == 1, "expected a Unigram sentencepiece model"

    sp = SentencePieceProcessor()
    sp.LoadFromFile(spm_path)
    T = gguf.TokenType
    tokens = [f"[PAD{i}]".encode() for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    types = [int(T.UNUSED)] * vocab_size
    for i in range(sp.vocab_size()):
        t = T.NORMAL
        if sp.IsUnknown(i):
            t = T.UNKNOWN
        elif sp.IsControl(i):
            t = T.CONTROL
        elif sp.IsUnused(i):
            t = T.UNUSED
        elif sp.IsByte(i):
            t = T.BYTE
        tokens[i] = sp.IdToPiece(i).encode()
        scores[i] = sp.GetScore(i)
        types[i] = int(t)

    writer.add_tokenizer_model("t5")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_add_space_prefix(proto.normalizer_spec.add_dummy_prefix)
    writer.add_remove_extra_whitespaces(proto.normalizer_spec.remove_extra_whitespaces)
    if proto.normalizer_spec.precompiled_charsmap:
        writer.add_precompiled_charsmap(proto.normalizer_spec.precompiled_charsmap)
    # What gguf.SpecialVocab would pick up from a T5 tokenizer_config.json.
    writer.add_eos_token_id(1)
    writer.add_unk_token_id(2)
    writer.add_pad_token_id(0)
    writer.add_add_eos_token(True)
    writer.add_add_sep_token(False)


def write_t5_gguf(
    model_dir: str,
    out_path: str,
    wtype: str = "f32",
    explicit_scaled_head: bool = False,
    pad_encoder_layers: bool = False,
    spm_path: str | None = _SPM,
) -> None:
    """Write a GGUF for a transformers T5 checkpoint (like convert_hf_to_gguf.py).

    wtype: "f32", "f16" or "q8_0" for 2-D weights (norms/1-D stay F32; Q8_0
      falls back to F16 when the last dim is not a multiple of the block size).
    explicit_scaled_head: for tied models, also write output.weight =
      shared.weight * d_model**-0.5 (what transformers effectively applies).
    pad_encoder_layers: this llama.cpp build cannot load T5 files with more
      decoder than encoder layers (load fails with vector::_M_range_check), so
      optionally append all-zero encoder blocks.  A zero block is an exact
      identity (both sublayers add 0 to the residual), so logits are unchanged.
    """
    import json

    import gguf
    from safetensors.numpy import load_file

    with open(os.path.join(model_dir, "config.json")) as f:
        hp = json.load(f)
    n_enc = hp["num_layers"]
    n_dec = hp.get("num_decoder_layers", n_enc)
    tied = hp.get("tie_word_embeddings", True)
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.T5, max(n_enc, n_dec))
    ftype = {"f32": 0, "f16": 1, "q8_0": 7}[wtype]

    tensors = dict(load_file(os.path.join(model_dir, "model.safetensors")))
    if explicit_scaled_head:
        if not tied:
            raise ValueError("explicit_scaled_head only makes sense for tied models")
        tensors["lm_head.weight"] = tensors["shared.weight"].astype(np.float32) * np.float32(
            hp["d_model"] ** -0.5
        )
    elif tied:
        # Safetensors may carry a copy of the tied head; llama.cpp falls back
        # to token_embd when output.weight is absent, as the converter expects.
        tensors.pop("lm_head.weight", None)
    n_enc_written = n_enc
    if pad_encoder_layers and n_dec > n_enc:
        for name in [k for k in tensors if k.startswith("encoder.block.0.")]:
            if "relative_attention_bias" in name:
                continue  # only block 0 carries the bias
            for i in range(n_enc, n_dec):
                tensors[name.replace("block.0.", f"block.{i}.", 1)] = np.zeros_like(tensors[name])
        n_enc_written = n_dec

    w = gguf.GGUFWriter(out_path, "t5")
    w.add_context_length(hp.get("n_positions", 512))
    w.add_embedding_length(hp["d_model"])
    w.add_feed_forward_length(hp["d_ff"])
    w.add_block_count(n_enc_written)
    if "num_decoder_layers" in hp:
        w.add_decoder_block_count(hp["num_decoder_layers"])
    w.add_head_count(hp["num_heads"])
    w.add_key_length(hp["d_kv"])
    w.add_value_length(hp["d_kv"])
    w.add_layer_norm_eps(hp["layer_norm_epsilon"])
    w.add_relative_attn_buckets_count(hp["relative_attention_num_buckets"])
    w.add_layer_norm_rms_eps(hp["layer_norm_epsilon"])
    w.add_decoder_start_token_id(hp["decoder_start_token_id"])
    w.add_file_type(ftype)
    if spm_path is not None:  # None: no tokenizer (zoo reads such files; llama.cpp does not)
        _add_t5_vocab(w, spm_path, hp["vocab_size"])

    qk = gguf.GGMLQuantizationType
    q8_block = gguf.GGML_QUANT_SIZES[qk.Q8_0][0]
    for name, arr in tensors.items():
        if name in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"):
            continue  # shared.weight is the one token_embd
        new = tmap.get_name(name, try_suffixes=(".weight",))
        if new is None:
            raise KeyError(f"no GGUF name for {name}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)  # torch layout, no transpose
        if arr.ndim < 2 or wtype == "f32":
            w.add_tensor(new, arr)
        elif wtype == "q8_0" and arr.shape[-1] % q8_block == 0:
            w.add_tensor(new, gguf.quants.quantize(arr, qk.Q8_0), raw_dtype=qk.Q8_0)
        else:
            w.add_tensor(new, arr.astype(np.float16))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _hf_logits(model_dir: str, enc: list[int], dec: list[int]) -> np.ndarray:
    import torch
    from transformers import T5ForConditionalGeneration

    m = T5ForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        out = m(input_ids=torch.tensor([enc]), decoder_input_ids=torch.tensor([dec]))
    return out.logits[0].numpy()


def _self_test() -> int:
    import tempfile

    tied_dir = os.path.join(_REPO, "Sources/zoo/Sample/t5-efficient-sample")
    gated_dir = os.path.join(_REPO, "Tests/Fixtures/t5_gated_untied")
    enc_a = [5, 17, 33, 99, 250, 1000, 7, 1]
    enc_b = [5, 17, 33, 99, 250, 488, 7, 1]  # (b) has vocab 512
    dec = [0, 12, 45]
    tmp_holder = tempfile.TemporaryDirectory(prefix="llama_t5_")  # removed at exit
    tmp = tmp_holder.name
    failures = 0

    def report(label, got, ref, tol):
        nonlocal failures
        err = float(np.abs(got - ref).max())
        rel = err / float(np.abs(ref).max())
        verdict = "info" if tol is None else ("ok" if rel <= tol else "FAIL")
        failures += verdict == "FAIL"
        print(f"{label:<46} max|err| {err:9.3e}  rel {rel:9.3e}  {verdict}")

    def run(mdir, enc, wtype, **kw):
        path = os.path.join(tmp, f"{os.path.basename(mdir)}-{wtype}-{len(kw)}.gguf")
        write_t5_gguf(mdir, path, wtype, **kw)
        return llama_t5_logits(path, enc, dec)

    # F16/Q8_0 tolerances are loose by design: they check "same model", not bits.
    tol = {"f32": 1e-5, "f16": 1e-2, "q8_0": 5e-2}
    scale = np.sqrt(64.0)  # (a) d_model = 64

    print(f"(a) {tied_dir}\n    encoder_ids={enc_a} decoder_ids={dec}")
    ref = _hf_logits(tied_dir, enc_a, dec)
    report("(a) F32 tied, raw llama.cpp", run(tied_dir, enc_a, "f32"), ref, None)
    for wt in ("f32", "f16", "q8_0"):
        got = run(tied_dir, enc_a, wt)
        report(f"(a) {wt.upper()} tied, llama.cpp / sqrt(d_model)", got / scale, ref, tol[wt])
    for wt in ("f32", "f16", "q8_0"):
        got = run(tied_dir, enc_a, wt, explicit_scaled_head=True)
        report(f"(a) {wt.upper()} explicit output.weight", got, ref, tol[wt])

    print(f"(b) {gated_dir}\n    encoder_ids={enc_b} decoder_ids={dec}")
    ref = _hf_logits(gated_dir, enc_b, dec)
    try:
        run(gated_dir, enc_b, "f32")
        print("(b) as converted: loaded (this llama.cpp handles n_dec > n_enc)")
    except LlamaT5Error as e:
        print(f"(b) as converted (2 enc < 3 dec layers): {e}")
    # GELU in ggml is an approximation (~3e-4 relative here), hence the looser F32 bound.
    for wt, t in (("f32", 1e-3), ("f16", tol["f16"]), ("q8_0", tol["q8_0"])):
        got = run(gated_dir, enc_b, wt, pad_encoder_layers=True)
        report(f"(b) {wt.upper()} + zero-padded encoder", got, ref, t)

    print("PASS" if failures == 0 else f"{failures} FAIL")
    tmp_holder.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(_self_test())
