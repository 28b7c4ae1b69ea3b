"""The Partners pages: partner services, their collections and clearances, last sync.

Analysts and admins see them (a viewer is refused: who we share with, and at which TLP, is on
a need-to-know basis); only an admin changes a grant or publishes a collection now. Adding,
disabling or re-keying partners stays with the command line (``legation partners ...``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from legation.api.deps import SessionDep
from legation.logs import get_logger
from legation.partners.publish import publish_incidents
from legation.storage import partner_views as views
from legation.storage.db import transaction
from legation.web.auth import UserDep, form_user, read_form, require_role
from legation.web.render import render

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)

VIEW = ("analyst", "see partners")
MANAGE = ("admin", "manage partners")
DONE = {"access": "access changed", "removed": "access removed"}


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 10 else None


@router.get("/partners")
def partners_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    done: str = "",
    collection: str = "",
    incidents: str = "",
    added: str = "",
) -> Response:
    require_role(user, *VIEW)
    collections = views.collections(session)
    message = None
    published = next((c for c in collections if collection in (c.id, c.alias)), None)
    counted = (_count(incidents), _count(added))
    if done == "published" and published and None not in counted:
        message = (
            f"collection {published.name} published: {counted[0]} incidents, "
            f"{counted[1]} new object versions"
        )
    return render(
        request,
        "partners.html",
        {
            "user": user,
            "partners": views.partners(session),
            "collections": collections,
            "done": message,
        },
    )


@router.get("/partners/{partner_id}")
def partner_page(
    request: Request, session: SessionDep, user: UserDep, partner_id: int, done: str = ""
) -> Response:
    require_role(user, *VIEW)
    found = views.partner(session, partner_id=partner_id)
    granted = {a.collection_id: a for a in found.access}
    return render(
        request,
        "partner.html",
        {
            "user": user,
            "partner": found,
            "collections": views.collections(session),
            "granted": granted,
            "done": DONE.get(done),
        },
    )


@router.post("/partners/{partner_id}/access")
async def change_access(request: Request, partner_id: int) -> Response:
    form = await read_form(request)
    read, write = form.get("read") == "on", form.get("write") == "on"
    with transaction(request.app.state.sessions) as session:
        user = form_user(request, session, form, *MANAGE)
        name = views.set_access(
            session,
            partner_id=partner_id,
            collection_id=form.get("collection", ""),
            read=read,
            write=write,
        )
    log.info(
        "partner access changed",
        partner=partner_id,
        collection=name,
        read=read,
        write=write,
        user=user.username,
    )
    done = "access" if read or write else "removed"
    return RedirectResponse(f"/partners/{partner_id}?done={done}", status_code=303)


@router.post("/partners/collections/{collection_id}/publish")
async def publish_now(request: Request, collection_id: str) -> Response:
    form = await read_form(request)
    producer = request.app.state.settings.sharing_producer
    with transaction(request.app.state.sessions) as session:
        user = form_user(request, session, form, *MANAGE)
        incidents, added = publish_incidents(session, collection=collection_id, producer=producer)
    log.info(
        "collection published",
        collection=collection_id,
        incidents=incidents,
        added=added,
        user=user.username,
    )
    query = urlencode(
        {"done": "published", "collection": collection_id, "incidents": incidents, "added": added}
    )
    return RedirectResponse(f"/partners?{query}#collections", status_code=303)
