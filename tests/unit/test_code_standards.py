"""Standing rules of the code base: the core never imports a plugin; public code is documented."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_PACKAGES = ("plugins", "districts")


def _python_files(folder: str) -> list[Path]:
    return [p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]


def test_the_core_never_imports_a_plugin() -> None:
    offenders = []
    for path in _python_files("core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name.split(".")[0] in PLUGIN_PACKAGES
            ]
    assert offenders == []


def _undocumented(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    definitions = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    top_level = [node for node in tree.body if isinstance(node, definitions)]
    methods = [
        member
        for node in top_level
        if isinstance(node, ast.ClassDef)
        for member in node.body
        if isinstance(member, definitions)
    ]
    missing = []
    for node in top_level + methods:  # functions nested inside functions are private helpers
        if node.name.startswith("_") or ast.get_docstring(node):
            continue
        missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    return missing


def test_every_public_function_and_class_has_a_docstring() -> None:
    missing = [
        item
        for folder in ("core", *PLUGIN_PACKAGES)
        if (ROOT / folder).is_dir()
        for path in _python_files(folder)
        for item in _undocumented(path)
    ]
    # Flask views are public functions too: they document the page they serve.
    assert missing == [], f"{len(missing)} public definitions lack a docstring: {missing[:20]}"


TRANSLATION_CALLS = {"_", "gettext", "ngettext", "lazy_gettext", "_l", "lazy_ngettext"}


def test_no_translation_call_inside_an_f_string() -> None:
    """Babel does not look inside f-strings: a message there is never extracted, so it is never
    translated (it happened: "For beneficiaries:" showed in English on Italian pages)."""
    offenders = []
    for folder in ("core", *PLUGIN_PACKAGES):
        if not (ROOT / folder).is_dir():
            continue
        for path in _python_files(folder):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.JoinedStr):
                    continue
                offenders += [
                    f"{path.relative_to(ROOT)}:{call.lineno}"
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id in TRANSLATION_CALLS
                ]
    assert offenders == []
