"""The audit log (T39 of the original's suite) through the original's Python client."""

import pytest
from noex_client import NoexClientError

from conftest import SCHEMA

TOKENS = {
    "admin-token": {"userId": "admin-1", "roles": ["admin"]},
    "writer-token": {"userId": "writer-1", "roles": ["writer"]},
}


async def test_audit_trail(start_server):
    server = start_server({**SCHEMA, "auth": {"tokens": TOKENS}, "audit": {}})
    async with server.client(token="admin-token") as admin, server.client(token="writer-token") as writer:
        await admin.request("server.stats", {})
        await writer.store.bucket("users").insert({"name": "x"})  # write tier: not audited by default
        with pytest.raises(NoexClientError) as e:
            await writer.request("server.stats", {})
        assert e.value.code == "FORBIDDEN"
        entries = await admin.audit.query()
        assert [(x["operation"], x["result"], x["userId"]) for x in entries] == [
            ("server.stats", "error", "writer-1"), ("server.stats", "success", "admin-1")]
        assert entries[1]["resource"] == "*" and entries[0]["error"]
        assert [x["userId"] for x in await admin.audit.query({"userId": "admin-1", "limit": 1})] == ["admin-1"]
        with pytest.raises(NoexClientError) as e:
            await admin.audit.query({"limit": -1})
        assert e.value.code == "VALIDATION_ERROR"
        with pytest.raises(NoexClientError) as e:
            await writer.audit.query()
        assert e.value.code == "FORBIDDEN"
