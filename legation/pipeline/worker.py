"""Process queued reports in batches; each batch commits all its effects at once or none."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.alerting.service import find_triggers, raise_alerts
from legation.assess.appearances import assess_appearance
from legation.assess.levels import Target, assess, is_diplomatic, prepare
from legation.domain.clock import as_utc, utcnow
from legation.domain.models import Assessment, Extraction, IncidentSummary
from legation.domain.vocab import threat_model
from legation.extract.extractor import extract_report
from legation.extract.text import read_text
from legation.fuse.match import MAX_DAYS, MAX_KM, best_match
from legation.logs import get_logger
from legation.storage.db import transaction
from legation.storage.incidents import (
    candidate_incidents,
    incidents_for_assessment,
    merge_into,
    new_incident,
    save_extraction,
    summary_of_extraction,
    summary_of_row,
)
from legation.storage.queue import claim_jobs, fail_job, finish_job
from legation.storage.sites import SiteBrief, record_level, sites_by_id, sites_near
from legation.storage.tables import (
    AppearanceRow,
    ExtractionRow,
    IncidentRow,
    JobRow,
    PersonRow,
    ReportRow,
    SiteRow,
)

log = get_logger(__name__)
Clock = Callable[[], datetime]


@dataclass(slots=True)
class BatchResult:
    processed: int = 0
    failed: int = 0
    incidents: list[int] = field(default_factory=list)
    sites_changed: int = 0
    alerts: list[int] = field(default_factory=list)


def process_batch(
    factory: sessionmaker[Session], *, limit: int, clock: Clock = utcnow
) -> BatchResult:
    """Claim up to ``limit`` jobs and carry them through to alerts in one transaction.

    The batch first runs without savepoints (fast); if a report raises, the whole batch is
    rolled back and redone with one savepoint per job, so only the bad report fails.
    """
    try:
        return _process(factory, limit=limit, clock=clock, careful=False)
    except Exception as exc:  # noqa: BLE001 - redo the batch isolating each job; see docstring
        log.warning("batch failed; redoing it job by job", error=f"{exc.__class__.__name__}: {exc}")
        return _process(factory, limit=limit, clock=clock, careful=True)


@dataclass(slots=True)
class _Work:
    """What one batch has done so far; new rows are flushed together at the end."""

    done: set[int]
    read: dict[int, Extraction | Exception] = field(default_factory=dict)  # by report id
    candidates: list[IncidentRow] = field(default_factory=list)  # stored, for fusion
    extractions: dict[int, ExtractionRow] = field(default_factory=dict)  # by report id
    new_incidents: list[IncidentRow] = field(default_factory=list)
    touched: dict[int, IncidentRow] = field(default_factory=dict)  # by id() until flushed


def _process(
    factory: sessionmaker[Session], *, limit: int, clock: Clock, careful: bool
) -> BatchResult:
    result = BatchResult()
    with transaction(factory) as session:
        jobs = claim_jobs(session, limit=limit)
        ids = [j.report_id for j in jobs]
        reports = {r.id: r for r in session.scalars(select(ReportRow).where(ReportRow.id.in_(ids)))}
        done = session.scalars(
            select(ExtractionRow.report_id).where(ExtractionRow.report_id.in_(ids))
        )
        work = _Work(done=set(done))
        _read_reports(session, [reports[j.report_id] for j in jobs], work, careful=careful)
        for job in jobs:
            report = reports[job.report_id]
            if careful:
                _run_job_safely(session, job, report, work, result)
            else:
                _record(_process_report(session, report, work), job, work, result)
        session.flush()
        touched = {row.id: row for row in work.touched.values()}
        if touched:
            as_of = clock()
            incidents = list(touched.values())
            contributions = _reassess_sites(session, incidents, as_of, result)
            _reassess_appearances(session, incidents, as_of)
            triggers = find_triggers(session, sites=contributions, incidents=incidents)
            result.alerts = [a.id for a in raise_alerts(session, triggers=triggers, now=as_of)]
        result.incidents = sorted(touched)
    return result


def _read_reports(
    session: Session, reports: list[ReportRow], work: _Work, *, careful: bool
) -> None:
    """Extract every report of the batch, then fetch fusion candidates for all in one query."""
    for report in reports:
        if report.id in work.done or report.duplicate_of is not None:
            continue
        try:
            work.read[report.id] = _extract(report)
        except Exception as exc:
            if not careful:
                raise
            work.read[report.id] = exc
    summaries = [
        summary_of_extraction(e)
        for e in work.read.values()
        if isinstance(e, Extraction) and e.is_incident
    ]
    work.candidates = candidate_incidents(
        session, around=summaries, days=MAX_DAYS, radius_km=MAX_KM
    )


def _extract(report: ReportRow) -> Extraction:
    text = read_text(report.title, report.text)
    published = as_utc(report.published) if report.published else None
    return extract_report(text, language=report.language, published=published)


def _record(incident: IncidentRow | None, job: JobRow, work: _Work, result: BatchResult) -> None:
    finish_job(job)
    result.processed += 1
    if incident is not None:
        work.touched[id(incident)] = incident


def _run_job_safely(
    session: Session, job: JobRow, report: ReportRow, work: _Work, result: BatchResult
) -> None:
    try:
        with session.begin_nested():
            incident = _process_report(session, report, work)
            session.flush()
    except Exception as exc:  # noqa: BLE001 - one bad report must not stop the batch; it is retried
        fail_job(job, f"{exc.__class__.__name__}: {exc}")
        result.failed += 1
        log.error("report failed", report=job.report_id, attempt=job.attempts, error=str(exc))
        return
    _record(incident, job, work, result)


def _process_report(session: Session, report: ReportRow, work: _Work) -> IncidentRow | None:
    if report.id in work.done:
        return None  # already processed (a job queued twice for one report)
    work.done.add(report.id)
    if report.duplicate_of is not None:
        return _follow_original(session, report, work)
    extraction = work.read.get(report.id) or _extract(report)
    if isinstance(extraction, Exception):
        raise extraction
    row = save_extraction(session, report_id=report.id, extraction=extraction)
    work.extractions[report.id] = row
    if report.language is None:
        report.language = extraction.language
    if not extraction.is_incident:
        return None
    if extraction.place is None:
        log.warning(
            "no known place in report; incident kept without a position",
            report=report.id,
            url=report.url,
            source=report.source,
        )
    incident = _fuse(session, extraction, work)
    row.incident = incident
    return incident


def _fuse(session: Session, extraction: Extraction, work: _Work) -> IncidentRow:
    """The stored or new incident this extraction describes (new ones stay unflushed)."""
    summary = summary_of_extraction(extraction)
    candidates = [*work.candidates, *work.new_incidents]
    summaries = [replace(summary_of_row(c), id=n) for n, c in enumerate(candidates)]
    match = best_match(summary, summaries)
    if match is not None:
        incident = candidates[match.incident_id]
        merge_into(incident, extraction)
        return incident
    incident = new_incident(extraction)
    session.add(incident)
    work.new_incidents.append(incident)
    return incident


def _follow_original(session: Session, report: ReportRow, work: _Work) -> IncidentRow | None:
    """A near duplicate joins its original's incident without being read again."""
    original = work.extractions.get(report.duplicate_of or 0) or session.scalar(
        select(ExtractionRow).where(ExtractionRow.report_id == report.duplicate_of)
    )
    incident = original.incident if original else None
    row = ExtractionRow(
        report_id=report.id,
        is_incident=bool(original and original.is_incident),
        confidence=original.confidence if original else 0.0,
        language=original.language if original else "und",
        data={"near_duplicate_of": report.duplicate_of},
        created_at=utcnow(),
    )
    row.incident = incident
    session.add(row)
    work.extractions[report.id] = row
    return incident


def _reassess_sites(
    session: Session, incidents: list[IncidentRow], as_of: datetime, result: BatchResult
) -> list[tuple[SiteRow, list[int]]]:
    """New levels for every site an incident can reach; returns sites with touched contributors.

    Sites are assessed from a few columns; only those whose result changed or that an
    incident of this batch drives are loaded in full and written.
    """
    model = threat_model()
    briefs = sites_near(
        session,
        points=[(i.lat, i.lon) for i in incidents],
        radius_km=model.proximity.cutoff_km,
        countries=[i.country for i in incidents if i.country],
    )
    if not briefs:
        return []
    pool = _incident_pool(session, incidents, briefs, as_of)
    prepared = prepare(pool, as_of, model)
    touched_ids = {i.id for i in incidents}
    min_points = model.levels[2]  # an incident alerts only if it alone would raise a level
    assessed: dict[int, tuple[Assessment, list[int]]] = {}
    for brief in briefs:
        target = Target(
            brief.lat, brief.lon, brief.country_code, brief.operator_code, is_diplomatic(brief.type)
        )
        assessment = assess(target, pool, as_of, model, prepared)
        drivers = [
            c.incident_id
            for c in assessment.contributions
            if c.incident_id in touched_ids and c.points >= min_points
        ]
        if drivers or (assessment.level, assessment.score) != (brief.level, brief.score):
            assessed[brief.id] = (assessment, drivers)
    rows = sites_by_id(session, ids=list(assessed))
    out = []
    for site_id, (assessment, drivers) in assessed.items():
        site = rows[site_id]
        if record_level(
            session,
            row=site,
            level=assessment.level,
            score=assessment.score,
            reasons=_reasons(assessment),
            as_of=as_of,
        ):
            result.sites_changed += 1
        if drivers:
            out.append((site, drivers))
    return out


def _incident_pool(
    session: Session, incidents: list[IncidentRow], sites: Iterable[SiteBrief], as_of: datetime
) -> list[IncidentSummary]:
    model = threat_model()
    since = (as_of - timedelta(days=model.recency.horizon_days)).date()
    countries = sorted(
        {s.country_code for s in sites if s.country_code}
        | {i.country for i in incidents if i.country}
    )
    rows = incidents_for_assessment(
        session,
        since=since,
        points=[(i.lat, i.lon) for i in incidents],
        radius_km=2 * model.proximity.cutoff_km,
        countries=countries,
    )
    return [summary_of_row(r) for r in rows]


MAX_REASONS = 10  # the strongest contributions are stored with a level; the score counts all


def _reasons(assessment: Assessment) -> list[dict[str, object]]:
    return [
        {
            "incident_id": c.incident_id,
            "points": c.points,
            "severity": c.severity,
            "distance_km": c.distance_km,
            "proximity": c.proximity,
            "recency": c.recency,
            "match": c.match,
            "why": list(c.reasons),
        }
        for c in assessment.contributions[:MAX_REASONS]
    ]


def _reassess_appearances(session: Session, incidents: list[IncidentRow], as_of: datetime) -> None:
    upcoming = session.scalars(select(AppearanceRow).where(AppearanceRow.ends_at >= as_of)).all()
    for appearance in upcoming:
        assess_appearance_row(session, appearance, as_of)


def store_appearance(
    session: Session,
    *,
    person_id: int,
    venue: str,
    lat: float,
    lon: float,
    country_code: str | None,
    starts_at: datetime,
    ends_at: datetime,
    as_of: datetime,
) -> AppearanceRow:
    """A planned appearance, assessed at once (and again whenever incidents arrive)."""
    row = AppearanceRow(
        person_id=person_id,
        venue=venue,
        lat=lat,
        lon=lon,
        country_code=country_code,
        starts_at=starts_at,
        ends_at=ends_at,
        level=1,
        reasons=[],
        checklist=[],
    )
    session.add(row)
    session.flush()
    assess_appearance_row(session, row, as_of)
    return row


def assess_appearance_row(session: Session, appearance: AppearanceRow, as_of: datetime) -> None:
    model = threat_model()
    person = session.get(PersonRow, appearance.person_id)
    since = (as_of - timedelta(days=model.recency.horizon_days)).date()
    rows = incidents_for_assessment(
        session,
        since=since,
        points=[(appearance.lat, appearance.lon)],
        radius_km=model.appearance.radius_km,
        countries=[appearance.country_code] if appearance.country_code else [],
    )
    risk = assess_appearance(
        lat=appearance.lat,
        lon=appearance.lon,
        country_code=appearance.country_code,
        nationality=person.nationality if person else None,
        starts_at=as_utc(appearance.starts_at),
        incidents=[summary_of_row(r) for r in rows],
        as_of=as_of,
    )
    appearance.level = risk.assessment.level
    appearance.reasons = _reasons(risk.assessment)
    appearance.checklist = list(risk.checklist)
    appearance.assessed_at = as_of


def drain(factory: sessionmaker[Session], *, limit: int, clock: Clock = utcnow) -> BatchResult:
    """Process until no job is due; totals over all batches."""
    total = BatchResult()
    while True:
        batch = process_batch(factory, limit=limit, clock=clock)
        total.processed += batch.processed
        total.failed += batch.failed
        total.incidents = sorted(set(total.incidents) | set(batch.incidents))
        total.sites_changed += batch.sites_changed
        total.alerts.extend(batch.alerts)
        if batch.processed + batch.failed == 0:
            return total
