#!/usr/bin/env python3
"""Dump the character vectors of an R lazy-load database (NAME.rdb + NAME.rdx) as text, without R.

    rdata_text.py DB_BASE OUT_DIR

DB_BASE is the path without extension (e.g. .../janeaustenr/data/Rdata). Every object that is a
character vector is written to OUT_DIR/<object>.txt, one element per line (NA -> empty line);
other objects are listed as skipped. Python standard library only.

Format notes (R Internals, "Serialization formats" and "Lazy loading"):
  * .rdx is a gzip-compressed serialization of list(variables=, references=, compressed=);
    `variables` maps each object name to c(offset, length) inside .rdb.
  * a .rdb record is a 4-byte big-endian length of the uncompressed data followed by a zlib
    stream (compressed=TRUE/1), or by a one-byte type ('Z' bzip2, 'X' xz, '0' stored) and the data.
  * a serialization is "X\\n" (XDR, big-endian) + version header + one item; every item starts
    with a 32-bit flags word: SEXP type in the low byte, bit 9 = has attributes, bit 10 = has tag.
"""
import bz2
import gzip
import lzma
import os
import struct
import sys
import zlib

# SEXP types used by data objects.
NILSXP, SYMSXP, LISTSXP, CLOSXP, ENVSXP, PROMSXP, LANGSXP = 0, 1, 2, 3, 4, 5, 6
CHARSXP, LGLSXP, INTSXP, REALSXP, CPLXSXP, STRSXP = 9, 10, 13, 14, 15, 16
DOTSXP, VECSXP, EXPRSXP, RAWSXP, S4SXP = 17, 19, 20, 24, 25
# Pseudo-types that only occur in serializations.
REFSXP, NILVALUE_SXP, GLOBALENV_SXP, UNBOUNDVALUE_SXP, MISSINGARG_SXP = 255, 254, 253, 252, 251
BASENAMESPACE_SXP, NAMESPACESXP, PACKAGESXP, PERSISTSXP = 250, 249, 248, 247
EMPTYENV_SXP, BASEENV_SXP = 242, 241

PAIRLIST_TYPES = (LISTSXP, LANGSXP, CLOSXP, PROMSXP, DOTSXP)
SINGLETONS = (NILVALUE_SXP, GLOBALENV_SXP, UNBOUNDVALUE_SXP, MISSINGARG_SXP, BASENAMESPACE_SXP,
              EMPTYENV_SXP, BASEENV_SXP)


class Unserializer:
    """Reads one XDR serialization into plain Python values: character vectors become lists of
    str/None, named lists become dicts, pairlists become dicts keyed by tag."""

    def __init__(self, data, what):
        self.data, self.pos, self.refs, self.what = data, 0, [], what

    def fail(self, message):
        raise ValueError("%s: %s (at byte %d)" % (self.what, message, self.pos))

    def take(self, n):
        if self.pos + n > len(self.data):
            self.fail("truncated data")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def length(self):
        n = self.int32()
        if n == -1:  # long vector: two more words
            hi, lo = self.int32(), self.int32()
            n = (hi << 32) + lo
        return n

    def read(self):
        if self.take(2) != b"X\n":
            self.fail("not an XDR serialization (only format 'X' is supported)")
        version = self.int32()
        self.int32()  # R version that wrote it
        self.int32()  # minimal R version to read it
        if version == 3:
            self.take(self.int32())  # native encoding name
        elif version != 2:
            self.fail("unsupported serialization version %d" % version)
        return self.item()

    def item(self):
        flags = self.int32()
        kind = flags & 0xFF
        has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if kind in SINGLETONS:
            return None
        if kind == REFSXP:
            index = flags >> 8
            if index == 0:
                index = self.int32()
            return self.refs[index - 1]
        if kind in (NAMESPACESXP, PACKAGESXP, PERSISTSXP):
            self.int32()  # always 0
            value = [self.item() for _ in range(self.int32())]
            self.refs.append(value)
            return value
        if kind == SYMSXP:
            value = self.item()
            self.refs.append(value)
            return value
        if kind == ENVSXP:
            self.int32()  # locked
            env = {}
            self.refs.append(env)
            self.item()  # enclosing environment
            frame = self.item()
            hashtab = self.item()
            self.item()  # attributes
            if isinstance(frame, dict):
                env.update(frame)
            if isinstance(hashtab, list):
                for bucket in hashtab:
                    if isinstance(bucket, dict):
                        env.update(bucket)
            return env
        if kind in PAIRLIST_TYPES:
            out = {}
            while True:
                if has_attr:
                    self.item()
                tag = self.item() if has_tag else None
                out[tag if tag is not None else len(out)] = self.item()
                flags = self.int32()  # the CDR, read iteratively
                kind = flags & 0xFF
                if kind == NILVALUE_SXP:
                    return out
                if kind not in PAIRLIST_TYPES:
                    self.fail("unsupported pairlist tail of type %d" % kind)
                has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if kind == CHARSXP:
            n = self.int32()
            return None if n == -1 else self.take(n).decode("utf-8", "surrogateescape")
        if kind in (LGLSXP, INTSXP):
            n = self.length()
            value = list(struct.unpack(">%di" % n, self.take(4 * n)))
        elif kind == REALSXP:
            n = self.length()
            value = list(struct.unpack(">%dd" % n, self.take(8 * n)))
        elif kind == CPLXSXP:
            n = self.length()
            value = list(struct.unpack(">%dd" % (2 * n), self.take(16 * n)))
        elif kind == RAWSXP:
            value = self.take(self.length())
        elif kind in (STRSXP, VECSXP, EXPRSXP):
            value = [self.item() for _ in range(self.length())]
        elif kind == S4SXP:
            value = None
        else:
            self.fail("unsupported SEXP type %d" % kind)
        if has_attr:
            attributes = self.item()
            names = attributes.get("names") if isinstance(attributes, dict) else None
            if kind == VECSXP and isinstance(names, list) and len(names) == len(value):
                return dict(zip(names, value))
        return value


def decompress_record(record, what):
    if len(record) < 5:
        raise ValueError("%s: record of %d bytes is too short" % (what, len(record)))
    size = struct.unpack(">I", record[:4])[0]
    body = record[4:]
    if body[:1] == b"Z":
        data = bz2.decompress(body[1:])
    elif body[:1] == b"X":
        data = lzma.decompress(body[1:])
    elif body[:1] == b"0":
        data = body[1:]
    else:
        data = zlib.decompress(body)
    if len(data) != size:
        raise ValueError("%s: expected %d bytes after decompression, got %d" % (what, size, len(data)))
    return data


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: rdata_text.py DB_BASE OUT_DIR")
    base, out_dir = argv[1], argv[2]
    with gzip.open(base + ".rdx", "rb") as f:
        index = Unserializer(f.read(), base + ".rdx").read()
    if not isinstance(index, dict) or not isinstance(index.get("variables"), dict):
        sys.exit("rdata_text.py: %s.rdx has no 'variables' table" % base)
    with open(base + ".rdb", "rb") as f:
        rdb = f.read()
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(index["variables"]):
        offset, size = (int(v) for v in index["variables"][name])
        what = "%s.rdb[%s]" % (base, name)
        value = Unserializer(decompress_record(rdb[offset:offset + size], what), what).read()
        if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
            with open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8",
                      errors="surrogateescape", newline="\n") as f:
                for element in value:
                    f.write((element or "") + "\n")
            print("%s: %d lines" % (name, len(value)))
        else:
            print("%s: skipped (not a character vector)" % name)


if __name__ == "__main__":
    main(sys.argv)
