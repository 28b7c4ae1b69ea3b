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
    source: Annotated[list[str] | None, typer.Option(help="un, ofac, eu, uk, ftm")] = None,
    rescreen: Annotated[
        bool, typer.Option(help="Re-screen stored subjects after a change.")
    ] = True,
) -> None:
    """Download the lists from their configured addresses; a failure keeps the current version."""
    import httpx

    from legation.sanctions.service import rescreen_subjects, update_lists

    settings, factory, out, err = _ctx()
    with httpx.Client(timeout=settings.http_timeout_seconds) as client:
        reports = update_lists(factory, settings, client, sources=source or None)
    failed = False
    for r in reports:
        if r.status == "failed":
            failed = True
            err.print(f"[red]{r.source}: failed[/] ({r.message}); current version kept")
            continue
        out.print(f"{r.source}: {r.status}, version {r.version_id}, {r.entity_count} entities")
        for problem in r.errors[:10]:
            err.print(f"[yellow]warning:[/] {problem}", highlight=False)
        if len(r.errors) > 10:
            err.print(f"[yellow]… {len(r.errors) - 10} more record errors[/]")
    if any(r.status == "new" for r in reports):
        from legation.sanctions.service import load_index, snapshot_dir
        from legation.storage.db import transaction

        with transaction(factory) as session:
            load_index(session, snapshot_dir(settings))  # the snapshot for quick starts
    if rescreen and any(r.status == "new" for r in reports):
        from legation.sanctions.service import link_incidents

        alerts = rescreen_subjects(factory, settings)
        out.print(f"re-screened stored subjects: {len(alerts)} new alerts")
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

    settings, factory, out, _err = _ctx()
    alerts = rescreen_subjects(factory, settings)
    out.print(f"{len(alerts)} new alerts")


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
) -> None:
    """Incidents of a designated organisation, or the designated groups of an incident."""
    from legation.sanctions.service import designations_of_incident, incidents_of_entity
    from legation.storage.db import transaction

    if (entity is None) == (incident is None):
        raise InputError("give either --entity or --incident")
    _settings, factory, out, _err = _ctx()
    with transaction(factory) as session:
        links = (
            incidents_of_entity(session, entity)
            if entity is not None
            else designations_of_incident(session, incident or 0)
        )
    for link in links:
        out.print(json.dumps(link, ensure_ascii=False), highlight=False, markup=False)


def _read_queries(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, query fields or None, error) from a CSV or JSONL file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".jsonl":
            for number, line in enumerate(handle, start=1):
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
        elif path.suffix.lower() == ".csv":
            for number, row in enumerate(csv.DictReader(handle), start=2):
                yield number, dict(row), ""
        else:
            raise InputError(f"{path}: use a .csv or .jsonl file")


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
                fields = ["line", "query", "entity_id", "caption", "score", "match", "list"]
                fields += ["matched_name", "explanation", "screening_id", "error"]
                writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
                writer.writeheader()
            writer.writerow(flat)
    return writer


def screen_command(
    name: Annotated[
        str | None, typer.Argument(help="Name to screen, or 'pairs' for the pairs contract.")
    ] = None,
    birth_date: Annotated[str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166 two-letter code")] = None,
    schema: Annotated[
        str, typer.Option(help="Person, Organization or LegalEntity")
    ] = "LegalEntity",
    input: Annotated[
        Path | None, typer.Option("--input", help="A .csv or .jsonl of queries")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write results here (default stdout)")] = None,
    format: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    threshold: Annotated[
        float | None, typer.Option(help="Default: LEGATION_SCREENING_THRESHOLD")
    ] = None,
    limit: Annotated[int, typer.Option(help="Results per query")] = 10,
) -> None:
    """Screen a name, a file of names (--input), or score pairs: `screen pairs < pairs.jsonl`."""
    if format not in ("jsonl", "csv"):
        raise InputError(f"--format {format!r}: use jsonl or csv")
    if name == "pairs" and input is None:
        _pairs(format)
        return
    if (name is None) == (input is None):
        raise InputError("give either a NAME or --input FILE")
    from legation.sanctions.service import Query, screen, snapshot_dir
    from legation.storage.db import transaction

    settings, factory, _out, err = _ctx()
    cut = settings.screening_threshold if threshold is None else threshold
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if name is not None:
            query = Query(name, schema, birth_date, country.lower() if country else None)
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
                    {"line": None, "query": name, **r, "screening_id": row.id} for r in row.results
                ]
            if not rows:
                err.print(f"no match at or above {cut} (screening {row.id})")
            _write(handle, format, rows, None)
            return
        assert input is not None
        _screen_file(input, handle, format, cut, limit, factory, err, snapshot_dir(settings))
    finally:
        if output:
            handle.close()


def _screen_file(
    path: Path,
    handle: TextIO,
    fmt: str,
    cut: float,
    limit: int,
    factory: Any,
    err: Any,
    snapshots: Path,
) -> None:
    from legation.cli import _progress
    from legation.sanctions.service import Query, screen
    from legation.storage.db import transaction

    items = list(_read_queries(path))
    writer = None
    errors = 0
    with _progress() as progress, transaction(factory) as session:
        task = progress.add_task(f"screening {path.name}", total=len(items))
        for number, raw, problem in items:
            progress.advance(task)
            if raw is None:
                writer = _write(handle, fmt, [{"line": number, "error": problem}], writer)
                errors += 1
                continue
            name = str(raw.get("name") or "")
            try:
                query = Query(
                    name,
                    str(raw.get("schema") or "LegalEntity"),
                    str(raw.get("birth_date") or "") or None,
                    str(raw.get("country") or "").lower() or None,
                )
                row = screen(
                    session, query, actor="cli", threshold=cut, limit=limit, snapshot_dir=snapshots
                )
            except InputError as exc:
                writer = _write(handle, fmt, [{"line": number, "error": str(exc)}], writer)
                errors += 1
                continue
            rows = [
                {"line": number, "query": name, **r, "screening_id": row.id} for r in row.results
            ]
            writer = _write(handle, fmt, rows, writer)
    if errors:
        err.print(f"[yellow]{errors} lines refused (see the error column)[/]")


def _pairs(fmt: str) -> None:
    from legation.screening.pairs import score_lines

    if fmt != "jsonl":
        raise InputError("screen pairs reads and writes --format jsonl only")
    for result in score_lines(sys.stdin):
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
