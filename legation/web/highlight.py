"""Report text cut into plain and highlighted segments from the stored extraction spans.

Segments are plain strings with a label; the template escapes each one, so hostile report text
never reaches the page as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from legation.extract.text import read_text

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
    label: str | None = None  # the field a highlighted segment is evidence for (the narrowest)
    value: str | None = None
    fields: tuple[tuple[str, str], ...] = ()  # every (label, value) whose span covers the text

    @property
    def title(self) -> str:
        return "; ".join(f"{label}: {value}" for label, value in self.fields)


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
    """The text in order, cut at every span's ends so that overlapping spans all stay
    highlighted: each piece names every field whose span covers it (the narrowest first).
    Empty or out-of-range spans are dropped."""
    good = sorted(
        {s for s in spans if 0 <= s[0] < s[1] <= len(text)}, key=lambda s: (s[1] - s[0], s[0])
    )
    cuts = sorted({0, len(text), *(s[0] for s in good), *(s[1] for s in good)})
    out: list[Segment] = []
    for start, end in pairwise(cuts):
        covering = [s for s in good if s[0] <= start and end <= s[1]]
        piece = text[start:end]
        if not covering:
            if out and out[-1].label is None:
                out[-1] = Segment(out[-1].text + piece)
            else:
                out.append(Segment(piece))
            continue
        fields = tuple((label, value) for _, _, label, value in covering)
        out.append(Segment(piece, covering[0][2], covering[0][3], fields))
    return out


def report_segments(
    title: str | None, text: str, spans: list[tuple[int, int, str, str]]
) -> tuple[list[Segment] | None, list[Segment]]:
    """Segments of a report's title (None when the extractor did not read it apart) and of its
    text. The spans are offsets into what the extractor read: the title, a blank line, the
    text (``read_text``); they are moved back onto the title and the text shown."""
    if title is None or read_text(title, text) == text:
        return None, segments(text, spans)
    head = len(title) + 2
    in_title = [s for s in spans if s[1] <= len(title)]
    in_text = [(a - head, b - head, label, value) for a, b, label, value in spans if a >= head]
    return segments(title, in_title), segments(text, in_text)
