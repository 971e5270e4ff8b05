"""Every table of the domain. Importing this package registers them all on ``SQLModel.metadata``."""

from sqlmodel import SQLModel

from rural.models.audit import ChangeLog, StatusChange
from rural.models.civilization import CivilizedTitle
from rural.models.courtyard import CourtyardRating
from rural.models.facilities import PublicToilet
from rural.models.garbage import (
    ChainLink,
    CollectionLog,
    CollectionPoint,
    SortingInspection,
    TonnageRecord,
    TransferStation,
    TreatmentFacility,
)
from rural.models.households import PERSONAL_FIELDS, Household, HouseholdToilet, ToiletState
from rural.models.people import User
from rural.models.problems import Problem, ProblemPhoto
from rural.models.security import (
    PersonalAccessToken,
    RateCounter,
    SecurityEvent,
    SecurityEventKind,
    WebSession,
)
from rural.models.sewage import (
    EffluentSample,
    RepairRequest,
    SewageConnection,
    SewageFacility,
    SewageInspection,
)
from rural.models.units import DatasetInfo, Unit, UnitCrosswalk, UnitSuccessor

metadata = SQLModel.metadata

__all__ = [
    "PERSONAL_FIELDS",
    "ChainLink",
    "ChangeLog",
    "CivilizedTitle",
    "CollectionLog",
    "CollectionPoint",
    "CourtyardRating",
    "DatasetInfo",
    "EffluentSample",
    "Household",
    "HouseholdToilet",
    "PersonalAccessToken",
    "Problem",
    "ProblemPhoto",
    "PublicToilet",
    "RateCounter",
    "RepairRequest",
    "SecurityEvent",
    "SecurityEventKind",
    "SewageConnection",
    "SewageFacility",
    "SewageInspection",
    "SortingInspection",
    "StatusChange",
    "ToiletState",
    "TonnageRecord",
    "TransferStation",
    "TreatmentFacility",
    "Unit",
    "UnitCrosswalk",
    "UnitSuccessor",
    "User",
    "WebSession",
    "metadata",
]
