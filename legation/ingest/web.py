"""Feeds (RSS/Atom with conditional GET and backoff) and single web pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import mktime
from typing import Any

import feedparser
import httpx

from legation.domain.clock import utcnow
from legation.domain.models import ReportInput
from legation.errors import SourceError
from legation.extract.text import clean_whitespace
from legation.ingest.documents import Batch, html_to_text

USER_AGENT = "Legation/0.1 (+protective intelligence; feed reader)"
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class FeedState:
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class FeedResult:
    batch: Batch
    state: FeedState
    not_modified: bool


def fetch_feed(client: httpx.Client, url: str, state: FeedState) -> FeedResult:
    """Fetch a feed, sending ETag/Last-Modified; 304 means nothing new."""
    headers = {"User-Agent": USER_AGENT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        response = client.get(url, headers=headers, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise SourceError(f"feed {url!r}: {exc.__class__.__name__}: {exc}") from exc
    if response.status_code == 304:
        return FeedResult(Batch(), state, True)
    if response.status_code >= 400:
        raise SourceError(f"feed {url!r} answered {response.status_code}")
    new_state = FeedState(
        response.headers.get("etag") or state.etag,
        response.headers.get("last-modified") or state.last_modified,
    )
    return FeedResult(parse_feed(response.content, url), new_state, False)


def parse_feed(content: bytes, url: str) -> Batch:
    """Entries of an RSS or Atom document; a malformed feed is an error naming the URL."""
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"feed {url!r} is not a valid RSS/Atom document: {parsed.bozo_exception}")
    batch = Batch()
    for number, entry in enumerate(parsed.entries, start=1):
        report = _entry_report(entry, url)
        if report is None:
            batch.warnings.append(f"feed {url!r} entry {number}: no text; skipped")
        else:
            batch.reports.append(report)
    return batch


def _entry_report(entry: Any, feed_url: str) -> ReportInput | None:
    html = ""
    if entry.get("content"):
        html = " ".join(str(c.get("value", "")) for c in entry["content"])
    html = html or str(entry.get("summary", ""))
    text = _html_fragment_text(html)
    title = str(entry.get("title", "")) or None
    if title and text and not text.startswith(title):
        text = f"{title}\n\n{text}"
    if not text:
        return None
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    published = datetime.fromtimestamp(mktime(stamp)).astimezone() if stamp else None
    return ReportInput(
        source=feed_url,
        text=text,
        url=entry.get("link"),
        title=title,
        published=published,
        raw=html,
        external_id=entry.get("id"),
    )


def _html_fragment_text(html: str) -> str:
    if "<" not in html:
        return clean_whitespace(html)
    text, _ = html_to_text(f"<html><body><article>{html}</article></body></html>")
    if not text:  # trafilatura drops very short fragments; fall back to plain tag stripping
        text = clean_whitespace(re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S))
    return text


def fetch_page(client: httpx.Client, url: str, *, max_bytes: int) -> ReportInput:
    """One web page's main text, title and publication date."""
    try:
        response = client.get(url, headers={"User-Agent": USER_AGENT}, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise SourceError(f"page {url!r}: {exc.__class__.__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise SourceError(f"page {url!r} answered {response.status_code}")
    if len(response.content) > max_bytes * 5:
        raise SourceError(f"page {url!r} is {len(response.content)} bytes; too large")
    text, title = html_to_text(response.text)
    if not text:
        raise SourceError(f"page {url!r}: no main text found")
    return ReportInput(
        source=url,
        text=text,
        url=str(response.url),
        title=title,
        published=utcnow(),
        raw=response.text,
    )


def next_poll(failures: int, interval_seconds: int) -> datetime:
    """The interval after a success; after failures, interval x 2^failures, at most six hours."""
    delay = timedelta(seconds=interval_seconds * 2 ** min(failures, 10))
    return utcnow() + (min(delay, MAX_BACKOFF) if failures else delay)
