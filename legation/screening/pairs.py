"""The pairs contract: score given (left, right) pairs with the matcher's scorer, no retrieval.

Input lines ``{"id", "left": {"schema", "name", "birth_date"?, "nationality"?}, "right": …}``;
output lines ``{"id", "score", "explanation"}`` or ``{"id", "error"}`` for a bad line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from legation.screening.matcher import Subject, score_pair

MAX_LINE_CHARS = 100_000


def side(raw: Any, label: str) -> Subject:
    """A Subject from one side of a pair; ``ValueError`` naming the side when malformed."""
    if not isinstance(raw, dict):
        raise ValueError(f"{label} is not an object")
    name = raw.get("name")
    given = name if isinstance(name, list) else [name]
    names = [n for n in given if isinstance(n, str) and n.strip()]
    if not names or len(names) != len(given):
        raise ValueError(f"{label}.name is missing or empty")
    birth = raw.get("birth_date")
    nationality = raw.get("nationality")
    return Subject.build(
        label,
        str(raw.get("schema") or "LegalEntity"),
        names,
        birth_dates=[birth] if isinstance(birth, str) and birth else [],
        countries=[nationality.lower()] if isinstance(nationality, str) and nationality else [],
        identifiers=[str(i) for i in raw.get("identifiers") or [] if i],
    )


def score_line(line: str, number: int) -> dict[str, Any]:
    if len(line) > MAX_LINE_CHARS:
        return {"id": None, "error": f"line {number}: longer than {MAX_LINE_CHARS} characters"}
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"line {number}: not JSON ({exc.msg})"}
    pair_id = raw.get("id") if isinstance(raw, dict) else None
    try:
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        result = score_pair(side(raw.get("left"), "left"), side(raw.get("right"), "right"))
    except ValueError as exc:
        return {"id": pair_id, "error": f"line {number}: {exc}"}
    return {"id": pair_id, "score": round(result.score, 4), "explanation": result.explanation()}


def score_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield score_line(line, number)
