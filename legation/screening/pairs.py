"""The pairs contract: score given (left, right) pairs with the matcher's scorer, no retrieval.

Input lines ``{"id", "left": {"schema", "name", "birth_date"?, "nationality"?}, "right": …}``;
output lines ``{"id", "score", "explanation"}`` or ``{"id", "error"}`` for a bad line. Each
side is checked like a screening query (``Query``): an unknown schema, an impossible birth
date or an unknown country is that line's error, and a country name counts as its code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from legation.errors import InputError
from legation.screening.matcher import Subject, score_pair
from legation.screening.query import Query

MAX_LINE_CHARS = 100_000
# the id of an over-long line, read from its start when it is the first key
_LEADING_ID = re.compile(r'\s*\{\s*"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,20})\s*[,}]')


def side(raw: Any, label: str) -> Subject:
    """A Subject from one side of a pair; ``ValueError`` naming the side when malformed."""
    if not isinstance(raw, dict):
        raise ValueError(f"{label} is not an object")
    name = raw.get("name")
    given = name if isinstance(name, list) else [name]
    names = [n for n in given if isinstance(n, str) and n.strip()]
    if not names or len(names) != len(given):
        raise ValueError(f"{label}.name is missing or empty")
    fields = {
        "schema": raw.get("schema"),
        "birth_date": raw.get("birth_date"),
        "country": raw.get("nationality"),
        "identifiers": raw.get("identifiers"),
    }
    try:
        query = Query.from_fields({"name": names[0], **fields})
        for other in names[1:]:
            Query(other, query.schema)  # the same limits for every name
    except InputError as exc:
        message = str(exc)
        if message.startswith("country"):  # the pairs contract calls it nationality
            message = "nationality" + message.removeprefix("country")
        raise ValueError(f"{label}.{message}") from None
    return Subject.build(
        label,
        query.schema,
        [n.strip() for n in names],
        birth_dates=[query.birth_date] if query.birth_date else [],
        countries=[query.country] if query.country else [],
        identifiers=query.identifiers,
    )


def _leading_id(line: str) -> Any:
    found = _LEADING_ID.match(line[:300])
    if found is None:
        return None
    try:
        return json.loads(found.group(1))
    except json.JSONDecodeError:
        return None


def score_line(line: str, number: int) -> dict[str, Any]:
    if len(line) > MAX_LINE_CHARS:
        return {
            "id": _leading_id(line),
            "error": f"line {number}: longer than {MAX_LINE_CHARS} characters",
        }
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
