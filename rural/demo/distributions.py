"""The stated distributions of the demo data. The generator draws from these and the tests
check the generated data against them; change a figure here and both follow."""

from __future__ import annotations

from rural.enums import (
    ExcretaDestination,
    ProblemStatus,
    SewageMode,
    TitleLevel,
    ToiletCondition,
    ToiletType,
    WaterClass,
)

# Households 户
RESIDENT_SHARE = 0.86  # 常住户
REGISTERED_SHARE = 0.93  # 户籍户
DUE_FOR_RENOVATION_SHARE = 0.82  # 应改户
MEMBERS_MAX_EXTRA = 5  # members = 1 + Binomial(5, 0.35)
MEMBERS_P = 0.35

# Village renovation progress 改厕进度. Every rural village belongs to one group: per county the
# group sizes are these shares of its rural villages (rounded to whole villages); weak towns and
# remote villages lag more often (see rural.demo.progress). Units not counted as villages (urban
# communities) draw as "typical".
# The lagging villages are listed in the manifest; every group in its progress_groups.
PROGRESS_GROUPS: dict[str, str] = {
    "leading": "领先",
    "ahead": "较快",
    "typical": "一般",
    "behind": "较慢",
    "lagging": "滞后",
}
PROGRESS_VILLAGE_SHARES: dict[str, float] = {
    "leading": 0.05,
    "ahead": 0.20,
    "typical": 0.50,
    "behind": 0.17,
    "lagging": 0.08,
}
# What the toilet shares below make of each group's harmless rate (households with a harmless
# toilet in use): about 0.97 leading, 0.87 ahead, 0.75 typical, 0.54 behind, 0.31 lagging.
# The map's lowest class ends at 50%: every lagging village's harmless rate stays below it.
LAGGING_HARMLESS_CEILING = 0.50

# Household toilets 户厕. The class is derived by the project's rule
# (rural.ledgers.kinds.classify_toilet) from type, condition and destination.
# A household's toilet: none with NO_TOILET_SHARES[group]; else of a type family with
# TOILET_FAMILY_SHARES[group], and within the family a type in proportion to TOILET_TYPE_WEIGHTS.
TOILET_FAMILIES: dict[str, frozenset[ToiletType]] = {
    "harmless_type": frozenset(
        {
            ToiletType.THREE_COMPARTMENT,
            ToiletType.DOUBLE_URN,
            ToiletType.BIOGAS,
            ToiletType.URINE_DIVERTING,
            ToiletType.DOUBLE_PIT,
            ToiletType.FLUSH_SEWER,
            ToiletType.CENTRAL_EMPTYING,
        }
    ),
    "sanitary_type": frozenset({ToiletType.DEEP_PIT_FROSTPROOF, ToiletType.LOFT}),
    "flush_other": frozenset({ToiletType.FLUSH_OTHER}),  # often piped straight out
    "old_pit": frozenset({ToiletType.SINGLE_PIT, ToiletType.OPEN_PIT}),  # never renovated
}
TOILET_TYPE_WEIGHTS: dict[ToiletType, float] = {
    ToiletType.THREE_COMPARTMENT: 0.52,
    ToiletType.DOUBLE_URN: 0.03,
    ToiletType.BIOGAS: 0.04,
    ToiletType.URINE_DIVERTING: 0.01,
    ToiletType.DOUBLE_PIT: 0.02,
    ToiletType.FLUSH_SEWER: 0.13,
    ToiletType.CENTRAL_EMPTYING: 0.02,
    ToiletType.DEEP_PIT_FROSTPROOF: 0.02,
    ToiletType.LOFT: 0.01,
    ToiletType.FLUSH_OTHER: 0.08,
    ToiletType.SINGLE_PIT: 0.08,
    ToiletType.OPEN_PIT: 0.04,
}
NO_TOILET_SHARES: dict[str, float] = {
    "leading": 0.0,
    "ahead": 0.01,
    "typical": 0.02,
    "behind": 0.03,
    "lagging": 0.05,
}
TOILET_FAMILY_SHARES: dict[str, dict[str, float]] = {
    "leading": {
        "harmless_type": 0.99,
        "sanitary_type": 0.005,
        "flush_other": 0.005,
        "old_pit": 0.0,
    },
    "ahead": {"harmless_type": 0.94, "sanitary_type": 0.02, "flush_other": 0.02, "old_pit": 0.02},
    "typical": {"harmless_type": 0.84, "sanitary_type": 0.04, "flush_other": 0.06, "old_pit": 0.06},
    "behind": {"harmless_type": 0.66, "sanitary_type": 0.05, "flush_other": 0.12, "old_pit": 0.17},
    "lagging": {"harmless_type": 0.40, "sanitary_type": 0.05, "flush_other": 0.20, "old_pit": 0.35},
}
OLD_TYPES = TOILET_FAMILIES["old_pit"]
# Share of each type whose excreta goes out untreated (直排): those are non-sanitary.
UNTREATED_SHARE: dict[ToiletType, float] = {
    ToiletType.THREE_COMPARTMENT: 0.02,
    ToiletType.FLUSH_OTHER: 0.35,
    ToiletType.SINGLE_PIT: 0.30,
    ToiletType.OPEN_PIT: 0.50,
}
DESTINATION_BY_TYPE: dict[ToiletType, ExcretaDestination] = {
    ToiletType.THREE_COMPARTMENT: ExcretaDestination.ONSITE_TANK,
    ToiletType.DOUBLE_URN: ExcretaDestination.ONSITE_TANK,
    ToiletType.BIOGAS: ExcretaDestination.ONSITE_TANK,
    ToiletType.URINE_DIVERTING: ExcretaDestination.FIELD_AFTER_TREATMENT,
    ToiletType.DOUBLE_PIT: ExcretaDestination.FIELD_AFTER_TREATMENT,
    ToiletType.FLUSH_SEWER: ExcretaDestination.SEWER_TREATED,
    ToiletType.CENTRAL_EMPTYING: ExcretaDestination.CENTRAL_EMPTYING,
    ToiletType.DEEP_PIT_FROSTPROOF: ExcretaDestination.ONSITE_TANK,
    ToiletType.LOFT: ExcretaDestination.ONSITE_TANK,
    ToiletType.FLUSH_OTHER: ExcretaDestination.ONSITE_TANK,
    ToiletType.SINGLE_PIT: ExcretaDestination.UNKNOWN,
    ToiletType.OPEN_PIT: ExcretaDestination.UNKNOWN,
}
# Current condition. Renovated toilets (every family but the old pits) are in use with
# RENOVATED_IN_USE_SHARES[group]; those not in use split as RENOVATED_OUT_OF_USE_SHARES.
RENOVATED_IN_USE_SHARES: dict[str, float] = {
    "leading": 0.99,
    "ahead": 0.95,
    "typical": 0.92,
    "behind": 0.86,
    "lagging": 0.82,
}
RENOVATED_OUT_OF_USE_SHARES: dict[ToiletCondition, float] = {
    ToiletCondition.LEAKING: 0.25,
    ToiletCondition.BLOCKED: 0.17,
    ToiletCondition.FROZEN: 0.04,
    ToiletCondition.UNUSED: 0.37,
    ToiletCondition.BUILDING: 0.17,
}
OLD_CONDITION_SHARES: dict[ToiletCondition, float] = {
    ToiletCondition.IN_USE: 0.80,
    ToiletCondition.LEAKING: 0.05,
    ToiletCondition.UNUSED: 0.15,
}
TOILET_LEDGER_START_YEAR = 2015  # first state of old toilets; renovations built 2015..as_of
RENOVATION_YEAR_WEIGHTS: dict[int, float] = {
    2015: 4,
    2016: 6,
    2017: 9,
    2018: 12,
    2019: 13,
    2020: 12,
    2021: 11,
    2022: 9,
    2023: 8,
    2024: 7,
    2025: 5,
    2026: 4,
}
PRIOR_PIT_SHARE = 0.3  # renovated toilets whose ledger also shows the old pit they replaced
CHANGE_IN_WINDOW_SHARE = 0.5  # broken/unused toilets that became so within the 12 months
REPAIRED_SHARE = 0.05  # toilets in use that broke and were repaired within the 12 months


# Village public toilets 农村公厕: 1 or 2 per village
PUBLIC_TOILET_SECOND_SHARE = 0.5
PUBLIC_TOILET_CONDITION_SHARES: dict[ToiletCondition, float] = {
    ToiletCondition.IN_USE: 0.90,
    ToiletCondition.LEAKING: 0.02,
    ToiletCondition.BLOCKED: 0.03,
    ToiletCondition.UNUSED: 0.03,
    ToiletCondition.BUILDING: 0.02,
}

# Garbage 垃圾
CATEGORIES = ("recyclable", "hazardous", "perishable", "other")  # the four-class scheme keys
CATEGORY_SHARES = {"recyclable": 0.13, "hazardous": 0.01, "perishable": 0.46, "other": 0.40}
KG_PER_RESIDENT_DAY = 0.85
POINTS_PER_VILLAGE_SHARES = {1: 0.5, 2: 0.35, 3: 0.15}
COLLECTION_WEEKS = 52  # one collection log per point and week

# Courtyards 美丽庭院
COURTYARD_RATED_SHARE = 0.70
COURTYARD_STAR_SHARES: dict[int, float] = {1: 0.06, 2: 0.16, 3: 0.38, 4: 0.28, 5: 0.12}
COURTYARD_COUNTY_SHARE_BELOW_5 = 0.10  # ratings under 5 stars awarded by the county
COURTYARD_PUBLISHED_SHARE = 0.85
COURTYARD_ITEMS = ("居室美", "环境美", "绿化美", "布局美", "家风美")

# Household sorting spot checks 入户抽查
SORTING_SAMPLE_SHARE = 0.08  # households checked once within the 12 months
SORTING_PARTICIPATION = 0.90
SORTING_ACCURACY = 0.82  # among those who sorted

# Sewage 污水
SEWAGE_VILLAGE_SHARE = 0.75  # villages (村委会) with a facility; communities are all piped
SEWAGE_MODE_SHARES: dict[SewageMode, float] = {
    SewageMode.CENTRALIZED: 0.55,
    SewageMode.DECENTRALIZED: 0.25,
    SewageMode.PIPED: 0.20,
}
SEWAGE_CONNECTION_SHARE = 0.85  # households connected, in villages that have a facility
SEWAGE_FAULTY_SHARE = 0.04  # non-piped facilities in fault or stopped at as_of
SEWAGE_PAST_FAULT_SHARE = 0.08  # operating facilities with a repaired fault in the 12 months
WATER_CLASS_SHARES: dict[WaterClass, float] = {
    WaterClass.II: 0.15,
    WaterClass.III: 0.40,
    WaterClass.IV: 0.20,
    WaterClass.V: 0.05,
    WaterClass.POND_DITCH: 0.20,
}
SAMPLE_PASS_RATE = 0.90  # effluent samples within every limit of their class

# Problems 督查整改
PROBLEMS_PER_VILLAGE = 1.5
PROBLEM_STATUS_SHARES: dict[ProblemStatus, float] = {
    ProblemStatus.REGISTERED: 0.06,
    ProblemStatus.ASSIGNED: 0.10,
    ProblemStatus.FIXING: 0.18,
    ProblemStatus.AWAITING_CHECK: 0.08,
    ProblemStatus.CLOSED: 0.58,
}
PROBLEM_DEADLINE_DAYS = (7, 15, 30)
FAILED_CHECK_SHARE = 0.15  # closed problems that failed a check once (back to 整改中)

# Civilized titles 文明村镇称号 (county level and up). Each rural village, by its progress group:
# holds a title in force on as_of (TITLE_HELD_SHARES), or had its only title revoked at the last
# re-check (TITLE_REVOKED_SHARES), or neither. A holder's highest level follows
# TITLE_LEVEL_SHARES; it was named at each level from the county up to that one, in distinct
# campaign years, lower levels first. Revoked titles were county titles.
TITLE_HELD_SHARES: dict[str, float] = {
    "leading": 0.90,
    "ahead": 0.60,
    "typical": 0.47,
    "behind": 0.25,
    "lagging": 0.05,
}
TITLE_REVOKED_SHARES: dict[str, float] = {
    "leading": 0.0,
    "ahead": 0.02,
    "typical": 0.03,
    "behind": 0.05,
    "lagging": 0.15,
}
TITLE_LEVEL_SHARES: dict[TitleLevel, float] = {
    TitleLevel.COUNTY: 0.55,
    TitleLevel.CITY: 0.30,
    TitleLevel.PROVINCE: 0.12,
    TitleLevel.NATION: 0.03,
}
# One campaign per level and year, named on 20 December, for the TITLE_CAMPAIGN_YEARS years up
# to the last 20 December on or before as_of (2019-2025 for the default as_of, 2026-10-31).
TITLE_CAMPAIGN_YEARS = 7
TITLE_CAMPAIGN_DAY = (12, 20)
# The county's yearly re-check 复查 decides on 26 March: the last one on or before as_of revokes
# (2026-03-26 for the default as_of).
TITLE_RECHECK_DAY = (3, 26)
TITLE_REVOKE_REASONS = (
    "复查不合格：人居环境整治不到位",
    "复查不合格：垃圾分类和污水治理长效管护缺位",
    "一票否决：村干部严重违纪违法",
    "一票否决：发生较大安全生产事故",
)
# Towns per county named 文明乡镇, and their level.
TOWN_TITLES = 2
TOWN_TITLE_LEVEL_SHARES: dict[TitleLevel, float] = {TitleLevel.CITY: 0.5, TitleLevel.PROVINCE: 0.5}
