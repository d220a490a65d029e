#!/usr/bin/env bash
# Creates the repository's Python venv, .venv/ at the repository root (git-ignored), with what
# the fixture generator, the interop check and the benchmarks import. CI and the two README
# commands need none of it: the fixtures are committed.
#
#   Scripts/python-env.sh [--llama]
#
#   --llama   also build llama-cpp-python (Scripts/check-interop.py's llama.cpp section and
#             fixture group gguf_t5's llama.cpp half; about 8 minutes of compiling)
#
# torch is pinned to the CPU build the fixtures were written with, torch==2.13.0+cpu. PyPI has
# no "+cpu" builds, so pip must be told where that wheel is, with one of pip's own variables:
#   PIP_EXTRA_INDEX_URL=URL Scripts/python-env.sh   # URL: PyTorch's CPU wheel index
#   PIP_FIND_LINKS=DIR Scripts/python-env.sh        # DIR: a folder holding the wheel
# ZOO_TORCH overrides the requirement (e.g. ZOO_TORCH=torch==2.13.0, PyPI's CUDA build: the same
# CPU kernels and results, a few GB more to download). PYTHON picks the interpreter (default
# python3; CPython 3.11 is what the fixtures were made with). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

llama=0
while (($#)); do
    case "$1" in
        --llama) llama=1; shift ;;
        -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "python-env: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

python=${PYTHON:-python3}
torch=${ZOO_TORCH:-torch==2.13.0+cpu}

[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip install --disable-pip-version-check)

# torch alone first, so that a missing "+cpu" wheel is explained rather than buried in a
# resolver error.
if ! "${pip[@]}" "$torch"; then
    echo "python-env: pip found no $torch; point PIP_FIND_LINKS at a folder holding the wheel," >&2
    echo "python-env: or PIP_EXTRA_INDEX_URL at PyTorch's CPU index, or set ZOO_TORCH (see --help)" >&2
    exit 1
fi
# The versions the committed fixtures were written with (transformers writes its version into
# config.json; the TensorFlow fixtures record tensorflow's). tensorflow-cpu 2.21 accepts numpy 2.
"${pip[@]}" "$torch" safetensors transformers==4.57.6 numpy tensorflow-cpu==2.21.0 \
    sentencepiece==0.2.3 gguf==0.19.0
if ((llama)); then
    # GGML_NATIVE=OFF: a wheel that runs on any x86-64 CPU, not only the one that built it.
    CMAKE_ARGS=-DGGML_NATIVE=OFF "${pip[@]}" llama-cpp-python==0.3.36
fi
echo "python-env: ready; run the scripts with .venv/bin/python"
