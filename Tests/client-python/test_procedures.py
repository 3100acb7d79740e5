"""Procedures (T38 of the original's suite) through the original's Python client."""

import pytest
from noex_client import NoexClientError

from conftest import uuid_bucket


CALC_TOTAL = {
    "name": "calc-total",
    "input": {"orderId": {"type": "string"}},
    "steps": [
        {"action": "store.where", "bucket": "items", "filter": {"orderId": "{{ input.orderId }}"}, "as": "items"},
        {"action": "aggregate", "source": "items", "field": "price", "op": "sum", "as": "total"},
        {"action": "store.update", "bucket": "orders", "key": "{{ input.orderId }}",
         "data": {"total": "{{ total }}", "status": "calculated"}},
    ],
}


async def test_procedures(start_server):
    server = start_server({"buckets": {
        "orders": uuid_bucket(status={"type": "string"}, total={"type": "number"}),
        "items": uuid_bucket(orderId={"type": "string", "required": True}, price={"type": "number", "required": True}),
    }})
    async with server.client() as c:
        assert await c.procedures.register(CALC_TOTAL) == {"name": "calc-total", "registered": True}
        order = await c.store.bucket("orders").insert({"status": "new"})
        for price in (100, 50):
            await c.store.bucket("items").insert({"orderId": order["id"], "price": price})
        result = await c.procedures.call("calc-total", {"orderId": order["id"]})
        assert result["success"] is True and result["results"]["total"] == 150
        assert len(result["results"]["items"]) == 2 and "result" not in result
        stored = await c.store.bucket("orders").get(order["id"])
        assert stored["total"] == 150 and stored["status"] == "calculated"

        await c.procedures.register({"name": "echo", "input": {"x": {"type": "number"}},
                                     "steps": [{"action": "return", "value": {"computed": "{{ input.x }}"}}]})
        assert (await c.procedures.call("echo", {"x": 42}))["result"] == {"computed": 42}
        for call, code in [(c.procedures.call("echo", {}), "VALIDATION_ERROR"),
                           (c.procedures.call("missing"), "NOT_FOUND"),
                           (c.procedures.register(CALC_TOTAL), "ALREADY_EXISTS"),
                           (c.procedures.register({"name": "empty", "steps": []}), "VALIDATION_ERROR")]:
            with pytest.raises(NoexClientError) as e:
                await call
            assert e.value.code == code
        assert (await c.procedures.get("echo"))["name"] == "echo"
        listed = (await c.procedures.list())["procedures"]
        assert {p["name"]: p["stepsCount"] for p in listed} == {"calc-total": 3, "echo": 1}
        assert await c.procedures.update("echo", {"description": "Updated"}) == {"name": "echo", "updated": True}
        assert await c.procedures.unregister("echo") == {"name": "echo", "unregistered": True}
        with pytest.raises(NoexClientError) as e:
            await c.procedures.call("echo", {"x": 1})
        assert e.value.code == "NOT_FOUND"
