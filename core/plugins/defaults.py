"""The core's own default behaviour, shipped as a plugin so the built-ins use the same hooks.

It provides the default eligibility answer (trylast): no district policy means a declaration
waits for a district admin.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from core.plugins.hookspecs import hookimpl
from core.plugins.types import DistrictConfig, EligibilityDecision

PLUGIN_KIND = "other"


@hookimpl(trylast=True)
def eligibility(user: Any, district: DistrictConfig, declaration: Any) -> EligibilityDecision:
    """Without a district policy, every declaration waits for a district admin."""
    return EligibilityDecision("pending", _l("Your declaration will be checked by the district."))
