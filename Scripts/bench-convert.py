#!/usr/bin/env python3
"""Benchmark `zoo convert --dtype bf16` against cp and a Python (torch) peer.

The question this answers: is zoo's fp32 -> bf16 conversion close to the cost
of just copying the bytes, how does it compare with what people do today in
Python, and does it stay within its memory budget (64 MB + the largest tensor)?

The input is an fp32 checkpoint with the exact shape of
google/t5-efficient-large-dm128 (92,209,408 parameters, ~369 MB), built the
way transformers builds it (random init, fixed seed) and cached in the work
directory, so no download is needed and every run sees the same file.

Setup (once; needs CPython 3.11, because the torch wheel in /opt/wheels is cp311):

    python3 -m venv /work/pyenv
    /work/pyenv/bin/pip install --find-links /opt/wheels torch==2.13.0+cpu safetensors transformers==4.57.6 numpy

and a release build of zoo:

    swift build -c release --product zoo

Run (from any directory):

    /work/pyenv/bin/python Scripts/bench-convert.py [--zoo .build/release/zoo] [--work /tmp/zoo-bench]
                                                    [--repeat 5] [--markdown FILE]

What is measured, per command: the median wall time over --repeat runs, after
one untimed warm-up run of every command (so the source is in the page cache
for all of them), and the peak RSS (max over the timed runs).  Before every
run, untimed: the command's output is deleted and `sync` flushes dirty pages,
so no run pays for the previous run's writeback.

  cp            cp SRC/model.safetensors WORK/cp-out.safetensors
  cp + fsync    the same, then `sync FILE` (fsync).  zoo fsyncs its output
                before renaming it into place and cp does not, so the fair
                "copy the bytes durably" baseline is this one.
  zoo (dir)     zoo convert SRC WORK/zoo-bf16 --dtype bf16 --force
  zoo (file)    zoo convert SRC/model.safetensors WORK/zoo-bf16.safetensors --dtype bf16 --force
  peer          python -c PEER_CODE: safetensors.torch.load_file, .to(bfloat16)
                on every float tensor, save_file.  Timed as a whole process
                (including `import torch`), and also as reported by the peer
                itself excluding imports, so the comparison is fair both ways.
                (The peer does not fsync.)

Peak RSS: a child's ru_maxrss on Linux starts from the RSS of the process
that spawned it (exec records the old address space's high-water mark; with
vfork/posix_spawn, which Python's subprocess uses, that is the parent's
all-time peak).  Spawned from this Python process, even `true` reports ~11 MB.
So each command runs under GNU time (/usr/bin/time -f %M), a ~1 MB process
whose %M is wait4's ru_maxrss of its own child; without GNU time the script
falls back to os.wait4 on the command directly and says the numbers carry
that floor.  This parent never imports torch (generation and verification run
in child processes) to keep that floor low in the fallback as well.

Correctness, checked in the same run: both zoo outputs must hold the same
tensor names as the peer's output, every tensor bf16 and bit-identical to
torch's cast.  Exit status 1 if not (or if a command fails).
"""

import argparse
import datetime
import fcntl
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"

# google/t5-efficient-large-dm128: the T5 "efficient" large model with d_model
# shrunk to 128.  All other T5Config fields keep their defaults (dropout 0.1,
# layer_norm_epsilon 1e-6, relative_attention_max_distance 128, ...).
T5_CONFIG = dict(
    vocab_size=32128, d_model=128, d_kv=64, num_heads=16, d_ff=4096,
    num_layers=24, num_decoder_layers=24, feed_forward_proj="relu",
    tie_word_embeddings=True, relative_attention_num_buckets=32,
)
EXPECTED_PARAMETERS = 92_209_408
SEED = 0
MB = 1_000_000
RSS_BUDGET_MB = 64  # zoo's target: peak RSS below this + the largest tensor
MISMATCH = 3  # verify_outputs' exit status for a mismatch (1 is Python's for a crash)

# The Python peer, run as `python -c PEER_CODE SRC DST`.  What a user would
# write; prints its own timing, excluding interpreter start and imports.
PEER_CODE = """\
import sys, time
import torch
from safetensors.torch import load_file, save_file
start = time.perf_counter()
tensors = load_file(sys.argv[1])
tensors = {name: t.to(torch.bfloat16) if t.is_floating_point() else t for name, t in tensors.items()}
save_file(tensors, sys.argv[2], metadata={"format": "pt"})
print(f"peer_seconds_excluding_imports {time.perf_counter() - start:.6f}")
"""


# ---------------------------------------------------------------------------
# Child-process steps (these import torch; the parent must not)
# ---------------------------------------------------------------------------

def generate_checkpoint(directory: str) -> None:
    """Writes the fp32 t5-efficient-large-dm128-shaped checkpoint to `directory`."""
    os.environ["USE_TF"] = "0"  # transformers must not probe for TensorFlow
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(SEED)
    model = T5ForConditionalGeneration(T5Config(**T5_CONFIG))
    model.save_pretrained(directory, safe_serialization=True)


def verify_outputs(peer: str, *zoo_outputs: str) -> None:
    """Prints PASS/FAIL per zoo output: same tensor names as the peer, all bf16,
    bit-identical (compared as int16 bit patterns: stricter than torch.equal,
    which calls -0.0 and +0.0 equal).  Exits MISMATCH on any FAIL."""
    import torch
    from safetensors.torch import load_file

    expected = load_file(peer)
    failed = False
    for path in zoo_outputs:
        actual = load_file(path)
        problems = []
        if set(actual) != set(expected):
            problems.append(f"missing {sorted(set(expected) - set(actual))}, "
                            f"unexpected {sorted(set(actual) - set(expected))}")
        common = sorted(set(actual) & set(expected))
        wrong_dtype = [n for n in common if actual[n].dtype != torch.bfloat16 or expected[n].dtype != torch.bfloat16]
        wrong_shape = [n for n in common if actual[n].shape != expected[n].shape]
        checkable = [n for n in common if n not in wrong_dtype and n not in wrong_shape]
        wrong_bits = [n for n in checkable
                      if not torch.equal(actual[n].view(torch.int16), expected[n].view(torch.int16))]
        for label, names in (("not bf16", wrong_dtype), ("shape differs", wrong_shape), ("bits differ", wrong_bits)):
            if names:
                problems.append(f"{label}: {names[:5]}{' ...' if len(names) > 5 else ''}")
        failed |= bool(problems)
        detail = "; ".join(problems) if problems else f"{len(actual)} tensors, all bf16, bit-identical"
        print(f"{'FAIL' if problems else 'PASS'}  {path} == peer output  ({detail})")
    sys.exit(MISMATCH if failed else 0)


def print_versions() -> None:
    import safetensors
    import torch
    import transformers
    print(f"Python {sys.version.split()[0]}, torch {torch.__version__}, "
          f"safetensors {safetensors.__version__}, transformers {transformers.__version__}")


CHILD_STEPS = {"_generate": generate_checkpoint, "_verify": verify_outputs, "_versions": print_versions}


def run_step(step: str, *arguments: str, allowed_status: tuple = (0,)) -> subprocess.CompletedProcess:
    """Runs one of CHILD_STEPS in a fresh interpreter; exits if its status is not allowed."""
    result = subprocess.run([sys.executable, __file__, step, *arguments], capture_output=True, text=True)
    if result.returncode not in allowed_status:
        sys.exit(f"{step} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


# ---------------------------------------------------------------------------
# The source checkpoint
# ---------------------------------------------------------------------------

def read_header(path: Path) -> dict:
    """The safetensors header (tensor name -> {dtype, shape, data_offsets}), without metadata."""
    with open(path, "rb") as file:
        length = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(length))
    header.pop("__metadata__", None)
    return header


def numel(shape: list) -> int:
    count = 1
    for dimension in shape:
        count *= dimension
    return count


def ensure_source(work: Path) -> Path:
    """The cached source directory, generated on first use (atomically, via a
    temporary directory), and checked to have exactly EXPECTED_PARAMETERS."""
    source = work / "large-dm128-fp32"
    if not (source / "model.safetensors").exists():
        print(f"generating {source} (once) ...", flush=True)
        work.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".large-dm128-fp32.", dir=work))
        staging.chmod(0o755)  # mkdtemp makes it 0700
        run_step("_generate", str(staging))
        staging.rename(source)
    header = read_header(source / "model.safetensors")
    parameters = sum(numel(entry["shape"]) for entry in header.values())
    dtypes = {entry["dtype"] for entry in header.values()}
    if parameters != EXPECTED_PARAMETERS or dtypes != {"F32"}:
        sys.exit(f"{source}/model.safetensors has {parameters:,} parameters of {sorted(dtypes)}, "
                 f"expected {EXPECTED_PARAMETERS:,} F32; delete it to regenerate")
    return source


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def run_once(argv: list, output: Path, work: Path) -> tuple:
    """One run of `argv` from a clean state; returns (seconds, peak RSS in KiB, stdout)."""
    remove(output)
    os.sync()
    launcher = [GNU_TIME, "-f", "%M", "-o", str(work / "rss.txt")] if Path(GNU_TIME).exists() else []
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(launcher + argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        sys.exit(f"command failed ({process.returncode}): {shlex.join(argv)}\n{stdout}{stderr}")
    # GNU time writes %M on the last line (after a "Command exited ..." line on failure).
    rss_kib = int((work / "rss.txt").read_text().split()[-1]) if launcher else usage.ru_maxrss
    return seconds, rss_kib, stdout


def measure(commands: list, repeat: int, work: Path) -> dict:
    """Warm-up run of every command, then `repeat` rounds over all commands.

    Rounds (rather than all runs of one command back to back) spread slow
    drift -- other load, CPU frequency, disk state -- over every command."""
    results = {c["name"]: {"seconds": [], "rss_kib": [], "inner": []} for c in commands}
    for command in commands:
        print(f"warm-up: {command['name']}", flush=True)
        run_once(command["argv"], command["output"], work)
    for round_number in range(1, repeat + 1):
        print(f"round {round_number}/{repeat}", flush=True)
        for command in commands:
            seconds, rss_kib, stdout = run_once(command["argv"], command["output"], work)
            result = results[command["name"]]
            result["seconds"].append(seconds)
            result["rss_kib"].append(rss_kib)
            for line in stdout.splitlines():
                if line.startswith("peer_seconds_excluding_imports "):
                    result["inner"].append(float(line.split()[1]))
    return results


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def machine_info(work: Path, zoo: Path, load_before: float) -> list:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:")), "0")
    df = subprocess.run(["df", "-T", str(work)], capture_output=True, text=True).stdout.splitlines()[-1].split()
    tree = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                          capture_output=True, text=True).stdout.strip() or "unknown"
    built = datetime.datetime.fromtimestamp(zoo.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    return [
        f"nproc {len(os.sched_getaffinity(0))}, CPU {cpu}, {int(memory) // 1024} MiB RAM, kernel {os.uname().release}",
        f"work dir {work}: {df[0]} ({df[1]})",
        f"zoo {zoo} (built {built}, tree {tree})",
        # Other work on the machine skews everything (torch's thread pool most of all): check this.
        f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after",
        run_step("_versions").stdout.strip(),
    ]


def versus(peer: float, seconds: float) -> str:
    """How much faster than the peer this is, e.g. "10.2x faster" (or "1.3x slower")."""
    return f"{peer / seconds:.1f}x faster" if peer >= seconds else f"{seconds / peer:.1f}x slower"


def table(results: dict, zoo_names: list) -> list:
    """Markdown rows: one per command, plus the peer's own figure excluding imports."""
    median = {name: statistics.median(r["seconds"]) for name, r in results.items()}
    peer_inner = results["python peer"]["inner"]
    median["python peer, excluding imports"] = statistics.median(peer_inner)
    spread = {name: (min(r["seconds"]), max(r["seconds"])) for name, r in results.items()}
    spread["python peer, excluding imports"] = (min(peer_inner), max(peer_inner))
    rss = {name: max(r["rss_kib"]) * 1024 / MB for name, r in results.items()}
    rss["python peer, excluding imports"] = None  # same process as the row above

    cp, cp_sync = median["cp"], median["cp + fsync"]
    peer, peer_inner_median = median["python peer"], median["python peer, excluding imports"]
    rows = ["| command | median s | min–max s | ÷ cp | ÷ cp+fsync | peer ÷ this | peer (excl. imports) ÷ this | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, seconds in median.items():
        faster = (versus(peer, seconds), versus(peer_inner_median, seconds)) if name in zoo_names else ("", "")
        low, high = spread[name]
        rows.append(f"| {name} | {seconds:.3f} | {low:.3f}–{high:.3f} | {seconds / cp:.2f} | {seconds / cp_sync:.2f} "
                    f"| {faster[0]} | {faster[1]} | {'' if rss[name] is None else f'{rss[name]:.1f}'} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", type=Path, default=ROOT / ".build" / "release" / "zoo", help="zoo binary")
    parser.add_argument("--work", type=Path, default=Path("/tmp/zoo-bench"), help="work directory (cache + outputs)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command")
    parser.add_argument("--markdown", type=Path, help="also write the table, command line and date to this file")
    arguments = parser.parse_args()
    work, zoo = arguments.work.resolve(), arguments.zoo.resolve()

    if not zoo.exists():
        sys.exit(f"no zoo binary at {zoo}; build it with: swift build -c release --product zoo")
    # A hint only (a checkout or commit also touches files): swift build knows for sure.
    sources = [path for path in [ROOT / "Package.swift", *(ROOT / "Sources").rglob("*")] if path.is_file()]
    if any(source.stat().st_mtime > zoo.stat().st_mtime for source in sources):
        print(f"WARNING: some sources are newer than {zoo}; if they changed, rebuild with: "
              "swift build -c release --product zoo")
    if not Path(GNU_TIME).exists():
        print(f"WARNING: no GNU time at {GNU_TIME}: peak RSS is os.wait4's ru_maxrss, which includes "
              "this Python process's own RSS (~10 MB floor; see the docstring)")

    # Two runs sharing a work directory delete each other's outputs and skew each other's times.
    work.mkdir(parents=True, exist_ok=True)
    lock = open(work / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"another bench-convert run is using {work}; wait for it or pass another --work")
    source = ensure_source(work)
    load_before = os.getloadavg()[0]
    source_file = source / "model.safetensors"
    header = read_header(source_file)
    largest_name, largest = max(((name, e["data_offsets"][1] - e["data_offsets"][0]) for name, e in header.items()),
                                key=lambda item: item[1])

    cp_out, zoo_dir, zoo_file, peer_out = (work / "cp-out.safetensors", work / "zoo-bf16",
                                           work / "zoo-bf16.safetensors", work / "peer-bf16.safetensors")
    commands = [
        {"name": "cp", "output": cp_out, "argv": ["cp", str(source_file), str(cp_out)]},
        {"name": "cp + fsync", "output": cp_out,
         "argv": ["sh", "-c", 'cp "$1" "$2" && sync "$2"', "sh", str(source_file), str(cp_out)]},
        {"name": "zoo convert (dir)", "output": zoo_dir,
         "argv": [str(zoo), "convert", str(source), str(zoo_dir), "--dtype", "bf16", "--force"]},
        {"name": "zoo convert (file)", "output": zoo_file,
         "argv": [str(zoo), "convert", str(source_file), str(zoo_file), "--dtype", "bf16", "--force"]},
        {"name": "python peer", "output": peer_out,
         "argv": [sys.executable, "-c", PEER_CODE, str(source_file), str(peer_out)]},
    ]
    results = measure(commands, arguments.repeat, work)
    remove(cp_out)
    remove(work / "rss.txt")

    verification = run_step("_verify", str(peer_out), str(zoo_dir / "model.safetensors"), str(zoo_file),
                            allowed_status=(0, MISMATCH))  # a mismatch is reported below

    command_line = shlex.join([sys.executable, *sys.argv])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = machine_info(work, zoo, load_before)
    budget = RSS_BUDGET_MB + largest / MB
    report = [
        f"fp32 -> bf16, t5-efficient-large-dm128 shape: {EXPECTED_PARAMETERS:,} parameters, "
        f"{source_file.stat().st_size / MB:.1f} MB; median of {arguments.repeat} runs after a warm-up (warm page cache).",
        "",
        *table(results, ["zoo convert (dir)", "zoo convert (file)"]),
        "",
        f"Largest tensor: {largest_name}, {largest / MB:.1f} MB. "
        f"Target: zoo peak RSS below {RSS_BUDGET_MB} MB + largest tensor = {budget:.1f} MB.",
        "MB = 10^6 bytes. zoo and `cp + fsync` fsync their output; cp and the peer do not.",
        "",
        *[f"- {line}" for line in info],
        "",
        f"Command: `{command_line}`  ",
        f"Date: {date}",
    ]
    print()
    print("\n".join(report))
    print()
    print(verification.stdout, end="")

    for name in ("zoo convert (dir)", "zoo convert (file)"):
        peak = max(results[name]["rss_kib"]) * 1024 / MB
        if peak >= budget:
            print(f"OVER BUDGET  {name}: peak RSS {peak:.1f} MB >= {budget:.1f} MB (by {peak - budget:.1f} MB)")
    if arguments.markdown:
        arguments.markdown.write_text("\n".join(report) + "\n")
        print(f"wrote {arguments.markdown}")
    sys.exit(0 if verification.returncode == 0 else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in CHILD_STEPS:
        CHILD_STEPS[sys.argv[1]](*sys.argv[2:])
    else:
        main()
