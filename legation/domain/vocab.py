"""Load and validate the reviewed vocabulary files in ``domain/data``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from legation.errors import ConfigError

_M = TypeVar("_M", bound=BaseModel)

INCIDENT_TYPES = (
    "assassination",
    "armed_assault",
    "bombing",
    "kidnapping",
    "hostage_taking",
    "hijacking",
    "arson",
    "unarmed_assault",
    "vehicle_ramming",
    "threat",
    "unrest",
    "other",
)
WEAPONS = (
    "firearm",
    "explosive",
    "vehicle",
    "incendiary",
    "melee",
    "chemical_biological",
    "unknown",
)
TARGET_CATEGORIES = (
    "diplomat",
    "government",
    "police_military",
    "civilians",
    "religious",
    "business",
    "transport",
    "media",
    "ngo_aid",
    "other",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IncidentType(_Strict):
    label: str
    severity: float
    muc4: str | None


class Taxonomy(_Strict):
    incident_types: dict[str, IncidentType]
    weapons: dict[str, str]
    target_categories: dict[str, str]


class SeverityWeights(_Strict):
    killed_weight: float
    injured_weight: float


class ProximityWeights(_Strict):
    full_km: float
    scale_km: float
    cutoff_km: float
    same_country_floor: float


class RecencyWeights(_Strict):
    half_life_days: float
    horizon_days: float


class MatchWeights(_Strict):
    diplomatic_target: float
    same_operator: float
    same_operator_country_floor: float


class AppearanceModel(_Strict):
    radius_km: float
    checklist: dict[int, list[str]]


class ThreatModel(_Strict):
    severity: SeverityWeights
    proximity: ProximityWeights
    recency: RecencyWeights
    match: MatchWeights
    levels: dict[int, float]
    appearance: AppearanceModel


def read_data_file(name: str) -> Any:
    """Parse a YAML file shipped in ``legation/domain/data``."""
    text = resources.files("legation.domain").joinpath("data", name).read_text("utf-8")
    return yaml.safe_load(text)


@cache
def taxonomy() -> Taxonomy:
    tax = _validated(Taxonomy, "taxonomy.yaml")
    _require_keys("taxonomy.yaml incident_types", tax.incident_types, INCIDENT_TYPES)
    _require_keys("taxonomy.yaml weapons", tax.weapons, WEAPONS)
    _require_keys("taxonomy.yaml target_categories", tax.target_categories, TARGET_CATEGORIES)
    return tax


@cache
def threat_model() -> ThreatModel:
    model = _validated(ThreatModel, "threat.yaml")
    if sorted(model.levels) != [2, 3, 4, 5] or sorted(model.levels.values()) != list(
        model.levels.values()
    ):
        raise ConfigError("threat.yaml levels: need increasing thresholds for levels 2, 3, 4, 5")
    return model


def _validated(model: type[_M], name: str) -> _M:
    try:
        return model.model_validate(read_data_file(name))
    except ValidationError as exc:
        raise ConfigError(f"{name} is invalid: {exc}") from exc


def _require_keys(where: str, found: dict[str, Any], expected: tuple[str, ...]) -> None:
    if set(found) != set(expected):
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        raise ConfigError(f"{where}: missing {missing}, unexpected {extra}")
