"""Every message a person reads has an Italian and an English translation (core and plugins)."""

from __future__ import annotations

import pytest

from core.i18n_tools import domains, missing_translations

DOMAINS = list(domains())


@pytest.mark.parametrize("domain", DOMAINS, ids=[d.name for d in DOMAINS])
@pytest.mark.parametrize("locale", ["it", "en"])
def test_every_message_is_translated(domain: object, locale: str) -> None:
    missing = missing_translations(domain, locale)  # type: ignore[arg-type]
    assert not missing, (
        f"{len(missing)} messages of {domain.name} lack a {locale} translation "  # type: ignore[attr-defined]
        f"(run `make translations` and translate them): {missing[:10]}"
    )


def test_the_core_domain_is_checked() -> None:
    assert DOMAINS[0].name == "core"
    assert missing_translations(DOMAINS[0], "it") == []
