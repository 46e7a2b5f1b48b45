"""Catalog maintenance for the core and every bundled plugin: ``python -m core.i18n_tools``.

Steps: ``extract`` (sources → messages.pot), ``update`` (pot → it/en .po; English is the
source language, so empty English entries are filled with their msgid), ``compile`` (.po → .mo).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("it", "en")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "lazy_gettext": None,
    "_l": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
METHOD_MAP = [
    ("**/templates/**.html", "jinja2"),
    ("**/tests/**", "ignore"),
    ("**/translations/**", "ignore"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}


@dataclass(frozen=True)
class Domain:
    """A package with its own sources and ``translations/`` folder."""

    name: str
    source: Path
    translations: Path


def domains(root: Path = ROOT) -> Iterator[Domain]:
    """The core, then each plugin and district package that carries a ``translations/`` folder."""
    yield Domain("core", root / "core", root / "translations")
    for parent in ("plugins", "districts"):
        for package in sorted((root / parent).glob("*/")):
            if (package / "translations").is_dir():
                yield Domain(f"{parent}/{package.name}", package, package / "translations")


def extract(domain: Domain) -> Catalog:
    """Collect the translatable messages of a domain's sources."""
    catalog = Catalog(project="concilia", version="0.1", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(domain.source), METHOD_MAP, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        if domain.name == "core" and filename.startswith(("migrations",)):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _pot_path(domain: Domain) -> Path:
    return domain.translations / "messages.pot"


def _po_path(domain: Domain, locale: str) -> Path:
    return domain.translations / locale / "LC_MESSAGES" / "messages.po"


def write_template(domain: Domain) -> None:
    """Write the domain's ``messages.pot``."""
    domain.translations.mkdir(parents=True, exist_ok=True)
    with _pot_path(domain).open("wb") as fh:
        write_po(fh, extract(domain), omit_header=False, sort_output=True, width=100)


def update(domain: Domain) -> None:
    """Bring the Italian and English catalogs in line with the template."""
    with _pot_path(domain).open("rb") as fh:
        template = read_po(fh)
    for locale in LOCALES:
        path = _po_path(domain, locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="concilia", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "en":
            for message in catalog:
                if message.id and not _has_translation(message.string):
                    message.string = message.id
                    message.flags.discard("fuzzy")
        with path.open("wb") as fh:
            write_po(fh, catalog, sort_output=True, width=100, include_previous=False)


def _has_translation(string: str | tuple[str, ...] | None) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def compile_catalogs(domain: Domain) -> None:
    """Compile each ``.po`` of the domain to ``.mo``."""
    for locale in LOCALES:
        path = _po_path(domain, locale)
        if not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def missing_translations(domain: Domain, locale: str) -> list[str]:
    """Msgids of the domain's current sources that lack a (non-fuzzy) translation in ``locale``."""
    path = _po_path(domain, locale)
    if not path.exists():
        return [m.id for m in extract(domain) if m.id]
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing = []
    for message in extract(domain):
        if not message.id:
            continue
        key = message.id if not message.context else (message.id, message.context)
        translated = catalog.get(
            message.id if isinstance(message.id, str) else message.id[0], context=message.context
        )
        if (
            translated is None
            or "fuzzy" in translated.flags
            or not _has_translation(translated.string)
        ):
            missing.append(str(key))
    return missing


def fill(domain: Domain, translations: dict[str, str], locale: str = "it") -> int:
    """Set the ``locale`` translations given as ``{msgid: msgstr}``; returns how many were set."""
    path = _po_path(domain, locale)
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    count = 0
    for message in catalog:
        if isinstance(message.id, str) and message.id in translations:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
            count += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, sort_output=True, width=100, include_previous=False)
    return count


def untranslated_report(locale: str = "it") -> dict[str, list[str]]:
    """Every domain's msgids still lacking a ``locale`` translation."""
    return {d.name: missing_translations(d, locale) for d in domains()}


def main(argv: list[str]) -> int:
    """Run the named steps over every domain, in order.

    ``fill [FILE.json …]`` sets Italian translations from ``{msgid: msgstr}`` files
    (default: every ``translations/sources/*.json``);
    ``missing`` prints the msgids still without an Italian translation, as JSON.
    """
    if argv[:1] == ["fill"]:
        import json

        files = [Path(a) for a in argv[1:]] or sorted(
            (ROOT / "translations/sources").glob("*.json")
        )
        mapping: dict[str, str] = {}
        for file in files:
            mapping.update(json.loads(file.read_text(encoding="utf-8")))
        total = sum(fill(domain, mapping) for domain in domains())
        print(f"{total} translations set")
        return 0
    if argv[:1] == ["missing"]:
        import json

        print(json.dumps(untranslated_report(), indent=1, ensure_ascii=False))
        return 0
    steps = argv or ["extract", "update", "compile"]
    for domain in domains():
        for step in steps:
            if step == "extract":
                write_template(domain)
            elif step == "update":
                update(domain)
            elif step == "compile":
                compile_catalogs(domain)
            else:
                print(f"unknown step {step!r}: use extract, update, compile", file=sys.stderr)
                return 2
        if "update" in steps:
            untranslated = missing_translations(domain, "it")
            if untranslated:
                print(
                    f"{domain.name}: {len(untranslated)} Italian messages to translate in "
                    f"{_po_path(domain, 'it').relative_to(ROOT)}"
                )
    return 0


if __name__ == "__main__":
    tempfile.tempdir = None
    raise SystemExit(main(sys.argv[1:]))
