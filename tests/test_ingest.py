"""Ingestion: feeds with conditional GET and backoff, pages, files and folders, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.domain.models import ReportInput
from legation.errors import InputError, SourceError, TooLargeError
from legation.ingest.documents import read_file, read_folder
from legation.ingest.service import add_source, poll_due_feeds, store_reports
from legation.ingest.web import fetch_page
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.tables import JobRow, ReportRow, SourceRow
from tests.http_fixture import Answer, LocalServer, Seen

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Blast in Kabul</title><link>https://news.example/1</link><guid>1</guid>
<pubDate>Wed, 31 May 2017 06:00:00 GMT</pubDate>
<description>&lt;p&gt;A truck bomb exploded in Kabul, killing ninety people.&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</description></item>
<item><title>Talks in Astana</title><link>https://news.example/2</link><guid>2</guid>
<description>Delegations met in Astana to discuss a settlement in Syria.</description></item>
</channel></rss>"""


def _feed_route(seen_etags: list[str | None]) -> object:
    def route(seen: Seen) -> Answer:
        seen_etags.append(seen.headers.get("if-none-match"))
        if seen.headers.get("if-none-match") == '"v1"':
            return Answer(304)
        return Answer(200, RSS, {"ETag": '"v1"', "Content-Type": "application/rss+xml"})

    return route


def _register(factory: sessionmaker[Session], url: str) -> None:
    with transaction(factory) as session:
        add_source(session, kind="feed", location=url, interval=60)


def _make_due(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        for row in session.scalars(select(SourceRow)):
            row.next_poll_at = datetime.now(UTC) - timedelta(seconds=1)


def test_feed_is_polled_with_conditional_get(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    etags: list[str | None] = []
    local_server.routes = {"/rss": _feed_route(etags)}  # type: ignore[dict-item]
    _register(factory, local_server.url("/rss"))
    with httpx.Client() as client:
        first = poll_due_feeds(factory, settings, client)
        assert first.new == 2
        assert poll_due_feeds(factory, settings, client).new == 0  # not due yet
        _make_due(factory)
        assert poll_due_feeds(factory, settings, client).new == 0  # 304
    assert etags == [None, '"v1"']
    with factory() as session:
        reports = session.scalars(select(ReportRow).order_by(ReportRow.id)).all()
        assert reports[0].title == "Blast in Kabul" and "alert(1)" not in reports[0].text
        assert reports[0].published is not None
        assert len(session.scalars(select(JobRow)).all()) == 2


def test_failing_feed_backs_off_and_names_itself(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    local_server.routes = {
        "/bad": lambda _: Answer(503),
        "/junk": lambda _: Answer(200, b"<html>not a feed"),
    }
    _register(factory, local_server.url("/bad"))
    _register(factory, local_server.url("/junk"))
    with httpx.Client() as client:
        result = poll_due_feeds(factory, settings, client)
    assert any("/bad' answered 503" in e for e in result.errors)
    assert any("/junk' is not a valid RSS/Atom" in e for e in result.errors)
    with factory() as session:
        bad = session.scalar(select(SourceRow).where(SourceRow.location.endswith("/bad")))
        assert bad is not None and bad.failures == 1
        assert bad.next_poll_at is not None
        delay = bad.next_poll_at.replace(tzinfo=UTC) - datetime.now(UTC)
        assert timedelta(seconds=100) < delay <= timedelta(seconds=121)


def test_page_main_text_without_scripts(local_server: LocalServer) -> None:
    body = (
        "<html><head><title>Attack</title><script>steal()</script></head><body><nav>Home | News</nav>"
        "<article><h1>Attack on embassy</h1><p>"
        + "Gunmen attacked the embassy gate on Friday. " * 8
        + "</p><img src=x onerror=alert(1)></article><footer>Copyright</footer></body></html>"
    )
    local_server.routes = {
        "/a": lambda _: Answer(200, body.encode(), {"Content-Type": "text/html"})
    }
    with httpx.Client() as client:
        report = fetch_page(client, local_server.url("/a"), max_bytes=100_000)
        with pytest.raises(SourceError, match="/missing' answered 404"):
            fetch_page(client, local_server.url("/missing"), max_bytes=100_000)
    assert "Gunmen attacked the embassy gate" in report.text
    assert "steal()" not in report.text and "onerror" not in report.text


def test_files_and_folders_report_each_bad_input(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A bomb exploded in Lima on Monday, killing two.", "utf-8")
    (tmp_path / "latin1.txt").write_bytes("Explosión en Bogotá: dos muertos.".encode("latin-1"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "big.txt").write_text("x" * 5000, "utf-8")
    (tmp_path / "page.html").write_text(
        "<html><body><script>evil()</script><article><p>"
        + "Rioters set fire to a police station in the city. " * 5
        + "</p></article></body></html>",
        "utf-8",
    )
    (tmp_path / "lines.jsonl").write_text(
        '{"id": "a", "text": "Shots were fired at a patrol.", "published": "2020-01-02T03:04:05Z"}\n'
        "not json\n"
        '{"id": "b", "text": "Two were kidnapped.", "published": "yesterday"}\n'
        '{"id": "c", "title": "no text"}\n',
        "utf-8",
    )
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    batch = read_folder(tmp_path, source="test", max_bytes=4000)
    assert sorted(r.external_id or Path(r.url or "").name for r in batch.reports) == [
        "a",
        "good.txt",
        "latin1.txt",
        "page.html",
    ]
    assert any("empty.txt is empty" in e for e in batch.errors)
    assert any("big.txt is 5000 bytes" in e for e in batch.errors)
    assert any("lines.jsonl:2: not JSON" in e for e in batch.errors)
    assert any("lines.jsonl:3: published 'yesterday'" in e for e in batch.errors)
    assert any("lines.jsonl:4: no 'text'" in e for e in batch.errors)
    assert any("latin1.txt: not UTF-8" in w for w in batch.warnings)
    assert any("image.png: unsupported" in w for w in batch.warnings)
    latin = next(r for r in batch.reports if (r.url or "").endswith("latin1.txt"))
    assert "Bogotá" in latin.text
    page = next(r for r in batch.reports if (r.url or "").endswith("page.html"))
    assert "evil()" not in page.text and "police station" in page.text


def test_single_file_errors_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.txt is empty"):
        read_file(empty, source="t", max_bytes=100)
    big = tmp_path / "big.html"
    big.write_text("y" * 200, "utf-8")
    with pytest.raises(TooLargeError, match="LEGATION_MAX_REPORT_BYTES"):
        read_file(big, source="t", max_bytes=100)


def test_exact_and_near_duplicates(factory: sessionmaker[Session]) -> None:
    text = (
        "Gunmen stormed a hotel in Bamako on Friday morning and took about 170 people hostage; "
        "special forces ended the siege after nine hours, and at least twenty guests were killed."
    )
    reports = [
        ReportInput(source="a", text=text),
        ReportInput(source="b", text=text.upper()),  # same words: exact duplicate
        ReportInput(source="c", text=text + " Updated at noon."),  # near duplicate
        ReportInput(
            source="d", text="A different story about a flood in the north of the country."
        ),
    ]
    result = store_reports(factory, reports, max_bytes=10_000)
    assert (result.new, result.duplicates, result.near_duplicates) == (2, 1, 1)
    again = store_reports(
        factory, [ReportInput(source="e", text=text + " Updated at noon, again.")], max_bytes=10_000
    )
    assert again.near_duplicates == 1
    with factory() as session:
        rows = {r.source: r for r in session.scalars(select(ReportRow))}
        original = rows["a"].id
        assert {s: r.duplicate_of for s, r in rows.items()} == {
            "a": None,
            "c": original,
            "d": None,
            "e": original,
        }
