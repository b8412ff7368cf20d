"""SQLAlchemy models: data and invariants only (no commits, no url_for)."""

from app.models.areas import (
    CODE_LENGTHS,
    LEVEL_NAMES,
    LEVEL_VALUES,
    Area,
    AreaVersion,
    Level,
    default_area_name,
)
from app.models.base import Base
from app.models.hazards import (
    HAZARD_CLASSES,
    SITE_TYPES,
    Hazard,
    ReconstructionSite,
    SiteMilestone,
    SiteProgress,
)
from app.models.households import (
    HOUSEHOLD_TAGS,
    VULNERABLE_TAGS,
    AssignmentRun,
    Household,
    HouseholdGrid,
    HouseholdGridHistory,
)
from app.models.incidents import (
    CHANNELS,
    OPEN_STATUSES,
    Incident,
    IncidentCategory,
    IncidentEvent,
    Status,
)
from app.models.users import ApiToken, Department, PersonalDataRead, Role, User, WorkerGrid

__all__ = [
    "CODE_LENGTHS",
    "LEVEL_NAMES",
    "default_area_name",
    "CHANNELS",
    "HAZARD_CLASSES",
    "HOUSEHOLD_TAGS",
    "LEVEL_VALUES",
    "OPEN_STATUSES",
    "SITE_TYPES",
    "VULNERABLE_TAGS",
    "ApiToken",
    "Area",
    "AreaVersion",
    "AssignmentRun",
    "Base",
    "Department",
    "Hazard",
    "Household",
    "PersonalDataRead",
    "HouseholdGrid",
    "HouseholdGridHistory",
    "Incident",
    "IncidentCategory",
    "IncidentEvent",
    "Level",
    "ReconstructionSite",
    "Role",
    "SiteMilestone",
    "SiteProgress",
    "Status",
    "User",
    "WorkerGrid",
]
