#!/usr/bin/env python3
"""Deterministic block-interleaved train/valid/test split.

    split_corpus.py OUT_DIR SOURCE.txt [SOURCE.txt ...]

Each source (in the order given) loses its blank lines and byte-order marks and is cut into
contiguous blocks of 100 lines; block k of a source goes to valid.txt when k % 20 == 18, to
test.txt when k % 20 == 19, else to train.txt. So every split holds the same mix of sources (5% /
5% / 90%), and no sentence or paragraph is cut across splits. Python standard library only.
"""
import sys

BLOCK_LINES = 100
PERIOD = 20
VALID_SLOT, TEST_SLOT = PERIOD - 2, PERIOD - 1


def destination(block):
    slot = block % PERIOD
    return "valid" if slot == VALID_SLOT else "test" if slot == TEST_SLOT else "train"


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: split_corpus.py OUT_DIR SOURCE.txt [SOURCE.txt ...]")
    outputs = {name: open("%s/%s.txt" % (argv[1], name), "w", encoding="utf-8",
                          errors="surrogateescape", newline="\n")
               for name in ("train", "valid", "test")}
    for path in argv[2:]:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            # A line counts as blank by str.strip(); a BOM is not whitespace, so a line holding
            # only a BOM survives as an empty line (kept for byte-identical output).
            lines = [line.replace("\ufeff", "") for line in f if line.strip()]
        for start in range(0, len(lines), BLOCK_LINES):
            block = lines[start:start + BLOCK_LINES]
            text = "".join(block)
            if not text.endswith("\n"):
                text += "\n"
            outputs[destination(start // BLOCK_LINES)].write(text)
    for f in outputs.values():
        f.close()


if __name__ == "__main__":
    main(sys.argv)
