"""What a user may see, passed into every query as a parameter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """The grids a user's queries are limited to, and whether they see personal data.

    ``grid_ids`` is None for an unrestricted scope (the whole district).
    """

    user_id: int | None
    grid_ids: frozenset[int] | None
    sees_personal_data: bool

    @classmethod
    def everything(cls, *, user_id: int | None = None, personal: bool = True) -> Scope:
        return cls(user_id=user_id, grid_ids=None, sees_personal_data=personal)

    @property
    def restricted(self) -> bool:
        return self.grid_ids is not None

    def allows_grid(self, grid_id: int | None) -> bool:
        return self.grid_ids is None or grid_id in self.grid_ids
