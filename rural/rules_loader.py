"""Rules as data: the garbage category schemes, the toilet class rule, the effluent discharge limits
and the rule that picks a sewage facility's discharge class. Each file in ``rural/rules/`` is
validated on load; a bad file raises ``RulesError`` naming the file and the entry.

``load_*`` functions read the shipped files (cached); ``parse_*`` functions validate a document
already read (a deployment's own file, or a test's altered copy).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from rural.enums import (
    DischargeClass,
    ExcretaDestination,
    LabeledEnum,
    ToiletClass,
    ToiletCondition,
    ToiletType,
    WaterClass,
)
from rural.errors import RulesError

E = TypeVar("E", bound=LabeledEnum)

FOUR_CLASS = ("recyclable", "hazardous", "perishable", "other")

# Sample fields a discharge limit may name (columns of EffluentSample).
SAMPLE_ITEMS = ("ph", "cod", "bod5", "ss", "nh3n", "tn", "tp", "fecal_coliform")


def fail(source: str, entry: str, problem: str) -> NoReturn:
    """Raise the one error every rules file raises: ``<file>: <entry>: <problem>``."""
    msg = f"{source}: {entry}: {problem}"
    raise RulesError(msg)


def read_rules(name: str) -> tuple[dict[str, Any], str]:
    """The parsed shipped file ``rural/rules/<name>`` and its display path."""
    source = f"rural/rules/{name}"
    text = resources.files("rural.rules").joinpath(name).read_text("utf-8")
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as exc:
        fail(source, "(syntax)", str(exc))


def read_rules_file(path: Path) -> tuple[dict[str, Any], str]:
    """A deployment's own rules file."""
    try:
        return tomllib.loads(path.read_text("utf-8")), str(path)
    except tomllib.TOMLDecodeError as exc:
        fail(str(path), "(syntax)", str(exc))


def table(data: Mapping[str, Any], key: str, *, source: str, entry: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        fail(source, f"{entry}{key}" if entry else key, "missing table")
    return value


def str_list(value: Any, *, source: str, entry: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(source, entry, f"must be a list of strings, got {value!r}")
    return list(value)


def number(value: Any, *, source: str, entry: str, minimum: float | None = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(source, entry, f"must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        fail(source, entry, f"must be >= {minimum}, got {value!r}")
    return float(value)


def enum_values(values: list[str], enum_cls: type[E], *, source: str, entry: str) -> frozenset[E]:
    members: set[E] = set()
    for value in values:
        try:
            members.add(enum_cls(value))
        except ValueError:
            choices = ", ".join(str(m) for m in enum_cls)
            fail(source, entry, f"{value!r} is not a {enum_cls.__name__} ({choices})")
    return frozenset(members)


def check_keys(data: Mapping[str, Any], allowed: set[str], *, source: str, entry: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        fail(source, entry, f"unknown key(s) {unknown} (allowed: {sorted(allowed)})")


# ---- garbage categories -----------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    maps_to: str
    step: int | None = None


@dataclass(frozen=True)
class CategoryScheme:
    key: str
    name: str
    categories: dict[str, Category]
    note: str = ""

    def label(self, key: str | None) -> str:
        if key is None:
            return "混合"
        category = self.categories.get(key)
        return category.label if category else key


@dataclass(frozen=True)
class GarbageCategories:
    active: str
    schemes: dict[str, CategoryScheme]

    @property
    def scheme(self) -> CategoryScheme:
        return self.schemes[self.active]

    def four_class(self, key: str) -> str | None:
        """The four-class key a category of any scheme maps to (None if unknown)."""
        for scheme in self.schemes.values():
            if key in scheme.categories:
                return scheme.categories[key].maps_to
        return None


def parse_garbage_categories(data: Mapping[str, Any], *, source: str) -> GarbageCategories:
    schemes_raw = table(data, "schemes", source=source, entry="")
    schemes: dict[str, CategoryScheme] = {}
    for key, body in schemes_raw.items():
        entry = f"schemes.{key}"
        if not isinstance(body, dict):
            fail(source, entry, "must be a table")
        check_keys(body, {"name", "note", "categories"}, source=source, entry=entry)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            fail(source, f"{entry}.name", "missing Chinese name")
        cats_raw = table(body, "categories", source=source, entry=f"{entry}.")
        if not cats_raw:
            fail(source, f"{entry}.categories", "no categories")
        categories: dict[str, Category] = {}
        for cat_key, cat in cats_raw.items():
            cat_entry = f"{entry}.categories.{cat_key}"
            if not isinstance(cat, dict):
                fail(source, cat_entry, "must be a table")
            check_keys(cat, {"label", "maps_to", "step"}, source=source, entry=cat_entry)
            label = cat.get("label")
            if not isinstance(label, str) or not label:
                fail(source, f"{cat_entry}.label", "missing Chinese label")
            maps_to = cat.get("maps_to", cat_key)
            if maps_to not in FOUR_CLASS:
                fail(source, f"{cat_entry}.maps_to", f"{maps_to!r} is not one of {FOUR_CLASS}")
            step = cat.get("step")
            if step is not None and step not in (1, 2):
                fail(source, f"{cat_entry}.step", f"must be 1 or 2, got {step!r}")
            categories[cat_key] = Category(cat_key, label, maps_to, step)
        schemes[key] = CategoryScheme(key, name, categories, str(body.get("note", "")))
    if "four_class" not in schemes:
        fail(source, "schemes.four_class", "the four-class scheme is required (others map to it)")
    if set(schemes["four_class"].categories) != set(FOUR_CLASS):
        fail(source, "schemes.four_class.categories", f"must be exactly {FOUR_CLASS}")
    active = data.get("active")
    if active not in schemes:
        fail(source, "active", f"{active!r} is not a scheme ({sorted(schemes)})")
    return GarbageCategories(active=str(active), schemes=schemes)


@lru_cache(maxsize=1)
def load_garbage_categories() -> GarbageCategories:
    data, source = read_rules("garbage_categories.toml")
    return parse_garbage_categories(data, source=source)


# ---- toilet class -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToiletClassRule:
    harmless_types: frozenset[ToiletType]
    sanitary_types: frozenset[ToiletType]
    treated_destinations: frozenset[ExcretaDestination]
    non_sanitary_destinations: frozenset[ExcretaDestination]
    non_sanitary_conditions: frozenset[ToiletCondition]
    counting_conditions: frozenset[ToiletCondition]
    class_source: str = "rule"
    # a harmless type listed here is harmless only with one of its own destinations
    type_destinations: tuple[tuple[ToiletType, frozenset[ExcretaDestination]], ...] = ()

    def treated_for(self, toilet_type: ToiletType) -> frozenset[ExcretaDestination]:
        """The destinations that make a harmless type of toilet harmless."""
        return dict(self.type_destinations).get(toilet_type, self.treated_destinations)

    def classify(
        self,
        toilet_type: ToiletType | str,
        condition: ToiletCondition | str,
        destination: ExcretaDestination | str,
    ) -> ToiletClass:
        """The class of one toilet from its type, condition and excreta destination."""
        kind, cond, dest = (
            ToiletType(toilet_type),
            ToiletCondition(condition),
            ExcretaDestination(destination),
        )
        if dest in self.non_sanitary_destinations or cond in self.non_sanitary_conditions:
            return ToiletClass.NON_SANITARY
        if kind in self.harmless_types:
            if dest in self.treated_for(kind):
                return ToiletClass.HARMLESS
            return ToiletClass.SANITARY
        if kind in self.sanitary_types:
            return ToiletClass.SANITARY
        return ToiletClass.NON_SANITARY

    def counts(self, condition: ToiletCondition | str) -> bool:
        """Whether a toilet in this condition counts toward the coverage rates."""
        return ToiletCondition(condition) in self.counting_conditions


def parse_toilet_class(data: Mapping[str, Any], *, source: str) -> ToiletClassRule:
    keys = {
        "version",
        "harmless_types",
        "sanitary_types",
        "treated_destinations",
        "non_sanitary_destinations",
        "non_sanitary_conditions",
        "counting_conditions",
        "class_source",
        "type_destinations",
    }
    check_keys(data, keys, source=source, entry="(top level)")

    def members(key: str, enum_cls: type[E]) -> frozenset[E]:
        if key not in data:
            fail(source, key, "missing")
        return enum_values(
            str_list(data[key], source=source, entry=key), enum_cls, source=source, entry=key
        )

    harmless = members("harmless_types", ToiletType)
    sanitary = members("sanitary_types", ToiletType)
    both = harmless & sanitary
    if both:
        fail(source, "sanitary_types", f"also listed as harmless: {sorted(both)}")
    counting = members("counting_conditions", ToiletCondition)
    if not counting:
        fail(source, "counting_conditions", "at least one condition must count")
    class_source = data.get("class_source", "rule")
    if class_source not in ("rule", "stored"):
        fail(source, "class_source", f"must be 'rule' or 'stored', got {class_source!r}")
    raw_types = data.get("type_destinations", {})
    if not isinstance(raw_types, Mapping):
        fail(source, "type_destinations", "must be a table of type = [destinations]")
    type_destinations: dict[ToiletType, frozenset[ExcretaDestination]] = {}
    for name, raw in raw_types.items():
        entry = f"type_destinations.{name}"
        (kind,) = enum_values([str(name)], ToiletType, source=source, entry=entry)
        if kind not in harmless:
            fail(source, entry, f"{name!r} is not one of harmless_types")
        type_destinations[kind] = enum_values(
            str_list(raw, source=source, entry=entry),
            ExcretaDestination,
            source=source,
            entry=entry,
        )
    return ToiletClassRule(
        type_destinations=tuple(sorted(type_destinations.items())),
        harmless_types=harmless,
        sanitary_types=sanitary,
        treated_destinations=members("treated_destinations", ExcretaDestination),
        non_sanitary_destinations=members("non_sanitary_destinations", ExcretaDestination),
        non_sanitary_conditions=members("non_sanitary_conditions", ToiletCondition),
        counting_conditions=counting,
        class_source=str(class_source),
    )


@lru_cache(maxsize=1)
def load_toilet_class() -> ToiletClassRule:
    data, source = read_rules("toilet_class.toml")
    return parse_toilet_class(data, source=source)


# ---- discharge limits -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassLimits:
    """The limits of one discharge class. ``limits`` are maxima (mg/L; MPN/L for coliforms)."""

    discharge_class: DischargeClass
    label: str
    ph: tuple[float, float] | None
    limits: dict[str, float]
    cold_limits: dict[str, float] = field(default_factory=dict)
    unverified: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DischargeLimits:
    standard: str
    title: str
    items: dict[str, tuple[str, str]]  # item -> (label, unit)
    classes: dict[DischargeClass, ClassLimits]
    cold_water_max_c: float | None = None

    def for_class(self, discharge_class: DischargeClass | str) -> ClassLimits | None:
        return self.classes.get(DischargeClass(discharge_class))


def parse_discharge_limits(data: Mapping[str, Any], *, source: str) -> DischargeLimits:
    check_keys(
        data,
        {"version", "standard", "title", "region", "cold_water_max_c", "items", "classes"},
        source=source,
        entry="(top level)",
    )
    standard = data.get("standard")
    if not isinstance(standard, str) or not standard:
        fail(source, "standard", "missing (e.g. 'DB33/973-2021')")
    cold = data.get("cold_water_max_c")
    cold_c = None if cold is None else number(cold, source=source, entry="cold_water_max_c")
    items_raw = table(data, "items", source=source, entry="")
    items: dict[str, tuple[str, str]] = {}
    for key, body in items_raw.items():
        if key not in SAMPLE_ITEMS:
            fail(source, f"items.{key}", f"not a sample item ({', '.join(SAMPLE_ITEMS)})")
        if not isinstance(body, dict) or not isinstance(body.get("label"), str):
            fail(source, f"items.{key}", "needs a label")
        items[key] = (body["label"], str(body.get("unit", "")))
    classes_raw = table(data, "classes", source=source, entry="")
    if not classes_raw:
        fail(source, "classes", "no classes")
    classes: dict[DischargeClass, ClassLimits] = {}
    for key, body in classes_raw.items():
        entry = f'classes."{key}"'
        try:
            klass = DischargeClass(key)
        except ValueError:
            choices = ", ".join(str(m) for m in DischargeClass)
            fail(source, entry, f"{key!r} is not a discharge class ({choices})")
        if not isinstance(body, dict):
            fail(source, entry, "must be a table")
        classes[klass] = _parse_class(body, klass, items, source=source, entry=entry)
    return DischargeLimits(
        standard=standard,
        title=str(data.get("title", "")),
        items=items,
        classes=classes,
        cold_water_max_c=cold_c,
    )


def _parse_class(
    body: dict[str, Any],
    klass: DischargeClass,
    items: dict[str, tuple[str, str]],
    *,
    source: str,
    entry: str,
) -> ClassLimits:
    check_keys(
        body, {"label", "ph", "limits", "cold_limits", "unverified"}, source=source, entry=entry
    )
    ph_raw = body.get("ph")
    ph: tuple[float, float] | None = None
    if ph_raw is not None:
        if not (isinstance(ph_raw, list) and len(ph_raw) == 2):
            fail(source, f"{entry}.ph", f"must be [min, max], got {ph_raw!r}")
        lo = number(ph_raw[0], source=source, entry=f"{entry}.ph")
        hi = number(ph_raw[1], source=source, entry=f"{entry}.ph")
        if not (lo < hi <= 14):
            fail(source, f"{entry}.ph", f"must be min < max <= 14, got {ph_raw!r}")
        ph = (lo, hi)

    def limit_table(key: str) -> dict[str, float]:
        raw = body.get(key, {})
        if not isinstance(raw, dict):
            fail(source, f"{entry}.{key}", "must be a table")
        result: dict[str, float] = {}
        for item, value in raw.items():
            if item == "ph" or item not in items:
                fail(source, f"{entry}.{key}.{item}", f"not a declared item ({sorted(items)})")
            result[item] = number(value, source=source, entry=f"{entry}.{key}.{item}")
        return result

    limits = limit_table("limits")
    cold = limit_table("cold_limits")
    for item, value in cold.items():
        if item not in limits:
            fail(source, f"{entry}.cold_limits.{item}", "has no normal limit")
        if value < limits[item]:
            fail(source, f"{entry}.cold_limits.{item}", "is stricter than the normal limit")
    unverified = str_list(body.get("unverified", []), source=source, entry=f"{entry}.unverified")
    for item in unverified:
        if item not in limits and not (item == "ph" and ph is not None):
            fail(source, f"{entry}.unverified", f"{item!r} has no limit in this class")
    label = body.get("label")
    if not isinstance(label, str) or not label:
        fail(source, f"{entry}.label", "missing Chinese label")
    return ClassLimits(klass, label, ph, limits, cold, frozenset(unverified))


@lru_cache(maxsize=1)
def load_discharge_limits() -> DischargeLimits:
    data, source = read_rules("discharge_limits.toml")
    return parse_discharge_limits(data, source=source)


# ---- discharge class rule ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleRule:
    discharge_class: DischargeClass
    water_classes: frozenset[WaterClass] | None = None
    min_m3d: float | None = None
    max_m3d: float | None = None

    def matches(self, water_class: WaterClass | None, capacity_m3d: float | None) -> bool:
        if self.water_classes is not None and water_class not in self.water_classes:
            return False
        if self.min_m3d is None and self.max_m3d is None:
            return True
        if capacity_m3d is None:
            return False
        if self.min_m3d is not None and capacity_m3d < self.min_m3d:
            return False
        return self.max_m3d is None or capacity_m3d < self.max_m3d


@dataclass(frozen=True)
class DischargeClassRule:
    by_water_class: dict[WaterClass, DischargeClass]
    scale_rules: tuple[ScaleRule, ...] = ()
    unverified: frozenset[WaterClass] = frozenset()

    def class_for(
        self, water_class: WaterClass | str | None, capacity_m3d: float | None = None
    ) -> DischargeClass | None:
        """The class a facility must meet from its receiving water and scale (None: no rule)."""
        water = WaterClass(water_class) if water_class is not None else None
        for rule in self.scale_rules:
            if rule.matches(water, capacity_m3d):
                return rule.discharge_class
        if water is None:
            return None
        return self.by_water_class.get(water)


def parse_discharge_class_rule(data: Mapping[str, Any], *, source: str) -> DischargeClassRule:
    check_keys(
        data,
        {"version", "by_water_class", "unverified", "scale_rules"},
        source=source,
        entry="(top level)",
    )
    raw = table(data, "by_water_class", source=source, entry="")
    mapping: dict[WaterClass, DischargeClass] = {}
    for key, value in raw.items():
        entry = f"by_water_class.{key}"
        (water,) = enum_values([key], WaterClass, source=source, entry=entry)
        (klass,) = enum_values([str(value)], DischargeClass, source=source, entry=entry)
        mapping[water] = klass
    unverified = enum_values(
        str_list(data.get("unverified", []), source=source, entry="unverified"),
        WaterClass,
        source=source,
        entry="unverified",
    )
    rules_raw = data.get("scale_rules", [])
    if not isinstance(rules_raw, list):
        fail(source, "scale_rules", "must be an array of tables ([[scale_rules]])")
    rules: list[ScaleRule] = []
    for index, body in enumerate(rules_raw):
        entry = f"scale_rules[{index}]"
        if not isinstance(body, dict):
            fail(source, entry, "must be a table")
        check_keys(
            body, {"water_classes", "min_m3d", "max_m3d", "class"}, source=source, entry=entry
        )
        if "class" not in body:
            fail(source, f"{entry}.class", "missing")
        (klass,) = enum_values([str(body["class"])], DischargeClass, source=source, entry=entry)
        waters = None
        if "water_classes" in body:
            waters = enum_values(
                str_list(body["water_classes"], source=source, entry=f"{entry}.water_classes"),
                WaterClass,
                source=source,
                entry=f"{entry}.water_classes",
            )
        lo = body.get("min_m3d")
        hi = body.get("max_m3d")
        lo_f = None if lo is None else number(lo, source=source, entry=f"{entry}.min_m3d")
        hi_f = None if hi is None else number(hi, source=source, entry=f"{entry}.max_m3d")
        if lo_f is not None and hi_f is not None and lo_f >= hi_f:
            fail(source, entry, f"min_m3d {lo_f} must be below max_m3d {hi_f}")
        rules.append(ScaleRule(klass, waters, lo_f, hi_f))
    return DischargeClassRule(mapping, tuple(rules), unverified)


@lru_cache(maxsize=1)
def load_discharge_class_rule() -> DischargeClassRule:
    data, source = read_rules("discharge_class_rule.toml")
    return parse_discharge_class_rule(data, source=source)
