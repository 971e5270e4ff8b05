"""The measures the engine counts, per village (or per facility's unit): the vocabulary of the
numerators and denominators in ``rules/indicators.toml``.

A *state* measure is taken as of the period's last day from the history tables; a *flow* measure
is summed over the period. Household measures exist per population: resident 常住户, registered
户籍户, due 应改户 (households due for toilet renovation) and all.
"""

from __future__ import annotations

from dataclasses import dataclass

POPULATIONS = ("resident", "registered", "due", "all")
POPULATION_LABELS = {"resident": "常住户", "registered": "户籍户", "due": "应改户", "all": "全部户"}
METHODS = ("measured", "estimated")
METHOD_LABELS = {"measured": "称重", "estimated": "估算"}


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    kind: str  # "state" | "flow"
    unit: str  # "户", "个", "吨", ...
    attributed_to: str  # where a value is counted: village | town | facility unit


def _household_measures() -> list[Measure]:
    result: list[Measure] = []
    for pop in POPULATIONS:
        label = POPULATION_LABELS[pop]
        result += [
            Measure(f"households_{pop}", f"{label}数", "state", "户", "village"),
            Measure(
                f"toilet_sanitary_{pop}",
                f"{label}中卫生厕所(含无害化)在用户数",
                "state",
                "户",
                "village",
            ),
            Measure(
                f"toilet_harmless_{pop}",
                f"{label}中无害化卫生厕所在用户数",
                "state",
                "户",
                "village",
            ),
            Measure(
                f"sewage_treated_{pop}", f"{label}中污水得到处理的户数", "state", "户", "village"
            ),
            Measure(
                f"courtyard_pass_{pop}", f"{label}中美丽庭院达标户数", "state", "户", "village"
            ),
        ]
    return result


def _tonnage_measures() -> list[Measure]:
    result: list[Measure] = []
    for method in METHODS:
        label = METHOD_LABELS[method]
        where = "node unit"
        result += [
            Measure(f"tonnes_total_{method}", f"处置总量({label})", "flow", "吨", where),
            Measure(f"tonnes_recycled_{method}", f"回收利用量({label})", "flow", "吨", where),
            Measure(f"tonnes_resource_use_{method}", f"资源化利用量({label})", "flow", "吨", where),
            Measure(f"tonnes_harmless_{method}", f"无害化处理量({label})", "flow", "吨", where),
            Measure(f"station_inflow_{method}", f"转运站进站量({label})", "flow", "吨", "town"),
            Measure(
                f"station_capacity_{method}",
                f"有{label}记录的转运站设计能力×天数",
                "flow",
                "吨",
                "town",
            ),
        ]
    return result


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        *_household_measures(),
        Measure("villages", "行政村数", "state", "个", "village"),
        Measure("villages_chain_covered", "收运处置链条完整运行的村数", "state", "个", "village"),
        Measure("villages_titled", "持有县级及以上文明村称号的村数", "state", "个", "village"),
        Measure("sewage_facilities_in_service", "在役污水设施数", "state", "座", "village"),
        Measure("sewage_facilities_operating", "正常运行污水设施数", "state", "座", "village"),
        Measure("samples_judged", "可判定水样数", "flow", "个", "village"),
        Measure("samples_compliant", "达标水样数", "flow", "个", "village"),
        Measure("samples_unjudged", "无法判定的水样数(无执行等级)", "flow", "个", "village"),
        Measure("sorting_inspections", "入户抽查户次", "flow", "户次", "village"),
        Measure("sorting_participated", "参与分类户次", "flow", "户次", "village"),
        Measure("sorting_judged", "判定准确性的户次", "flow", "户次", "village"),
        Measure("sorting_correct", "分类准确户次", "flow", "户次", "village"),
        *_tonnage_measures(),
    ]
}
