#!/usr/bin/env bash
# Converts every readable fixture (and the bundled sample) with two zoo binaries, into a matrix of
# formats, dtypes, shardings and compression, and compares what they did: each case's exit status
# and first error line, and the SHA-256 of every file written. A refactoring that must leave
# outputs byte for byte as they were runs this against a build of the commit before it:
#
#   git worktree add /tmp/zoo-before HEAD~1 && (cd /tmp/zoo-before && swift build -c release)
#   Scripts/compare-outputs.sh /tmp/zoo-before/.build/release/zoo .build/release/zoo
#
# Prints the differences (none: "identical") and exits non-zero when there are any.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD/Tests/Fixtures
tokenizer=$root/spm/spiece.model

sources=$(cd "$root" && ls -d sample_sharded t5_gated_untied t5_untied_embeddings overflow_fp16 casts/source.safetensors \
    dtypes.safetensors torch/sample_bin torch/sample_bin_sharded torch/*.bin tf/sample_meshtf tf/gated_untied_meshtf \
    gguf_t5/*.gguf gguf/*.gguf gguf_zoo/* companions/hub_snapshot forward/*.safetensors 2>/dev/null | sort -u)
options=(
    "" "--dtype bf16" "--dtype fp16" "--dtype fp32" "--dtype fp64" "--to pytorch"
    "--to pytorch --shard-size 300000 --dtype bf16" "--shard-size 300000" "--to tf"
    "--to tf --shard-size 300000 --dtype bf16" "--to gguf --dtype fp32 --tokenizer $tokenizer"
    "--to gguf --dtype q8_0 --tokenizer $tokenizer" "--to gguf --dtype fp16 --tokenizer $tokenizer"
    "--compress zstd --dtype bf16" "FILE.safetensors" "FILE.bin" "FILE.gguf --dtype bf16 --tokenizer $tokenizer"
    "--no-verify --dtype fp16"
)

# Runs the matrix with zoo binary $1 in work directory $2; prints one block per case.
digest() {
    local zoo=$1 work=$2 case=0
    rm -rf "$work" && mkdir -p "$work"
    for source in $sources Sources/zoo/Sample/t5-efficient-sample; do
        local path=$root/$source
        [ -e "$path" ] || path=$PWD/$source
        for option in "${options[@]}"; do
            case=$((case + 1))
            local destination=$work/c$case args=$option
            if [[ $option == FILE.* ]]; then
                local extension=${option%% *}
                extension=${extension#FILE}
                destination=$work/c$case$extension
                args=${option#FILE"$extension"}
            fi
            # shellcheck disable=SC2086 # the options are words
            local error status
            error=$("$zoo" convert "$path" "$destination" $args 2>&1 >/dev/null)
            status=$?
            echo "case $case [$source] [$option] exit $status ${error:+$(echo "$error" | head -1 | sed "s#$work##g")}"
            if [ $status -eq 0 ]; then
                (cd "$work" && find "c$case" "c$case".* -type f 2>/dev/null | sort | while read -r file; do
                    echo "  $file $(sha256sum <"$file" | cut -c1-64)"
                done)
            fi
            rm -rf "$destination" "$destination".*
        done
    done
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
digest "$(realpath "$1")" "$scratch/before" >"$scratch/before.txt"
digest "$(realpath "$2")" "$scratch/after" >"$scratch/after.txt"
echo "$(grep -c '^case' "$scratch/before.txt") cases, $(grep -c 'exit 0' "$scratch/before.txt") conversions written"
if diff "$scratch/before.txt" "$scratch/after.txt"; then echo identical; else exit 1; fi
