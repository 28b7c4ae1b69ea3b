"""Turning bytes into report text: decoding, HTML to main text, metadata lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import trafilatura

from legation.domain.clock import as_utc
from legation.domain.models import ReportInput
from legation.errors import InputError, TooLargeError
from legation.extract.text import clean_whitespace

TEXT_SUFFIXES = (".txt", ".text", ".md")
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SUPPORTED = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES


@dataclass(slots=True)
class Batch:
    """Reports read from some input, and the problems met on the way (each names its input)."""

    reports: list[ReportInput] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.reports.extend(other.reports)
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)


def decode(raw: bytes, where: str, warnings: list[str]) -> str:
    """UTF-8 when it is; otherwise Windows-1252 with a warning (never silently garbled)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(f"{where}: not UTF-8 (byte {exc.start}); decoded as Windows-1252")
        return raw.decode("cp1252", errors="replace")


def html_to_text(html: str) -> tuple[str, str | None]:
    """Main text and title of an HTML page; scripts, styles and boilerplate removed."""
    text = trafilatura.extract(html, include_comments=False, include_tables=False) or ""
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None else None
    return clean_whitespace(text), title


def parse_published(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise InputError(f"{where}: published {value!r} is not an ISO 8601 time") from None


def read_file(path: Path, *, source: str, max_bytes: int) -> Batch:
    """One txt, html or jsonl file; jsonl lines carry their own metadata."""
    batch = Batch()
    where = str(path)
    if not path.is_file():
        raise InputError(f"{where} does not exist or is not a file")
    size = path.stat().st_size
    if size > max_bytes and path.suffix.lower() not in JSONL_SUFFIXES:
        raise TooLargeError(
            f"{where} is {size} bytes; the limit is {max_bytes} (LEGATION_MAX_REPORT_BYTES)"
        )
    if size == 0:
        raise InputError(f"{where} is empty")
    text = decode(path.read_bytes(), where, batch.warnings)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return _read_jsonl(text, where, source, max_bytes, batch)
    raw = text
    title = None
    if suffix in HTML_SUFFIXES:
        text, title = html_to_text(text)
    else:
        text = clean_whitespace(text)
    if not text:
        raise InputError(f"{where}: no text found")
    mtime = as_utc(datetime.fromtimestamp(path.stat().st_mtime))
    batch.reports.append(
        ReportInput(
            source=source,
            text=text,
            url=path.resolve().as_uri(),
            title=title,
            published=mtime,
            raw=raw,
        )
    )
    return batch


def _read_jsonl(text: str, where: str, source: str, max_bytes: int, batch: Batch) -> Batch:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        place = f"{where}:{number}"
        try:
            batch.reports.append(report_from_mapping(json.loads(line), place, source, max_bytes))
        except json.JSONDecodeError as exc:
            batch.errors.append(f"{place}: not JSON ({exc.msg}); line skipped")
        except InputError as exc:
            batch.errors.append(f"{exc}; line skipped")
    return batch


def report_from_mapping(doc: Any, where: str, source: str, max_bytes: int) -> ReportInput:
    """A report from a JSON object with text and optional title, url, published, language, id."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a JSON object")
    body = doc.get("text")
    html = doc.get("html")
    if not isinstance(body, str) and isinstance(html, str):
        body, _ = html_to_text(html)
    if not isinstance(body, str) or not body.strip():
        raise InputError(f"{where}: no 'text'")
    if len(body.encode("utf-8")) > max_bytes:
        raise TooLargeError(f"{where}: text over {max_bytes} bytes (LEGATION_MAX_REPORT_BYTES)")
    return ReportInput(
        source=str(doc.get("source") or source),
        text=clean_whitespace(body),
        url=_opt(doc.get("url")),
        title=_opt(doc.get("title")),
        published=parse_published(doc.get("published"), where),
        language=_opt(doc.get("language")),
        raw=html if isinstance(html, str) else None,
        external_id=_opt(doc.get("id")),
    )


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def read_folder(
    folder: Path, *, source: str, max_bytes: int, progress: Callable[[int, int], None] | None = None
) -> Batch:
    """Every supported file under a folder; a bad file is reported and the rest go on.

    ``progress(done, total)`` is called after each file.
    """
    if not folder.is_dir():
        raise InputError(f"folder {str(folder)!r} does not exist")
    batch = Batch()
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    for done, path in enumerate(paths, start=1):
        if progress is not None:
            progress(done, len(paths))
        if path.suffix.lower() not in SUPPORTED:
            batch.warnings.append(f"{path}: unsupported file type {path.suffix!r}; skipped")
            continue
        try:
            batch.extend(read_file(path, source=source, max_bytes=max_bytes))
        except InputError as exc:
            batch.errors.append(str(exc))
    return batch
