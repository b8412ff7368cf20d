"""Importing areas and households from files: every feature or row checked, all or nothing."""

from app.services.imports.areas import AreaImport, import_areas, load_areas
from app.services.imports.households import (
    HOUSEHOLD_COLUMNS,
    HouseholdImport,
    import_households,
    load_household_frame,
    load_households,
)

__all__ = [
    "HOUSEHOLD_COLUMNS",
    "AreaImport",
    "HouseholdImport",
    "import_areas",
    "import_households",
    "load_areas",
    "load_household_frame",
    "load_households",
]
