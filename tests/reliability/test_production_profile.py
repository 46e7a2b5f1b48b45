"""The production profile of docs/deploy.md, for real: gunicorn, several workers, Redis.

``concilia db upgrade`` runs twice on a fresh database (PostgreSQL schema, or a SQLite file
with the sqlite parameter), then gunicorn serves the app with three workers in production
mode. Checked over HTTP: ``/healthz``, HSTS and Secure cookies, one JSON log line per request,
and a login rate limit shared by the workers through Redis.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy

from tests.support.database import drop_postgres_schema, postgres_schema_url

REDIS_URL = "redis://127.0.0.1:6379/15"
BIN = Path(sys.executable).parent
APP = "core:create_app()"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'production.sqlite'}"
        return
    schema = f"prod_{secrets.token_hex(4)}"
    yield postgres_schema_url(schema)
    drop_postgres_schema(schema)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A rate-limit key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"concilia-prod-test-{secrets.token_hex(4)}"
    yield prefix
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command of the venv, failing the test with its output if it fails."""
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, list[str]], str]:
    """One HTTP request on a new connection; status, headers (lists) and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    found: dict[str, list[str]] = {}
    for name, value in response.getheaders():
        found.setdefault(name.lower(), []).append(value)
    text = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, found, text


def wait_until_up(port: int, server: subprocess.Popen[str]) -> None:
    """Poll /healthz until gunicorn answers (or fail with its output)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited: {server.stderr.read() if server.stderr else ''}")
        try:
            request(port, "GET", "/healthz")
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("gunicorn did not start within 30 seconds")


def test_gunicorn_production_profile(
    fresh_database: str, redis_prefix: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "CONCILIA_ENV": "production",
        "CONCILIA_DATABASE_URL": fresh_database,
        "CONCILIA_REDIS_URL": REDIS_URL,
        "CONCILIA_RATELIMIT_PREFIX": redis_prefix,
        "CONCILIA_SECRET_KEY": secrets.token_urlsafe(32),
        "CONCILIA_INSTANCE_PATH": str(tmp_path / "instance"),
        "CONCILIA_LOGIN_RATE_LIMIT": "3 per minute",
        "CONCILIA_MAIL_MODE": "outbox",
    }
    for _ in range(2):  # safe on every deploy: the second run is a no-op
        run([str(BIN / "concilia"), "db", "upgrade"], env)
    engine = sqlalchemy.create_engine(fresh_database)
    with engine.connect() as conn:  # one revision, the head, and the tables are there
        assert conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).all() == [
            ("0001",)
        ]
        assert conn.execute(sqlalchemy.text("SELECT count(*) FROM booking")).scalar() == 0
    engine.dispose()
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [BIN / "gunicorn", "--preload", "-w", "3", "-b", f"127.0.0.1:{port}", APP],
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until_up(port, server)
            check_server(port, redis_prefix)
        finally:
            os.killpg(server.pid, signal.SIGKILL)  # master and workers: only ours, by group
            server.wait(timeout=30)
    check_logs(log_path.read_text())


def check_server(port: int, redis_prefix: str) -> None:
    """Health, headers, cookies and the shared rate limit."""
    status, headers, body = request(port, "GET", "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "database": "ok"}
    assert "max-age=63072000" in headers["strict-transport-security"][0]
    assert "frame-ancestors 'none'" in headers["content-security-policy"][0]
    status, headers, page = request(port, "GET", "/login", headers={"Accept-Language": "en"})
    assert status == 200
    cookie = next(c for c in headers["set-cookie"] if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    session = cookie.split(";", 1)[0]
    match = CSRF_RE.search(page)
    assert match
    form = f"email=x%40example.org&password=wrong-password-1&csrf_token={match.group(1)}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session}
    with ThreadPoolExecutor(max_workers=6) as pool:  # at once: several workers take them
        answers = list(pool.map(lambda _: request(port, "POST", "/login", form, headers), range(6)))
    assert sorted(status for status, _h, _b in answers) == [401, 401, 401, 429, 429, 429]
    connection = redis.Redis.from_url(REDIS_URL)
    assert list(connection.scan_iter(match=f"*{redis_prefix}*")), "no counter in Redis"
    connection.close()


def check_logs(text: str) -> None:
    """One JSON line per request, with method, path, status and duration."""
    entries: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    requests = [e for e in entries if e.get("message") == "request"]
    paths = [(e["method"], e["path"], e["status"]) for e in requests]
    assert ("GET", "/healthz", 200) in paths
    assert paths.count(("POST", "/login", 429)) == 3
    assert all("duration_ms" in e and e["level"] == "INFO" for e in requests)
    workers = {e["pid"] for e in requests if e["path"] == "/login" and e["method"] == "POST"}
    assert len(workers) >= 2, "the login attempts were all served by one worker"
