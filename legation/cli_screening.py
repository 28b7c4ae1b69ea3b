"""``legation lists …`` and ``legation screen …``: sanctions lists and screening."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from legation.errors import InputError

lists_app = typer.Typer(
    help="Sanctions lists: update, versions, diff, subjects.", no_args_is_help=True
)


def _ctx() -> tuple[Any, Any, Any, Any]:
    from legation.cli import _factory, _settings, err, out

    settings = _settings()
    return settings, _factory(settings), out, err


@lists_app.command("update")
def lists_update(
    source: Annotated[list[str] | None, typer.Option(help="un, ofac, eu, uk, uksl, ftm")] = None,
    rescreen: Annotated[
        bool, typer.Option(help="Re-screen stored subjects after a change.")
    ] = True,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Store a new version even if it removes more than "
            "LEGATION_SCREENING_MAX_REMOVED_SHARE of the current one's entries.",
        ),
    ] = False,
) -> None:
    """Download the lists from their configured addresses; a failure keeps the current version."""
    import httpx

    from legation.sanctions.service import rescreen_subjects, update_lists

    settings, factory, out, err = _ctx()
    with httpx.Client(timeout=settings.http_timeout_seconds) as client:
        reports = update_lists(factory, settings, client, sources=source or None, force=force)
    failed = False
    for r in reports:
        if r.status == "failed":
            failed = True
            err.print(f"[red]{r.source}: failed[/] ", end="")
            err.print(f"({r.message}); current version kept", highlight=False, markup=False)
            continue
        out.print(f"{r.source}: {r.status}, version {r.version_id}, {r.entity_count} entities")
        for problem in r.errors[:10]:
            err.print(f"warning: {problem}", highlight=False, markup=False)
        if len(r.errors) > 10:
            err.print(f"[yellow]… {len(r.errors) - 10} more record errors[/]")
    if any(r.status == "new" for r in reports):
        from legation.sanctions.service import load_index, snapshot_dir
        from legation.storage.db import transaction

        with transaction(factory) as session:
            load_index(session, snapshot_dir(settings))  # the snapshot for quick starts
    if rescreen and any(r.status == "new" for r in reports):
        from legation.sanctions.service import link_incidents

        problems: list[str] = []
        alerts = rescreen_subjects(factory, settings, errors=problems)
        out.print(f"re-screened stored subjects: {len(alerts)} new alerts")
        for problem in problems:
            err.print(f"warning: {problem}", highlight=False, markup=False)
        out.print(
            f"incidents linked to designated organisations: {link_incidents(factory, settings)} new"
        )
    if failed:
        raise typer.Exit(1)


@lists_app.command("versions")
def lists_versions() -> None:
    """Every stored list version (all are kept)."""
    from legation.sanctions.service import list_versions
    from legation.storage.db import transaction

    _settings, factory, out, _err = _ctx()
    with transaction(factory) as session:
        for v in list_versions(session):
            out.print(
                f"{v.id}\t{v.source}\t{v.fetched_at.isoformat()}\t{v.entity_count} entities\t"
                f"{v.error_count} errors\tsha256 {v.checksum[:16]}…",
                highlight=False,
            )


@lists_app.command("diff")
def lists_diff(
    source: str,
    old: Annotated[int | None, typer.Option("--from", help="Older version id.")] = None,
    new: Annotated[int | None, typer.Option("--to", help="Newer version id.")] = None,
) -> None:
    """Who was added, removed or changed between two versions (default: the last two)."""
    from legation.sanctions.service import diff_versions
    from legation.storage.db import transaction

    _settings, factory, out, _err = _ctx()
    with transaction(factory) as session:
        d = diff_versions(session, source, old=old, new=new)
    out.print(f"{source}: version {d.old} -> {d.new}", highlight=False)
    for sign, items in (("+", d.added), ("-", d.removed), ("~", d.changed)):
        for entity_id, caption in items:
            out.print(f"{sign} {entity_id}\t{caption}", highlight=False, markup=False)
    out.print(f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed")


@lists_app.command("add-subject")
def lists_add_subject(
    name: str,
    kind: Annotated[str, typer.Option(help="staff, partner or payee")] = "payee",
    schema: Annotated[str, typer.Option(help="Person, Organization, LegalEntity")] = "Person",
    birth_date: str | None = None,
    country: str | None = None,
) -> None:
    """Keep screening someone: re-screened whenever a list changes."""
    from legation.sanctions.service import add_subject
    from legation.storage.db import transaction

    _settings, factory, out, _err = _ctx()
    with transaction(factory) as session:
        row = add_subject(
            session, name=name, kind=kind, schema=schema, birth_date=birth_date, country=country
        )
        out.print(f"subject {row.id} stored ({kind})")


@lists_app.command("rescreen")
def lists_rescreen() -> None:
    """Screen every stored subject (and staff) again; new hits raise alerts."""
    from legation.sanctions.service import rescreen_subjects

    settings, factory, out, err = _ctx()
    problems: list[str] = []
    alerts = rescreen_subjects(factory, settings, errors=problems)
    out.print(f"{len(alerts)} new alerts")
    for problem in problems:
        err.print(f"warning: {problem}", highlight=False, markup=False)


@lists_app.command("link-incidents")
def lists_link_incidents() -> None:
    """Link incidents' perpetrator groups to designated organisations on the current lists."""
    from legation.sanctions.service import link_incidents

    settings, factory, out, _err = _ctx()
    out.print(f"{link_incidents(factory, settings)} new links")


@lists_app.command("links")
def lists_links(
    entity: Annotated[str | None, typer.Option(help="A listed entity id, e.g. un-QDe.115")] = None,
    incident: Annotated[int | None, typer.Option(help="An incident id")] = None,
    list_source: Annotated[
        str | None,
        typer.Option("--list", help="With --entity: the list of that id (else every list's)"),
    ] = None,
) -> None:
    """Incidents of a designated organisation, or the designated groups of an incident."""
    from legation.sanctions.service import designations_of_incident, incidents_of_entity
    from legation.storage.db import transaction

    if (entity is None) == (incident is None):
        raise InputError("give either --entity or --incident")
    _settings, factory, out, err = _ctx()
    with transaction(factory) as session:
        links = (
            incidents_of_entity(session, entity, list_source)
            if entity is not None
            else designations_of_incident(session, incident or 0)
        )
    if not links:
        _no_links(factory, _settings, entity, incident, list_source, err)
    for link in links:
        out.print(json.dumps(link, ensure_ascii=False), highlight=False, markup=False)


def _no_links(
    factory: Any,
    settings: Any,
    entity: str | None,
    incident: int | None,
    list_source: str | None,
    err: Any,
) -> None:
    """Nothing linked: an unknown incident or entry is an error, a known one a note."""
    from legation.errors import NotFoundError
    from legation.sanctions.service import load_index, snapshot_dir
    from legation.screening.query import shorten
    from legation.storage.db import transaction
    from legation.storage.tables import IncidentRow

    with transaction(factory) as session:
        if incident is not None:
            if session.get(IncidentRow, incident) is None:
                raise NotFoundError(f"incident {incident} not found")
            err.print(f"incident {incident}: no designated organisation linked")
            return
        index, _versions, _prints = load_index(session, snapshot_dir(settings))
    known = any(
        s.id == entity and (list_source is None or s.dataset == list_source) for s in index.subjects
    )
    where = f" on list {shorten(list_source, 40)}" if list_source else " on the current lists"
    if not known:
        raise NotFoundError(f"entity {shorten(entity, 200)} not found{where}")
    err.print(f"entity {entity}: no incident linked", highlight=False, markup=False)


CHUNK = 500  # queries per transaction in `screen --input`; written once committed


_END = "\ufdd0end of file\ufdd0"  # appended to a CSV file: swallowed by an unclosed quote


def _read_queries(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, query fields or None, error) from a CSV or JSONL file.

    A problem of one record is that record's error; a problem of the file (no ``name``
    column, a quote never closed, a CSV file that is not UTF-8) is an ``InputError`` naming
    the line, raised before anything is screened.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise InputError(f"{path.name}: use a .csv or .jsonl file")
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if suffix == ".jsonl":
        yield from _jsonl_queries(data)
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path.name}: line {line} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save the file as UTF-8"
        ) from None
    yield from _csv_queries(text, path.name)


def _jsonl_queries(data: bytes) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw_line[exc.start]
            yield number, None, f"line {number}: not UTF-8 (byte 0x{bad:02x}, column {exc.start})"
            continue
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"line {number}: not JSON ({exc.msg})"
            continue
        if not isinstance(raw, dict):
            yield number, None, f"line {number}: not an object"
            continue
        yield number, raw, ""


def _csv_queries(text: str, label: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Records of a CSV file, each numbered by its first line (a quoted field may span
    several lines)."""
    import io

    from legation.screening.query import shorten

    reader = csv.reader(io.StringIO(f"{text}\n{_END}\n"))
    try:
        header = next(reader)
        while not header:  # blank lines before the header
            header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InputError(f"{label}: no readable header line ({exc})") from None
    if header == [_END]:
        raise InputError(f"{label}: the file is empty; the first line must name the columns")
    columns = [h.strip().lower() for h in header]
    if "name" not in columns:
        shown = ", ".join(shorten(h, 40) for h in header[:10])
        raise InputError(f"{label}: no 'name' column in the header line ({shown})")
    last = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:  # the end mark was read into the last record's quoted field
            raise InputError(
                f"{label}: line {last} opens a quoted field that is never closed, so the rest "
                "of the file would be read as one name; close the quote"
            ) from None
        except csv.Error as exc:  # e.g. a 10 MB field: that record, not the file
            yield start, None, f"line {start}: unreadable CSV ({exc})"
            continue
        if row == [_END]:
            return
        last = start
        if not row:
            continue
        yield start, dict(zip(columns, row, strict=False)), ""


FIELDS = ["line", "query", "entity_id", "caption", "score", "list", "matched_name"]
FIELDS += ["explanation", "screening_id", "error"]


def _write(handle: TextIO, fmt: str, rows: list[dict[str, Any]], writer: Any) -> Any:
    for row in rows:
        if fmt == "jsonl":
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            flat = {
                k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
                for k, v in row.items()
            }
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=FIELDS, extrasaction="ignore")
                writer.writeheader()
            writer.writerow(flat)
    return writer


def screen_command(
    name: Annotated[
        str | None, typer.Argument(help="Name to screen, or 'pairs' for the pairs contract.")
    ] = None,
    birth_date: Annotated[str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD")] = None,
    country: Annotated[
        str | None, typer.Option(help="ISO 3166-1 alpha-2 code or country name")
    ] = None,
    schema: Annotated[
        str,
        typer.Option(
            help="Person, Organization, Company, PublicBody, LegalEntity, Vessel, Airplane"
        ),
    ] = "LegalEntity",
    input: Annotated[
        Path | None, typer.Option("--input", help="A .csv or .jsonl of queries")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write results here (default stdout)")] = None,
    format: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="0 to 1; default: LEGATION_SCREENING_THRESHOLD"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results per query, 1 to 100")] = 10,
) -> None:
    """Screen a name, a file of names (--input), or score pairs: `screen pairs < pairs.jsonl`."""
    if format not in ("jsonl", "csv"):
        raise InputError(f"--format {format[:40]!r}: use jsonl or csv")
    if name == "pairs" and input is None:
        _pairs(format)
        return
    if (name is None) == (input is None):
        raise InputError("give either a NAME or --input FILE")
    from legation.sanctions.service import Query, screen, snapshot_dir
    from legation.storage.db import transaction

    settings, factory, _out, err = _ctx()
    cut = settings.screening_threshold if threshold is None else threshold
    if name is not None:
        try:
            query = Query(name, schema, birth_date, country)
        except InputError as exc:
            err.print(f"error: {exc}", highlight=False, markup=False)
            raise typer.Exit(2) from None
        with transaction(factory) as session:
            row = screen(
                session,
                query,
                actor="cli",
                threshold=cut,
                limit=limit,
                snapshot_dir=snapshot_dir(settings),
            )
            rows = [
                {"line": None, "query": query.name, **r, "screening_id": row.id}
                for r in row.results
            ]
        if not rows:
            err.print(f"no match at or above {cut} (screening {row.id})")
        if output is None:
            _write(sys.stdout, format, rows, None)
        else:
            _atomic_write(output, lambda handle: _write(handle, format, rows, None))
        return
    assert input is not None
    try:
        items = list(_read_queries(input))  # read and checked before any output is touched
    except OSError as exc:
        raise InputError(f"cannot read {input.name}: {exc}") from None

    def run(handle: TextIO) -> None:
        _screen_items(items, input.name, handle, format, cut, limit, factory, err, settings)

    if output is None:
        run(sys.stdout)
    else:
        _atomic_write(output, run)


def _atomic_write(path: Path, fill: Any) -> None:
    """Write through a temporary file next to ``path``, renamed over it once complete."""
    import os
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            fill(handle)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _screen_items(
    items: list[tuple[int, dict[str, Any] | None, str]],
    label: str,
    handle: TextIO,
    fmt: str,
    cut: float,
    limit: int,
    factory: Any,
    err: Any,
    settings: Any,
) -> None:
    """Screen in chunks; a chunk's rows are written only after its screenings committed."""
    from legation.cli import _progress
    from legation.sanctions.service import Query, prepare, screen, snapshot_dir
    from legation.storage.db import transaction

    snapshots = snapshot_dir(settings)
    writer = None
    errors = 0
    with _progress() as progress:
        task = progress.add_task(f"screening {label}", total=len(items))
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            out: list[Any] = []  # output rows, or (line, name, screening) until flushed
            with transaction(factory) as session:
                prepared = prepare(session, snapshots)  # once per chunk, not per name
                for number, raw, problem in chunk:
                    if raw is None:
                        out.append({"line": number, "error": problem})
                        errors += 1
                        continue
                    try:
                        query = Query.from_fields(raw)
                        row = screen(
                            session,
                            query,
                            actor="cli",
                            threshold=cut,
                            limit=limit,
                            prepared=prepared,
                            flush=False,
                        )
                    except InputError as exc:
                        out.append({"line": number, "error": f"line {number}: {exc}"[:500]})
                        errors += 1
                        continue
                    out.append((number, query.name, row))
                session.flush()  # the chunk's screenings in a few multi-row inserts
            rows: list[dict[str, Any]] = []
            for item in out:
                if isinstance(item, dict):
                    rows.append(item)
                    continue
                number, name, row = item
                base = {"line": number, "query": name}
                if not row.results:  # no hit: still a row, so no line goes missing
                    rows.append({**base, "screening_id": row.id})
                rows.extend({**base, **r, "screening_id": row.id} for r in row.results)
            writer = _write(handle, fmt, rows, writer)  # after the commit above
            handle.flush()
            progress.advance(task, len(chunk))
    if errors:
        err.print(f"[yellow]{errors} lines refused (see the error column)[/]")


def _pairs(fmt: str) -> None:
    from legation.screening.pairs import score_lines

    if fmt != "jsonl":
        raise InputError("screen pairs reads and writes --format jsonl only")
    for result in score_lines(sys.stdin):
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
