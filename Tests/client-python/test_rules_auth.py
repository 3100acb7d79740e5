"""Rules and static-token auth through the original's Python client, against the real binary."""

import asyncio

import pytest
from noex_client import NoexClientError

from conftest import SCHEMA

TOKENS = {
    **SCHEMA,
    "auth": {
        "tokens": {
            "admin-token": {"userId": "admin-1", "roles": ["admin"]},
            "reader-token": {"userId": "reader-1", "roles": ["reader"]},
        }
    }
}


async def test_events_and_facts(server):
    async with server.client() as listener, server.client() as emitter:
        events = []
        got = asyncio.Event()

        def on_event(event, topic):
            events.append((topic, event))
            got.set()

        await listener.rules.subscribe("order.*", on_event)
        await emitter.rules.emit("order.created", {"amount": 5})
        await asyncio.wait_for(got.wait(), 5)
        assert events[0][0] == "order.created" and events[0][1]["data"] == {"amount": 5}
        await emitter.rules.set_fact("user:1:name", "Alice")
        assert await listener.rules.get_fact("user:1:name") == "Alice"
        assert await emitter.rules.delete_fact("user:1:name") is True


async def test_token_login_and_tiers(start_server):
    server = start_server(TOKENS)
    async with server.client(token="reader-token") as reader:
        assert (await reader.auth.whoami())["userId"] == "reader-1"
        assert await reader.store.bucket("users").all() == []
        with pytest.raises(NoexClientError) as e:
            await reader.store.bucket("users").insert({"name": "x"})
        assert e.value.code == "FORBIDDEN"
    async with server.client(token="admin-token") as admin:
        assert (await admin.store.bucket("users").insert({"name": "x"}))["name"] == "x"


async def test_unauthenticated_requests_are_refused(start_server):
    server = start_server(TOKENS)
    async with server.client() as anonymous:
        with pytest.raises(NoexClientError) as e:
            await anonymous.store.bucket("users").all()
        assert e.value.code == "UNAUTHORIZED"
        with pytest.raises(NoexClientError) as e:
            await anonymous.auth.login("wrong")
        assert e.value.code == "UNAUTHORIZED"
