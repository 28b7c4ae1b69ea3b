"""MUC-4 answer keys: templates with optional fills and alternatives.

A key file holds templates separated by blank lines; each slot is ``N.  NAME  VALUE`` and
further fills of the slot continue on indented lines. A fill is ``*`` (no template: the
message reports no relevant incident), ``-`` (slot empty), or strings in double quotes,
alternatives separated by ``/``; ``?`` marks a fill as optional, and set fills read
``SET VALUE: "STRING"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROLES = {
    "PERP: INDIVIDUAL ID": "perpetrator_individuals",
    "PERP: ORGANIZATION ID": "perpetrator_organizations",
    "PHYS TGT: ID": "physical_targets",
    "HUM TGT: NAME": "human_targets",
    "HUM TGT: DESCRIPTION": "human_targets",
    "INCIDENT: INSTRUMENT ID": "weapons",
}
_SLOT = re.compile(r"^(\d+)\.\s+([A-Z ]+?:\s?[A-Z ]+?)\s{2,}(.*)$")
_QUOTED = re.compile(r'"([^"]*)"')


@dataclass(frozen=True, slots=True)
class GoldEntity:
    """One filler with its alternative strings; optional ones cost nothing when missed."""

    alternatives: tuple[str, ...]
    optional: bool = False


@dataclass(slots=True)
class GoldTemplate:
    message: str
    type: str
    date: str
    location: str
    stage: str
    roles: dict[str, list[GoldEntity]] = field(default_factory=dict)


def _slots(block: str) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    current: str | None = None
    for line in block.splitlines():
        match = _SLOT.match(line)
        if match:
            current = match.group(2).strip()
            slots[current] = [match.group(3).strip()]
        elif current is not None and line.strip():
            slots[current].append(line.strip())
    return slots


def parse_fill(line: str, *, description: bool = False) -> GoldEntity | None:
    """One fill line: its quoted alternatives. In a description slot, ``"DESC": "NAME"``
    links a description to a name; the fill is the description."""
    optional = line.startswith("?")
    if description and '": "' in line:
        line = line.split('": "', 1)[0] + '"'
    strings = [s.strip() for s in _QUOTED.findall(line) if s.strip()]
    if not strings:
        return None
    return GoldEntity(tuple(dict.fromkeys(strings)), optional)


def parse_templates(text: str) -> Iterator[GoldTemplate]:
    """Templates of one key file; messages without a relevant incident yield one with type ''."""
    for block in re.split(r"\n\s*\n", text):
        slots = _slots(block)
        if "MESSAGE: ID" not in slots:
            continue
        message = slots["MESSAGE: ID"][0].split()[0]
        incident_type = slots.get("INCIDENT: TYPE", ["*"])[0].lstrip("? ").strip()
        template = GoldTemplate(
            message=message,
            type="" if incident_type in ("*", "-") else incident_type,
            date=slots.get("INCIDENT: DATE", ["-"])[0],
            location=slots.get("INCIDENT: LOCATION", ["-"])[0],
            stage=slots.get("INCIDENT: STAGE OF EXECUTION", ["-"])[0],
        )
        for slot, role in ROLES.items():
            for line in slots.get(slot, []):
                entity = (
                    parse_fill(line, description=slot.endswith("DESCRIPTION"))
                    if line not in ("*", "-")
                    else None
                )
                if entity is not None:
                    template.roles.setdefault(role, []).append(entity)
        yield template


def read_keys(paths: list[Path]) -> dict[str, list[GoldTemplate]]:
    """Message id -> its templates (empty when the message reports no relevant incident)."""
    keys: dict[str, list[GoldTemplate]] = {}
    for path in paths:
        for template in parse_templates(path.read_text("latin-1")):
            found = keys.setdefault(template.message, [])
            if template.type:
                found.append(template)
    return keys


def key_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("key-"))
