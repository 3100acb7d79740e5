#!/usr/bin/env python3
"""Sums the figures of several loadgen processes that loaded one server at the same time.

    combine_generators.py SECONDS OUT1 OUT2 ...

Each OUTi is one loadgen's output (`name: value` lines, the same names in every file). Prints
one combined line per figure, plus:
  <prefix>generators: N
  <prefix>generator_core_share_max: X   (the busiest generator's CPU time / the window)

How figures combine:
  *_per_s                       summed (rates add)
  *p50_us, *p99_us, *p999_us    the maximum over generators (each generator's own percentiles
                                are in its file; the worst one is reported)
  *.messages, *.requests, *.errors, *.inserts, *.pushes   summed
  *server_cpu_us_per_<unit>     the server's CPU in the window / all generators' messages; every
                                generator measured the same server over (nearly) the same window,
                                so the server's CPU is the mean of their measurements
  *client_cpu_us_per_<unit>     all generators' CPU / all their messages
"""
import re
import sys


def parse(path):
    figures = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.\-]+): (\S+)$", line.strip())
            if m:
                figures[m.group(1)] = m.group(2)
    return figures


def count_of(figures):
    """The message count of one generator's output, and the prefix of its figure names."""
    for key, value in figures.items():
        m = re.match(r"^(.*)\.(messages|requests)$", key)
        if m:
            return float(value), m.group(1) + "."
    return 0.0, ""


def main():
    seconds = float(sys.argv[1])
    runs = [parse(p) for p in sys.argv[2:]]
    runs = [r for r in runs if r]
    if not runs:
        return 1
    counts = [count_of(r)[0] for r in runs]
    prefix = count_of(runs[0])[1]
    total = sum(counts)
    for key in runs[0]:
        values = [r.get(key) for r in runs]
        if any(v is None for v in values):
            continue
        nums = [float(v) for v in values]
        if re.search(r"_per_s$", key):
            out = str(int(round(sum(nums))))
        elif re.search(r"p\d+_us$", key):
            out = f"{max(nums):.1f}"
        elif re.search(r"\.(messages|requests|errors|inserts|pushes)$", key):
            out = str(int(sum(nums)))
        elif "server_cpu_us_per_" in key:
            spent = sum(n * c for n, c in zip(nums, counts)) / len(runs)
            out = f"{spent / total:.3f}" if total else "0"
        elif "client_cpu_us_per_" in key:
            spent = sum(n * c for n, c in zip(nums, counts))
            out = f"{spent / total:.3f}" if total else "0"
        else:
            out = values[0]
        print(f"{key}: {out}")
    print(f"{prefix}generators: {len(runs)}")
    shares = []
    for r, c in zip(runs, counts):
        for key, value in r.items():
            if "client_cpu_us_per_" in key:
                shares.append(float(value) * c / (seconds * 1e6))
    if shares:
        print(f"{prefix}generator_core_share_max: {max(shares):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
