"""Streaming extraction: JSON lines in, JSON lines out, one for one, in order."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from legation.extract.contract import extraction_line
from legation.extract.extractor import extract_report


def extract_lines(lines: Iterable[str]) -> Iterator[str]:
    """Each input line becomes one output line; bad lines become an error object."""
    for number, line in enumerate(lines, start=1):
        yield json.dumps(_one(number, line), ensure_ascii=False)


def _one(number: int, line: str) -> dict[str, Any]:
    if not line.strip():
        return {"id": None, "line": number, "error": f"line {number} is empty"}
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "line": number, "error": f"line {number} is not JSON: {exc.msg}"}
    if not isinstance(doc, dict):
        return {"id": None, "line": number, "error": f"line {number} is not a JSON object"}
    report_id = doc.get("id")
    text = doc.get("text")
    if not isinstance(text, str) or not text.strip():
        return {"id": report_id, "line": number, "error": f"line {number} has no 'text'"}
    try:
        published = _published(doc.get("published"))
    except ValueError:
        stamp = doc.get("published")
        return {
            "id": report_id,
            "line": number,
            "error": f"line {number}: published {stamp!r} is not ISO 8601",
        }
    title = doc.get("title")
    if isinstance(title, str) and title and title not in text:
        text = f"{title}\n\n{text}"
    language = doc.get("language") if isinstance(doc.get("language"), str) else None
    return extraction_line(report_id, extract_report(text, language=language, published=published))


def _published(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
