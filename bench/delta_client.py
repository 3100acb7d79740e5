#!/usr/bin/env python3
"""Delta vs full-result subscription pushes over one large query result (bench/delta.sh).

Preloads RECORDS rows, then three phases against the same server process, each a bounded number
of inserts sent one at a time (the next after the answer and the push arrived):
  none  — no subscriber: the insert alone;
  full  — one subscriber of `rows-all` without `delta`: every push is the whole result;
  delta — one subscriber with `"delta": true`: every push is the change.
Server CPU is read from /proc/PID/schedstat (the server's loop thread, in ns) around each phase.
Prints one `name: value` line per figure.
"""
import argparse
import time

from wsclient import WSClient as Client


def server_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--inserts", type=int, default=300, help="inserts in the none and delta phases")
    ap.add_argument("--full-inserts", type=int, default=40, help="inserts in the full phase")
    a = ap.parse_args()

    writer = Client(a.port)
    batch = 1000
    for start in range(0, a.records, batch):
        count = min(batch, a.records - start)
        for i in range(start, start + count):
            writer.send({"id": i + 1, "type": "store.insert", "bucket": "rows", "data": {"id": f"r{i:07d}", "n": i}})
        for _ in range(count):
            if b'"type":"result"' not in writer.answer():
                raise SystemExit("preload insert failed")
    next_row = [a.records]

    def insert():
        i = next_row[0]
        next_row[0] += 1
        writer.send({"id": i + 1, "type": "store.insert", "bucket": "rows", "data": {"id": f"r{i:07d}", "n": i}})
        if b'"type":"result"' not in writer.answer():
            raise SystemExit("insert failed")

    figures = {}

    def phase(name, inserts, subscribe):
        sub = None
        if subscribe is not None:
            sub = Client(a.port)
            sub.send({"id": 1, "type": "store.subscribe", "query": "rows-all", **subscribe})
            answer = sub.answer()
            if b'"subscriptionId"' not in answer:
                raise SystemExit(f"subscribe failed: {answer[:200]!r}")
        pushed = 0
        cpu0, client0, t0 = server_ns(a.server_pid), time.process_time(), time.monotonic()
        for _ in range(inserts):
            insert()
            if sub is not None:
                payload, size = sub.push()
                if subscribe and b'{"delta":' not in payload:
                    raise SystemExit(f"not a delta push: {payload[:120]!r}")
                pushed += size
        cpu1, client1, t1 = server_ns(a.server_pid), time.process_time(), time.monotonic()
        if sub is not None:
            sub.close()
        figures[name] = ((cpu1 - cpu0) / inserts / 1000, (client1 - client0) / inserts * 1e6,
                         pushed / inserts if sub else 0, (t1 - t0) / inserts * 1e6)

    phase("none", a.inserts, None)
    phase("full", a.full_inserts, {})
    phase("delta", a.inserts, {"delta": True})

    print(f"delta.records: {a.records}")
    for name in ("none", "full", "delta"):
        cpu, client, size, wall = figures[name]
        print(f"delta.{name}.server_cpu_us_per_insert: {cpu:.1f}")
        print(f"delta.{name}.client_cpu_us_per_insert: {client:.1f}")
        print(f"delta.{name}.wall_us_per_insert: {wall:.1f}")
        if name != "none":
            print(f"delta.{name}.bytes_per_push: {size:.0f}")
            print(f"delta.{name}.server_cpu_us_per_push: {cpu - figures['none'][0]:.1f}")
    full, delta = figures["full"], figures["delta"]
    print(f"delta.bytes_ratio_full_over_delta: {full[2] / delta[2]:.1f}")
    print(f"delta.push_cpu_ratio_full_over_delta: {(full[0] - figures['none'][0]) / max(0.1, delta[0] - figures['none'][0]):.1f}")


if __name__ == "__main__":
    main()
