"""The screening page: one query, a batch (CSV or JSON lines) with progress, hits with their
explanations and list versions, and decisions on hits. Everything goes through the screening
service (legation.sanctions.service); names from the lists are escaped like any other text."""

from __future__ import annotations

import csv
import io
import json
import secrets
import threading
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.api.deps import SessionDep, SettingsDep
from legation.errors import ConflictError, InputError, LegationError, NotFoundError
from legation.logs import get_logger
from legation.sanctions.service import (
    DECISIONS,
    Query,
    current_versions,
    decide,
    screen,
    snapshot_dir,
)
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.screening import ScreeningDecisionRow, ScreeningRow
from legation.storage.users import WebUser
from legation.web.auth import RowId, UserDep, form_user, read_form
from legation.web.render import render

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)

SCHEMAS = ("LegalEntity", "Person", "Organization", "Company", "Vessel")
DECISION_NAMES = {
    "true_match": "True match",
    "false_positive": "False positive",
    "whitelisted": "Whitelisted",
}
MAX_BATCH_ROWS = 500
FIELDS = ("name", "schema", "birth_date", "country")


@dataclass
class BatchJob:
    """A batch screening running in a thread; the page polls it (kept in memory)."""

    owner: str
    total: int
    done: int = 0
    # line, name, screening id, hits reaching the threshold, hits
    screenings: list[tuple[int, str, int, int, int]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # line, message
    finished: bool = False


def _query(fields: dict[str, str]) -> Query:
    schema = (fields.get("schema") or "LegalEntity").strip()
    if schema not in SCHEMAS:
        raise InputError(f"schema {schema!r} is unknown; use one of {', '.join(SCHEMAS)}")
    country = (fields.get("country") or "").strip().lower() or None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise InputError(f"country {country!r} is not a two-letter ISO code")
    return Query(
        name=(fields.get("name") or "").strip(),
        schema=schema,
        birth_date=(fields.get("birth_date") or "").strip() or None,
        country=country,
    )


def parse_batch(
    text: str, kind: str
) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """(line number, fields) of every row of a CSV (with a header) or JSON-lines text, and the
    problems of the rows that cannot be read (the others go on)."""
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[tuple[int, str]] = []  # line (0: the whole batch), message
    if kind == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append((number, f"not JSON ({exc.msg})"))
                continue
            if not isinstance(item, dict):
                problems.append((number, "not a JSON object"))
                continue
            rows.append((number, {k: str(item.get(k) or "") for k in FIELDS}))
    elif kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "name" not in [f.strip() for f in reader.fieldnames]:
            return [], [(1, "the CSV needs a header line with a 'name' column")]
        for record in reader:
            clean = {(k or "").strip(): (v or "") for k, v in record.items() if isinstance(v, str)}
            rows.append((reader.line_num, {k: clean.get(k, "") for k in FIELDS}))
    else:
        return [], [(0, f"format {kind!r} is unknown; use csv or jsonl")]
    if len(rows) > MAX_BATCH_ROWS:
        problems.append((0, f"{len(rows)} rows; only the first {MAX_BATCH_ROWS} are screened"))
        rows = rows[:MAX_BATCH_ROWS]
    return rows, problems


def run_batch(
    job: BatchJob,
    rows: list[tuple[int, dict[str, str]]],
    factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Screen every row in its own transaction; a bad row is named and the rest go on."""
    try:
        for number, fields in rows:
            try:
                with transaction(factory) as session:
                    row = screen(
                        session,
                        _query(fields),
                        actor=job.owner,
                        threshold=settings.screening_threshold,
                        snapshot_dir=snapshot_dir(settings),
                    )
                    matches = sum(1 for r in row.results if not r.get("suppressed"))
                    found = (number, fields.get("name", ""), row.id, matches, len(row.results))
                    job.screenings.append(found)
            except LegationError as exc:
                job.errors.append((number, str(exc)))
            except Exception as exc:  # noqa: BLE001 - one row's failure must not stop the batch
                log.error("batch screening row failed", line=number, error=type(exc).__name__)
                job.errors.append((number, f"could not be screened ({type(exc).__name__})"))
            job.done += 1
    finally:
        job.finished = True


def _jobs(request: Request) -> dict[str, BatchJob]:
    jobs: dict[str, BatchJob] = request.app.state.screening_jobs
    return jobs


def _page(
    request: Request,
    session: Session,
    user: WebUser,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    recent = session.scalars(select(ScreeningRow).order_by(ScreeningRow.id.desc()).limit(20))
    return render(
        request,
        "screening.html",
        {
            "user": user,
            "versions": current_versions(session),
            "recent": list(recent),
            "schemas": SCHEMAS,
            "form": form or {},
            "error": error,
            "max_rows": MAX_BATCH_ROWS,
        },
        status_code=400 if error else 200,
    )


@router.get("/screening")
def screening_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    return _page(request, session, user)


@router.post("/screening")
async def screen_one(request: Request, settings: SettingsDep) -> Response:
    form = await read_form(request)
    factory = request.app.state.sessions
    with factory() as session:
        user = form_user(request, session, form, "analyst", "screen a name")
    try:
        with transaction(factory) as session:
            row = screen(
                session,
                _query(form),
                actor=user.username,
                threshold=settings.screening_threshold,
                snapshot_dir=snapshot_dir(settings),
            )
            screening_id = row.id
    except (InputError, ConflictError) as exc:
        with factory() as session:
            return _page(request, session, user, error=str(exc), form=form)
    return RedirectResponse(f"/screening/{screening_id}", status_code=303)


@router.post("/screening/batch")
async def screen_batch(request: Request, settings: SettingsDep) -> Response:
    form = await read_form(request)
    factory = request.app.state.sessions
    with factory() as session:
        user = form_user(request, session, form, "analyst", "screen a batch")
        rows, problems = parse_batch(form.get("rows", ""), form.get("format", "csv"))
        if not rows:
            told = [f"line {n}: {m}" if n else m for n, m in problems]
            message = "; ".join(told) or "the batch is empty: paste or choose a file"
            return _page(request, session, user, error=f"Nothing screened: {message}", form=form)
    job = BatchJob(owner=user.username, total=len(rows))
    job.errors.extend(problems)
    key = secrets.token_urlsafe(12)
    _jobs(request)[key] = job
    threading.Thread(
        target=run_batch, args=(job, rows, factory, settings), daemon=True, name="batch"
    ).start()
    return RedirectResponse(f"/screening/batch/{key}", status_code=303)


@router.get("/screening/batch/{key}")
def batch_page(request: Request, user: UserDep, key: str) -> Response:
    job = _jobs(request).get(key)
    if job is None or job.owner != user.username:
        raise NotFoundError(f"batch {key!r} does not exist (batches are kept until a restart)")
    context = {"user": user, "job": job, "refresh": None if job.finished else 2}
    return render(request, "screening_batch.html", context)


@router.get("/screening/{screening_id}")
def screening_result(
    request: Request, session: SessionDep, user: UserDep, screening_id: RowId, done: str = ""
) -> Response:
    return _result(request, session, user, screening_id, done=done == "decided")


def _result(
    request: Request,
    session: Session,
    user: WebUser,
    screening_id: int,
    *,
    done: bool = False,
    error: str | None = None,
) -> Response:
    row = session.get(ScreeningRow, screening_id)
    if row is None:
        raise NotFoundError(f"screening {screening_id} does not exist")
    decisions: dict[str, list[ScreeningDecisionRow]] = {}
    for d in session.scalars(
        select(ScreeningDecisionRow)
        .where(ScreeningDecisionRow.screening_id == screening_id)
        .order_by(ScreeningDecisionRow.id)
    ):
        decisions.setdefault(d.entity_id, []).append(d)
    return render(
        request,
        "screening_result.html",
        {
            "user": user,
            "s": row,
            "decisions": decisions,
            "choices": [(d, DECISION_NAMES[d]) for d in DECISIONS],
            "decision_names": DECISION_NAMES,
            "done": "decision recorded" if done else None,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.post("/screening/{screening_id}/decisions")
async def add_decision(request: Request, screening_id: RowId) -> Response:
    form = await read_form(request)
    factory = request.app.state.sessions
    with factory() as session:
        user = form_user(request, session, form, "analyst", "decide on a screening hit")
    try:
        with transaction(factory) as session:
            decide(
                session,
                screening_id=screening_id,
                entity_id=form.get("entity_id", ""),
                decision=form.get("decision", ""),
                reason=form.get("reason", "").strip(),
                user=user.username,
            )
    except InputError as exc:
        with factory() as session:
            return _result(request, session, user, screening_id, error=str(exc))
    log.info("screening decision", screening=screening_id, user=user.username)
    return RedirectResponse(f"/screening/{screening_id}?done=decided", status_code=303)
