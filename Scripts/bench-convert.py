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

    /work/pyenv/bin/python Scripts/bench-convert.py [--scenario safetensors|pytorch|all]
                                                    [--zoo .build/release/zoo] [--work /tmp/zoo-bench]
                                                    [--repeat 5] [--markdown FILE]

Scenarios (--scenario; `all` runs both, and --markdown then holds both tables):

  safetensors (default)  WORK/large-dm128-fp32/model.safetensors (fp32) -> bf16 safetensors.
  pytorch                The same model saved by transformers as pytorch_model.bin
                         (save_pretrained(dir, safe_serialization=False): a torch.save
                         zip whose tied embeddings -- shared, encoder/decoder.embed_tokens,
                         lm_head -- are aliases of one storage), cached in
                         WORK/large-dm128-bin/ -> bf16 safetensors.  A second table
                         times the writer, fp32 safetensors -> pytorch_model.bin
                         (`--to pytorch`), for information (no target).

What is measured, per command: the median wall time over --repeat runs, after
one untimed warm-up run of every command (so the source is in the page cache
for all of them), and the peak RSS (max over the timed runs).  Before every
run, untimed: the command's output is deleted and `sync` flushes dirty pages,
so no run pays for the previous run's writeback.

  cp            cp SRC_FILE WORK/cp-out.EXT
  cp + fsync    the same, then `sync FILE` (fsync).  zoo fsyncs its output
                before renaming it into place and cp does not, so the fair
                "copy the bytes durably" baseline is this one.
  zoo (dir)     zoo convert SRC_DIR WORK/zoo-bf16 --dtype bf16 --force
                (pytorch: WORK/large-dm128-bin -> WORK/zoo-bin-bf16)
  zoo (file)    zoo convert SRC_FILE WORK/zoo-bf16.safetensors --dtype bf16 --force
                (pytorch: .../pytorch_model.bin -> WORK/zoo-bin-bf16.safetensors)
  peer          python -c PEER_CODE: what a user would write.  safetensors:
                load_file, .to(bfloat16) on every float tensor, save_file.
                pytorch: torch.load(weights_only=True) -- and a second peer
                with mmap=True -- then the same cast, dropping every tensor
                whose storage an earlier one already uses (safetensors refuses
                shared storage; like transformers this keeps shared.weight),
                then save_file.  Timed as a whole process (including
                `import torch`), and also as reported by the peer itself
                excluding imports, so the comparison is fair both ways.  The
                "peer ÷ this" columns use the fastest peer.  (Peers do not fsync.)

  writer table (pytorch scenario): cp / cp + fsync of model.safetensors,
                zoo convert WORK/large-dm128-fp32 WORK/zoo-to-bin --to pytorch --force,
                and a peer that runs load_file + torch.save of the state dict.

Targets, printed under each conversion table (a miss is reported, not an
error): zoo at most 1.5x the time of cp, at least 3x faster than the
(fastest) peer end to end, and peak RSS below 64 MB + the largest tensor.

Peak RSS: a child's ru_maxrss on Linux starts from the RSS of the process
that spawned it (exec records the old address space's high-water mark; with
vfork/posix_spawn, which Python's subprocess uses, that is the parent's
all-time peak).  Spawned from this Python process, even `true` reports ~11 MB.
So each command runs under GNU time (/usr/bin/time -f %M), a ~1 MB process
whose %M is wait4's ru_maxrss of its own child; without GNU time the script
falls back to os.wait4 on the command directly and says the numbers carry
that floor.  This parent never imports torch (generation and verification run
in child processes) to keep that floor low in the fallback as well.

Correctness, checked in the same run: every zoo bf16 output (and the mmap
peer's) must hold the same tensor names as the peer's output, every tensor
bf16 and bit-identical to torch's cast.  The `--to pytorch` output must load
with torch.load(weights_only=True) and hold every source tensor with the same
dtype, shape and bits; extra names are allowed only as aliases sharing a
source tensor's storage (transformers' tied names).  Exit status 1 if not (or
if a command fails).
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
from dataclasses import dataclass
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
MAX_TIMES_CP = 1.5  # zoo's target: at most this many times the time of cp
MIN_TIMES_FASTER = 3.0  # zoo's target: at least this many times faster than the peer
MISMATCH = 3  # the verify steps' exit status for a mismatch (1 is Python's for a crash)
SCENARIOS = ("safetensors", "pytorch")

# The Python peers, run as `python -c CODE SRC DST [mmap]`.  What a user would
# write; each prints its own timing, excluding interpreter start and imports.
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

PEER_CODE_PYTORCH = """\
import sys, time
import torch
from safetensors.torch import save_file
start = time.perf_counter()
state_dict = torch.load(sys.argv[1], weights_only=True, mmap=sys.argv[3:] == ["mmap"])
tensors, storages = {}, set()
for name, t in state_dict.items():
    if t.untyped_storage().data_ptr() in storages:
        continue  # a tied alias of an earlier tensor: safetensors stores each storage once
    storages.add(t.untyped_storage().data_ptr())
    tensors[name] = t.to(torch.bfloat16) if t.is_floating_point() else t
save_file(tensors, sys.argv[2], metadata={"format": "pt"})
print(f"peer_seconds_excluding_imports {time.perf_counter() - start:.6f}")
"""

PEER_CODE_WRITER = """\
import sys, time
import torch
from safetensors.torch import load_file
start = time.perf_counter()
torch.save(load_file(sys.argv[1]), sys.argv[2])
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


def generate_pytorch_checkpoint(source: str, directory: str) -> None:
    """Loads the fp32 safetensors checkpoint from `source` (so both scenarios
    convert the same weights) and saves it to `directory` as pytorch_model.bin."""
    os.environ["USE_TF"] = "0"
    import torch
    from transformers import T5ForConditionalGeneration

    model = T5ForConditionalGeneration.from_pretrained(source, dtype=torch.float32)
    model.save_pretrained(directory, safe_serialization=False)


def describe_pytorch_checkpoint(path: str) -> None:
    """Prints, as JSON, what a pytorch_model.bin holds, counting each storage
    once: unique parameters, dtypes, tensor names, and the largest storage."""
    import torch

    state_dict = torch.load(path, weights_only=True, mmap=True)
    first_user = {}  # storage address -> first tensor name using it
    for name, tensor in state_dict.items():
        first_user.setdefault(tensor.untyped_storage().data_ptr(), name)
    unique = [state_dict[name] for name in first_user.values()]
    largest = max(first_user.values(), key=lambda name: state_dict[name].untyped_storage().nbytes())
    print(json.dumps({
        "tensors": len(state_dict),
        "parameters": sum(tensor.numel() for tensor in unique),
        "dtypes": sorted({str(tensor.dtype) for tensor in state_dict.values()}),
        "largest": [largest, state_dict[largest].untyped_storage().nbytes()],
    }))


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
        print(f"{'FAIL' if problems else 'PASS'}  {path} == {peer}  ({detail})")
    sys.exit(MISMATCH if failed else 0)


def verify_pytorch_output(source: str, output: str) -> None:
    """Prints PASS/FAIL: `output` (a pytorch_model.bin) loads with
    torch.load(weights_only=True) and holds every tensor of the safetensors
    `source` with the same dtype, shape and bytes; any extra name must be an
    alias sharing the storage of a source tensor.  Exits MISMATCH on FAIL."""
    import torch
    from safetensors.torch import load_file

    def same_bits(a, b) -> bool:
        return (a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(a.contiguous().reshape(-1).view(torch.uint8),
                                b.contiguous().reshape(-1).view(torch.uint8)))

    expected = load_file(source)
    try:
        actual = torch.load(output, weights_only=True)
    except Exception as error:  # noqa: BLE001 -- any failure to load is the finding
        print(f"FAIL  {output}: torch.load(weights_only=True) raised {type(error).__name__}: {error}")
        sys.exit(MISMATCH)
    problems = []
    missing = sorted(set(expected) - set(actual))
    if missing:
        problems.append(f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    differ = sorted(n for n in set(expected) & set(actual) if not same_bits(actual[n], expected[n]))
    if differ:
        problems.append(f"dtype, shape or bits differ: {differ[:5]}{' ...' if len(differ) > 5 else ''}")
    storage_owner = {actual[n].untyped_storage().data_ptr(): n for n in expected if n in actual}
    aliases, unexpected = [], []
    for name in sorted(set(actual) - set(expected)):
        owner = storage_owner.get(actual[name].untyped_storage().data_ptr())
        if owner is not None and same_bits(actual[name], actual[owner]):
            aliases.append(f"{name} -> {owner}")
        else:
            unexpected.append(name)
    if unexpected:
        problems.append(f"unexpected (not aliases of a source tensor): {unexpected[:5]}")
    detail = "; ".join(problems) if problems else (
        f"{len(expected)} tensors equal the source bit for bit; "
        f"{len(aliases)} tied aliases share storage: {', '.join(aliases) or 'none'}")
    print(f"{'FAIL' if problems else 'PASS'}  {output} == {source}, loaded with torch.load(weights_only=True)  "
          f"({detail})")
    sys.exit(MISMATCH if problems else 0)


def print_versions() -> None:
    import safetensors
    import torch
    import transformers
    print(f"Python {sys.version.split()[0]}, torch {torch.__version__}, "
          f"safetensors {safetensors.__version__}, transformers {transformers.__version__}")


CHILD_STEPS = {
    "_generate": generate_checkpoint,
    "_generate_pytorch": generate_pytorch_checkpoint,
    "_describe_pytorch": describe_pytorch_checkpoint,
    "_verify": verify_outputs,
    "_verify_pytorch": verify_pytorch_output,
    "_versions": print_versions,
}


def run_step(step: str, *arguments: str, allowed_status: tuple = (0,)) -> subprocess.CompletedProcess:
    """Runs one of CHILD_STEPS in a fresh interpreter; exits if its status is not allowed."""
    result = subprocess.run([sys.executable, __file__, step, *arguments], capture_output=True, text=True)
    if result.returncode not in allowed_status:
        sys.exit(f"{step} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


# ---------------------------------------------------------------------------
# The source checkpoints
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


def generate_once(target: Path, step: str, *arguments: str) -> None:
    """Runs the generation `step` into a temporary directory next to `target`
    and renames it into place, so an interrupted run leaves no half source."""
    print(f"generating {target} (once) ...", flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it 0700
    run_step(step, *arguments, str(staging))
    staging.rename(target)


def ensure_source(work: Path) -> Path:
    """The cached source directory, generated on first use, and checked to
    have exactly EXPECTED_PARAMETERS."""
    source = work / "large-dm128-fp32"
    if not (source / "model.safetensors").exists():
        generate_once(source, "_generate")
    header = read_header(source / "model.safetensors")
    parameters = sum(numel(entry["shape"]) for entry in header.values())
    dtypes = {entry["dtype"] for entry in header.values()}
    if parameters != EXPECTED_PARAMETERS or dtypes != {"F32"}:
        sys.exit(f"{source}/model.safetensors has {parameters:,} parameters of {sorted(dtypes)}, "
                 f"expected {EXPECTED_PARAMETERS:,} F32; delete it to regenerate")
    return source


def ensure_pytorch_source(work: Path, source: Path) -> tuple:
    """The cached pytorch_model.bin directory (made from `source` on first use),
    checked by torch in a child process to hold EXPECTED_PARAMETERS unique fp32
    parameters.  Returns (directory, its description from the child)."""
    directory = work / "large-dm128-bin"
    if not (directory / "pytorch_model.bin").exists():
        generate_once(directory, "_generate_pytorch", str(source))
    description = json.loads(run_step("_describe_pytorch", str(directory / "pytorch_model.bin")).stdout)
    if description["parameters"] != EXPECTED_PARAMETERS or description["dtypes"] != ["torch.float32"]:
        sys.exit(f"{directory}/pytorch_model.bin has {description['parameters']:,} unique parameters of "
                 f"{description['dtypes']}, expected {EXPECTED_PARAMETERS:,} float32; delete it to regenerate")
    return directory, description


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
    remove(work / "rss.txt")
    return results


def copy_commands(source_file: Path, output: Path) -> list:
    """The two baselines: cp, and cp followed by an fsync of the copy."""
    return [
        {"name": "cp", "output": output, "argv": ["cp", str(source_file), str(output)]},
        {"name": "cp + fsync", "output": output,
         "argv": ["sh", "-c", 'cp "$1" "$2" && sync "$2"', "sh", str(source_file), str(output)]},
    ]


def zoo_command(name: str, zoo: Path, source: Path, output: Path, *options: str) -> dict:
    return {"name": name, "output": output, "argv": [str(zoo), "convert", str(source), str(output), *options, "--force"]}


def peer_command(name: str, code: str, *arguments: Path | str) -> dict:
    """A Python peer: `python -c code SRC DST [...]`; its output is the second argument."""
    return {"name": name, "output": Path(arguments[1]), "peer": True,
            "argv": [sys.executable, "-c", code, *map(str, arguments)]}


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


def summarize(results: dict, commands: list) -> dict:
    """Per row name: median, (min, max) and peak RSS in MB (None: not its own process).
    Every peer gets a second row, "<peer>, excluding imports", from its own timing;
    `fastest peer` and `fastest peer inner` name the rows the peer columns divide."""
    rows = {}
    for command in commands:
        result = results[command["name"]]
        rows[command["name"]] = (statistics.median(result["seconds"]), min(result["seconds"]),
                                 max(result["seconds"]), max(result["rss_kib"]) * 1024 / MB)
        if command.get("peer"):
            inner = result["inner"]
            rows[f"{command['name']}, excluding imports"] = (statistics.median(inner), min(inner), max(inner), None)
    peers = [c["name"] for c in commands if c.get("peer")]
    return {"rows": rows,
            "fastest peer": min(peers, key=lambda name: rows[name][0]),
            "fastest peer inner": min((f"{name}, excluding imports" for name in peers), key=lambda n: rows[n][0])}


def table(summary: dict, zoo_names: list) -> list:
    """Markdown rows: one per command, plus each peer's own figure excluding imports."""
    rows = summary["rows"]
    cp, cp_sync = rows["cp"][0], rows["cp + fsync"][0]
    peer, peer_inner = rows[summary["fastest peer"]][0], rows[summary["fastest peer inner"]][0]
    lines = ["| command | median s | min–max s | ÷ cp | ÷ cp+fsync | peer ÷ this | peer (excl. imports) ÷ this | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, (seconds, low, high, rss) in rows.items():
        faster = (versus(peer, seconds), versus(peer_inner, seconds)) if name in zoo_names else ("", "")
        lines.append(f"| {name} | {seconds:.3f} | {low:.3f}–{high:.3f} | {seconds / cp:.2f} | {seconds / cp_sync:.2f} "
                     f"| {faster[0]} | {faster[1]} | {'' if rss is None else f'{rss:.1f}'} |")
    return lines


def targets(summary: dict, zoo_names: list, largest_name: str, largest: int) -> tuple:
    """Markdown lines stating the targets and each zoo command's standing, and
    one line per missed target (for the console)."""
    rows = summary["rows"]
    cp = rows["cp"][0]
    peer, peer_inner = rows[summary["fastest peer"]][0], rows[summary["fastest peer inner"]][0]
    budget = RSS_BUDGET_MB + largest / MB
    lines = [f"Largest tensor: {largest_name}, {largest / MB:.1f} MB. "
             f"Targets: at most {MAX_TIMES_CP}x cp; at least {MIN_TIMES_FASTER:.0f}x faster than the "
             f"peer ({summary['fastest peer']}, the fastest); peak RSS below {RSS_BUDGET_MB} MB + largest tensor "
             f"= {budget:.1f} MB.", ""]
    misses = []
    for name in zoo_names:
        seconds, _, _, rss = rows[name]
        checks = [
            (seconds / cp <= MAX_TIMES_CP, f"{seconds / cp:.2f}x cp",
             f"{seconds:.3f} s is {seconds / cp:.2f}x cp, over {MAX_TIMES_CP}x by {seconds - MAX_TIMES_CP * cp:.3f} s"),
            (peer / seconds >= MIN_TIMES_FASTER, f"{peer / seconds:.1f}x faster than the peer "
             f"({peer_inner / seconds:.1f}x excluding its imports)",
             f"only {peer / seconds:.1f}x faster than the peer, target {MIN_TIMES_FASTER:.0f}x"),
            (rss < budget, f"peak RSS {rss:.1f} MB",
             f"peak RSS {rss:.1f} MB >= {budget:.1f} MB (over by {rss - budget:.1f} MB)"),
        ]
        lines.append(f"- {name}: " + "; ".join(f"{shown} ({'met' if ok else 'MISSED'})" for ok, shown, _ in checks))
        misses += [f"TARGET MISSED  {name}: {missed}" for ok, _, missed in checks if not ok]
    return lines, misses


@dataclass
class Outcome:
    """What one scenario hands back to main."""
    report: list  # markdown lines
    checks: str  # the verification steps' PASS/FAIL lines
    misses: list  # one line per missed target
    passed: bool  # every verification passed


FOOTNOTE = "MB = 10^6 bytes. zoo and `cp + fsync` fsync their output; cp and the peers do not."


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

def safetensors_scenario(zoo: Path, work: Path, repeat: int, source: Path) -> Outcome:
    """fp32 model.safetensors -> bf16 safetensors."""
    source_file = source / "model.safetensors"
    header = read_header(source_file)
    largest_name, largest = max(((name, e["data_offsets"][1] - e["data_offsets"][0]) for name, e in header.items()),
                                key=lambda item: item[1])
    zoo_dir, zoo_file, peer_out = work / "zoo-bf16", work / "zoo-bf16.safetensors", work / "peer-bf16.safetensors"
    zoo_names = ["zoo convert (dir)", "zoo convert (file)"]
    commands = [
        *copy_commands(source_file, work / "cp-out.safetensors"),
        zoo_command(zoo_names[0], zoo, source, zoo_dir, "--dtype", "bf16"),
        zoo_command(zoo_names[1], zoo, source_file, zoo_file, "--dtype", "bf16"),
        peer_command("python peer", PEER_CODE, source_file, peer_out),
    ]
    results = measure(commands, repeat, work)
    remove(work / "cp-out.safetensors")
    verification = run_step("_verify", str(peer_out), str(zoo_dir / "model.safetensors"), str(zoo_file),
                            allowed_status=(0, MISMATCH))  # a mismatch is reported by main

    summary = summarize(results, commands)
    target_lines, misses = targets(summary, zoo_names, largest_name, largest)
    report = [
        f"fp32 -> bf16, t5-efficient-large-dm128 shape: {EXPECTED_PARAMETERS:,} parameters, "
        f"{source_file.stat().st_size / MB:.1f} MB; median of {repeat} runs after a warm-up (warm page cache).",
        "",
        *table(summary, zoo_names),
        "",
        *target_lines,
        "",
        FOOTNOTE,
    ]
    return Outcome(report, verification.stdout, misses, verification.returncode == 0)


def pytorch_scenario(zoo: Path, work: Path, repeat: int, source: Path, bin_source: Path, described: dict) -> Outcome:
    """fp32 pytorch_model.bin -> bf16 safetensors; then, for information, the
    writer: fp32 safetensors -> pytorch_model.bin."""
    bin_file = bin_source / "pytorch_model.bin"
    zoo_dir, zoo_file = work / "zoo-bin-bf16", work / "zoo-bin-bf16.safetensors"
    peer_out, peer_mmap_out = work / "peer-bin-bf16.safetensors", work / "peer-bin-mmap-bf16.safetensors"
    zoo_names = ["zoo convert (dir)", "zoo convert (file)"]
    commands = [
        *copy_commands(bin_file, work / "cp-out.bin"),
        zoo_command(zoo_names[0], zoo, bin_source, zoo_dir, "--dtype", "bf16"),
        zoo_command(zoo_names[1], zoo, bin_file, zoo_file, "--dtype", "bf16"),
        peer_command("python peer (torch.load)", PEER_CODE_PYTORCH, bin_file, peer_out),
        peer_command("python peer (torch.load mmap)", PEER_CODE_PYTORCH, bin_file, peer_mmap_out, "mmap"),
    ]
    results = measure(commands, repeat, work)
    remove(work / "cp-out.bin")

    source_file, zoo_bin = source / "model.safetensors", work / "zoo-to-bin"
    writer_names = ["zoo convert --to pytorch"]
    writer_commands = [
        *copy_commands(source_file, work / "cp-out.safetensors"),
        zoo_command(writer_names[0], zoo, source, zoo_bin, "--to", "pytorch"),
        peer_command("python peer (load_file + torch.save)", PEER_CODE_WRITER, source_file, work / "peer-to-bin.bin"),
    ]
    writer_results = measure(writer_commands, repeat, work)
    remove(work / "cp-out.safetensors")

    verifications = [
        run_step("_verify", str(peer_out), str(zoo_dir / "model.safetensors"), str(zoo_file), str(peer_mmap_out),
                 allowed_status=(0, MISMATCH)),
        run_step("_verify_pytorch", str(source_file), str(zoo_bin / "pytorch_model.bin"),
                 allowed_status=(0, MISMATCH)),
    ]

    summary = summarize(results, commands)
    target_lines, misses = targets(summary, zoo_names, *described["largest"])
    report = [
        f"fp32 pytorch_model.bin -> bf16 safetensors, t5-efficient-large-dm128 shape: {EXPECTED_PARAMETERS:,} "
        f"unique parameters ({described['tensors']} names, tied ones sharing storage), "
        f"{bin_file.stat().st_size / MB:.1f} MB; median of {repeat} runs after a warm-up (warm page cache).",
        "",
        *table(summary, zoo_names),
        "",
        *target_lines,
        "",
        f"fp32 safetensors -> pytorch_model.bin (`--to pytorch`), same model, "
        f"{source_file.stat().st_size / MB:.1f} MB; for information, no target.",
        "",
        *table(summarize(writer_results, writer_commands), writer_names),
        "",
        FOOTNOTE,
    ]
    return Outcome(report, "".join(v.stdout for v in verifications), misses,
                   all(v.returncode == 0 for v in verifications))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="safetensors",
                        help="source format to convert from (default: safetensors); all runs both")
    parser.add_argument("--zoo", type=Path, default=ROOT / ".build" / "release" / "zoo", help="zoo binary")
    parser.add_argument("--work", type=Path, default=Path("/tmp/zoo-bench"), help="work directory (cache + outputs)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command")
    parser.add_argument("--markdown", type=Path, help="also write the tables, command line and date to this file")
    arguments = parser.parse_args()
    work, zoo = arguments.work.resolve(), arguments.zoo.resolve()
    scenarios = SCENARIOS if arguments.scenario == "all" else (arguments.scenario,)

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
    if "pytorch" in scenarios:
        bin_source, described = ensure_pytorch_source(work, source)
    load_before = os.getloadavg()[0]

    outcomes = []
    for scenario in scenarios:
        print(f"== scenario: {scenario}", flush=True)
        if scenario == "safetensors":
            outcomes.append(safetensors_scenario(zoo, work, arguments.repeat, source))
        else:
            outcomes.append(pytorch_scenario(zoo, work, arguments.repeat, source, bin_source, described))

    command_line = shlex.join([sys.executable, *sys.argv])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = [line for outcome in outcomes for line in [*outcome.report, ""]]
    report += [
        *[f"- {line}" for line in machine_info(work, zoo, load_before)],
        "",
        f"Command: `{command_line}`  ",
        f"Date: {date}",
    ]
    print()
    print("\n".join(report))
    print()
    for outcome in outcomes:
        print(outcome.checks, end="")
    for outcome in outcomes:
        for miss in outcome.misses:
            print(miss)
    if arguments.markdown:
        arguments.markdown.write_text("\n".join(report) + "\n")
        print(f"wrote {arguments.markdown}")
    sys.exit(0 if all(outcome.passed for outcome in outcomes) else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in CHILD_STEPS:
        CHILD_STEPS[sys.argv[1]](*sys.argv[2:])
    else:
        main()
