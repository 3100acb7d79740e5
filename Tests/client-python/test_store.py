"""The store operations through the original's Python client, against the real binary."""

import asyncio

import pytest
from noex_client import NoexClientError


async def test_welcome_and_crud(server):
    async with server.client() as c:
        users = c.store.bucket("users")
        alice = await users.insert({"name": "Alice", "email": "a@example.com", "age": 30})
        assert alice["name"] == "Alice" and alice["role"] == "user" and alice["_version"] == 1
        assert await users.get(alice["id"]) == alice
        updated = await users.update(alice["id"], {"age": 31})
        assert updated["age"] == 31 and updated["_version"] == 2
        await users.delete(alice["id"])
        assert await users.get(alice["id"]) is None


async def test_queries_and_aggregates(server):
    async with server.client() as c:
        products = c.store.bucket("products")
        for title, price in [("a", 10), ("b", 20), ("c", 30)]:
            await products.insert({"title": title, "price": price})
        assert await products.count() == 3
        assert [p["title"] for p in await products.where({"price": {"$gte": 20}})] == ["b", "c"]
        assert (await products.find_one({"title": "b"}))["price"] == 20
        assert await products.sum("price") == 60
        assert await products.avg("price") == 20
        assert await products.min("price") == 10
        assert await products.max("price") == 30
        assert [p["title"] for p in await products.first(2)] == ["a", "b"]
        assert [p["title"] for p in await products.last(1)] == ["c"]
        page = await products.paginate(limit=2)
        assert len(page["records"]) == 2 and page["hasMore"] is True
        await products.clear()
        assert await products.all() == []


async def test_errors_arrive_as_client_errors(server):
    async with server.client() as c:
        with pytest.raises(NoexClientError) as e:
            await c.store.bucket("users").insert({"email": "no-name@example.com"})
        assert e.value.code == "VALIDATION_ERROR"
        with pytest.raises(NoexClientError) as e:
            await c.store.bucket("nope").all()
        assert e.value.code == "BUCKET_NOT_DEFINED"


async def test_subscription_pushes_reach_the_callback(server):
    async with server.client() as watcher, server.client() as writer:
        seen = []
        got = asyncio.Event()

        def on_data(data):
            seen.append(data)
            got.set()

        unsubscribe = await watcher.store.subscribe("user-count", on_data)
        assert seen == [0]
        got.clear()
        await writer.store.bucket("users").insert({"name": "Bob"})
        await asyncio.wait_for(got.wait(), 5)
        assert seen[-1] == 1
        unsubscribe()


async def test_transaction_and_admin_operations(server):
    async with server.client() as c:
        await c.store.define_bucket("notes", {"key": "id", "schema": {
            "id": {"type": "string", "generated": "uuid"}, "text": {"type": "string", "required": True}}})
        result = await c.store.transaction([
            {"op": "insert", "bucket": "notes", "data": {"text": "one"}},
            {"op": "insert", "bucket": "notes", "data": {"text": "two"}},
        ])
        assert [r["index"] for r in result["results"]] == [0, 1]
        assert await c.store.bucket("notes").count() == 2
        assert "notes" in (await c.store.buckets())["names"]
        schema = await c.store.get_bucket_schema("notes")
        assert schema["name"] == "notes"
        await c.store.drop_bucket("notes")
        assert "notes" not in (await c.store.buckets())["names"]
