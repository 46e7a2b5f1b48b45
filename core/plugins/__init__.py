"""The stable surface plugins import: the hook marker and the payload types.

>>> from core.plugins import hookimpl, Category
"""

from core.plugins.hookspecs import PROJECT_NAME, hookimpl, hookspec
from core.plugins.types import (
    BeneficiaryClass,
    BookingRequest,
    Branding,
    Category,
    DemoLogin,
    DistrictConfig,
    EligibilityDecision,
    ServiceType,
)

__all__ = [
    "PROJECT_NAME",
    "BeneficiaryClass",
    "BookingRequest",
    "Branding",
    "Category",
    "DemoLogin",
    "DistrictConfig",
    "EligibilityDecision",
    "ServiceType",
    "hookimpl",
    "hookspec",
]
