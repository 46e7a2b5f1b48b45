"""Plain helpers of the catalogue: euros to cents, search normalisation, branding CSS."""

from __future__ import annotations

import pytest

from core.catalogue.branding import branding_css, safe_colour
from core.catalogue.money import MAX_CENTS, AmountError, cents_to_input, parse_cents
from core.catalogue.search import (
    SORT_KEY_LENGTH,
    like_pattern,
    normalize_text,
    search_terms,
    service_sort_titles,
    title_sort_key,
)
from core.plugins.types import Branding, Category, DistrictConfig


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("12.5", 1250),
        ("12,05", 1205),
        ("7", 700),
        ("€ 7,00", 700),
        ("0", 0),
        ("  3,2 ", 320),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_cents_accepts_comma_or_dot(text: str | None, cents: int | None) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-5", "negative"),
        ("-0,50", "negative"),
        ("12,505", "invalid"),
        ("1.234,50", "invalid"),
        ("abc", "invalid"),
        ("12,", "invalid"),
        ("1e3", "invalid"),
        ("100000,01", "too_large"),
    ],
)
def test_parse_cents_refuses_bad_amounts(text: str, code: str) -> None:
    with pytest.raises(AmountError) as info:
        parse_cents(text)
    assert info.value.code == code


def test_the_largest_amount_is_accepted() -> None:
    assert parse_cents("100000") == MAX_CENTS


def test_cents_to_input_round_trips() -> None:
    for cents in (0, 5, 1250, 99999):
        assert parse_cents(cents_to_input(cents, "it")) == cents
        assert parse_cents(cents_to_input(cents, "en")) == cents
    assert cents_to_input(1250, "it") == "12,50"
    assert cents_to_input(1250, "en") == "12.50"
    assert cents_to_input(None) == ""


def test_normalize_text_lowercases_and_strips_accents() -> None:
    assert normalize_text("Città ÀÈÌÒÙ Perché") == "citta aeiou perche"
    assert normalize_text(None) == ""


def test_sort_key_ignores_accents_case_and_extra_blanks() -> None:
    assert title_sort_key("Èlite  Yoga ") == title_sort_key("elite yoga") == "elite yoga"
    assert title_sort_key("CITTÀ") == title_sort_key("città") == "citta"
    keys = [title_sort_key(t) for t in ("Zumba", "èlite", "Acqua", "Elisir", "ELITE pro")]
    assert sorted(keys) == ["acqua", "elisir", "elite", "elite pro", "zumba"]


def test_sort_key_falls_back_to_the_other_title_and_is_bounded() -> None:
    assert title_sort_key("", "Swimming") == "swimming"
    assert title_sort_key("   ", "Nuoto") == "nuoto"
    assert title_sort_key(None, None) == ""
    assert service_sort_titles("Corso di yoga", "Yoga class") == ("corso di yoga", "yoga class")
    assert service_sort_titles("Solo italiano", "") == ("solo italiano", "solo italiano")
    assert service_sort_titles("", "English only") == ("english only", "english only")
    assert len(title_sort_key("ﬁ" * 200)) == SORT_KEY_LENGTH  # NFKD makes it longer: cut


def test_search_terms_are_normalised_and_bounded() -> None:
    assert search_terms("  Città   YOGA ") == ["citta", "yoga"]
    assert search_terms("") == []
    assert len(search_terms(" ".join(f"w{i}" for i in range(50)))) == 8
    assert search_terms("x" * 500) == ["x" * 100]


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_off") == "%50\\%\\_off%"
    assert like_pattern("a\\b") == "%a\\\\b%"


def test_safe_colour_refuses_css_injection() -> None:
    assert safe_colour("#abc", "#000") == "#abc"
    assert safe_colour("#A1B2C3", "#000") == "#A1B2C3"
    for bad in ("red", "#12", "#1234567", "#fff;}body{display:none", "", None):
        assert safe_colour(bad, "#000") == "#000"


def test_branding_css_has_district_colours_and_a_class_per_category() -> None:
    config = DistrictConfig(
        slug="x",
        name="X",
        municipality="M",
        branding=Branding(name="X", primary_colour="#00573d", secondary_colour="bad"),
    )
    categories = [
        Category(slug="health", name="H", description="", colour="#112233"),
        Category(slug="care", name="C", description="", colour="url(evil)"),
        Category(slug="Bad Slug}", name="B", description=""),
    ]
    css = branding_css(config, categories)
    assert "--district-primary: #00573d;" in css
    assert "--district-secondary: #5c6f82;" in css  # invalid colour: default
    assert ".category-health { --category-colour: #112233; }" in css
    assert ".category-care { --category-colour: #0066cc; }" in css
    assert "Bad Slug" not in css and "evil" not in css


def test_branding_css_without_branding_uses_defaults() -> None:
    css = branding_css(DistrictConfig(slug="x", name="X", municipality="M"), [])
    assert "--district-primary: #0066cc;" in css
