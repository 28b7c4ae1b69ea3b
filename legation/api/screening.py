"""Sanctions screening endpoints: single and batch match, decisions, list versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Query as QueryParam
from pydantic import BaseModel, Field
from sqlalchemy import select

from legation.api.deps import Analyst, SessionDep, SettingsDep, Viewer
from legation.errors import InputError, NotFoundError
from legation.sanctions.service import (
    DECISIONS,
    Query,
    current_versions,
    decide,
    designations_of_incident,
    incidents_of_entity,
    load_index,
    screen,
    screening_dict,
    snapshot_dir,
)
from legation.screening.matcher import ALGORITHM
from legation.screening.query import SCHEMATA
from legation.storage.screening import ScreeningDecisionRow, ScreeningRow

router = APIRouter(prefix="/screening", tags=["screening"])
MAX_BATCH = 100


class MatchIn(BaseModel):
    # Each query is checked on its own (Query.from_fields) so that one bad record gets its
    # own error and the others are screened; the body as a whole is capped by the app.
    queries: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=(
            "Objects with name, schema (" + ", ".join(SCHEMATA) + "), birth_date "
            "(YYYY, YYYY-MM or YYYY-MM-DD), country (ISO 3166-1 alpha-2 code or country name), "
            "identifiers (list of document numbers)."
        ),
    )
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    limit: int = Field(default=10, ge=1, le=100)


class DecisionIn(BaseModel):
    entity_id: str
    decision: str = Field(description=" / ".join(DECISIONS))
    reason: str = ""
    list: str | None = Field(default=None, description="The result's list, if ids repeat.")


@router.get("/lists")
def lists(session: SessionDep, _caller: Viewer) -> list[dict[str, Any]]:
    """The current version of every list."""
    return [
        {
            "id": v.id,
            "source": v.source,
            "fetched_at": v.fetched_at.isoformat(),
            "checksum": v.checksum,
            "entity_count": v.entity_count,
            "error_count": v.error_count,
        }
        for v in current_versions(session)
    ]


@router.post("/match")
def match(
    body: MatchIn, session: SessionDep, settings: SettingsDep, caller: Analyst
) -> dict[str, Any]:
    """Screen one or more queries; each is stored (audit) with the list versions used."""
    threshold = settings.screening_threshold if body.threshold is None else body.threshold
    snapshots = snapshot_dir(settings)
    _index, versions, _prints = load_index(session, snapshots)
    answers: list[dict[str, Any]] = []
    for number, q in enumerate(body.queries):
        try:
            query = Query.from_fields(q)
            row = screen(
                session,
                query,
                actor=caller.name,
                threshold=threshold,
                limit=body.limit,
                snapshot_dir=snapshots,
            )
        except InputError as exc:
            answers.append({"index": number, "error": str(exc)[:500]})
            continue
        answers.append({"index": number, "screening_id": row.id, "results": row.results})
    return {
        "algorithm": ALGORITHM,
        "threshold": threshold,
        "list_versions": versions,
        "answers": answers,
    }


@router.get("/designations/{entity_id}/incidents")
def entity_incidents(
    entity_id: str,
    session: SessionDep,
    _caller: Viewer,
    list_source: Annotated[str | None, QueryParam(alias="list", max_length=50)] = None,
) -> list[dict[str, Any]]:
    """Incidents whose perpetrators are this designated organisation (of the list ``list``;
    without it, of every list that uses this id, each link naming its list)."""
    return incidents_of_entity(session, entity_id, list_source)


@router.get("/incidents/{incident_id}/designations")
def incident_designations(
    incident_id: int, session: SessionDep, _caller: Viewer
) -> list[dict[str, Any]]:
    """Designated organisations among an incident's perpetrators."""
    return designations_of_incident(session, incident_id)


@router.get("/{screening_id}")
def get_screening(screening_id: int, session: SessionDep, _caller: Viewer) -> dict[str, Any]:
    """One stored screening with its decisions."""
    row = session.get(ScreeningRow, screening_id)
    if row is None:
        raise NotFoundError(f"screening {screening_id} does not exist")
    decisions = session.scalars(
        select(ScreeningDecisionRow).where(ScreeningDecisionRow.screening_id == screening_id)
    )
    return {
        **screening_dict(row),
        "decisions": [
            {
                "entity_id": d.entity_id,
                "decision": d.decision,
                "reason": d.reason,
                "user": d.user,
                "created_at": d.created_at.isoformat(),
            }
            for d in decisions
        ],
    }


@router.post("/{screening_id}/decisions", status_code=201)
def add_decision(
    screening_id: int, body: DecisionIn, session: SessionDep, caller: Analyst
) -> dict[str, Any]:
    """true_match, false_positive or whitelisted (with a reason) for one result."""
    row = decide(
        session,
        screening_id=screening_id,
        entity_id=body.entity_id,
        decision=body.decision,
        reason=body.reason,
        user=caller.name,
        list_source=body.list,
    )
    return {"id": row.id, "entity_id": row.entity_id, "decision": row.decision, "user": row.user}
