"""Every ``sh`` example of docs/api.md runs with curl against a live server and answers JSON."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from werkzeug.serving import make_server

from core.extensions import db
from tests.support import factories as f
from tests.support.api import token_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK_RE = re.compile(r"```sh\n(.*?)```", re.S)


def examples() -> list[str]:
    """The shell examples of the API guide, continuation lines joined."""
    return [block.replace("\\\n", " ").strip() for block in BLOCK_RE.findall(DOC.read_text())]


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app on a loopback port; returns its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


def test_every_curl_example_of_the_guide_works(app: Flask, live: str) -> None:
    district = f.district("isola-garibaldi")
    svc = f.service(f.organisation(district), category="health", max_advance_days=3650)
    start = datetime(2030, 1, 10, 10, tzinfo=ZoneInfo("Europe/Rome"))
    slot = f.slot(svc, starts_at=start, capacity=2)
    resident = f.user()
    admin = f.district_admin(district)
    db.session.commit()
    values = {
        "http://127.0.0.1:5000": live,
        "cnc_YOUR_TOKEN": token_for(resident),
        "cnc_ADMIN_TOKEN": token_for(admin),
        "SERVICE_ID": str(svc.id),
        "SLOT_ID": str(slot.id),
    }
    blocks = examples()
    assert len(blocks) >= 9
    ran: list[str] = []
    for block in blocks:
        command = block
        for placeholder, value in values.items():
            command = command.replace(placeholder, value)
        args = shlex.split(command)
        assert args[0] == "curl", block
        done = subprocess.run(
            [*args, "--fail", "--max-time", "30"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, (block, done.stdout, done.stderr)
        body = json.loads(done.stdout)
        if "-X POST" in block and "/bookings" in block:
            assert body["slot_id"] == slot.id and body["status"] == "confirmed"
            values["BOOKING_ID"] = body["id"]
        if "-X DELETE" in block:
            assert body["status"] == "cancelled"
        ran.append(block)
    assert "BOOKING_ID" in values and any("/report" in b for b in ran)
