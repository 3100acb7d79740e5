#!/usr/bin/env python3
"""The rule engine across cluster nodes (docs/cluster.md#rule-engine-inputs): `rules.emit` on
node A at a fixed rate, a `rules.subscribe` subscriber on node B. Then a rule on A arms a timer
per event; B's subscriber receives each expiry, fired through the lease holder's log entry.
Prints, one line per figure: emit_to_push (request sent on A -> event push on B) and
answer_to_push (answer on A -> push on B), p50/p99 in ms; timer lateness (push on B minus the
timer's deadline, the arming event's timestamp plus the duration; one machine, one clock),
p50/p99 in ms.

    cluster_rules_latency.py --writer PORT --reader PORT [--count N] [--rate R] [--label L]
"""
import argparse, json, os, sys, time

from wsclient import WSClient as Client, pct


def ask(c, req):
    c.send(req)
    while True:
        for m in c.pump(1):
            if m.get("id") == req["id"]:
                return m


def run(w, r, a, topic, on_push):
    """Emits `count` events of `topic` on w at `rate`; calls on_push(n, event, t, wall) for each
    push of this run on r; a push counts as the n-th arrival when on_push returns True."""
    sent, answered, seen = {}, {}, set()
    deadline = time.monotonic() + a.count / a.rate + 20  # bounded
    n = 0
    next_at = time.monotonic()
    while len(seen) < a.count and time.monotonic() < deadline:
        now = time.monotonic()
        if n < a.count and now >= next_at:
            n += 1
            sent[n] = time.monotonic()
            w.send({"id": 1000 + n, "type": "rules.emit", "topic": topic, "data": {"n": n, "run": a.run}})
            next_at += 1 / a.rate
        for m in w.pump(0):
            if m.get("type") == "result" and m.get("id", 0) > 1000:
                answered[m["id"] - 1000] = time.monotonic()
        for m in r.pump(0.0005):
            if m.get("type") == "push":
                ev = m["data"]["event"]
                if ev["data"].get("run") == a.run and on_push(ev["data"]["n"], ev, time.monotonic(), time.time() * 1000):
                    seen.add(ev["data"]["n"])
    return sent, answered, seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writer", type=int, required=True)
    ap.add_argument("--reader", type=int, required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--timer-ms", type=int, default=200)
    ap.add_argument("--label", default="cluster.rules")
    a = ap.parse_args()
    a.run = os.urandom(4).hex()
    w, r = Client(a.writer), Client(a.reader)
    ask(r, {"id": 1, "type": "rules.subscribe", "pattern": "probe.*"})
    p = a.label + "."

    pushed = {}
    sent, answered, seen = run(w, r, a, "probe.emit", lambda k, ev, t, wall: pushed.setdefault(k, t) is not None)
    e2p = [(pushed[k] - sent[k]) * 1000 for k in pushed if k in sent]
    a2p = [(pushed[k] - answered[k]) * 1000 for k in pushed if k in answered]
    print(f"{p}cross_node_events: {len(seen)} of {a.count} at {a.rate:g}/s")
    print(f"{p}emit_to_push_p50_ms: {pct(e2p, 50):.2f}")
    print(f"{p}emit_to_push_p99_ms: {pct(e2p, 99):.2f}")
    print(f"{p}answer_to_push_p50_ms: {pct(a2p, 50):.2f}")
    print(f"{p}answer_to_push_p99_ms: {pct(a2p, 99):.2f}")

    rule = {"id": f"arm-{a.run}", "name": "arm", "trigger": {"type": "event", "topic": "arm"},
            "actions": [{"type": "set_timer", "timer": {
                "name": "t${event.n}", "duration": f"{a.timer_ms}ms",
                "onExpire": {"topic": "probe.fired", "data": {"n": {"ref": "event.n"}, "run": {"ref": "event.run"}}}}}]}
    ask(w, {"id": 2, "type": "rules.registerRule", "rule": rule})
    ask(r, {"id": 3, "type": "rules.subscribe", "pattern": "arm"})
    armed, late = {}, []

    def timer_push(k, ev, t, wall):
        if ev["topic"] == "arm":
            armed[k] = ev["timestamp"]  # the entry's time: the timer's deadline is this + duration
            return False
        if k in armed:
            late.append(wall - (armed[k] + a.timer_ms))
        return True

    sent, _, seen = run(w, r, a, "arm", timer_push)
    print(f"{p}timers_fired: {len(seen)} of {a.count} ({a.timer_ms} ms each)")
    print(f"{p}timer_lateness_p50_ms: {pct(late, 50):.2f}")
    print(f"{p}timer_lateness_p99_ms: {pct(late, 99):.2f}")
    return 0 if len(seen) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
