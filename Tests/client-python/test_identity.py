"""Built-in identity (scenario T40 of the original's suite) through the original's Python client."""

import pytest
from noex_client import NoexClientError
from noex_client.config import AuthOptions, ClientOptions, CredentialOptions

from conftest import SCHEMA, Client

SECRET = "test-admin-secret"
IDENTITY = {**SCHEMA, "auth": {"builtIn": True, "adminSecret": SECRET}}


async def expect_error(code: str, call, message: str | None = None):
    with pytest.raises(NoexClientError) as e:
        await call
    assert e.value.code == code, f"{e.value.code}: {e.value}"
    if message is not None:
        assert str(e.value) == message
    return e.value


async def test_superadmin_users_roles_and_login(start_server):
    server = start_server(IDENTITY)
    async with server.client() as admin:
        await expect_error("UNAUTHORIZED", admin.identity.whoami())
        await expect_error("UNAUTHORIZED", admin.store.bucket("users").all(), "Authentication required")
        await expect_error("UNAUTHORIZED", admin.identity.login_with_secret("wrong"), "Invalid secret")
        result = await admin.identity.login_with_secret(SECRET)
        assert result["user"] == {"id": "__superadmin__", "username": "__superadmin__", "roles": ["superadmin"]}
        assert isinstance(result["token"], str) and isinstance(result["expiresAt"], int)

        alice = await admin.identity.create_user(
            {"username": "alice", "password": "password1234", "displayName": "Alice"})
        assert alice["username"] == "alice" and alice["displayName"] == "Alice" and alice["enabled"] is True
        assert "passwordHash" not in alice and "_version" not in alice
        await expect_error("VALIDATION_ERROR", admin.identity.create_user({"username": "bob", "password": "short"}),
                           "Password must be at least 8 characters")
        await expect_error("ALREADY_EXISTS", admin.identity.create_user({"username": "alice", "password": "password1234"}),
                           'User "alice" already exists')
        await admin.identity.assign_role(alice["id"], "writer")
        assert [r["name"] for r in await admin.identity.get_user_roles(alice["id"])] == ["writer"]
        await expect_error("FORBIDDEN", admin.store.bucket("_users").all())
        assert not any(n.startswith("_") for n in (await admin.store.buckets())["names"])

    async with server.client() as c:
        await expect_error("UNAUTHORIZED", c.identity.login("alice", "wrong"), "Invalid credentials")
        login = await c.identity.login("alice", "password1234")
        assert login["user"]["roles"] == ["writer"] and login["user"]["username"] == "alice"
        assert (await c.store.bucket("users").insert({"name": "x"}))["name"] == "x"
        await expect_error("FORBIDDEN", c.store.define_bucket("nope", {"key": "id", "schema": {"id": {"type": "string"}}}))
        await expect_error("FORBIDDEN", c.identity.create_user({"username": "eve", "password": "password1234"}),
                           "Admin role required")
        async with server.client(token=login["token"]) as second:
            assert (await second.auth.whoami())["userId"] == alice["id"]
        await c.identity.logout()
    async with server.client() as third:
        await expect_error("UNAUTHORIZED", third.auth.login(login["token"]))


async def test_credentials_option_logs_in_on_connect(start_server):
    server = start_server(IDENTITY)
    async with server.client() as admin:
        await admin.identity.login_with_secret(SECRET)
        user = await admin.identity.create_user({"username": "carol", "password": "password1234"})
        await admin.identity.assign_role(user["id"], "reader")
    options = ClientOptions(auth=AuthOptions(credentials=CredentialOptions("carol", "password1234")), reconnect=False)
    async with Client(server.url, options) as carol:
        assert (await carol.identity.whoami())["userId"] == user["id"]
        assert await carol.store.bucket("users").all() == []
        await expect_error("FORBIDDEN", carol.store.bucket("users").insert({"name": "x"}))


async def test_login_lockout(start_server):
    server = start_server({**SCHEMA, "auth": {"builtIn": True, "adminSecret": SECRET,
                                              "loginRateLimit": {"maxAttempts": 3, "windowMs": 60000}}})
    async with server.client() as admin:
        await admin.identity.login_with_secret(SECRET)
        await admin.identity.create_user({"username": "dave", "password": "password1234"})
    async with server.client() as c:
        for _ in range(3):
            await expect_error("UNAUTHORIZED", c.identity.login("dave", "wrong-password"))
        error = await expect_error("RATE_LIMITED", c.identity.login("dave", "password1234"),
                                   "Too many failed login attempts. Try again later.")
        assert 0 < error.details["retryAfterMs"] <= 60000


async def test_everything_survives_a_restart(start_server, tmp_path):
    """Users, roles, grants, sessions, procedures and audit entries, over the real binary with
    --persistence sqlite, stopped and started again."""
    config = {**IDENTITY, "audit": {}}
    flags = ("--persistence", "sqlite", "--db", str(tmp_path / "noex.db"))
    server = start_server(config, *flags, data_dir=str(tmp_path))
    async with server.client() as admin:
        await admin.identity.login_with_secret(SECRET)
        user = await admin.identity.create_user({"username": "erin", "password": "password1234"})
        await admin.identity.assign_role(user["id"], "writer")
        role = await admin.identity.create_role({"name": "notes-reader"})
        await admin.identity.grant({"subjectType": "role", "subjectId": role["id"], "resourceType": "bucket",
                                    "resourceName": "users", "operations": ["read"]})
        await admin.procedures.register({"name": "count-users", "steps": [
            {"action": "store.count", "bucket": "users", "as": "n"}]})
        acl = await admin.identity.get_acl("bucket", "users")
        trail = await admin.audit.query()
    async with server.client() as erin:
        token = (await erin.identity.login("erin", "password1234"))["token"]
    assert server.stop() == 0

    again = start_server(config, *flags, data_dir=str(tmp_path))
    async with again.client(token=token) as erin:  # the session survived
        assert (await erin.auth.whoami())["userId"] == user["id"]
        assert (await erin.procedures.call("count-users"))["results"] == {"n": 0}
    async with again.client() as admin:
        await admin.identity.login_with_secret(SECRET)
        assert [r["name"] for r in await admin.identity.get_user_roles(user["id"])] == ["writer"]
        assert await admin.identity.get_acl("bucket", "users") == acl
        restored = await admin.audit.query()
        # the new login is the newest entry; everything recorded before the stop is still there
        assert restored[-len(trail):] == trail
