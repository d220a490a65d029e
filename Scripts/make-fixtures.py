#!/usr/bin/env python3
"""Generate zoo's committed test fixtures (and the bundled sample model).

zoo is written in Swift; it reads and writes T5 checkpoints itself.  These
fixtures are the ground truth it is tested against: files written by the real
libraries (transformers, safetensors, torch), the results of torch's own dtype
casts, and a corpus of deliberately broken files.

Setup (once; Scripts/python-env.sh creates the repository's git-ignored venv,
.venv/, with torch 2.13.0+cpu, safetensors, transformers 4.57.6, numpy,
tensorflow-cpu 2.21.0, sentencepiece 0.2.3 and gguf 0.19.0; see its --help for
where pip finds torch's +cpu wheel):

    Scripts/python-env.sh

TensorFlow (group J only) goes into the same venv: tensorflow-cpu 2.21.0
accepts numpy 2 (the venv keeps numpy 2.4.6; pip changes none of the packages
above, it adds keras, protobuf, ml_dtypes, h5py and the like).  It is imported
only when group J runs, after every other group, with USE_TF=0 still keeping
transformers away from it.

Run (from any directory; output paths are relative to the repository root,
which is found from this file's location):

    .venv/bin/python Scripts/make-fixtures.py

The script deletes and rewrites only the directories/files it owns (listed in
main()).  It is deterministic: every random draw uses a fixed seed and torch's
portable scalar kernels (see ATEN_CPU_CAPABILITY in fixtures/__init__.py), so a rerun with the
same library versions produces byte-identical files.  The one injected
randomness -- safetensors orders __metadata__ keys randomly -- is undone by
save_file_deterministic().  transformers writes its version number into
config.json / generation_config.json, so those change with the version.

The generator is the package Scripts/fixtures/, one module per group (named
in brackets below); this file only runs the groups, in the order main() gives.

Fixture groups (one function each):
    A  sample_model()      Sources/zoo/Sample/t5-efficient-sample/  [sample]
    B  sample_sharded()    Tests/Fixtures/sample_sharded/
    C  gated_untied()      Tests/Fixtures/t5_gated_untied/
    D  casts()             Tests/Fixtures/casts/{source,torch_casts}.safetensors  [casts]
    E  dtypes()            Tests/Fixtures/dtypes.safetensors  [every_dtype]
    F  bad_files()         Tests/Fixtures/bad/            (+ manifest.json)  [safetensors_bad]
       bad_sharded()       Tests/Fixtures/bad_sharded/    (+ manifest.json)
    G  torch_*()           Tests/Fixtures/torch/          (+ expected/<fixture>.{safetensors,json})  [torch_files; torch_bytes]
    H  torch_bad_files()   Tests/Fixtures/torch_bad/      (+ manifest.json)  [torch_bad]
    I  forward_references() Tests/Fixtures/forward/       (transformers' forward outputs)  [forward]
       overflow_fp16()     Tests/Fixtures/overflow_fp16/  (+ forward/overflow_fp16*)
    J  tf_checkpoints()    Tests/Fixtures/tf/{sample_meshtf,gated_untied_meshtf}/  [tf_checkpoints; tf_bundle]
                           (A and C as Mesh-TF TensorFlow checkpoints, written by TF;
                           + tf/expected/<name>.{safetensors,json}: transformers'
                           load_tf_weights_in_t5 result)
       tf_bad_files()      Tests/Fixtures/tf_bad/         (+ manifest.json; valid/ is the base)
    K  hub_snapshot()      Tests/Fixtures/companions/hub_snapshot/ (a tiny model dir as the hub  [hub]
                           serves it: weights, config, tokenizer files, generation config,
                           operative_config.gin, README.md)
    L  foreign_files()     Tests/Fixtures/foreign/        (formats zoo names and refuses: a TF2  [foreign]
                           object-based checkpoint, Keras tf_model.h5, Flax flax_model.msgpack,
                           a TorchScript archive; L's TF part runs with J, after the others)
    N  spm_tokenizer()     Tests/Fixtures/spm/            (SentencePiece models trained by the  [spm]
                           sentencepiece package, + expected_vocab.json: what sentencepiece reads
                           and the GGUF tokenizer llama.cpp's converter writes for them)
                           Tests/Fixtures/spm_bad/        (+ manifest.json)

    M  gguf_files()        Tests/Fixtures/gguf/           (GGUF files written by gguf-py's GGUFWriter:  [gguf_files]
                           every metadata type, F32/F16/BF16/Q8_0 tensors, alignment 64;
                           + expected.{json,safetensors}: what gguf-py reads back, Q8_0 inputs
                           and gguf.quants' dequantized values)
       gguf_bad_files()    Tests/Fixtures/gguf_bad/       (+ manifest.json)
    O  gguf_t5()           Tests/Fixtures/gguf_t5/        (T5 GGUF files as llama.cpp's converter,  [gguf_t5]
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

import sys

# Importing the package first sets the environment torch and transformers must see (see
# fixtures/__init__.py).  The script's own directory, Scripts/, is on sys.path.
from fixtures.common import FIXTURES, ROOT, SAMPLE_DIR
from fixtures.sample import sample_model, sample_sharded, gated_untied
from fixtures.casts import casts
from fixtures.every_dtype import dtypes
from fixtures.safetensors_bad import bad_files, bad_sharded
from fixtures.torch_files import (
    reset_torch_dir, torch_sample_bin, torch_sample_bin_sharded, torch_dtypes, torch_views, torch_nested,
    torch_legacy, torch_half, torch_compat,
)
from fixtures.torch_bad import torch_bad_files
from fixtures.forward import forward_references, untied_embeddings
from fixtures.tf_checkpoints import import_tensorflow, tf_checkpoints
from fixtures.hub import hub_snapshot
from fixtures.foreign import foreign_files, foreign_tf2
from fixtures.gguf_files import gguf_files
from fixtures.spm import spm_tokenizer
from fixtures.gguf_t5 import gguf_t5


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
