#!/usr/bin/env python3
"""Cross-node latency of a cluster (docs/cluster.md): writes `probe` records on one node at a
fixed rate and waits for it on a subscriber of another node (of the newest probe: a push for n
means node B applied every probe up to n). Prints, one line per
figure: write_to_push (request sent on node A -> push received on node B) and replication lag
(answer received on A -> push on B: how much later B shows what A confirmed), p50/p99 in ms.

    cluster_latency.py --writer PORT --reader PORT [--count N] [--rate R] [--label L]
"""
import argparse, json, os, sys, time

from wsclient import WSClient as Client, pct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writer", type=int, required=True)
    ap.add_argument("--reader", type=int, required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--label", default="cluster")
    a = ap.parse_args()
    w, r = Client(a.writer), Client(a.reader)
    r.send({"id": 1, "type": "store.subscribe", "query": "probe-latest"})
    while json.loads(r.recv()[0]).get("id") != 1:
        pass
    run = os.urandom(4).hex()
    sent, answered, pushed = {}, {}, {}
    deadline = time.monotonic() + a.count / a.rate + 20  # bounded
    n = 0
    next_at = time.monotonic()
    refused = 0

    def done():
        # Every probe answered, and the newest accepted one seen on the reader.
        return len(answered) + refused == a.count and (not answered or max(answered) in pushed)

    while not done() and time.monotonic() < deadline:
        now = time.monotonic()
        if n < a.count and now >= next_at:
            n += 1
            sent[n] = time.monotonic()
            w.send({"id": n + 1, "type": "store.insert", "bucket": "probe", "data": {"id": f"{run}-{n}", "n": n}})
            next_at += 1 / a.rate
        for m in w.pump(0):
            if m.get("type") == "result":
                answered[m["id"] - 1] = time.monotonic()
            elif m.get("type") == "error":
                refused += 1
        for m in r.pump(0.0005):
            if m.get("type") == "push":
                # The query shows the newest probe: node B showing n means it applied every
                # earlier one too (pushes of one query coalesce when entries arrive together).
                for rec in m.get("data") or []:
                    if rec.get("id", "").startswith(run):
                        t = time.monotonic()
                        for k in range(rec["n"], 0, -1):
                            if k in pushed:
                                break
                            pushed[k] = t
    # Only probes answered `result` count (flow control may refuse some: they were not applied).
    keys = [k for k in pushed if k in sent and k in answered]
    w2p = [(pushed[k] - sent[k]) * 1000 for k in keys]
    lag = [(pushed[k] - answered[k]) * 1000 for k in keys]
    p = a.label + "."
    print(f"{p}cross_node_writes: {len(keys)} of {a.count} at {a.rate:g}/s")
    print(f"{p}write_to_push_p50_ms: {pct(w2p, 50):.2f}")
    print(f"{p}write_to_push_p99_ms: {pct(w2p, 99):.2f}")
    print(f"{p}replication_lag_p50_ms: {pct(lag, 50):.2f}")
    print(f"{p}replication_lag_p99_ms: {pct(lag, 99):.2f}")
    print(f"{p}replication_lag_max_ms: {max(lag, default=0.0):.2f}")
    if refused:
        print(f"{p}probes_refused: {refused}")
    return 0 if len(keys) == a.count - refused else 1


if __name__ == "__main__":
    sys.exit(main())
