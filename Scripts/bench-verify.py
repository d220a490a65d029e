#!/usr/bin/env python3
"""Benchmark zoo's checking side: its forward pass against transformers, `zoo verify`, and `zoo checksum`.

The questions this answers: how fast is zoo's reference forward pass (the one
`zoo verify` and `zoo convert` run) next to transformers on the same weights,
and does it give the same logits; what does `zoo verify` cost end to end, and
what does the verification add to a conversion; and how fast does zoo hash a
model directory next to sha256sum and openssl.

The model is the fp32 checkpoint with the exact shape of
google/t5-efficient-large-dm128 (92,209,408 parameters, 368.9 MB) that
Scripts/bench-convert.py generates and caches in WORK/large-dm128-fp32/; this
script imports bench-convert.py for it (and for its timing conventions), so
both benchmarks always see the same file.  Setup as in bench-convert.py: the
repository's venv, .venv/ (Scripts/python-env.sh: torch, safetensors, transformers, numpy) and

    swift build -c release --product zoo

Run (from any directory):

    .venv/bin/python Scripts/bench-verify.py [--zoo .build/release/zoo] [--work /tmp/zoo-bench]
                                             [--repeat 5] [--markdown FILE]

Every command below is timed the bench-convert way: one untimed warm-up run
of every command of a section (so every file is in the page cache), then
--repeat rounds over all of them; medians and min-max over the rounds; peak
RSS from GNU time (max over the timed runs); `sync` before every run.

1. Forward pass, batch 1, encoder ids 100..131 (32 tokens), decoder ids 0..7 (8 tokens):

  zoo forward     zoo run WORK/large-dm128-fp32 --input-ids 100,...,131 --decoder-input-ids 0,...,7
                  --top 1 --repeat 11: the median of 11 passes (after one untimed pass) that zoo
                  prints on stderr.  zoo reads every weight from the file on every pass (a layer
                  at a time; nothing is cached), so this includes ~369 MB of reads from the page cache.
                  The process is timed as a whole too (1 + 11 passes).
  zoo end to end  the same without --repeat: one process, one pass (start, open, pass, print).
  transformers    a child process: torch.set_num_threads(os.cpu_count()),
                  T5ForConditionalGeneration.from_pretrained(dir, dtype=torch.float32).eval()
                  (`dtype` is transformers 4.57's name for `torch_dtype`), one untimed call,
                  then the median of 11 timed model(input_ids=..., decoder_input_ids=...) calls
                  under torch.no_grad(); it reports its phases (imports, from_pretrained, first
                  call).  The process is timed as a whole too.
  transformers end to end  the same child with no timed calls: imports, from_pretrained, one call.

  Correctness, in the same run: the logits of `zoo run --json` (key "logits",
  [batch][position][vocab]) must be allclose to transformers' with atol 1e-4
  (and rtol 0, stricter than torch.allclose's default); the max abs difference
  is printed, as is encoder_last_hidden_state's (same tolerance).

2. zoo verify, end to end (A = WORK/large-dm128-fp32, B = WORK/verify-bf16, made
   untimed by `zoo convert A B --dtype bf16 --no-verify --force`):

  zoo verify A B        every tensor of B against A, then both forward passes on a probe batch
  zoo verify A          A's manifest if any (it has none), stored checksums, one forward pass
  zoo verify B          the same for B, which has the SHA256SUMS manifest convert wrote
  zoo convert (verify)  zoo convert A WORK/convert-verified --dtype bf16 --force (verifies, then renames)
  zoo convert --no-verify  the same with --no-verify into WORK/convert-unverified

  The report gives what verification adds to a conversion, and every peak RSS
  against the project's target for conversions: 64 MB + the largest tensor.

3. SHA-256 throughput over WORK/checksum-dir, holding model.safetensors (a hard
   link to A's, 368.9 MB) and model-copy.safetensors (a copy, made once), so
   zoo's hashing of files in parallel shows:

  zoo checksum DIR          writes DIR/SHA256SUMS (deleted before every run)
  sha256sum F1 F2           sequential
  sha256sum, 2 in parallel  printf '%s\\0' F1 F2 | xargs -0 -P 2 -n 1 sha256sum
  openssl dgst -sha256 F1 F2, and 2 in parallel (if openssl is installed)

  MB/s = bytes hashed / median seconds; ratios are MB/s over sha256sum's.  The
  digests of every command must equal sequential sha256sum's, in the same run.

Exit status 1 if a correctness check fails or a command fails.  The peak-RSS
target is reported (TARGET MISSED lines), not enforced.  This parent never
imports torch (the transformers runs and the logits check are child processes).
"""

import argparse
import datetime
import fcntl
import importlib.util
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _import_bench_convert():
    """Scripts/bench-convert.py as a module (its name has a dash): the source
    checkpoint's generation and check, and the shared conventions."""
    spec = importlib.util.spec_from_file_location("bench_convert", Path(__file__).resolve().parent / "bench-convert.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_convert = _import_bench_convert()
ROOT, GNU_TIME, MB = bench_convert.ROOT, bench_convert.GNU_TIME, bench_convert.MB
RSS_BUDGET_MB, MISMATCH = bench_convert.RSS_BUDGET_MB, bench_convert.MISMATCH
remove, versus = bench_convert.remove, bench_convert.versus

ENCODER_IDS = list(range(100, 132))  # 32 encoder tokens
DECODER_IDS = list(range(8))  # 8 decoder tokens
FORWARD_REPEAT = 11  # passes per timing process (after one untimed pass)
ATOL = 1e-4
FORWARD_PATTERN = re.compile(r"forward pass: median ([0-9.]+) s over (\d+) runs(?:, OpenBLAS kernels (\S+))?")
# Processes that would skew the timings if they ran alongside.
BUSY_NAMES = ("swift-build", "swift-frontend", "swift-test", "swift-driver", "xctest", "clang", "ld", "lld")


def ids(values: list) -> str:
    return ",".join(map(str, values))


# ---------------------------------------------------------------------------
# Child-process steps (these import torch; the parent must not)
# ---------------------------------------------------------------------------

def transformers_forward(directory: str, repeat: str) -> None:
    """Prints, as JSON, the phases of a transformers forward pass in this process:
    imports, from_pretrained, the first call, and the median of `repeat` more calls."""
    start = time.perf_counter()
    os.environ["USE_TF"] = "0"
    import torch
    from transformers import T5ForConditionalGeneration
    imported = time.perf_counter()
    torch.set_num_threads(os.cpu_count())
    model = T5ForConditionalGeneration.from_pretrained(directory, dtype=torch.float32).eval()
    loaded = time.perf_counter()
    input_ids, decoder_input_ids = torch.tensor([ENCODER_IDS]), torch.tensor([DECODER_IDS])
    seconds = []
    with torch.no_grad():
        model(input_ids=input_ids, decoder_input_ids=decoder_input_ids)
        first = time.perf_counter()
        for _ in range(int(repeat)):
            call = time.perf_counter()
            model(input_ids=input_ids, decoder_input_ids=decoder_input_ids)
            seconds.append(time.perf_counter() - call)
    print(json.dumps({
        "import": imported - start, "from_pretrained": loaded - imported, "first_call": first - loaded,
        "forward": statistics.median(seconds) if seconds else None, "threads": torch.get_num_threads(),
    }))


def check_logits(directory: str, zoo_json: str) -> None:
    """Prints PASS/FAIL: zoo run --json's logits (and encoder_last_hidden_state)
    allclose to transformers' (atol ATOL, rtol 0).  Exits MISMATCH on FAIL."""
    os.environ["USE_TF"] = "0"
    import torch
    from transformers import T5ForConditionalGeneration

    torch.set_num_threads(os.cpu_count())
    model = T5ForConditionalGeneration.from_pretrained(directory, dtype=torch.float32).eval()
    with torch.no_grad():
        output = model(input_ids=torch.tensor([ENCODER_IDS]), decoder_input_ids=torch.tensor([DECODER_IDS]))
    zoo = json.loads(Path(zoo_json).read_text())
    failed = False
    for key, expected in (("logits", output.logits), ("encoder_last_hidden_state", output.encoder_last_hidden_state)):
        actual = torch.tensor(zoo[key], dtype=torch.float32)
        if actual.shape != expected.shape:
            print(f"FAIL  zoo run --json {key}: shape {list(actual.shape)}, transformers {list(expected.shape)}")
            failed = True
            continue
        difference = (actual - expected).abs().max().item()
        close = torch.allclose(actual, expected, rtol=0, atol=ATOL)
        detail = f"shape {list(actual.shape)}, max abs difference {difference:.3g}, atol {ATOL:g}"
        if key == "logits":
            agree = (actual.argmax(-1) == expected.argmax(-1)).float().mean().item()
            detail += f", top-1 tokens agree at {agree:.0%} of positions"
        print(f"{'PASS' if close else 'FAIL'}  zoo run --json {key} allclose to transformers' ({detail})")
        failed |= not close
    sys.exit(MISMATCH if failed else 0)


def openblas_info() -> None:
    """Prints the thread count, build and kernels of the OpenBLAS zoo links, as OpenBLAS itself
    picks them (loaded here, not in the parent)."""
    import ctypes
    library = ctypes.CDLL("libopenblas.so.0")
    library.openblas_get_config.restype = ctypes.c_char_p
    library.openblas_get_corename.restype = ctypes.c_char_p
    print(f"{library.openblas_get_num_threads()} threads, {library.openblas_get_config().decode()}, "
          f"kernels OpenBLAS picks here: {library.openblas_get_corename().decode()}")


CHILD_STEPS = {
    "_transformers_forward": transformers_forward,
    "_check_logits": check_logits,
    "_openblas": openblas_info,
}


def run_step(step: str, *arguments: str, allowed_status: tuple = (0,)) -> subprocess.CompletedProcess:
    """Runs one of CHILD_STEPS in a fresh interpreter; exits if its status is not allowed."""
    result = subprocess.run([sys.executable, __file__, step, *arguments], capture_output=True, text=True)
    if result.returncode not in allowed_status:
        sys.exit(f"{step} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


# ---------------------------------------------------------------------------
# Timing (bench_convert.run_once / measure, keeping stderr and parsing each run's output)
# ---------------------------------------------------------------------------

def run_once(argv: list, output: Path | None, work: Path) -> tuple:
    """One run of `argv` from a clean state; returns (seconds, peak RSS in KiB, stdout, stderr)."""
    if output is not None:
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
    rss_kib = int((work / "rss.txt").read_text().split()[-1]) if launcher else usage.ru_maxrss
    return seconds, rss_kib, stdout, stderr


def measure(commands: list, repeat: int, work: Path) -> dict:
    """Warm-up run of every command, then `repeat` rounds over all commands.
    A command's optional `parse(stdout, stderr)` returns figures (name -> value)
    collected per timed run; `last` holds the last run's stdout and stderr."""
    results = {c["name"]: {"seconds": [], "rss_kib": [], "figures": {}, "last": ("", "")} for c in commands}
    for command in commands:
        print(f"warm-up: {command['name']}", flush=True)
        run_once(command["argv"], command.get("output"), work)
    for round_number in range(1, repeat + 1):
        print(f"round {round_number}/{repeat}", flush=True)
        for command in commands:
            seconds, rss_kib, stdout, stderr = run_once(command["argv"], command.get("output"), work)
            result = results[command["name"]]
            result["seconds"].append(seconds)
            result["rss_kib"].append(rss_kib)
            result["last"] = (stdout, stderr)
            for name, value in (command["parse"](stdout, stderr) if "parse" in command else {}).items():
                result["figures"].setdefault(name, []).append(value)
    remove(work / "rss.txt")
    return results


def spread(values: list) -> tuple:
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def peak_mb(result: dict) -> float:
    return max(result["rss_kib"]) * 1024 / MB


def seconds_cells(values: list, digits: int = 3) -> str:
    median, low, high = spread(values)
    return f"{median:.{digits}f} | {low:.{digits}f}–{high:.{digits}f}"


# ---------------------------------------------------------------------------
# 1. Forward pass
# ---------------------------------------------------------------------------

def parse_zoo_forward(_: str, stderr: str) -> dict:
    match = FORWARD_PATTERN.search(stderr)
    if not match or int(match.group(2)) != FORWARD_REPEAT:
        sys.exit(f"zoo run did not print 'forward pass: median ... over {FORWARD_REPEAT} runs' on stderr:\n{stderr}")
    # zoo names the kernels it runs: OpenBLAS's own choice, or the one zoo made where OpenBLAS did
    # not recognise the CPU (and fell back to its SSE3 "Prescott" kernels).
    ZOO_KERNELS.add(match.group(3) or "not reported")
    return {"forward": float(match.group(1))}


ZOO_KERNELS: set = set()


def parse_transformers(stdout: str, _: str) -> dict:
    figures = json.loads(stdout.strip().splitlines()[-1])
    return {name: value for name, value in figures.items() if value is not None}


def forward_section(zoo: Path, work: Path, repeat: int, source: Path, threads: str) -> tuple:
    """Returns (markdown lines, check lines, passed)."""
    zoo_run = [str(zoo), "run", str(source), "--input-ids", ids(ENCODER_IDS), "--decoder-input-ids", ids(DECODER_IDS)]
    python = [sys.executable, __file__, "_transformers_forward", str(source)]
    commands = [
        {"name": "zoo repeat", "argv": [*zoo_run, "--top", "1", "--repeat", str(FORWARD_REPEAT)],
         "parse": parse_zoo_forward},
        {"name": "zoo once", "argv": [*zoo_run, "--top", "1"]},
        {"name": "transformers repeat", "argv": [*python, str(FORWARD_REPEAT)], "parse": parse_transformers},
        {"name": "transformers once", "argv": [*python, "0"], "parse": parse_transformers},
    ]

    # Correctness first (untimed): zoo's logits against transformers'.
    logits_file = work / "zoo-run-logits.json"
    _, _, stdout, _ = run_once([*zoo_run, "--json"], None, work)
    logits_file.write_text(stdout)
    check = run_step("_check_logits", str(source), str(logits_file), allowed_status=(0, MISMATCH))
    remove(logits_file)

    results = measure(commands, repeat, work)
    zoo_repeat, zoo_once = results["zoo repeat"], results["zoo once"]
    tf_repeat, tf_once = results["transformers repeat"], results["transformers once"]
    zoo_forward, tf_forward = zoo_repeat["figures"]["forward"], tf_repeat["figures"]["forward"]

    def ratio(transformers: list, zoo_values: list) -> str:
        return versus(statistics.median(transformers), statistics.median(zoo_values))

    passes = FORWARD_REPEAT + 1
    rows = [
        ("| zoo forward pass: median of 11 passes in one process (reads every weight from the file) | "
         f"{seconds_cells(zoo_forward, 4)} | {ratio(tf_forward, zoo_forward)} | |"),
        ("| transformers forward pass: median of 11 calls in one process (weights in memory) | "
         f"{seconds_cells(tf_forward, 4)} | | |"),
        (f"| `zoo run`, whole process, one pass | {seconds_cells(zoo_once['seconds'])} | "
         f"{ratio(tf_once['seconds'], zoo_once['seconds'])} | {peak_mb(zoo_once):.1f} |"),
        ("| transformers, whole process, one call (imports + from_pretrained + call) | "
         f"{seconds_cells(tf_once['seconds'])} | | {peak_mb(tf_once):.1f} |"),
        (f"| `zoo run --repeat 11`, whole process ({passes} passes) | {seconds_cells(zoo_repeat['seconds'])} | "
         f"{ratio(tf_repeat['seconds'], zoo_repeat['seconds'])} | {peak_mb(zoo_repeat):.1f} |"),
        (f"| transformers, whole process, {passes} calls (imports + from_pretrained + calls) | "
         f"{seconds_cells(tf_repeat['seconds'])} | | {peak_mb(tf_repeat):.1f} |"),
    ]
    phases = {name: statistics.median(tf_once["figures"][name]) for name in ("import", "from_pretrained", "first_call")}
    rest = statistics.median(tf_once["seconds"]) - sum(phases.values())
    zoo_end_to_end = statistics.median(zoo_once["seconds"])
    header = read_size(source)
    report = [
        "### Forward pass: zoo run vs transformers",
        "",
        f"t5-efficient-large-dm128 shape, {bench_convert.EXPECTED_PARAMETERS:,} parameters, fp32 "
        f"({header / MB:.1f} MB); batch 1, encoder ids {ENCODER_IDS[0]}..{ENCODER_IDS[-1]} "
        f"({len(ENCODER_IDS)} tokens), decoder ids {DECODER_IDS[0]}..{DECODER_IDS[-1]} ({len(DECODER_IDS)} tokens). "
        f"Median and min–max over {repeat} rounds after a warm-up (warm page cache); each forward-pass figure "
        f"is itself the median of {FORWARD_REPEAT} passes after one untimed pass.",
        "",
        "| measurement | median s | min–max s | zoo vs transformers (transformers ÷ zoo) | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"- Forward pass: zoo {statistics.median(zoo_forward) * 1000:.1f} ms, transformers "
        f"{statistics.median(tf_forward) * 1000:.1f} ms: zoo is {ratio(tf_forward, zoo_forward)} "
        "(zoo's figure includes reading all the weights from the file on every pass).",
        f"- End to end, one pass: `zoo run` {zoo_end_to_end:.3f} s, "
        f"transformers {statistics.median(tf_once['seconds']):.3f} s "
        f"({ratio(tf_once['seconds'], zoo_once['seconds'])}). transformers' process, medians: imports "
        f"{phases['import']:.3f} s, from_pretrained {phases['from_pretrained']:.3f} s, first call "
        f"{phases['first_call']:.3f} s, interpreter start and exit {rest:.3f} s.",
        f"- Threads: {threads}. Kernels zoo ran: {', '.join(sorted(ZOO_KERNELS))}.",
        "- Correctness (same run):",
        *[f"  - {line}" for line in check.stdout.splitlines()],
    ]
    return report, check.stdout.splitlines(), check.returncode == 0


def read_size(source: Path) -> int:
    return (source / "model.safetensors").stat().st_size


# ---------------------------------------------------------------------------
# 2. zoo verify
# ---------------------------------------------------------------------------

def verify_section(zoo: Path, work: Path, repeat: int, source: Path) -> tuple:
    """Returns (markdown lines, target-miss lines)."""
    converted = work / "verify-bf16"
    print(f"making {converted} (untimed) ...", flush=True)
    run_once([str(zoo), "convert", str(source), str(converted), "--dtype", "bf16", "--no-verify", "--force"],
             None, work)
    header = bench_convert.read_header(source / "model.safetensors")
    largest_name, largest = max(((name, e["data_offsets"][1] - e["data_offsets"][0]) for name, e in header.items()),
                                key=lambda item: item[1])
    budget = RSS_BUDGET_MB + largest / MB
    has_manifest = (source / "SHA256SUMS").exists()

    def convert(name: str, output: Path, *options: str) -> dict:
        return {"name": name, "output": output,
                "argv": [str(zoo), "convert", str(source), str(output), "--dtype", "bf16", "--force", *options]}

    commands = [
        {"name": "`zoo verify A B`", "argv": [str(zoo), "verify", str(source), str(converted)]},
        {"name": "`zoo verify A`", "argv": [str(zoo), "verify", str(source)]},
        {"name": "`zoo verify B` (B has SHA256SUMS)", "argv": [str(zoo), "verify", str(converted)]},
        convert("`zoo convert A --dtype bf16` (verifies)", work / "convert-verified"),
        convert("`zoo convert A --dtype bf16 --no-verify`", work / "convert-unverified", "--no-verify"),
    ]
    results = measure(commands, repeat, work)
    remove(work / "convert-verified")
    remove(work / "convert-unverified")

    lines = ["| command | median s | min–max s | peak RSS MB | RSS vs 64 MB + largest tensor |",
             "|---|---:|---:|---:|---:|"]
    misses = []
    for command in commands:
        result = results[command["name"]]
        rss = peak_mb(result)
        standing = f"{'within' if rss < budget else 'OVER'} by {abs(budget - rss):.1f} MB"
        lines.append(f"| {command['name']} | {seconds_cells(result['seconds'])} | {rss:.1f} | {standing} |")
        if command["name"].startswith("`zoo convert") and rss >= budget:
            misses.append(f"TARGET MISSED  {command['name']}: peak RSS {rss:.1f} MB >= {budget:.1f} MB "
                          f"(over by {rss - budget:.1f} MB)")
    parity, verified, unverified = (statistics.median(results[commands[index]["name"]]["seconds"])
                                    for index in (0, 3, 4))
    outputs = [f"$ {shlex.join(['zoo', *c['argv'][1:]])}\n{results[c['name']]['last'][0].rstrip()}"
               for c in (commands[0], commands[1], commands[2], commands[3])]
    report = [
        "### zoo verify and verified conversion",
        "",
        f"A = {source} (fp32, {read_size(source) / MB:.1f} MB{', with' if has_manifest else ', no'} SHA256SUMS), "
        f"B = {converted} (`zoo convert A B --dtype bf16 --no-verify --force`, untimed; "
        f"{(converted / 'model.safetensors').stat().st_size / MB:.1f} MB). Median and min–max over {repeat} rounds "
        "after a warm-up (warm page cache).",
        "",
        *lines,
        "",
        f"- Verification inside `zoo convert`: {verified:.3f} s against {unverified:.3f} s with --no-verify, "
        f"+{verified - unverified:.3f} s ({verified / unverified:.2f}x); `zoo verify A B` alone takes {parity:.3f} s.",
        f"- Peak-RSS target of the project for conversions: {RSS_BUDGET_MB} MB + largest tensor "
        f"({largest_name}, {largest / MB:.1f} MB) = {budget:.1f} MB; shown for every row, binding for the "
        "conversions. GNU time's peak RSS counts file pages mapped into the process as well as its own memory.",
        "",
        "Output of the last timed runs:",
        "",
        "```",
        *"\n\n".join(outputs).splitlines(),
        "```",
    ]
    return report, misses


# ---------------------------------------------------------------------------
# 3. SHA-256 throughput
# ---------------------------------------------------------------------------

def ensure_checksum_dir(work: Path, source: Path) -> tuple:
    """WORK/checksum-dir with model.safetensors (a hard link to the source's)
    and model-copy.safetensors (a copy, made once); returns the two paths."""
    directory = work / "checksum-dir"
    directory.mkdir(exist_ok=True)
    original = source / "model.safetensors"
    link, copy = directory / "model.safetensors", directory / "model-copy.safetensors"
    if not (link.exists() and os.path.samefile(link, original)):
        remove(link)
        os.link(original, link)
    if (not copy.exists() or copy.stat().st_size != original.stat().st_size
            or copy.stat().st_mtime < original.stat().st_mtime):
        print(f"copying {original} to {copy} (once) ...", flush=True)
        staging = directory / ".model-copy.partial"
        shutil.copyfile(original, staging)
        staging.rename(copy)
    for other in directory.iterdir():  # only the two files (and zoo's SHA256SUMS) may be hashed
        if other not in (link, copy) and not other.name.startswith("."):
            remove(other)
    return link, copy


def parse_digests(text: str) -> dict:
    """File name -> hex digest, from sha256sum/zoo lines (`<hex>  <path>`) or openssl's (`SHA2-256(<path>)= <hex>`)."""
    digests = {}
    for line in text.splitlines():
        if match := re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line):
            digest, path = match.groups()
        elif match := re.fullmatch(r"SHA2?-?256\((.+)\)= ([0-9a-f]{64})", line):
            path, digest = match.groups()
        else:
            continue
        digests[Path(path).name] = digest
    return digests


def checksum_section(zoo: Path, work: Path, repeat: int, source: Path) -> tuple:
    """Returns (markdown lines, check lines, passed)."""
    files = ensure_checksum_dir(work, source)
    directory = files[0].parent
    total = sum(path.stat().st_size for path in files)
    names = [str(path) for path in files]
    parallel = 'printf "%s\\0" "$@" | xargs -0 -P 2 -n 1 {}'
    commands = [
        {"name": "`zoo checksum DIR`", "argv": [str(zoo), "checksum", str(directory)],
         "output": directory / "SHA256SUMS"},
        {"name": "`sha256sum F1 F2`", "argv": ["sha256sum", *names]},
        {"name": "`sha256sum`, 2 in parallel (`xargs -P 2`)",
         "argv": ["sh", "-c", parallel.format("sha256sum"), "sh", *names]},
    ]
    if shutil.which("openssl"):
        commands += [
            {"name": "`openssl dgst -sha256 F1 F2`", "argv": ["openssl", "dgst", "-sha256", *names]},
            {"name": "`openssl dgst -sha256`, 2 in parallel (`xargs -P 2`)",
             "argv": ["sh", "-c", parallel.format("openssl dgst -sha256"), "sh", *names]},
        ]
    results = measure(commands, repeat, work)

    # Digests: every command's last run (and zoo's SHA256SUMS) against sequential sha256sum's.
    expected = parse_digests(results[commands[1]["name"]]["last"][0])
    checks, passed = [], len(expected) == len(files)
    sources = [(c["name"], results[c["name"]]["last"][0]) for c in commands if c is not commands[1]]
    sources.append(("zoo's SHA256SUMS", (directory / "SHA256SUMS").read_text()))
    for name, text in sources:
        same = parse_digests(text) == expected
        passed &= same
        shown = ", ".join(f"{file} {digest[:16]}…" for file, digest in sorted(expected.items()))
        checks.append(f"{'PASS' if same else 'FAIL'}  {name}: digests {'equal' if same else 'DIFFER from'} "
                      f"sha256sum's ({shown})")

    sha256sum_rate = total / MB / statistics.median(results[commands[1]["name"]]["seconds"])
    parallel_rate = total / MB / statistics.median(results[commands[2]["name"]]["seconds"])
    lines = ["| command | median s | min–max s | MB/s | ÷ sha256sum MB/s | ÷ sha256sum ×2 MB/s | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for command in commands:
        result = results[command["name"]]
        rate = total / MB / statistics.median(result["seconds"])
        lines.append(f"| {command['name']} | {seconds_cells(result['seconds'])} | {rate:.0f} | "
                     f"{rate / sha256sum_rate:.2f} | {rate / parallel_rate:.2f} | {peak_mb(result):.1f} |")
    report = [
        "### SHA-256 throughput",
        "",
        f"{directory}: {', '.join(f'{p.name} ({p.stat().st_size / MB:.1f} MB)' for p in files)}, "
        f"{total / MB:.1f} MB in all (F1, F2); warm page cache. Median and min–max over {repeat} rounds after a "
        "warm-up. zoo hashes the files in parallel (one per core), reading them with pread, and writes "
        "DIR/SHA256SUMS (deleted before every run).",
        "",
        *lines,
        "",
        f"- Digests (same run): {'every command agrees with sha256sum' if passed else 'MISMATCH, see below'}.",
    ]
    return report, checks, passed


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def busy_processes() -> list:
    """Other builds, tests and benchmarks running now (they would skew the timings)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), os.getppid()):
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if comm in BUSY_NAMES or re.search(r"bench-(convert|verify)\.py(?! _)", command):
            found.append(f"{entry.name} {command[:80]}")
    return found


def tool_versions() -> str:
    sha256sum = subprocess.run(["sha256sum", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("openssl") else "no openssl"
    flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), [])
    shown = [flag for flag in ("sha_ni", "avx2", "avx512f") if flag in flags]
    return f"{sha256sum}; {openssl}; CPU flags: {', '.join(shown) or 'none of sha_ni, avx2, avx512f'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", type=Path, default=ROOT / ".build" / "release" / "zoo", help="zoo binary")
    parser.add_argument("--work", type=Path, default=Path("/tmp/zoo-bench"), help="work directory (cache + outputs)")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per command")
    parser.add_argument("--markdown", type=Path, help="also write the tables, command line and date to this file")
    arguments = parser.parse_args()
    work, zoo = arguments.work.resolve(), arguments.zoo.resolve()

    if not zoo.exists():
        sys.exit(f"no zoo binary at {zoo}; build it with: swift build -c release --product zoo")
    sources = [path for path in [ROOT / "Package.swift", *(ROOT / "Sources").rglob("*")] if path.is_file()]
    if any(source.stat().st_mtime > zoo.stat().st_mtime for source in sources):
        print(f"WARNING: some sources are newer than {zoo}; if they changed, rebuild with: "
              "swift build -c release --product zoo")
    if not Path(GNU_TIME).exists():
        print(f"WARNING: no GNU time at {GNU_TIME}: peak RSS is os.wait4's ru_maxrss, which includes "
              "this Python process's own RSS (~10 MB floor; see bench-convert.py's docstring)")
    busy = busy_processes()
    for line in busy:
        print(f"WARNING: running alongside: {line}")

    # The same lock as bench-convert.py: two runs sharing a work directory skew each other.
    work.mkdir(parents=True, exist_ok=True)
    lock = open(work / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"another benchmark run (bench-convert or bench-verify) is using {work}; "
                 "wait for it or pass another --work")
    source = bench_convert.ensure_source(work)
    load_before = os.getloadavg()[0]
    blas = run_step("_openblas").stdout.strip()
    threads = (f"transformers torch.set_num_threads({os.cpu_count()}) (os.cpu_count()); zoo's OpenBLAS "
               f"{blas} (OPENBLAS_NUM_THREADS {os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}); "
               f"both use {os.cpu_count()} threads (zoo: every product on the pass's thread, the next "
               "weights read on a second; its OpenBLAS workers are stopped at start)")

    print("== forward pass", flush=True)
    forward_report, forward_checks, forward_passed = forward_section(zoo, work, arguments.repeat, source, threads)
    print("== zoo verify", flush=True)
    verify_report, misses = verify_section(zoo, work, arguments.repeat, source)
    print("== sha-256", flush=True)
    checksum_report, checksum_checks, checksum_passed = checksum_section(zoo, work, arguments.repeat, source)

    command_line = shlex.join([sys.executable, *sys.argv])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = [
        *forward_report, "",
        *verify_report, "",
        *checksum_report, "",
        "MB = 10^6 bytes. Peak RSS from GNU time (max over the timed runs).",
        "",
        *[f"- {line}" for line in bench_convert.machine_info(work, zoo, load_before)],
        f"- {tool_versions()}",
        f"- other builds, tests or benchmarks at start: {'; '.join(busy) or 'none'}",
        "",
        f"Command: `{command_line}`  ",
        f"Date: {date}",
    ]
    print()
    print("\n".join(report))
    print()
    for line in [*forward_checks, *checksum_checks, *misses]:
        print(line)
    if arguments.markdown:
        arguments.markdown.write_text("\n".join(report) + "\n")
        print(f"wrote {arguments.markdown}")
    sys.exit(0 if forward_passed and checksum_passed else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in CHILD_STEPS:
        CHILD_STEPS[sys.argv[1]](*sys.argv[2:])
    else:
        main()
