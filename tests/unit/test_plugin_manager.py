"""Plugin discovery: entry points, allow/deny lists, broken plugins reported by name."""

from __future__ import annotations

import types
from importlib.metadata import EntryPoint

from core.plugins import Category, DistrictConfig, hookimpl
from core.plugins.manager import build_host


def _module(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


class _CategoryPlugin:
    PLUGIN_NAME = "sample-category"

    @hookimpl
    def register_categories(self) -> list[Category]:
        return [Category(slug="sample", name="Sample", description="A sample area", order=5)]


class _DistrictPlugin:
    PLUGIN_NAME = "sample-district"

    @hookimpl
    def register_districts(self) -> list[DistrictConfig]:
        return [DistrictConfig(slug="sample-town", name="Sample", municipality="Comune")]


class _BrokenAtRegistration:
    PLUGIN_NAME = "broken-hook"

    @hookimpl
    def register_categories(self) -> list[Category]:
        raise RuntimeError("boom")


def test_kinds_are_derived_from_the_hooks_a_plugin_implements() -> None:
    host = build_host(extra=[_CategoryPlugin(), _DistrictPlugin()], discovered=[])
    kinds = {info.name: info.kind for info in host.plugins()}
    assert kinds == {"sample-category": "category", "sample-district": "district"}
    assert list(host.categories) == ["sample"]
    assert list(host.districts) == ["sample-town"]


def test_a_plugin_that_fails_to_import_is_reported_and_the_rest_load() -> None:
    missing = EntryPoint(name="ghost", value="no_such_module_xyz", group="concilia.plugins")
    good = EntryPoint(name="core-defaults", value="core.plugins.defaults", group="concilia.plugins")
    host = build_host(discovered=[missing, good])
    assert "ghost" in host.failures and "ModuleNotFoundError" in host.failures["ghost"]
    assert [info.name for info in host.plugins()] == ["core-defaults"]


def test_a_plugin_whose_start_up_hook_raises_is_unloaded_by_name() -> None:
    host = build_host(extra=[_BrokenAtRegistration(), _CategoryPlugin()], discovered=[])
    assert "boom" in host.failures["broken-hook"]
    assert "broken-hook" not in {info.name for info in host.plugins()}
    assert host.pm.get_plugin("broken-hook") is None
    assert list(host.categories) == ["sample"]


def test_deny_list_and_allow_list() -> None:
    denied = build_host(
        extra=[_CategoryPlugin(), _DistrictPlugin()], deny=["sample-district"], discovered=[]
    )
    assert [i.name for i in denied.plugins()] == ["sample-category"]
    allowed = build_host(
        extra=[_CategoryPlugin(), _DistrictPlugin()], allow=["sample-district"], discovered=[]
    )
    assert [i.name for i in allowed.plugins()] == ["sample-district"]


def test_a_duplicate_category_slug_disables_the_second_plugin() -> None:
    class Again(_CategoryPlugin):
        PLUGIN_NAME = "sample-again"

    host = build_host(extra=[_CategoryPlugin(), Again()], discovered=[])
    assert len(host.failures) == 1
    assert "already registered" in next(iter(host.failures.values()))
