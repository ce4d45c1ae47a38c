#!/usr/bin/env python3
"""SWORD `mod2imp` output (stdin) -> plain text (stdout): one paragraph per line.

mod2imp prints every entry as a "$$$<key>" line followed by the entry's text in the module's
markup (OSIS or ThML, sometimes HTML-escaped). For each entry, in order:
  1. skip it when its raw text repeats an earlier entry (linked verses share one entry);
  2. drop footnotes and cross references (<note>...</note>);
  3. turn paragraph-like markup (<p/>, </p>, <lb/>, line groups, closing milestone divs) into
     line breaks, every other tag into a space; unescape HTML entities, then drop any tag that was
     hidden behind an escape (&lt;div ...&gt;);
  4. collapse whitespace per paragraph, drop fragments (< 2 chars, or a stray '<'/'>' left by
     truncated markup) and any paragraph seen before (Matthew Henry repeats a chapter's text under
     every verse of it).
Bytes that are not UTF-8 pass through unchanged. Python standard library only.
"""
import hashlib
import html
import io
import re
import sys

NOTE = re.compile(r"<note\b[^>]*>.*?</note>", re.S)
BREAK = re.compile(r"<div [^>]*eID=[^>]*/>|<p\s*/>|</p>|<lb\s*/>|<lg[^>]*>|</lg>")
TAG = re.compile(r"<[^>]+>")
ESCAPED_TAG = re.compile(r"<[^>]*>")
SPACES = re.compile(r"\s+")


class Extractor:
    def __init__(self, out):
        self.out = out
        self.seen_entries = set()
        self.seen_paragraphs = set()

    @staticmethod
    def digest(text):
        return hashlib.md5(text.encode("utf-8", "surrogateescape")).digest()

    def entry(self, lines):
        if not lines:
            return
        raw = "".join(lines)
        key = self.digest(raw)
        if key in self.seen_entries:
            return
        self.seen_entries.add(key)
        text = NOTE.sub(" ", raw)
        text = BREAK.sub("\n", text)
        text = TAG.sub(" ", text)
        text = ESCAPED_TAG.sub(" ", html.unescape(text))
        for paragraph in text.split("\n"):
            paragraph = SPACES.sub(" ", paragraph).strip()
            if len(paragraph) < 2 or "<" in paragraph or ">" in paragraph:
                continue
            key = self.digest(paragraph)
            if key in self.seen_paragraphs:
                continue
            self.seen_paragraphs.add(key)
            self.out.write(paragraph + "\n")


def main():
    source = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape")
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="surrogateescape", newline="\n")
    extractor, lines = Extractor(out), []
    for line in source:
        if line.startswith("$$$"):
            extractor.entry(lines)
            lines = []
        else:
            lines.append(line)
    extractor.entry(lines)
    out.flush()


if __name__ == "__main__":
    main()
