#!/usr/bin/env bash
# Regenerates the protobuf-c code zoo commits: TensorFlow checkpoint indexes
# (Protos/tensor_bundle.proto -> Sources/CTensorBundleProto) and SentencePiece tokenizer models
# (Protos/sentencepiece_model.proto -> Sources/CSentencePieceProto). Needs protoc-c (apt:
# protobuf-c-compiler); the generated files are committed, so building zoo needs only the
# runtime library (libprotobuf-c-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

# generate PROTO TARGET: writes TARGET's .pb-c.c at its root and its header in include/, where
# SwiftPM looks for a C target's public headers.
generate() {
    local name out
    name=$(basename "$1" .proto)
    out=Sources/$2
    mkdir -p "$out/include"
    protoc-c --proto_path=Protos --c_out="$out" "$1"
    mv "$out/$name.pb-c.h" "$out/include/$name.pb-c.h"
    # The .c file includes its header by the path protoc-c saw; the header lives in include/.
    sed -i "s|#include \"$name.pb-c.h\"|#include \"include/$name.pb-c.h\"|" "$out/$name.pb-c.c"
}

generate Protos/tensor_bundle.proto CTensorBundleProto
generate Protos/sentencepiece_model.proto CSentencePieceProto
