#!/usr/bin/env python3
"""Prints "<instructions> <calls>" for a callgrind dump: the dump's total instructions and the
number of calls of the functions whose (mangled) name contains every given word.

    python3 callgrind_calls.py DUMP WORD [WORD...]      e.g. ... EchoDelegate onText
"""
import re
import sys


def main(path, words):
    names = {}
    callee = None
    calls = 0
    total = 0
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):  # what callgrind_annotate calls PROGRAM TOTALS
                total = int(line.split()[1])
            elif line.startswith("fn=") or line.startswith("cfn="):
                m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    callee = names.get(m.group(1), "")
            elif line.startswith("calls=") and callee and all(w in callee for w in words):
                calls += int(line.split("=")[1].split()[0])
    print(total, calls)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
