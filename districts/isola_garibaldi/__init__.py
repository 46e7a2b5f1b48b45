"""Isola-Garibaldi (Milano, Municipio 9): the district config plugin.

Hooks: the district config and its branding (a blueprint serves the logo), the eligibility
policy of its three beneficiary classes, the demo data (the Alliance and its services), the
open-data credit in the footer, and the plugin's translations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from flask_babel import gettext as _
from markupsafe import Markup, escape

from core.plugins import DistrictConfig, EligibilityDecision, hookimpl
from districts.isola_garibaldi.config import SLUG, STATIC_URL_PATH, district_config

PLUGIN_KIND = "district"
__version__ = "1.0.0"

HERE = Path(__file__).resolve().parent


@hookimpl
def register_districts() -> list[DistrictConfig]:
    """Register the Isola-Garibaldi district."""
    return [district_config()]


@hookimpl
def register_blueprints(app: Flask) -> list[Blueprint]:
    """A blueprint with the district's static files (its logo) under ``STATIC_URL_PATH``."""
    return [
        Blueprint(
            "isola_garibaldi",
            __name__,
            static_folder=str(HERE / "static"),
            static_url_path=STATIC_URL_PATH,
        )
    ]


@hookimpl
def eligibility(
    user: Any, district: DistrictConfig, declaration: Any
) -> EligibilityDecision | None:
    """Isola-Garibaldi's policy (see :mod:`districts.isola_garibaldi.policy`); None elsewhere."""
    if district.slug != SLUG:
        return None
    from districts.isola_garibaldi.policy import decide, employer_in_district

    return decide(
        getattr(declaration, "beneficiary_class", ""),
        user_email=getattr(user, "email", ""),
        vat_number=getattr(declaration, "vat_number", "") or "",
        employer=employer_in_district(declaration, SLUG),
    )


@hookimpl
def demo_data(district: DistrictConfig, session: Any) -> None:
    """Load the Isola-Garibaldi demo (idempotent); other districts are not ours."""
    if district.slug != SLUG:
        return
    from districts.isola_garibaldi.demo import load

    load(session)
    from districts.isola_garibaldi.demo_history import load_history

    load_history(session)


@hookimpl
def template_hook(name: str, context: dict[str, Any]) -> Markup | None:
    """Credit the municipality's open data in the footer of the district's pages."""
    if name != "footer_extra":
        return None
    from core.tenancy import current_district_config

    district = current_district_config()
    if district is None or district.slug != SLUG:
        return None
    text = _("Sport facility data: Comune di Milano, open data, CC-BY 4.0.")
    return Markup('<p class="small text-white" data-credit="open-data">{}</p>').format(escape(text))


@hookimpl
def translation_dirs() -> list[str]:
    """The district plugin's own catalogs."""
    return [str(HERE / "translations")]
