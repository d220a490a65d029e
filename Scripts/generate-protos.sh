#!/usr/bin/env bash
# Regenerates the protobuf-c code for TensorFlow checkpoint indexes from Protos/tensor_bundle.proto.
# Needs protoc-c (apt: protobuf-c-compiler); the generated files are committed, so building zoo
# needs only the runtime library (libprotobuf-c-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
out=Sources/CTensorBundleProto
protoc-c --proto_path=Protos --c_out="$out" Protos/tensor_bundle.proto
mv "$out/tensor_bundle.pb-c.h" "$out/include/tensor_bundle.pb-c.h"
# The .c file includes its header by the path protoc-c saw; the header lives in include/.
sed -i 's|#include "tensor_bundle.pb-c.h"|#include "include/tensor_bundle.pb-c.h"|' "$out/tensor_bundle.pb-c.c"
