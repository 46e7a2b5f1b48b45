"""Plugin discovery and loading: entry points in ``concilia.plugins``, an allow and a deny list.

A plugin that fails to import, or whose start-up hooks raise, is recorded in
:attr:`PluginHost.failures` by name, logged, unregistered, and the app starts without it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Literal

import pluggy

from core.plugins import hookspecs
from core.plugins.types import Category, DistrictConfig

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "concilia.plugins"
PluginKind = Literal["category", "district", "other"]


@dataclass(frozen=True)
class PluginInfo:
    """What ``concilia plugins list`` shows of one loaded plugin."""

    name: str
    kind: PluginKind
    version: str
    module: str
    hooks: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the plugin as a JSON-ready dict."""
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "module": self.module,
            "hooks": list(self.hooks),
        }


@dataclass
class PluginHost:
    """The plugin manager of one app, with what its plugins registered."""

    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    districts: dict[str, DistrictConfig] = field(default_factory=dict)
    read_along: dict[str, Any] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        """The pluggy hook relay (``host.hook.validate_booking(request=…)``)."""
        return self.pm.hook

    def plugins(self) -> list[PluginInfo]:
        """Return the loaded plugins, sorted by name."""
        return sorted(self.infos.values(), key=lambda info: info.name)

    def sorted_categories(self) -> list[Category]:
        """Return the categories in display order (``order``, then ``slug``)."""
        return sorted(self.categories.values(), key=lambda c: (c.order, c.slug))

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call one hook plugin by plugin, unloading any plugin whose implementation raises.

        Returns ``(plugin name, result)`` pairs for the implementations that answered.
        """
        results: list[tuple[str, Any]] = []
        hook_caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook_caller.get_hookimpls()):
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:  # a broken plugin must not take the app down
                self.fail(impl.plugin_name, f"{hook_name}: {type(exc).__name__}: {exc}")
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def fail(self, name: str, reason: str) -> None:
        """Record that plugin ``name`` failed, log it and unload it."""
        log.error("plugin %s failed to load and was disabled: %s", name, reason)
        self.failures[name] = reason
        self.infos.pop(name, None)
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)


def _version_of(entry_point: EntryPoint | None) -> str:
    if entry_point is not None and entry_point.dist is not None:
        return entry_point.dist.version
    return "0"


def _kind_of(plugin: object, hooks: Sequence[str]) -> PluginKind:
    declared = getattr(plugin, "PLUGIN_KIND", None)
    if declared in {"category", "district", "other"}:
        return declared
    if "register_districts" in hooks:
        return "district"
    if "register_categories" in hooks:
        return "category"
    return "other"


def _is_wanted(name: str, allow: Sequence[str], deny: Sequence[str]) -> bool:
    if name in deny:
        return False
    return not allow or name in allow or name == "core-defaults"


def build_host(
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    extra: Iterable[ModuleType | object] = (),
    discovered: Iterable[EntryPoint] | None = None,
) -> PluginHost:
    """Discover, filter and load the plugins, then collect their categories and districts.

    ``extra`` registers plugin objects directly (tests use it for their own districts).
    Plugins are registered in name order so the hook call order is stable.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm=pm)
    points = discovered if discovered is not None else entry_points(group=ENTRY_POINT_GROUP)
    candidates: list[tuple[str, Any, EntryPoint | None]] = [
        (ep.name, ep, ep) for ep in sorted(points, key=lambda ep: ep.name)
    ]
    for obj in extra:
        name = getattr(obj, "PLUGIN_NAME", None) or getattr(obj, "__name__", repr(obj))
        candidates.append((name, obj, None))
    for name, source, entry_point in candidates:
        if not _is_wanted(name, allow, deny) or pm.has_plugin(name):
            continue
        try:
            plugin = source.load() if isinstance(source, EntryPoint) else source
            pm.register(plugin, name=name)
        except Exception as exc:
            host.fail(name, f"{type(exc).__name__}: {exc}")
            continue
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        host.infos[name] = PluginInfo(
            name=name,
            kind=_kind_of(plugin, hooks),
            version=getattr(plugin, "__version__", None) or _version_of(entry_point),
            module=getattr(plugin, "__name__", type(plugin).__name__),
            hooks=hooks,
        )
    _collect(host)
    return host


def _collect(host: PluginHost) -> None:
    for plugin_name, categories in host.call_each("register_categories"):
        for category in categories:
            if category.slug in host.categories:
                host.fail(plugin_name, f"category {category.slug!r} is already registered")
                break
            host.categories[category.slug] = category
    for plugin_name, districts in host.call_each("register_districts"):
        for district in districts:
            if district.slug in host.districts:
                host.fail(plugin_name, f"district {district.slug!r} is already registered")
                break
            host.districts[district.slug] = district
    for plugin_name, questions in host.call_each("booking_read_along"):
        taken = set(questions) & set(host.read_along)
        if taken:
            host.fail(plugin_name, f"read-along question {sorted(taken)[0]!r} is already asked")
            continue
        host.read_along.update(questions)
