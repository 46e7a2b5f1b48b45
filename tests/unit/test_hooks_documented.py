"""Every hook is documented with its exact signature, and has its own test (Datasette style)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from core.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"


def hook_specs() -> dict[str, Any]:
    """The hookspec functions of ``core/plugins/hookspecs.py``, by name."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name: fn
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, marker)
    }


def signature_line(fn: Any) -> str:
    """``def name(arg: Type, …) -> Return`` as written in the hookspec (string annotations)."""
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {fn.__name__}({params}) -> {sig.return_annotation}"


def doc_section(text: str, name: str) -> str:
    """The text of the ``### name`` section of the plugin guide."""
    match = re.search(rf"^### {name}\n(.*?)(?=^### |^## |\Z)", text, flags=re.M | re.S)
    assert match, f"docs/plugins.md has no '### {name}' section"
    return match.group(1)


SPECS = hook_specs()


def test_the_hookspecs_are_found() -> None:
    assert {"register_categories", "eligibility", "demo_data"} <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_is_documented_with_its_exact_signature(name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = doc_section(text, name)
    assert f"```python\n{signature_line(SPECS[name])}\n```" in section, (
        f"the '### {name}' section of docs/plugins.md must show: {signature_line(SPECS[name])}"
    )
    assert "@hookimpl" in section, f"the '### {name}' section needs an example"
    if getattr(SPECS[name], f"{hookspecs.PROJECT_NAME}_spec")["firstresult"]:
        assert "firstresult" in section


def test_the_guide_documents_no_hook_that_does_not_exist() -> None:
    documented = set(re.findall(r"^### (\w+)$", DOC.read_text(encoding="utf-8"), flags=re.M))
    assert documented == set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_has_a_test(name: str) -> None:
    pattern = re.compile(rf"^def test_hook_{name}\(", flags=re.M)
    files = list((ROOT / "tests").rglob("test_*.py"))
    assert any(pattern.search(p.read_text(encoding="utf-8")) for p in files), (
        f"no test named test_hook_{name} under tests/"
    )
