"""The Isola-Garibaldi district as its plugin declares it (Milano, Municipio 9)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.plugins import BeneficiaryClass, Branding, DemoLogin, DistrictConfig
from districts.isola_garibaldi.policy import ALLIANCE_EMPLOYEE, SME_EMPLOYEE, VAT_HOLDER

SLUG = "isola-garibaldi"
#: Where the district blueprint serves its static files (the logo among them).
STATIC_URL_PATH = "/districts/isola-garibaldi/static"
LOGO_URL = f"{STATIC_URL_PATH}/logo.svg"

DEMO_PASSWORDS = {
    "resident": "isola-residente-2026",
    "beneficiary": "isola-beneficiario-2026",
    "provider": "isola-operatore-2026",
    "admin": "isola-municipio-2026",
}
DEMO_EMAILS = {
    "resident": "giulia.bianchi@residenti.example",
    "beneficiary": "anna.rossi@nododigitale.example",
    "provider": "marco.galli@officinalavoro.example",
    "admin": "laura.conti@municipio9.example",
}


def district_config() -> DistrictConfig:
    """The Isola-Garibaldi district config."""
    return DistrictConfig(
        slug=SLUG,
        name="Isola-Garibaldi",
        municipality="Comune di Milano",
        area="Municipio 9 · NIL Isola, Garibaldi Repubblica",
        timezone="Europe/Rome",
        locales=("it", "en"),
        default_locale="it",
        postcodes=("20159", "20124"),
        categories=("health", "family", "leisure", "work"),
        description=_l(
            "The district welfare of Isola and Garibaldi-Repubblica: an Alliance of public "
            "bodies, co-operatives and businesses offering services for health, family care, "
            "free time and work to the people who work in the district."
        ),
        branding=Branding(
            name="Isola-Garibaldi",
            primary_colour="#1f5f8b",
            secondary_colour="#c98a00",
            logo_url=LOGO_URL,
            tagline=_l("Milano Concilia · local welfare for people who work in the district"),
        ),
        beneficiary_classes=(
            BeneficiaryClass(
                VAT_HOLDER,
                _l("VAT-number holder working in the district"),
                _l("Self-employed people and professionals whose workplace is in the district."),
            ),
            BeneficiaryClass(
                SME_EMPLOYEE,
                _l("Employee of a micro, small or medium business in the district"),
                _l("People employed by a business located in the district."),
            ),
            BeneficiaryClass(
                ALLIANCE_EMPLOYEE,
                _l("Employee of an Alliance member"),
                _l("People employed by a member of the district's Alliance."),
            ),
        ),
        contact_email="welfare.isola@municipio9.example",
        demo_logins=(
            DemoLogin(_l("Resident"), DEMO_EMAILS["resident"], DEMO_PASSWORDS["resident"]),
            DemoLogin(
                _l("Approved beneficiary"),
                DEMO_EMAILS["beneficiary"],
                DEMO_PASSWORDS["beneficiary"],
            ),
            DemoLogin(_l("Provider staff"), DEMO_EMAILS["provider"], DEMO_PASSWORDS["provider"]),
            DemoLogin(_l("District admin"), DEMO_EMAILS["admin"], DEMO_PASSWORDS["admin"]),
        ),
        extra={"data_attribution": "Comune di Milano, Impianti sportivi (CC-BY 4.0)"},
    )
