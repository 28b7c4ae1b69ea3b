"""Report text cut into plain and highlighted segments from the stored extraction spans.

Segments are plain strings with a label; the template escapes each one, so hostile report text
never reaches the page as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Extraction fields with one piece of evidence, and those with a list of them.
SINGLE = {
    "type": "type",
    "weapon": "weapon",
    "date_evidence": "date",
    "place_evidence": "place",
    "killed": "killed",
    "injured": "injured",
}
MANY = {
    "perpetrator_individuals": "perpetrator",
    "perpetrator_organizations": "organisation",
    "human_targets": "target",
    "physical_targets": "target",
    "target_categories": "target category",
}


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    label: str | None = None  # the field a highlighted segment is evidence for
    value: str | None = None


def evidence_spans(extraction: dict[str, Any]) -> list[tuple[int, int, str, str]]:
    """(start, end, label, value) of every field's span in a stored extraction."""
    found = []
    items: list[tuple[str, Any]] = [(label, extraction.get(f)) for f, label in SINGLE.items()]
    for field, label in MANY.items():
        items.extend((label, e) for e in extraction.get(field) or [])
    for label, evidence in items:
        span = evidence.get("span") if isinstance(evidence, dict) else None
        if span and isinstance(span.get("start"), int) and isinstance(span.get("end"), int):
            found.append((span["start"], span["end"], label, str(evidence.get("value", ""))))
    return found


def segments(text: str, spans: list[tuple[int, int, str, str]]) -> list[Segment]:
    """The text in order, spans highlighted; overlapping or out-of-range spans are dropped."""
    out: list[Segment] = []
    at = 0
    for start, end, label, value in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < at or end <= start or end > len(text):
            continue
        if start > at:
            out.append(Segment(text[at:start]))
        out.append(Segment(text[start:end], label, value))
        at = end
    if at < len(text):
        out.append(Segment(text[at:]))
    return out
