"""The stated distributions of the demo data. The generator draws from these and the tests
check the generated data against them; change a figure here and both follow."""

from __future__ import annotations

from rural.enums import (
    ExcretaDestination,
    ProblemStatus,
    SewageMode,
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

# Household toilets 户厕. The class is derived by the project's rule
# (rural.ledgers.kinds.classify_toilet) from type, condition and destination.
NO_TOILET_SHARE = 0.02  # households with no toilet (no ledger row)
TOILET_TYPE_SHARES: dict[ToiletType, float] = {
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
OLD_TYPES = frozenset({ToiletType.SINGLE_PIT, ToiletType.OPEN_PIT})  # never renovated
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
# Current condition, for renovated toilets (every type but the old pits) and for old pits.
RENOVATED_CONDITION_SHARES: dict[ToiletCondition, float] = {
    ToiletCondition.IN_USE: 0.88,
    ToiletCondition.LEAKING: 0.03,
    ToiletCondition.BLOCKED: 0.02,
    ToiletCondition.FROZEN: 0.005,
    ToiletCondition.UNUSED: 0.045,
    ToiletCondition.BUILDING: 0.02,
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
