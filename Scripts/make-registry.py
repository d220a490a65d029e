#!/usr/bin/env python3
"""Generate zoo's registry of the T5-Efficient family, and the name-grammar test cases.

What it does
    Reads the census of Google's T5-Efficient checkpoints
        Scripts/data/t5_efficient_variants.json   (data, one entry per name)
        Scripts/data/t5_efficient_census.md       (explains the data; not parsed)
    (copies of the project's reference census, committed so the registry can be rebuilt from a
    clone alone)
    and writes
        Sources/ModelZoo/Resources/registry.json     (bundled with zoo; the top-level registry.json links to it)
        Tests/Fixtures/registry/name_cases.json     (what the pure naming rule gives for a set of names,
                                                     plus the registry entries that deviate from it)
    Both files are deterministic (fixed key order, fixed sort, 2-space indent, trailing newline),
    so a rerun on the same census is byte-identical.

How to run (Python 3 standard library only; from any directory):
    python3 Scripts/make-registry.py                 # write both files
    python3 Scripts/make-registry.py --check         # write nothing; exit 1 if either file is stale
    python3 Scripts/make-registry.py --census PATH   # another copy of t5_efficient_variants.json

The script refuses to write (exit 1) if the census disagrees with itself in a way the registry
would inherit: a parameter count that differs from the formula, a name that does not parse to the
census's base and tokens, a bucket folder that does not map to its name, an architecture that
deviates from the naming rule without being a documented anomaly, an unknown architecture_source.

Rules, and why each exists (section numbers refer to t5_efficient_census.md)

  bases           From base_types_real_config, not base_types_model_card_table: the card table
                  says d_kv 32 for tiny/mini/small, but the real config.json files and the card's
                  own parameter counts say 64 (section 3.1).
  checkpoints     All 170 unique names (171 bucket folders; t5-efficient-base has two), sorted by
                  base size (tiny..xxl) then by name as a plain string, so `zoo list` groups sizes
                  and the order never depends on the census's order.
  architecture    Copied from the census entry, which already records the documented corrections:
                  dm1000/ffN000 are N x 1024 (3.3), tiny-dl6/el8/el12 have 12 layers on the other
                  stack (3.4), tiny-nh8 has d_kv 32 (3.5), xxl-nl4 is d_kv 64 x 32 heads (3.2).
                  The registry keeps these as data; the grammar (Swift ModelName) stays the pure
                  rule.  name_cases.json lists exactly where the two differ.
  architecture_source
                  "config.json seen" -> "config.json"; "inferred from naming rule" -> "naming rule";
                  "inferred from pytorch_model.bin size" -> "file size".  Exception: every xl entry
                  without a seen config.json is "model card", because the xl base's d_kv 128 x 32
                  heads split comes only from the model-card table; file sizes confirm only the
                  product 4096 (3.6).  No config.json of any xl checkpoint was seen.
  parameters      Computed from the architecture with the census formula (section 5) and checked
                  against param_count_exact_unique_tied and its breakdown; any difference aborts,
                  because the Swift side recomputes these from the architecture and its tests
                  fail on any difference.  Tied embeddings count once (no config sets
                  tie_word_embeddings false); an untied lm_head would add V*d_model; a gated FFN
                  would have two input projections (3*d_model*d_ff instead of 2*d_model*d_ff).
                  null for sh / skv / shkv: their sharing has no place in T5's layout, so the
                  census's count (the base's) describes nothing that exists.
  bytes           Weights only: fp32 4P, fp16 and bf16 2P.  pytorch_model.bin on the hub is fp32;
                  the 20 sizes the census saw match 4P within display rounding.
  hf_repo/hf_files
                  google/<name> for the 160 ported names (all listed in the converter's
                  hf_names_dict.txt).  Files: config.json, pytorch_model.bin and
                  operative_config.gin, which section 2 says every ported repo carries.  The 10
                  sh/skv/shkv names were never ported: hf_repo null, hf_files [].  Their
                  NewT5SharedHeadsSharedKeyValues repos hold only config.json and
                  operative_config.gin, no weights; that location goes into notes.
  status          "unsupported" exactly for sh/skv/shkv (transformers' T5 cannot represent their
                  parameter sharing); everything else "supported".
  upstream        State of the original Mesh TF bucket folder, from google-research issue #986
                  (section 1): bi_v1_lg_h8_l16 has no checkpoints at all -> "missing";
                  bi_v1_lg_h8_l32 and bi_v1_3B_l28 are incomplete -> "incomplete"; every other
                  folder -> "complete" (meaning: not reported incomplete; #986 is the only audit).
                  failed_mtf_upload.txt is NOT mapped onto upstream: per the census it means the
                  MTF-vs-HF score check could not run, not that the folder lacks files (13 of its
                  16 names have no reported bucket problem).  It becomes a note instead.
  checksums       The census records no published sha256 for any file, so every entry has {}.
                  (Commit hashes in hub URLs are not file checksums.)
  notes           Every discrepancy the census documents for the entry: its JSON notes (a few
                  reworded so they read without the census's field names), the sh/skv
                  architecture_note, hub status when the page was not seen, the bin size when it
                  was seen, the model-card figures where recorded, the NewT5 holding repo, the
                  tiny-nh1 re-upload (3.5) and the xl head split for xl-sh/xl-skv (3.6), which
                  the census JSON only attaches to the other xl entries.

Name grammar (name_cases.json), the same rule as Sources/ModelZoo/Registry/ModelName.swift (a test, NameGrammarAgreementTests, checks the tables below against it):
  t5-efficient-<base>[-<token>]*, base in tiny mini small base large xl xxl.  Tokens are applied
  in order to the base architecture: nlN both stacks, elN encoder, dlN decoder, dmN d_model,
  ffN d_ff, kvN d_kv, nhN num_heads; sh / skv / shkv change no field.  For dm and ff only, a
  number that is a multiple of 1000 means N/1000 x 1024 (the bucket folders said d1k, f6k; the
  census confirms this from configs and file sizes).  kv and nh never use thousands in the
  family (kv 16..256, nh 1..32), so they are taken literally.  Errors: no "t5-efficient-" prefix
  or no size -> malformed; unknown size -> unknownBase; a known abbreviation without a positive
  number without leading zeros -> malformed; anything else -> unknownToken; a token setting a
  field an earlier token set (nl4-nl4, but also nl8-el2 or sh-skv) -> duplicateToken.
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CENSUS = ROOT / "Scripts" / "data" / "t5_efficient_variants.json"
# Provenance recorded in registry.json: the census's name in the project's reference folder, which
# Scripts/data/ copies.  Left as it was so the committed registry.json stays byte-identical
# (--check); changing it means regenerating Sources/ModelZoo/Resources/registry.json.
GENERATED_FROM = "shared/reference/t5_efficient_variants.json"
REGISTRY_PATH = ROOT / "Sources" / "ModelZoo" / "Resources" / "registry.json"
CASES_PATH = ROOT / "Tests" / "Fixtures" / "registry" / "name_cases.json"

PREFIX = "t5-efficient-"
BASE_ORDER = ["tiny", "mini", "small", "base", "large", "xl", "xxl"]
ARCH_KEYS = [
    "num_layers", "num_decoder_layers", "d_model", "d_ff", "d_kv", "num_heads",
    "vocab_size", "feed_forward_proj", "tie_word_embeddings", "relative_attention_num_buckets",
]
# Every ported config.json was made from the same T5 v1.0 template (census section 2).
TEMPLATE = {
    "vocab_size": 32128,
    "feed_forward_proj": "relu",
    "tie_word_embeddings": True,
    "relative_attention_num_buckets": 32,
}
SHARING_TOKENS = {"sh", "skv", "shkv"}
NUMBERED = {
    "nl": ("num_layers", "num_decoder_layers"),
    "el": ("num_layers",),
    "dl": ("num_decoder_layers",),
    "dm": ("d_model",),
    "ff": ("d_ff",),
    "kv": ("d_kv",),
    "nh": ("num_heads",),
}
THOUSANDS_ARE_1024 = {"dm", "ff"}

SOURCE_MAP = {
    "config.json seen": "config.json",
    "inferred from naming rule (config.json not seen)": "naming rule",
    "inferred from pytorch_model.bin size (naming rule contradicted); config.json not seen": "file size",
}

HF_FILES = ["config.json", "operative_config.gin", "pytorch_model.bin"]

# google-research issue #986 (census section 1), by bucket folder (date suffix dropped).
ISSUE_986 = {
    "bi_v1_lg_h8_l16": "missing",
    "bi_v1_lg_h8_l32": "incomplete",
    "bi_v1_3B_l28": "incomplete",
}

STATUS_REASONS = {
    "sh": "Shared-heads variant (sh): its attention heads share parameters, which T5Config and "
          "transformers' T5 layout (independent q, k, v and o projections per layer) cannot express, "
          "so it was never ported and no converted weights exist.",
    "skv": "Shared key-value variant (skv): its key and value projections are tied, which transformers' "
           "T5 (separate k and v weights, no tying option) cannot express, so it was never ported and "
           "no converted weights exist.",
    "shkv": "Shared-heads-and-key-value variant (shkv, the literal bucket folder name; its exact meaning "
            "is undocumented): its parameter sharing cannot be expressed by transformers' T5, so it was "
            "never ported and no converted weights exist.",
}

XL_SPLIT_NOTE = ("xl d_kv=128/num_heads=32 taken from card table; xl-nl2 (1.07 GB) and xl-nl28 (13.3 GB) "
                 "sizes confirm num_heads*d_kv=4096 but not the split")
TINY_NH1_NOTE = ("first conversion was tagged t5-new-hf-not-loaded (did not load in transformers); "
                 "the repo was re-uploaded on 2022-02-15")

# Registry entries whose architecture is not what the pure naming rule gives: name -> reason.
# The script checks that this is exactly the set of deviations in the census.
ANOMALY_REASONS = {
    "t5-efficient-tiny-dl6":
        "pytorch_model.bin is 95.9 MB, which fits 12 encoder / 6 decoder layers (4 encoder layers would "
        "give 70.7 MB); the tiny el/dl runs keep 12 layers on the other stack (census 3.4; config.json not seen)",
    "t5-efficient-tiny-el8":
        "pytorch_model.bin is 109 MB, which fits 8 encoder / 12 decoder layers (4 decoder layers would "
        "give 74.9 MB); the tiny el/dl runs keep 12 layers on the other stack (census 3.4; config.json not seen)",
    "t5-efficient-tiny-el12":
        "pytorch_model.bin is 121 MB, which fits 12 encoder / 12 decoder layers (4 decoder layers would "
        "give 87.5 MB); the tiny el/dl runs keep 12 layers on the other stack (census 3.4; config.json not seen)",
    "t5-efficient-tiny-nh8":
        "pytorch_model.bin is 62.3 MB, the same as t5-efficient-tiny, which fits num_heads*d_kv = 256, i.e. "
        "d_kv 32 with 8 heads (d_kv 64 would give about 74.9 MB); unresolved until its config.json is read (census 3.5)",
    "t5-efficient-xxl-nl4":
        "its config.json says d_kv 64 and num_heads 32, not xxl's 128 and 128; the 4.83 GB file confirms it (census 3.2)",
}
# Entries the census suspects of the same anomaly but records with the naming rule.
SUSPECTED = {
    "t5-efficient-tiny-dl2": "num_layers",
    "t5-efficient-tiny-dl8": "num_layers",
    "t5-efficient-tiny-el2": "num_decoder_layers",
    "t5-efficient-tiny-el6": "num_decoder_layers",
}


class CensusError(Exception):
    pass


class NameError_(Exception):
    def __init__(self, kind, detail):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# ----------------------------------------------------------------------------- grammar

def parse_token(text):
    """One token -> (fields it sets, value) ; raises NameError_."""
    if text in SHARING_TOKENS:
        return ("sharing",), None
    letters = re.match(r"[A-Za-z]*", text).group(0)
    digits = text[len(letters):]
    if not re.fullmatch(r"[1-9][0-9]*", digits):
        if letters in NUMBERED:
            raise NameError_("malformed", f"'{text}' needs a positive number after '{letters}'")
        raise NameError_("unknownToken", text)
    if letters not in NUMBERED:
        raise NameError_("unknownToken", text)
    number = int(digits)
    if letters in THOUSANDS_ARE_1024 and number % 1000 == 0:
        number = number // 1000 * 1024
    return NUMBERED[letters], number


def parse_name(name):
    """name -> (base, tokens) ; raises NameError_ (same rules as ModelName.swift)."""
    if not name.startswith(PREFIX):
        raise NameError_("malformed", f"'{name}' does not start with '{PREFIX}'")
    parts = name[len(PREFIX):].split("-")
    base = parts[0]
    if not base:
        raise NameError_("malformed", "no size after the prefix")
    if base not in BASE_ORDER:
        raise NameError_("unknownBase", base)
    seen = set()
    tokens = []
    for text in parts[1:]:
        fields, _ = parse_token(text)
        # nl sets both stacks, so it collides with el and dl as well as with itself.
        keys = {"layers:enc" if f == "num_layers" else "layers:dec" if f == "num_decoder_layers" else f
                for f in fields}
        if keys & seen:
            raise NameError_("duplicateToken", text)
        seen |= keys
        tokens.append(text)
    return base, tokens


def rule_architecture(name, bases):
    """The architecture the pure naming rule gives (no anomalies)."""
    base, tokens = parse_name(name)
    arch = dict(bases[base])
    for text in tokens:
        fields, value = parse_token(text)
        for field in fields:
            if field != "sharing":
                arch[field] = value
    return arch


def folder_to_name(folder):
    """Bucket folder -> HF name, with create_hf_names.py's rules (census section 2)."""
    m = re.fullmatch(r"gs://scenic-bucket/scaling_explorer/scaling_explorer/bi_v1_(.*?)_?law_\d\d-\d\d-\d\d-\d\d/",
                     folder)
    if not m:
        raise CensusError(f"unexpected bucket folder {folder!r}")
    parts = [p for p in m.group(1).split("_") if p]
    sizes = {"tiny": "tiny", "mini": "mini", "small": "small", "sm": "small", "bs": "base",
             "large": "large", "lg": "large", "3B": "xl", "11B": "xxl"}
    base = "base"
    if parts and parts[0] in sizes:
        base = sizes[parts.pop(0)]
    ops = {"l": "nl", "h": "nh", "d": "dm", "f": "ff", "el": "el", "dl": "dl", "kv": "kv",
           "shared": "sh", "skv": "skv", "shkv": "shkv"}
    tokens = []
    for part in parts:
        for op, num in re.findall(r"(shared|shkv|skv|el|dl|kv|l|h|d|f)(\d+k?)?", part):
            tokens.append(ops[op] + (num or "").replace("k", "000"))
        if "".join(re.findall(r"(?:shared|shkv|skv|el|dl|kv|l|h|d|f)(?:\d+k?)?", part)) != part:
            raise CensusError(f"cannot read bucket folder part {part!r} of {folder!r}")
    return "-".join([PREFIX + base] + tokens)


def folder_key(folder):
    return re.search(r"(bi_v1_.*?)_?law_\d", folder).group(1)


def upstream_of(entry):
    """complete / incomplete / missing, from issue #986 by bucket folder."""
    states = {ISSUE_986[k] for k in (folder_key(f) for f in entry["bucket_folders"]) if k in ISSUE_986}
    if len(states) > 1:
        raise CensusError(f"{entry['name']}: bucket folders in different #986 states")
    return states.pop() if states else "complete"


# ----------------------------------------------------------------------------- parameters

def parameter_breakdown(arch):
    """Unique parameters per part (census section 5): no biases, RMSNorm scales, relative bias in block 0."""
    V, dm, ff = arch["vocab_size"], arch["d_model"], arch["d_ff"]
    H = arch["num_heads"] * arch["d_kv"]
    buckets = arch["relative_attention_num_buckets"]
    ffn = (3 if arch["feed_forward_proj"].startswith("gated") else 2) * dm * ff
    embedding = V * dm * (1 if arch["tie_word_embeddings"] else 2)
    encoder = arch["num_layers"] * (4 * dm * H + ffn + 2 * dm) + buckets * arch["num_heads"] + dm
    decoder = arch["num_decoder_layers"] * (8 * dm * H + ffn + 3 * dm) + buckets * arch["num_heads"] + dm
    return {"embedding": embedding, "encoder": encoder, "decoder": decoder}


# ----------------------------------------------------------------------------- notes

def rewrite_note(note, entry):
    """Census JSON note -> registry note (a few reference census-only fields)."""
    if note.startswith("listed in google-research issue #986"):
        state = upstream_of(entry)
        return ("google-research issue #986: " + ("its bucket folder has no checkpoints at all" if state == "missing"
                else "its bucket folder is incomplete (step-524288 files missing or partial)"))
    if note.startswith("in converter's failed_mtf_upload.txt"):
        tail = ("the repo was published anyway" if entry["on_hf_hub_google_org"] is True
                else "whether the repo was published is unverified")
        return ("listed in the converter's failed_mtf_upload.txt: the MTF-vs-HF score check could not run, "
                "so this port was never checked against the original; " + tail)
    m = re.fullmatch(r"sibling tiny el/dl checkpoints have the other stack at 12 layers \(from bin sizes\), "
                     r"so this one probably also has (\w+)=12\? - unverified", note)
    if m:
        return (f"unverified: the tiny el/dl siblings whose file sizes were seen have 12 layers on the other "
                f"stack, so this one probably has {m.group(1)}=12, not the naming rule's "
                f"{entry['architecture'][m.group(1)]}; parameters and bytes here follow the naming rule")
    m = re.fullmatch(r"pytorch_model\.bin size contradicts the naming rule; architecture adjusted to "
                     r"\{'(\w+)': (\d+)\} to match the file size; verify config\.json", note)
    if m:
        return (f"pytorch_model.bin size contradicts the naming rule: {m.group(1)} is {m.group(2)} here to match "
                f"the file size (config.json not seen)")
    return note


def notes_for(entry, short):
    notes = [rewrite_note(n, entry) for n in entry["notes"]]
    if "architecture_note" in entry:
        notes.append(entry["architecture_note"].replace("so the fields above are", "so the architecture here is"))
    hub = entry["on_hf_hub_google_org"]
    if isinstance(hub, str):
        notes.append("hub status: " + hub)
    if not entry["ported_to_transformers"]:
        holder = entry["hf_repo"]
        evidence = entry["hub_evidence"] or ""
        seen = evidence.startswith("https://huggingface.co/" + holder)
        notes.append(f"not ported to google/; the weightless holding repo {holder} "
                     + ("was seen" if seen else "is linked from the model cards but was not seen directly"))
    size = entry.get("pytorch_model_bin_size_seen")
    if size:
        notes.append(f"pytorch_model.bin seen at {size['size']}, matching 4 x parameters = "
                     f"{size['predicted_fp32_bytes']:,} bytes (ratio {size['ratio_seen_over_pred']})")
    card = entry.get("model_card")
    if card:
        notes.append(f"model card says {card['params_million']}M parameters / {card['fp32_MB']} MB fp32 / "
                     f"{card['fp16_MB']} MB fp16: those are pytorch_model.bin's size / 4 (/ 1e6), torch.save "
                     f"overhead included, so {card['diff_card_minus_exact']:,} more than the exact count")
    if short == "tiny-nh1":
        notes.append(TINY_NH1_NOTE)
    if entry["base_type"] == "xl":
        notes.append(XL_SPLIT_NOTE)
    out = []
    for n in notes:
        if n not in out:
            out.append(n)
    return out


# ----------------------------------------------------------------------------- registry

def build(census):
    problems = []
    bases = {}
    for b in BASE_ORDER:
        real = census["base_types_real_config"][b]
        bases[b] = {k: (real[k] if k in real else TEMPLATE[k]) for k in ARCH_KEYS}

    variants = census["variants"]
    names = [v["name"] for v in variants]
    if len(names) != len(set(names)):
        problems.append("duplicate names in the census")
    if len(names) != census["counts"]["unique_names"]:
        problems.append(f"{len(names)} variants but counts.unique_names = {census['counts']['unique_names']}")
    folders = [f for v in variants for f in v["bucket_folders"]]
    if len(folders) != len(set(folders)) or len(folders) != census["counts"]["bucket_folders"]:
        problems.append(f"{len(folders)} bucket folders, counts.bucket_folders = {census['counts']['bucket_folders']}")

    checkpoints = []
    anomalies = {}
    for v in sorted(variants, key=lambda v: (BASE_ORDER.index(v["base_type"]), v["name"])):
        name = v["name"]
        short = name[len(PREFIX):]
        try:
            base, tokens = parse_name(name)
        except NameError_ as error:
            problems.append(f"{name}: does not parse ({error})")
            continue
        if base != v["base_type"] or tokens != v["variation_tokens"]:
            problems.append(f"{name}: parses to {base} {tokens}, census says {v['base_type']} {v['variation_tokens']}")
        for folder in v["bucket_folders"]:
            if folder_to_name(folder) != name:
                problems.append(f"{name}: bucket folder {folder} maps to {folder_to_name(folder)}")

        arch = {k: v["architecture"][k] for k in ARCH_KEYS}
        rule = rule_architecture(name, bases)
        diff = {k: {"naming_rule": rule[k], "registry": arch[k]} for k in ARCH_KEYS if rule[k] != arch[k]}
        if diff:
            anomalies[name] = diff

        source_text = v["architecture_source"]
        if source_text not in SOURCE_MAP:
            problems.append(f"{name}: unknown architecture_source {source_text!r}")
            continue
        source = SOURCE_MAP[source_text]
        if base == "xl" and source == "naming rule":
            source = "model card"
        if (source == "config.json") != ("config_json_evidence" in v):
            problems.append(f"{name}: architecture_source {source_text!r} but config_json_evidence "
                            f"{'present' if 'config_json_evidence' in v else 'absent'}")

        sharing = [t for t in tokens if t in SHARING_TOKENS]
        ported = v["ported_to_transformers"]
        if bool(sharing) == bool(ported):
            problems.append(f"{name}: sharing tokens {sharing} but ported_to_transformers={ported}")

        # Cross-check the formula against the census for every entry (sharing ones included:
        # the census gives them the base's count, which the formula must reproduce too).
        breakdown = parameter_breakdown(arch)
        total = sum(breakdown.values())
        cb = v["param_breakdown"]
        expected = {"embedding": cb["embedding_shared"], "encoder": cb["encoder"], "decoder": cb["decoder"]}
        if breakdown != expected or total != v["param_count_exact_unique_tied"] or total != cb["total_unique_tied"]:
            problems.append(f"{name}: formula gives {total} {breakdown}, census {v['param_count_exact_unique_tied']} "
                            f"{expected}")
        if v["fp32_bytes_weights_only"] != 4 * total:
            problems.append(f"{name}: fp32_bytes_weights_only {v['fp32_bytes_weights_only']} != 4 x {total}")

        upstream = upstream_of(v)
        has_986_note = any("#986" in n for n in v["notes"])
        if has_986_note != (upstream != "complete"):
            problems.append(f"{name}: issue #986 note and bucket folder disagree")

        if sharing:
            parameters = breakdown_out = sizes = None
            status, reason = "unsupported", STATUS_REASONS[sharing[0]]
            hf_repo, hf_files = None, []
        else:
            parameters, breakdown_out = total, breakdown
            sizes = {"fp32": 4 * total, "fp16": 2 * total, "bf16": 2 * total}
            status, reason = "supported", None
            hf_repo, hf_files = v["hf_repo"], list(HF_FILES)
            if hf_repo != "google/" + name:
                problems.append(f"{name}: hf_repo {hf_repo}")

        checkpoints.append({
            "name": name,
            "base": base,
            "tokens": tokens,
            "architecture": arch,
            "architecture_source": source,
            "parameters": parameters,
            "parameter_breakdown": breakdown_out,
            "bytes": sizes,
            "hf_repo": hf_repo,
            "hf_files": hf_files,
            "mesh_tf_folders": list(v["bucket_folders"]),
            "status": status,
            "status_reason": reason,
            "upstream": upstream,
            "checksums": {},
            "notes": notes_for(v, short),
        })

    if set(anomalies) != set(ANOMALY_REASONS):
        problems.append(f"naming-rule deviations {sorted(anomalies)} != documented {sorted(ANOMALY_REASONS)}")
    for name in SUSPECTED:
        if name in anomalies:
            problems.append(f"{name}: suspected anomaly is now recorded; move it to ANOMALY_REASONS")

    registry = {
        "schema_version": 1,
        "family": "t5-efficient",
        "generated_from": GENERATED_FROM,
        "bases": bases,
        "checkpoints": checkpoints,
    }
    return registry, anomalies, problems


# ----------------------------------------------------------------------------- name cases

# (name, expected error or None).  Valid names get the pure-rule architecture computed below.
CASES = [
    # bases alone
    ("t5-efficient-tiny", None),
    ("t5-efficient-mini", None),
    ("t5-efficient-xxl", None),
    # nl: both stacks
    ("t5-efficient-tiny-nl2", None),
    ("t5-efficient-mini-nl24", None),
    ("t5-efficient-xl-nl28", None),
    ("t5-efficient-xxl-nl4", None),        # registry anomaly: config says d_kv 64 x 32 heads
    # el / dl: one stack
    ("t5-efficient-small-el48", None),
    ("t5-efficient-large-el2", None),
    ("t5-efficient-tiny-el8", None),        # registry anomaly: decoder 12
    ("t5-efficient-base-dl8", None),
    ("t5-efficient-small-dl16", None),
    ("t5-efficient-tiny-dl6", None),        # registry anomaly: encoder 12
    # el + dl combinations, either order
    ("t5-efficient-small-el16-dl8", None),
    ("t5-efficient-small-el16-dl1", None),
    ("t5-efficient-small-el8-dl4", None),
    ("t5-efficient-small-dl8-el16", None),  # not in the registry; same result as el16-dl8
    # dm: N000 -> N x 1024
    ("t5-efficient-small-dm1000", None),
    ("t5-efficient-base-dm2000", None),
    ("t5-efficient-large-dm128", None),
    ("t5-efficient-base-dm512", None),
    # ff: N000 -> N x 1024
    ("t5-efficient-small-ff6000", None),
    ("t5-efficient-tiny-ff12000", None),
    ("t5-efficient-base-ff1000", None),
    ("t5-efficient-tiny-ff3000", None),
    # kv: literal
    ("t5-efficient-small-kv16", None),
    ("t5-efficient-base-kv256", None),
    ("t5-efficient-small-kv32", None),
    ("t5-efficient-base-kv1000", None),     # not in the registry; thousands are x1024 for dm/ff only
    # nh: literal, d_kv unchanged
    ("t5-efficient-base-nh32", None),
    ("t5-efficient-tiny-nh32", None),
    ("t5-efficient-large-nh2", None),
    ("t5-efficient-tiny-nh8", None),        # registry anomaly: d_kv 32
    ("t5-efficient-large-nh8-nl16", None),
    ("t5-efficient-large-nh8-nl32", None),
    ("t5-efficient-base-nl4-dm2000-kv128", None),  # not in the registry; three tokens
    # sharing flags change no field
    ("t5-efficient-tiny-sh", None),
    ("t5-efficient-xl-sh", None),
    ("t5-efficient-base-skv", None),
    ("t5-efficient-large-skv", None),
    ("t5-efficient-small-shkv", None),
    ("t5-efficient-small-skv", None),       # not in the registry (the folder is sm_shkv), but grammatical
    # errors
    ("t5-efficient-huge", "unknownBase"),
    ("t5-efficient-Tiny", "unknownBase"),
    ("t5-efficient-tiny-qq4", "unknownToken"),
    ("t5-efficient-tiny-nl", "malformed"),
    ("t5-efficient-tiny-nl0", "malformed"),
    ("t5-efficient-tiny-nl04", "malformed"),
    ("t5-small", "malformed"),
    ("t5-efficient-", "malformed"),
    ("t5-efficient-tiny-nl4-nl4", "duplicateToken"),
    ("t5-efficient-tiny-el4-el8", "duplicateToken"),
    ("t5-efficient-tiny-nl8-el2", "duplicateToken"),
    ("t5-efficient-tiny-sh-skv", "duplicateToken"),
]


def build_cases(bases, anomalies, registry):
    problems = []
    cases = []
    for name, error in CASES:
        try:
            arch = rule_architecture(name, bases)
            got = None
        except NameError_ as e:
            arch, got = None, e.kind
        if got != error:
            problems.append(f"name case {name}: expected {error}, parser gives {got}")
        cases.append({"name": name, "expected_architecture": arch, "expected_error": got})
    entries = {c["name"]: c for c in registry["checkpoints"]}
    anomaly_list = [{
        "name": name,
        "fields": anomalies[name],
        "architecture_source": entries[name]["architecture_source"],
        "reason": ANOMALY_REASONS[name],
    } for name in sorted(anomalies, key=lambda n: (BASE_ORDER.index(entries[n]["base"]), n))]
    suspected = [{
        "name": name,
        "field": field,
        "reason": "the census suspects 12 layers on the other stack like its tiny el/dl siblings, "
                  "but nothing was seen, so the registry keeps the naming rule",
    } for name, field in sorted(SUSPECTED.items())]
    return {"cases": cases, "anomalies": anomaly_list, "suspected_anomalies": suspected}, problems


# ----------------------------------------------------------------------------- main

def dump(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--census", type=Path, default=DEFAULT_CENSUS)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if an output is stale")
    args = parser.parse_args()

    census = json.loads(args.census.read_text())
    registry, anomalies, problems = build(census)
    if not problems:
        cases, problems = build_cases(registry["bases"], anomalies, registry)
    if problems:
        for p in problems:
            print("census/registry disagreement:", p, file=sys.stderr)
        return 1

    outputs = {REGISTRY_PATH: dump(registry), CASES_PATH: dump(cases)}
    if args.check:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        for p in stale:
            print("stale:", p.relative_to(ROOT), file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    entries = registry["checkpoints"]
    count = lambda key, value: sum(1 for e in entries if e[key] == value)
    print(f"wrote {REGISTRY_PATH.relative_to(ROOT)}: {len(entries)} checkpoints "
          f"({count('status', 'supported')} supported, {count('status', 'unsupported')} unsupported; upstream "
          f"{count('upstream', 'complete')} complete, {count('upstream', 'incomplete')} incomplete, "
          f"{count('upstream', 'missing')} missing); parameter counts agree with the census for all "
          f"{len(census['variants'])} entries")
    print(f"wrote {CASES_PATH.relative_to(ROOT)}: {len(cases['cases'])} name cases, "
          f"{len(cases['anomalies'])} anomalies ({', '.join(a['name'][len(PREFIX):] for a in cases['anomalies'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
