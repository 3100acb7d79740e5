#!/usr/bin/env python3
"""Bounded client of bench/identity.sh (standard library only): logins/s of built-in identity and
the p99 latency of store.get on another connection, without and during the logins.

    identity_client.py --port P --secret S [--seconds 5] [--logins 8]

Prints one `name: value` line per figure."""
import argparse, threading, time

from wsclient import WSClient as WS


def p(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def probe(port, secret, seconds, out):
    c = WS(port)
    c.ask({"type": "identity.loginWithSecret", "secret": secret})
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        r = c.ask({"type": "store.get", "bucket": "bench", "key": "k"})
        out.append((time.perf_counter() - t) * 1000)
        assert r["type"] == "result", r


def login_loop(port, stop, counts):
    c = WS(port)
    n = 0
    while not stop.is_set():
        r = c.ask({"type": "identity.login", "username": "bench", "password": "bench-password"})
        assert r["type"] == "result", r
        n += 1
    counts.append(n)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--secret", required=True)
    a.add_argument("--seconds", type=float, default=5)
    a.add_argument("--logins", type=int, default=8)
    o = a.parse_args()
    o.seconds = min(o.seconds, 60)  # bounded
    o.logins = max(1, min(o.logins, 64))
    admin = WS(o.port)
    admin.ask({"type": "identity.loginWithSecret", "secret": o.secret})
    u = admin.ask({"type": "identity.createUser", "username": "bench", "password": "bench-password"})["data"]
    admin.ask({"type": "identity.assignRole", "userId": u["id"], "roleName": "writer"})
    admin.ask({"type": "store.insert", "bucket": "bench", "data": {"id": "k", "n": 1}})

    idle = []
    probe(o.port, o.secret, o.seconds, idle)

    busy, counts, stop = [], [], threading.Event()
    workers = [threading.Thread(target=login_loop, args=(o.port, stop, counts)) for _ in range(o.logins)]
    for w in workers:
        w.start()
    time.sleep(0.2)  # every login connection is busy
    started = time.monotonic()
    probe(o.port, o.secret, o.seconds, busy)
    stop.set()
    for w in workers:
        w.join(timeout=30)
    elapsed = time.monotonic() - started + 0.2
    print(f"identity.logins_per_s: {sum(counts) / elapsed:.1f}")
    print(f"identity.get_p50_ms.idle: {p(idle, 0.50):.3f}")
    print(f"identity.get_p99_ms.idle: {p(idle, 0.99):.3f}")
    print(f"identity.get_p50_ms.during_logins: {p(busy, 0.50):.3f}")
    print(f"identity.get_p99_ms.during_logins: {p(busy, 0.99):.3f}")
    print(f"identity.get_requests.idle: {len(idle)}")
    print(f"identity.get_requests.during_logins: {len(busy)}")


if __name__ == "__main__":
    main()
