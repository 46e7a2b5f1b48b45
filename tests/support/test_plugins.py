"""Plugins that exist only for tests: two small districts in other cities, two test areas.

They are registered on every test app (``tests/conftest.py``), beside whatever plugins are
installed, so tenancy can be tested without depending on the Isola-Garibaldi plugin.
"""

from __future__ import annotations

from core.plugins import (
    BeneficiaryClass,
    Branding,
    Category,
    DistrictConfig,
    ServiceType,
    hookimpl,
)


class TestCategories:
    """Two service areas with slugs no built-in plugin uses."""

    PLUGIN_NAME = "test-categories"

    @hookimpl
    def register_categories(self) -> list[Category]:
        """The test areas."""
        return [
            Category(
                slug="test-wellness",
                name="Test wellness",
                description="Wellness services for tests",
                icon="it-star-outline",
                colour="#00805f",
                order=900,
                service_types=(ServiceType("yoga", "Yoga"), ServiceType("massage", "Massage")),
            ),
            Category(
                slug="test-care",
                name="Test care",
                description="Care services for tests",
                icon="it-user",
                colour="#a8326b",
                order=901,
                service_types=(ServiceType("babysitting", "Babysitting"),),
            ),
        ]


class TestDistricts:
    """Two districts in cities other than Milan."""

    PLUGIN_NAME = "test-districts"

    @hookimpl
    def register_districts(self) -> list[DistrictConfig]:
        """The test districts."""
        return [
            DistrictConfig(
                slug="borgo-test",
                name="Borgo Test",
                municipality="Comune di Prova",
                postcodes=("10125",),
                categories=("test-wellness", "test-care"),
                branding=Branding(name="Borgo Test", primary_colour="#00573d"),
                beneficiary_classes=(BeneficiaryClass("resident-worker", "Resident worker"),),
            ),
            DistrictConfig(
                slug="altra-citta",
                name="Altra Città",
                municipality="Comune di Altrove",
                postcodes=("40121",),
                categories=("test-care",),
                requires_service_approval=True,
                branding=Branding(name="Altra Città", primary_colour="#7a1f1f"),
            ),
        ]


TEST_PLUGINS = [TestCategories(), TestDistricts()]
