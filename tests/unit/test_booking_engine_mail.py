"""The booking mail templates: each event has both bodies, and their text is translatable."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from core.booking.errors import MESSAGES
from core.booking.notifications import SUBJECTS
from core.i18n_tools import KEYWORDS, OPTIONS

ROOT = Path(__file__).resolve().parents[2]
MAIL = ROOT / "core" / "templates" / "mail"


def catalog_ids(locale: str) -> dict[str, str]:
    """The translated msgids of the core's catalog for ``locale``."""
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if isinstance(m.id, str) and m.string}


def test_every_event_has_a_text_and_an_html_body() -> None:
    for event in SUBJECTS:
        assert (MAIL / f"booking_{event}.txt").is_file(), event
        assert (MAIL / f"booking_{event}.html").is_file(), event


def test_the_text_bodies_are_translated_too() -> None:
    """Plain-text templates are not extracted by themselves: their msgids must be in Italian."""
    italian = catalog_ids("it")
    options = OPTIONS["**/templates/**.html"]
    found = 0
    for path in sorted(MAIL.glob("booking_*.txt")):
        for _line, message, _comments, _context in extract_from_file(
            "jinja2", str(path), keywords=KEYWORDS, options=options
        ):
            found += 1
            assert message in italian, f"{path.name}: {message!r} has no Italian translation"
    assert found > 20


def test_every_refusal_message_is_translated() -> None:
    italian = catalog_ids("it")
    for code, message in MESSAGES.items():
        assert message._args[0] in italian, code
    for event, subject in SUBJECTS.items():
        assert subject._args[0] in italian, event
