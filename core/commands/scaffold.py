"""``concilia new-plugin NAME`` and ``concilia new-district NAME``: installable plugin skeletons.

Each generates a package that works as soon as it is installed (``pip install -e .`` or
``pip install .``): a ``pyproject.toml`` declaring the entry point in ``concilia.plugins``, the
module with its hook implementations, compiled it/en catalogs, a test file and a README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import click

TEMPLATES = Path(__file__).resolve().parent.parent / "scaffold_templates"
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Skeleton:
    """What one scaffold writes: names derived from the plugin name, and its kind."""

    slug: str
    kind: str  # "category" or "district"

    @property
    def module(self) -> str:
        """The Python package name (``concilia_<slug with underscores>``)."""
        return "concilia_" + self.slug.replace("-", "_")

    @property
    def dist(self) -> str:
        """The distribution (project) name."""
        return f"concilia-{self.slug}"

    @property
    def title(self) -> str:
        """A readable title made from the slug ("wellness-plus" → "Wellness plus")."""
        return self.slug.replace("-", " ").capitalize()

    def values(self) -> dict[str, str]:
        """The ``${…}`` substitutions of the templates."""
        district = self.kind == "district"
        return {
            "slug": self.slug,
            "module": self.module,
            "dist": self.dist,
            "title": self.title,
            "kind": self.kind,
            "command": "new-district" if district else "new-plugin",
            "registry": "districts" if district else "categories",
            "description": (
                f"The {self.title} district for Concilia."
                if district
                else f"The {self.title} service area for Concilia."
            ),
            "district_doc": " and adding a district in `docs/districts.md`" if district else "",
        }


def validate_name(name: str) -> str:
    """Return ``name`` if it is a lower-case slug (``a-z``, digits, single dashes), else fail."""
    if not NAME_RE.match(name):
        raise click.BadParameter(
            "use lower-case letters, digits and single dashes, starting with a letter "
            "(e.g. 'wellness-plus')",
            param_hint="NAME",
        )
    return name


def render(template: str, values: dict[str, str]) -> str:
    """Fill a template file of ``core/scaffold_templates`` with ``values``."""
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


def build_catalogs(package: Path, name: str) -> None:
    """Extract the package's messages and write and compile its it/en catalogs."""
    from core.i18n_tools import Domain, compile_catalogs, update, write_template

    domain = Domain(name, package, package / "translations")
    write_template(domain)
    update(domain)
    compile_catalogs(domain)


def scaffold(skeleton: Skeleton, parent: Path) -> Path:
    """Write the package of ``skeleton`` into ``parent/<dist>``; returns its folder."""
    root = parent / skeleton.dist
    if root.exists():
        raise click.ClickException(f"{root} already exists; choose another name or --dir")
    values = skeleton.values()
    package = root / skeleton.module
    (root / "tests").mkdir(parents=True)
    package.mkdir()
    module_template = (
        "district/__init__.py.tmpl" if skeleton.kind == "district" else ("plugin/__init__.py.tmpl")
    )
    files = {
        root / "pyproject.toml": "common/pyproject.toml.tmpl",
        root / "README.md": "common/README.md.tmpl",
        root / "tests" / f"test_{skeleton.module}.py": "common/test_module.py.tmpl",
        package / "__init__.py": module_template,
    }
    for path, template in files.items():
        path.write_text(render(template, values), encoding="utf-8")
    build_catalogs(package, skeleton.slug)
    return root


def _report(root: Path, skeleton: Skeleton) -> None:
    click.echo(f"Created {root}")
    click.echo("Next steps:")
    click.echo(f"  pip install -e {root}")
    click.echo(f"  concilia plugins list      # {skeleton.slug} ({skeleton.kind})")
    click.echo(f"  python -m pytest {root / 'tests'}")


@click.command("new-plugin")
@click.argument("name", callback=lambda _ctx, _param, value: validate_name(value))
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which to create the package.",
)
def new_plugin(name: str, parent: Path) -> None:
    """Create an installable plugin package that adds a service area (a category) NAME."""
    skeleton = Skeleton(name, "category")
    _report(scaffold(skeleton, parent), skeleton)


@click.command("new-district")
@click.argument("name", callback=lambda _ctx, _param, value: validate_name(value))
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which to create the package.",
)
def new_district(name: str, parent: Path) -> None:
    """Create an installable plugin package that adds the district NAME."""
    skeleton = Skeleton(name, "district")
    _report(scaffold(skeleton, parent), skeleton)
