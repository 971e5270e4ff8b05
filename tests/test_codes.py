"""The 12-digit division code: levels, parents, scope prefixes."""

import pytest

from rural import codes
from rural.enums import UnitLevel
from rural.errors import InvalidCodeError


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("330000000000", UnitLevel.PROVINCE, None),
        ("331100000000", UnitLevel.CITY, "330000000000"),
        ("331128000000", UnitLevel.COUNTY, "331100000000"),
        ("331128101000", UnitLevel.TOWN, "331128000000"),
        ("331128101201", UnitLevel.VILLAGE, "331128101000"),
        ("331128101201003", UnitLevel.NATURAL_VILLAGE, "331128101201"),
        # A county-level city directly under a province (省直辖县级行政区划), e.g. 济源.
        ("419001000000", UnitLevel.COUNTY, "419000000000"),
    ],
)
def test_level_and_parent(code: str, level: UnitLevel, parent: str | None) -> None:
    assert codes.level_of(code) == level
    assert codes.parent_of(code) == parent


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("33112810120", "12 digits"),
        ("3311281012011", "12 digits"),
        ("33112810120a", "12 digits"),
        ("000000000000", "province part is all zeros"),
        ("330012000000", "city part is all zeros"),
        ("331128000201", "town part is all zeros"),
        ("331128101000000", "village part is all zeros"),
        # Only ASCII digits: `\d` would take full-width and other scripts' digits.
        ("３３１１２８１０１２０１", "only ASCII digits 0-9"),
        ("٣٣١١٢٨١٠١٢٠١", "only ASCII digits 0-9"),  # Arabic-Indic
        ("331128101201\n", "12 digits"),  # `$` would match before a trailing newline
    ],
)
def test_invalid_codes_are_refused_with_the_reason(bad: str, match: str) -> None:
    with pytest.raises(InvalidCodeError, match=match) as info:
        codes.validate(bad)
    assert info.value.value == bad


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("３３１１２８１０１２０１", "331128101201"),
        (" ３３１１２８101２０１ ", "331128101201"),
        ("331128101201003", "331128101201003"),
    ],
)
def test_normalize_folds_full_width_digits(typed: str, expected: str) -> None:
    assert codes.normalize(typed) == expected


def test_within_follows_the_prefix_not_string_equality() -> None:
    town = "331128101000"
    assert codes.is_within("331128101201", town)
    assert codes.is_within(town, town)
    assert not codes.is_within("331128102201", town)
    # A town code shares its first 9 digits with its villages only.
    assert not codes.is_within("331128000000", town)
    assert codes.is_within("331128101201003", "331128101201")


def test_child_codes_pad_with_zeros() -> None:
    assert codes.child_code("331128000000", 101) == "331128101000"
    assert codes.child_code("331128101000", 201) == "331128101201"
    assert codes.child_code("331128101201", 7) == "331128101201007"
    with pytest.raises(InvalidCodeError, match=r"1\.\.999"):
        codes.child_code("331128000000", 1000)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("331128001000", "街道"),
        ("331128101000", "镇"),
        ("331128201000", "乡"),
        ("331128401000", "其他乡级单位"),
    ],
)
def test_town_kind(code: str, kind: str) -> None:
    assert codes.town_kind(code) == kind


@pytest.mark.parametrize(
    ("code", "kind"),
    [("331128101001", "居委会"), ("331128101201", "村委会"), ("331128101401", "其他村级单位")],
)
def test_village_kind(code: str, kind: str) -> None:
    assert codes.village_kind(code) == kind
