"""Reading the catalogue's HTML in tests: a page's text, its card titles, its result count."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient


def html(client: FlaskClient, path: str, **kwargs: Any) -> str:
    """The text of the page at ``path``, asserting it answered 200."""
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def card_titles(page: str) -> list[str]:
    """The titles of the service cards on a page, in order."""
    return re.findall(r'<h3 class="card-title h5"><a href="[^"]+">([^<]+)</a>', page)


def result_total(page: str) -> int:
    """The number of services the catalogue says it found."""
    match = re.search(r'data-total="(\d+)"', page)
    assert match, "no result count"
    return int(match.group(1))
