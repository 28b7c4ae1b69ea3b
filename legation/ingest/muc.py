"""MUC-3/4 message files: one file holds many messages, each opening with its id line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from legation.domain.models import ReportInput

_HEADER = re.compile(r"^((?:DEV|TST\d)-MUC\d-\d{4})\s*(?:\(([^)]*)\))?\s*$", re.MULTILINE)
_DATELINE = re.compile(r"(\d{1,2})\s+([A-Z]{3})\s+(\d{2})\b")
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}


def read_messages(path: Path) -> Iterator[ReportInput]:
    """Messages of one MUC file, published on their dateline's date."""
    text = path.read_text("latin-1")
    headers = list(_HEADER.finditer(text))
    for header, following in zip(headers, [*headers[1:], None], strict=False):
        body = text[header.end() : following.start() if following else len(text)].strip()
        if body:
            yield ReportInput(
                source=f"MUC-4 {header.group(2) or ''}".strip(),
                text=body,
                published=dateline_date(body),
                language="en",
                external_id=header.group(1),
            )


def dateline_date(body: str) -> datetime | None:
    """'SAN SALVADOR, 3 JAN 90 -- …' -> 1990-01-03 (noon UTC)."""
    match = _DATELINE.search(body[:200])
    if match is None or match.group(2) not in MONTHS:
        return None
    day, month, year = int(match.group(1)), MONTHS[match.group(2)], 1900 + int(match.group(3))
    try:
        return datetime(year, month, day, 12, tzinfo=UTC)
    except ValueError:
        return None


def message_files(folder: Path) -> list[Path]:
    """The message files of a MUC folder (not its keys or notes)."""
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().startswith(("dev-", "tst"))
    )
