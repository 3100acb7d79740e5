#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/corpus/<target>/) from the protocol's operations and
the test suite's fixtures. Run it again after changing the protocol; libFuzzer grows its own
working corpus from these seeds."""
import json, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- HTTP upgrade: first byte 0 = 8 KiB limit, no origin check; 2 = origin check. ---
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
def head(lines, method="GET", target="/", version="HTTP/1.1"):
    return f"{method} {target} {version}\r\n" + "".join(l + "\r\n" for l in lines) + "\r\n"
GOOD = ["Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]
http = {
    "valid": head(GOOD),
    "valid-then-frame": head(GOOD) + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    "subprotocol": head(GOOD + ["Sec-WebSocket-Protocol: noex, json"]),
    "bad-subprotocol": head(GOOD + ["Sec-WebSocket-Protocol: a b"]),
    "keep-alive": head(["Host: x", "Upgrade: WebSocket", "Connection: keep-alive, Upgrade",
                        f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]),
    "post": head(GOOD, method="POST"),
    "http10": head(GOOD, version="HTTP/1.0"),
    "not-found": head(GOOD, target="/other?x=1"),
    "no-upgrade": head(["Host: x", f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]),
    "bad-key": head(["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: short", "Sec-WebSocket-Version: 13"]),
    "two-keys": head(GOOD + [f"Sec-WebSocket-Key: {KEY}"]),
    "version-8": head(["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 8"]),
    "folded": head(["Upgrade: websocket", " folded", "Connection: Upgrade"]),
    "no-colon": head(["Upgrade websocket"]),
    "garbage": "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
}
for name, text in http.items():
    write("http", name, b"\x00" + text.encode("latin-1"))
write("http", "origin-ok", b"\x02" + head(GOOD + ["Origin: http://a.example"]).encode())
write("http", "origin-bad", b"\x02" + head(GOOD + ["Origin: http://evil.example"]).encode())
write("http", "small-limit", b"\x41" + head(GOOD).encode())

# --- Frames: first byte 0 = 1 MiB limit, binary allowed; 4 = binary rejected; 1 = 125 B. ---
MASK = b"\x37\xfa\x21\x3d"
def frame(opcode, payload, fin=True, rsv=0, masked=True, form=None):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    form = form or (0 if n < 126 else 126 if n <= 0xFFFF else 127)
    m = 0x80 if masked else 0
    if form == 126: h = bytes([b0, m | 126]) + struct.pack(">H", n)
    elif form == 127: h = bytes([b0, m | 127]) + struct.pack(">Q", n)
    else: h = bytes([b0, m | n])
    if not masked: return h + payload
    return h + MASK + bytes(c ^ MASK[i % 4] for i, c in enumerate(payload))
req = json.dumps({"id": 1, "type": "store.all", "bucket": "users"}).encode()
frames = {
    "text": frame(1, req),
    "text-16bit": frame(1, b"x" * 300),
    "text-64bit": frame(1, b"y" * 130, form=127),
    "fragments": frame(1, "h\xc3".encode("latin-1"), fin=False) + frame(9, b"mid") + frame(0, "\xa9llo".encode("latin-1")),
    "binary": frame(2, b"\x00\x01\x02"),
    "ping-pong": frame(9, b"p") + frame(10, b"") + frame(1, "€😀".encode()),
    "close": frame(8, struct.pack(">H", 1000) + b"bye"),
    "close-empty": frame(8, b""),
    "close-bad-code": frame(8, struct.pack(">H", 1005)),
    "bad-utf8": frame(1, b"\xed\xa0\x80"),
    "split-utf8": frame(1, b"\xf0\x9f", fin=False) + frame(0, b"\x98\x80"),
    "unmasked": frame(1, b"hi", masked=False),
    "rsv": frame(1, b"hi", rsv=4),
    "reserved-opcode": frame(3, b""),
    "long-ping": frame(9, b"z" * 126),
    "continuation-first": frame(0, b"x"),
    "empty-text": frame(1, b"") + frame(1, b"{}"),
}
for name, data in frames.items():
    write("frame", name, b"\x00" + data)
write("frame", "binary-rejected", b"\x04" + frame(2, b"b"))
write("frame", "too-big", b"\x02" + frame(1, b"a" * 17))
# permessage-deflate (first byte bit 3; bit 4 = no client context takeover): RFC 7692's "Hello",
# a message referring back to it, a fragmented one, and a stored block.
HELLO = bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
write("frame", "deflate-takeover", b"\x08" + frame(1, HELLO, rsv=4) + frame(1, bytes([0xF2, 0x00, 0x11, 0x00, 0x00]), rsv=4)
      + frame(9, b"\x01") + frame(1, HELLO[:2], fin=False, rsv=4) + frame(0, HELLO[2:]))
write("frame", "deflate-no-takeover", b"\x19" + frame(2, bytes([0x00, 0x05, 0x00, 0xFA, 0xFF]) + b"Hello" + b"\x00", rsv=4)
      + frame(1, b"plain"))

# --- JSON: requests of every operation (below) plus the parser's corner cases. ---
corner = {
    "numbers": "[0,-0,1.5,-1e-7,1E+21,123456789012345678901234567890,9007199254740993,5e-324,1.7976931348623157e308]",
    "strings": '["\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/", "é😀", "\\ud800", ""]',
    "nested": '{"a":{"b":[null,true,false,{},[]]},"a":2,"":{"x":[[[[1]]]]}}',
    "whitespace": " \r\n\t[ 1 , { \"k\" : \"v\" } ] \n",
    "bad-trailing": '{"a":1} x',
    "bad-escape": '"\\x"',
    "bad-number": "[01, 1., -, 1e]",
}
for name, text in corner.items():
    write("json", name, text)

# --- Requests: line-based scenarios for fuzz-request (see FuzzRequest.swift). ---
def lines(*items):
    out = []
    for item in items:
        out.append(item if isinstance(item, str) else "0" + json.dumps(item, separators=(",", ":")))
    return "\n".join(out) + "\n"
def on(conn, obj):
    return str(conn) + json.dumps(obj, separators=(",", ":"))

login = lambda i, token: {"id": i, "type": "auth.login", "token": token}
store_ops = [
    {"id": 2, "type": "store.insert", "bucket": "users", "data": {"name": "Alice", "role": "admin", "age": 30}},
    {"id": 3, "type": "store.insert", "bucket": "users", "data": {"id": "u-1", "name": "Bob", "age": 25}},
    {"id": 4, "type": "store.get", "bucket": "users", "key": "u-1"},
    {"id": 5, "type": "store.update", "bucket": "users", "key": "u-1", "data": {"age": 26}},
    {"id": 6, "type": "store.where", "bucket": "users", "filter": {"age": {"$gte": 18}, "role": "user"}},
    {"id": 7, "type": "store.findOne", "bucket": "users", "filter": {"name": {"$in": ["Bob", "Eve"]}}},
    {"id": 8, "type": "store.count", "bucket": "users", "filter": {"age": {"$lt": 100}}},
    {"id": 9, "type": "store.first", "bucket": "users", "n": 1},
    {"id": 10, "type": "store.last", "bucket": "users", "n": 2},
    {"id": 11, "type": "store.paginate", "bucket": "users", "limit": 1},
    {"id": 12, "type": "store.paginate", "bucket": "users", "limit": 5, "after": "u-1"},
    {"id": 13, "type": "store.sum", "bucket": "users", "field": "age"},
    {"id": 14, "type": "store.avg", "bucket": "users", "field": "age", "filter": {"role": "user"}},
    {"id": 15, "type": "store.min", "bucket": "users", "field": "age"},
    {"id": 16, "type": "store.max", "bucket": "users", "field": "credits"},
    {"id": 17, "type": "store.all", "bucket": "users"},
    {"id": 18, "type": "store.buckets"},
    {"id": 19, "type": "store.stats"},
    {"id": 20, "type": "store.transaction", "operations": [
        {"op": "insert", "bucket": "orders", "data": {"userId": "u-1", "amount": 250}},
        {"op": "update", "bucket": "users", "key": "u-1", "data": {"credits": 5}},
        {"op": "get", "bucket": "users", "key": "u-1"},
        {"op": "where", "bucket": "users", "filter": {"age": 26}},
        {"op": "findOne", "bucket": "users", "filter": {"name": "Bob"}},
        {"op": "delete", "bucket": "users", "key": "u-1"}]},
    {"id": 21, "type": "store.delete", "bucket": "users", "key": "u-1"},
    {"id": 22, "type": "store.clear", "bucket": "logs"},
]
admin_ops = [
    {"id": 30, "type": "store.defineBucket", "name": "tmp", "config": {"key": "id", "schema": {
        "id": {"type": "string", "generated": "cuid"}, "n": {"type": "number", "min": 0, "max": 10},
        "tag": {"type": "string", "enum": ["a", "b"], "pattern": "^[a-z]+$"}, "mail": {"type": "string", "format": "email"}},
        "indexes": ["tag"], "maxSize": 3}},
    {"id": 31, "type": "store.insert", "bucket": "tmp", "data": {"n": 3, "tag": "a", "mail": "a@b.cz"}},
    {"id": 32, "type": "store.updateBucket", "name": "tmp", "updates": {"addFields": {"x": {"type": "boolean"}}}},
    {"id": 33, "type": "store.getBucketSchema", "name": "tmp"},
    {"id": 34, "type": "store.defineQuery", "name": "tmp-a", "config": {"bucket": "tmp", "filter": {"tag": "{{ params.tag }}"}, "sort": {"n": "desc"}, "limit": 2}},
    {"id": 35, "type": "store.listQueries"},
    {"id": 36, "type": "store.subscribe", "query": "tmp-a", "params": {"tag": "a"}},
    {"id": 37, "type": "store.insert", "bucket": "tmp", "data": {"n": 4, "tag": "a"}},
    {"id": 38, "type": "store.undefineQuery", "name": "tmp-a"},
    {"id": 39, "type": "store.dropBucket", "name": "tmp"},
]
subs = [
    {"id": 40, "type": "store.subscribe", "query": "all-users"},
    {"id": 41, "type": "store.subscribe", "query": "users-by-role", "params": {"role": "admin"}},
    {"id": 42, "type": "store.subscribe", "query": "user-count"},
    {"id": 43, "type": "store.subscribe", "query": "all-users", "delta": True},
    {"id": 44, "type": "store.subscribe", "query": "user-count", "delta": True},
]
rules_ops = [
    {"id": 50, "type": "rules.subscribe", "pattern": "notification.*"},
    {"id": 51, "type": "rules.emit", "topic": "order.created", "data": {"amount": 250, "orderId": "o-2"}},
    {"id": 52, "type": "rules.emit", "topic": "order.created", "data": {"amount": 5}, "correlationId": "c-1", "causationId": "x"},
    {"id": 53, "type": "rules.setFact", "key": "order:o-3:status", "value": "paid"},
    {"id": 54, "type": "rules.getFact", "key": "order:o-2:large"},
    {"id": 55, "type": "rules.queryFacts", "pattern": "order:*"},
    {"id": 56, "type": "rules.getAllFacts"},
    {"id": 57, "type": "rules.deleteFact", "key": "order:o-3:status"},
    {"id": 58, "type": "rules.registerRule", "rule": {"id": "r1", "name": "Rule r1", "priority": 100, "enabled": True,
        "tags": ["test"], "trigger": {"type": "event", "topic": "t.x"}, "conditions": [
            {"source": {"type": "event", "field": "v"}, "operator": "matches", "value": "^a+$"}],
        "actions": [{"type": "emit_event", "topic": "output.r1", "data": {"source": "r1"}},
                    {"type": "set_timer", "timer": {"name": "t1", "duration": "1s", "onExpire": {"topic": "t.done", "data": {}}}}]}},
    {"id": 59, "type": "rules.updateRule", "ruleId": "r1", "updates": {"priority": 5}},
    {"id": 60, "type": "rules.disableRule", "ruleId": "r1"},
    {"id": 61, "type": "rules.enableRule", "ruleId": "r1"},
    {"id": 62, "type": "rules.getRule", "ruleId": "r1"},
    {"id": 63, "type": "rules.getRules"},
    {"id": 64, "type": "rules.emit", "topic": "t.x", "data": {"v": "aaa"}},
    {"id": 65, "type": "rules.validateRule", "rule": {"id": "bad"}},
    {"id": 66, "type": "rules.unregisterRule", "ruleId": "r1"},
    {"id": 67, "type": "rules.stats"},
    {"id": 68, "type": "rules.unsubscribe", "subscriptionId": "sub-1"},
]
procedure = {"name": "rename", "description": "renames a user", "input": {"key": {"type": "string"}, "name": {"type": "string", "required": False, "default": "N"}},
             "transaction": True, "timeoutMs": 1000, "steps": [
    {"action": "store.get", "bucket": "users", "key": "{{ input.key }}", "as": "user"},
    {"action": "if", "condition": {"ref": "user", "operator": "exists"}, "then": [
        {"action": "store.update", "bucket": "users", "key": "{{ input.key }}", "data": {"name": "{{ input.name }}"}, "as": "updated"}],
     "else": [{"action": "store.insert", "bucket": "users", "data": {"id": "{{ input.key }}", "name": "{{ input.name }}"}, "as": "updated"}]},
    {"action": "store.where", "bucket": "users", "filter": {"age": {"$gte": 18}}, "as": "adults"},
    {"action": "aggregate", "source": "adults", "field": "age", "op": "sum", "as": "total"},
    {"action": "transform", "source": "adults", "operation": "pluck", "args": "name", "as": "names"},
    {"action": "transform", "source": "adults", "operation": "map", "args": {"seen": "{{ input.name }}"}, "as": "marked"},
    {"action": "rules.getFact", "key": "renamed:{{ input.key }}", "as": "before"},
    {"action": "store.count", "bucket": "users", "as": "n"},
    {"action": "rules.emit", "topic": "order.created", "data": {"amount": 500, "orderId": "{{ input.key }}"}},
    {"action": "rules.setFact", "key": "renamed:{{ input.key }}", "value": "{{ input.name }}"},
    {"action": "return", "value": {"user": "{{ updated }}", "total": "{{ total }}", "names": "{{ names }}", "note": "{{ n }} users, was {{ before }}"}}]}
procedure_ops = [
    {"id": 70, "type": "procedures.register", "procedure": procedure},
    {"id": 71, "type": "procedures.list"},
    {"id": 72, "type": "procedures.get", "name": "rename"},
    {"id": 73, "type": "procedures.call", "name": "rename", "input": {"key": "u-1", "name": "Zed"}},
    {"id": 74, "type": "procedures.call", "name": "rename", "input": {"key": 5}},
    {"id": 75, "type": "procedures.update", "name": "rename", "updates": {"timeoutMs": 50, "transaction": False}},
    {"id": 76, "type": "procedures.register", "procedure": {"name": "bad", "steps": []}},
    {"id": 77, "type": "procedures.unregister", "name": "rename"},
    {"id": 78, "type": "audit.query", "filter": {"operation": "store.insert", "result": "success", "limit": 5}},
    {"id": 79, "type": "audit.query"},
]
envelope = ['{"id":1', "[1,2]", '{"id":1}', '{"type":""}', '{"type":"store.all","id":"7"}',
            '{"type":"store.all","id":1.0,"bucket":"users"}', '{"type":"store.all","id":-2.5,"bucket":"nope"}',
            '{"type":"pong","timestamp":1}', '{"type":"pong"}', '{"id":3,"type":"nope.op"}',
            '{"id":4,"type":"identity.whoami"}', '{"id":5,"type":"audit.query"}', '{"id":6,"type":"procedures.call"}',
            '{"id":7,"type":"server.stats"}', '{"id":8,"type":"server.connections"}', '{"id":9,"type":"server.nope"}',
            '{"id":10,"type":"store.insert","bucket":"users","data":{"age":"x"}}',
            '{"id":11,"type":"store.where","bucket":"users","filter":{"age":{"$foo":1}}}',
            '{"id":12,"type":"auth.whoami"}', '{"id":13,"type":"auth.logout"}']

write("request", "open-store", lines("open", *store_ops, "d0"))
write("request", "open-subscribe", lines("open", *subs, on(1, store_ops[0]), on(1, store_ops[1]), on(2, store_ops[19]), "d0", "x0", on(1, store_ops[4])))
write("request", "open-admin", lines("open", *admin_ops))
write("request", "open-rules", lines("open", on(1, rules_ops[0]), *rules_ops[1:], "x1", on(1, rules_ops[0])))
write("request", "open-envelope", lines("open", *envelope, "h0", '0{"type":"pong","timestamp":1795727215924}', "q", '0{"id":1,"type":"store.buckets"}'))
write("request", "auth-admin", lines(login(1, "admin-token"), *store_ops, *subs, *rules_ops[:8], "t2000", "s",
                                     on(1, {"id": 1, "type": "auth.whoami"}), "radmin-1", on(0, login(2, "admin-token"))))
write("request", "auth-roles", lines(
    on(0, {"id": 1, "type": "store.all", "bucket": "users"}),
    on(0, login(2, "user-token")), on(0, {"id": 3, "type": "store.all", "bucket": "logs"}),
    on(0, {"id": 4, "type": "store.transaction", "operations": [{"op": "get", "bucket": "orders", "key": "x"}]}),
    on(0, subs[0]), on(0, {"id": 5, "type": "store.insert", "bucket": "users", "data": {"name": "U"}}),
    on(1, login(1, "reader-token")), on(1, {"id": 2, "type": "store.insert", "bucket": "users", "data": {"name": "R"}}),
    on(1, subs[2]), on(2, login(1, "orders-token")), on(2, {"id": 2, "type": "rules.subscribe", "pattern": "*"}),
    on(2, rules_ops[0]), on(2, rules_ops[1]), on(2, {"id": 3, "type": "rules.emit", "topic": "user.x", "data": {}}),
    on(0, {"id": 6, "type": "auth.logout"}), on(0, login(7, "old-token")), "t60000", on(0, {"id": 8, "type": "store.buckets"}),
    on(0, login(9, "nope")), "Ruser", on(1, {"id": 3, "type": "auth.whoami"})))
write("request", "rate-limit", lines(login(1, "admin-token"), *[{"id": i, "type": "store.count", "bucket": "users"} for i in range(2, 45)], "t1001", "s", {"id": 50, "type": "store.count", "bucket": "users"}))
write("request", "backpressure", lines("open", {"id": 1, "type": "store.subscribe", "query": "all-users"},
                                        on(1, {"id": 1, "type": "rules.subscribe", "pattern": "bucket.*"}),
                                        *[on(2, {"id": i, "type": "store.insert", "bucket": "users", "data": {"name": "n" * 300}}) for i in range(2, 10)],
                                        {"id": 30, "type": "store.all", "bucket": "users"}, "d0", "d1",
                                        {"id": 31, "type": "store.all", "bucket": "users"}))
write("request", "open-procedures", lines("open", store_ops[1], *procedure_ops, on(1, subs[3]), on(1, procedure_ops[3]), "d1"))
write("request", "auth-procedures", lines(login(1, "admin-token"), store_ops[1], *procedure_ops,
                                          on(1, login(1, "user-token")), on(1, procedure_ops[3]), on(1, procedure_ops[8])))
write("request", "delta", lines("open", subs[3], subs[4], *store_ops[:5], store_ops[20], "d0", store_ops[19]))
for i, obj in enumerate(store_ops + admin_ops + subs + rules_ops + procedure_ops):
    write("json", f"op-{i:02d}-{obj['type']}", json.dumps(obj))
