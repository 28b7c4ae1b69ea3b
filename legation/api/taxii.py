"""TAXII 2.1 server: discovery at /taxii2/, one API root at /taxii2/legation/.

Partners authenticate with their API key (``Authorization: Bearer``, ``Authorization: Token``
as taxii2-client's ``TokenAuth`` sends, or ``X-API-Key``) or
HTTP Basic. Every answer is TAXII JSON; every error a TAXII error message. What a partner
sees is cut to its grants and its TLP clearance (``sharing.tlp``), in the SQL that pages
objects and again per object for granular markings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from legation import errors
from legation.api.deps import SettingsDep
from legation.errors import InputError, NotFoundError
from legation.logs import get_logger
from legation.partners.intake import Infinite, check_objects, finite_float, unstorable
from legation.settings import Settings
from legation.sharing.tlp import Recipient
from legation.storage import taxii as store
from legation.storage.db import json_bytes
from legation.storage.partners import Partner, partner_by_id, partner_by_key, partner_by_login

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
ROOT = "legation"
LOGIN_CACHE_SECONDS = 5
log = get_logger(__name__)


class TaxiiError(Exception):
    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(description or title)
        self.status, self.title, self.description = status, title, description


STATUS = (
    (errors.TooLargeError, 413, "Request too large"),
    (errors.InputError, 400, "Bad request"),
    (errors.NotFoundError, 404, "Not found"),
    (errors.ForbiddenError, 403, "Forbidden"),
    (errors.AuthError, 401, "Unauthorized"),
)


def error_response(status: int, title: str, description: str) -> JSONResponse:
    body = {"title": title, "description": description, "http_status": str(status)}
    headers = {"WWW-Authenticate": 'Basic realm="taxii", Bearer'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=TAXII, headers=headers)


class TaxiiRoute(APIRoute):
    """Routes whose errors are TAXII error messages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except TaxiiError as exc:
                return error_response(exc.status, exc.title, exc.description)
            except RequestValidationError as exc:
                return error_response(400, "Bad request", str(exc.errors()))
            except errors.LegationError as exc:
                status, title = next((s, t) for c, s, t in STATUS if isinstance(exc, c))
                return error_response(status, title, str(exc))
            except Exception as exc:  # noqa: BLE001 - anything else is still answered in TAXII form
                log.error("taxii request failed", path=request.url.path, error=repr(exc))
                return error_response(500, "Internal error", "the server failed; try again")

        return answer


# TAXII is documented in docs/sharing.md, not in the JSON API schema.
router = APIRouter(route_class=TaxiiRoute, include_in_schema=False)


class Taxii(JSONResponse):
    media_type = TAXII

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


# ---- authentication, negotiation -------------------------------------------------------


def _media_type(text: str) -> tuple[str, dict[str, str]]:
    """'application/taxii+json; version=2.1' -> ('application/taxii+json', {'version': '2.1'})."""
    kind, *params = text.split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), parsed


def _is_taxii(text: str) -> bool:
    """TAXII JSON of version 2.1 exactly (no version: the latest, which is 2.1)."""
    kind, params = _media_type(text)
    return kind == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def _accepts(request: Request) -> None:
    accept = request.headers.get("accept", "*/*")
    for item in accept.split(","):
        kind, params = _media_type(item)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*") or _is_taxii(item):
            return
    raise TaxiiError(406, "Not acceptable", f"Accept {accept!r}: this server answers {TAXII}")


def _credentials(request: Request) -> None:
    """Refuse at once what needs no database: an unacceptable Accept, no credentials at all."""
    _accepts(request)
    header = request.headers.get("authorization", "").lower()
    if not header.startswith(("basic ", *_KEY_SCHEMES)) and "x-api-key" not in request.headers:
        raise errors.AuthError("no credentials: send HTTP Basic or 'Authorization: Bearer <key>'")


# An API key in ``Authorization``: "Bearer" (RFC 6750; OpenCTI) or "Token" (taxii2-client's
# ``TokenAuth``), with its scheme in any case, as RFC 9110 says schemes are compared.
_KEY_SCHEMES = ("bearer ", "token ")


def caller(request: Request, session: Session) -> Partner:
    """The partner the request authenticates as (``_credentials`` has passed)."""
    header = request.headers.get("authorization", "")
    found: Partner | None = None
    if header.lower().startswith("basic "):
        found = _basic_login(request, session, header[6:].strip())
    elif header.lower().startswith(_KEY_SCHEMES):
        found = partner_by_key(session, key=header.split(" ", 1)[1].strip())
    else:
        found = partner_by_key(session, key=request.headers["x-api-key"])
    if found is None:
        raise errors.AuthError("the credentials are unknown")
    return found


Work = Callable[[Session, Partner], Response]


async def _serve(request: Request, work: Work, *, writes: bool = False) -> Response:
    """Authenticate and answer in one unit of work on one worker thread.

    Each request used to cross to a worker thread four times (opening the session, the
    login, the endpoint, closing the session); on a busy two-core machine each crossing
    waits for the event loop and the GIL, and together they cost more than the lookup.
    The answer is rendered and the transaction committed before it leaves: a client may
    ask for the status or the next page at once.
    """
    _credentials(request)
    return await run_in_threadpool(_unit, request, work, writes)


def _unit(request: Request, work: Work, writes: bool = False) -> Response:
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        if not writes and session.get_bind().dialect.name == "postgresql":
            # Under READ COMMITTED each statement sees its own snapshot, in a transaction
            # or not: BEGIN and COMMIT around a read would be two round trips that
            # guarantee nothing more. (A cursor saved by a page commits on its own.)
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return work(session, caller(request, session))


def _basic_login(request: Request, session: Session, encoded: str) -> Partner | None:
    """The partner behind HTTP Basic credentials.

    A PBKDF2 check per request would cost more than the request, so a good login is
    remembered until LOGIN_CACHE_SECONDS pass without it being used, keyed by an HMAC of
    user and password under a key that lives only in this process. Each hit re-reads the
    partner: a changed password, a disabled or removed partner ends the entry at once, and
    a new clearance applies at once. Unknown user names cost the same PBKDF2 work as known ones.
    """
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except ValueError:
        raise errors.AuthError("the Basic credentials are not base64 'user:password'") from None
    cache: dict[str, tuple[int, str, float]] = request.app.state.taxii_logins
    token = hmac.new(_CACHE_KEY, f"{user}\0{password}".encode(), hashlib.sha256).hexdigest()
    hit = cache.get(token)
    if hit and hit[2] > time.monotonic():
        current = partner_by_id(session, partner_id=hit[0])
        if current is not None and current[1] == hit[1]:
            # Sliding: a partner paging or posting steadily pays PBKDF2 once, not every 5 s.
            # Safe because every hit has just re-read the partner and its password hash.
            cache[token] = (hit[0], hit[1], time.monotonic() + LOGIN_CACHE_SECONDS)
            return current[0]
    cache.pop(token, None)
    found = partner_by_login(session, username=user, password=password)
    if found is not None:
        stored = partner_by_id(session, partner_id=found.id)
        if stored is not None and stored[1] is not None:
            if len(cache) > 1_000:
                now = time.monotonic()
                for old in [k for k, v in cache.items() if v[2] <= now]:
                    del cache[old]
            cache[token] = (found.id, stored[1], time.monotonic() + LOGIN_CACHE_SECONDS)
    return found


_CACHE_KEY = secrets.token_bytes(32)


def recipient(partner: Partner) -> Recipient:
    return Recipient(partner.clearance, partner.organisation)


# ---- discovery, root, status, collections ----------------------------------------------


def _root_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + f"/taxii2/{ROOT}/"


@router.get("/taxii2/", response_class=Taxii)
async def discovery(request: Request, settings: SettingsDep) -> Response:
    root = _root_url(request)
    body = {
        "title": f"{settings.sharing_producer} TAXII server",
        "description": "Security incidents near diplomatic missions, shared under TLP 2.0.",
        "default": root,
        "api_roots": [root],
    }
    return await _serve(request, lambda _session, _partner: Taxii(body))


@router.get(f"/taxii2/{ROOT}/", response_class=Taxii)
async def api_root(request: Request, settings: SettingsDep) -> Response:
    body = {
        "title": f"{settings.sharing_producer} partner sharing",
        "versions": [TAXII],
        "max_content_length": settings.taxii_max_content_length,
    }
    return await _serve(request, lambda _session, _partner: Taxii(body))


@router.get(f"/taxii2/{ROOT}/status/{{status_id}}/", response_class=Taxii)
async def status(status_id: str, request: Request) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        row = store.get_status(session, status_id=status_id, partner=partner.name)
        return Taxii(_status_body(row.id, row.request_us, row.successes, row.failures))

    return await _serve(request, work)


def _status_body(
    ident: str, request_us: int, successes: list[Any], failures: list[Any]
) -> dict[str, Any]:
    return {
        "id": ident,
        "status": "complete",
        "request_timestamp": store.format_us(request_us),
        "total_count": len(successes) + len(failures),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }


def _collection_body(row: store.Collection, rights: store.Rights) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "can_read": rights.can_read,
        "can_write": rights.can_write,
        "media_types": [STIX],
    }
    if row.alias:
        body["alias"] = row.alias
    return body


@router.get(f"/taxii2/{ROOT}/collections/", response_class=Taxii)
async def collections(request: Request) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        found = store.collections_for(session, partner_id=partner.id)
        return Taxii({"collections": [_collection_body(c, g) for c, g in found]} if found else {})

    return await _serve(request, work)


@router.get(f"/taxii2/{ROOT}/collections/{{collection_id}}/", response_class=Taxii)
async def collection(collection_id: str, request: Request) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        row, rights = store.collection_for(session, partner_id=partner.id, ident=collection_id)
        return Taxii(_collection_body(row, rights))

    return await _serve(request, work)


def _readable(session: Session, partner: Partner, collection_id: str) -> store.Collection:
    row, rights = store.collection_for(session, partner_id=partner.id, ident=collection_id)
    if not rights.can_read:
        raise errors.ForbiddenError(f"partner {partner.name!r} may not read {collection_id!r}")
    return row


# ---- paging -------------------------------------------------------------------------------


def _query(request: Request, collection_id: str, kind: str, **fixed: Any) -> store.Query:
    params = request.query_params

    def listed(name: str) -> tuple[str, ...]:
        values = params.getlist(f"match[{name}]")
        return tuple(v.strip() for value in values for v in value.split(",") if v.strip())

    after = params.get("added_after")
    default_versions = fixed.pop("versions", ("last",))
    fields: dict[str, Any] = {
        "collection_id": collection_id,
        "kind": kind,
        "ids": listed("id"),
        "types": listed("type"),
        "versions": listed("version") or default_versions,
        "spec_versions": listed("spec_version"),
        "added_after_us": store.parse_timestamp(after, "added_after") if after else None,
    }
    fields.update(fixed)
    for value in fields["versions"]:
        if value not in ("last", "first", "all"):
            store.parse_timestamp(value, "match[version]")
    return store.Query(**fields)


def _limit(request: Request, settings: Settings) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return settings.taxii_page_size
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"limit {text!r} is not a positive whole number")
    return min(int(text), settings.taxii_page_size)


def _page(
    request: Request, session: Session, settings: Settings, partner: Partner, query: store.Query
) -> tuple[list[store.Seen], dict[str, Any], dict[str, str]]:
    token = request.query_params.get("next")
    after = None
    if token:
        digest = query.digest(partner.name)
        after = store.load_cursor(session, token=token, digest=digest, partner=partner.name)
    rows, more = store.page(
        session,
        query=query,
        recipient=recipient(partner),
        limit=_limit(request, settings),
        after=after,
    )
    body: dict[str, Any] = {"more": more}
    if more:
        last = (rows[-1].row.added_us, rows[-1].row.seq)
        body["next"] = store.save_cursor(
            session,
            digest=query.digest(partner.name),
            partner=partner.name,
            after=last,
            ttl_seconds=settings.taxii_cursor_seconds,
        )
    headers = {}
    if rows:
        headers["X-TAXII-Date-Added-First"] = store.format_us(rows[0].row.added_us)
        headers["X-TAXII-Date-Added-Last"] = store.format_us(rows[-1].row.added_us)
    return rows, body, headers


def _version(seen: store.Seen) -> str:
    """A version as the object itself writes it (its ``modified``, else ``created``), so a
    client can compare the two as strings; the stored form (microseconds) for an object
    without either (an observable, versioned by what refers to it)."""
    stamp = seen.body.get("modified") or seen.body.get("created")
    return stamp if isinstance(stamp, str) else seen.row.version


@router.get(f"/taxii2/{ROOT}/collections/{{collection_id}}/manifest/", response_class=Taxii)
async def manifest(collection_id: str, request: Request, settings: SettingsDep) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        row = _readable(session, partner, collection_id)
        query = _query(request, row.id, "m")
        rows, body, headers = _page(request, session, settings, partner, query)
        body["objects"] = [
            {
                "id": r.row.stix_id,
                "date_added": store.format_us(r.row.added_us),
                "version": _version(r),
                "media_type": STIX,
            }
            for r in rows
        ]
        return Taxii(body, headers=headers)

    return await _serve(request, work)


@router.get(f"/taxii2/{ROOT}/collections/{{collection_id}}/objects/", response_class=Taxii)
async def get_objects(collection_id: str, request: Request, settings: SettingsDep) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        row = _readable(session, partner, collection_id)
        query = _query(request, row.id, "o")
        rows, body, headers = _page(request, session, settings, partner, query)
        body["objects"] = [r.body for r in rows]
        return Taxii(body, headers=headers)

    return await _serve(request, work)


@router.get(
    f"/taxii2/{ROOT}/collections/{{collection_id}}/objects/{{object_id}}/", response_class=Taxii
)
async def get_object(
    collection_id: str, object_id: str, request: Request, settings: SettingsDep
) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        row = _readable(session, partner, collection_id)
        query = _query(request, row.id, "id", ids=(object_id,))
        rows, body, headers = _page(request, session, settings, partner, query)
        if not rows and not request.query_params.get("next"):
            raise NotFoundError(f"object {object_id!r} is not in collection {collection_id!r}")
        body["objects"] = [r.body for r in rows]
        return Taxii(body, headers=headers)

    return await _serve(request, work)


@router.get(
    f"/taxii2/{ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/",
    response_class=Taxii,
)
async def versions(
    collection_id: str, object_id: str, request: Request, settings: SettingsDep
) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        row = _readable(session, partner, collection_id)
        for name in request.query_params:
            if name.startswith("match[") and name != "match[spec_version]":
                raise InputError(
                    f"{name} is not a filter of the versions endpoint; "
                    "it takes added_after, limit, next and match[spec_version]"
                )
        query = _query(request, row.id, "v", ids=(object_id,), versions=("all",))
        rows, body, headers = _page(request, session, settings, partner, query)
        if not rows and not request.query_params.get("next"):
            raise NotFoundError(f"object {object_id!r} is not in collection {collection_id!r}")
        body["versions"] = [_version(r) for r in rows]
        return Taxii(body, headers=headers)

    return await _serve(request, work)


@router.delete(
    f"/taxii2/{ROOT}/collections/{{collection_id}}/objects/{{object_id}}/", response_class=Taxii
)
async def delete_object(collection_id: str, object_id: str, request: Request) -> Response:
    def work(session: Session, partner: Partner) -> Response:
        row, rights = store.collection_for(session, partner_id=partner.id, ident=collection_id)
        if not (rights.can_read and rights.can_write):
            raise errors.ForbiddenError(
                f"partner {partner.name!r} needs read and write rights on {collection_id!r} "
                "to delete"
            )
        query = _query(request, row.id, "d", ids=(object_id,), versions=("all",))
        gone = store.delete_versions(session, query=query, source=f"partner:{partner.name}")
        if not gone:
            # Also what a partner hears for an object it did not add: nothing says it exists.
            raise NotFoundError(f"object {object_id!r} is not in collection {collection_id!r}")
        log.info(
            "taxii objects deleted",
            partner=partner.name,
            collection=row.id,
            versions=[f"{i}@{v}" for i, v in gone],
        )
        return Response(status_code=200, media_type=TAXII)

    return await _serve(request, work, writes=True)


# ---- adding -------------------------------------------------------------------------------


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise errors.TooLargeError(f"request body of {length} bytes is over {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise errors.TooLargeError(f"request body is over {limit} bytes")
    return bytes(data)


def _check_content_type(request: Request) -> None:
    if not _is_taxii(request.headers.get("content-type", "")):
        raise TaxiiError(415, "Unsupported media type", f"send Content-Type: {TAXII}")


@router.post(
    f"/taxii2/{ROOT}/collections/{{collection_id}}/objects/",
    response_class=Taxii,
    status_code=202,
)
async def add_objects(collection_id: str, request: Request, settings: SettingsDep) -> Response:
    """Read the body first, then check, store and answer in one unit of work.

    The body is read before the credentials are checked against the database (a request
    without any is refused before), so that no transaction, and on SQLite no write lock,
    is held while a client sends it; its size is bounded all the same.
    """
    _credentials(request)
    raw = await _body(request, settings.taxii_max_content_length)
    request_us = store.now_us()

    def work(session: Session, partner: Partner) -> Response:
        _check_content_type(request)
        found = store.collection_for_add(session, partner_id=partner.id, ident=collection_id)
        row, rights, lock = found
        if not rights.can_write:
            raise errors.ForbiddenError(
                f"partner {partner.name!r} may not write to {collection_id!r}"
            )
        objects, refused = _envelope(raw)
        return _add(session, row, partner, objects, request_us, lock, refused)

    return await _serve(request, work, writes=True)


def _add(
    session: Session,
    row: store.Collection,
    partner: Partner,
    envelope: list[Any],
    request_us: int,
    lock: store.Lock,
    refused: list[dict[str, str]],
) -> Taxii:
    accepted, failures = check_objects(envelope, row.policy, sender=partner.organisation)
    failures = refused + failures
    stored = store.add_objects(
        session,
        collection_id=row.id,
        objects=accepted,
        source=f"partner:{partner.name}",
        owner=partner.organisation,
        writer=recipient(partner),
        failures=failures,
        lock=lock,
    )
    successes = [{"id": i, "version": v, "message": m} for i, v, m in stored]
    saved_id = store.save_status(
        session,
        collection_id=row.id,
        partner=partner.name,
        request_us=request_us,
        successes=successes,
        failures=failures,
    )
    return Taxii(_status_body(saved_id, request_us, successes, failures), status_code=202)


def _not_json(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON value")


_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _envelope(raw: bytes) -> tuple[list[Any], list[dict[str, str]]]:
    """The envelope's objects, less those that cannot be stored (``unstorable``), and
    a failure for each of these: a lone surrogate, a number out of range."""
    big: list[Infinite] = []

    def number(text: str) -> float | Infinite:
        value = finite_float(text)
        if isinstance(value, Infinite):
            big.append(value)
        return value

    try:
        # NaN, Infinity: not JSON (RFC 8259); 1e400: refused by object (unstorable)
        data = json.loads(raw, parse_constant=_not_json, parse_float=number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the request body is not JSON: {exc}") from None
    except RecursionError:
        raise InputError("the request body is nested too deeply to read") from None
    if not isinstance(data, dict) or not isinstance(data.get("objects", []), list):
        raise InputError("the request body is not a TAXII envelope ({'objects': [...]})")
    objects: list[Any] = data.get("objects", [])
    if big or _SURROGATE.search(raw):  # only then is each object walked
        return unstorable(objects)
    return objects, []


# ---- anything else under /taxii2/ -----------------------------------------------------------

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _redirect(request: Request) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return Response(status_code=307, headers={"Location": f"{request.url.path}/{query}"})


def _slash_redirect(request: Request) -> Response:
    """307 to the URL with a trailing slash, once the credentials are good.

    A credential failure is never a redirect: a client that does not follow redirects (or
    drops the Authorization header when it does) learns at once that its key is wrong, not
    that a URL is. Authenticating here costs what the endpoint would have.
    """
    _credentials(request)
    return _unit(request, lambda _session, _partner: _redirect(request))


@router.api_route("/taxii2", methods=_METHODS, response_class=Taxii, include_in_schema=False)
async def discovery_without_slash(request: Request) -> Response:
    """``/taxii2``: what Starlette would redirect before any check, authenticated first."""
    if request.method not in ("GET", "HEAD"):
        message = f"{request.method} is not allowed here; use GET"
        raise TaxiiError(405, "Method not allowed", message)
    return await _serve(request, lambda _session, _partner: _redirect(request))


@router.api_route("/taxii2/{rest:path}", methods=_METHODS, response_class=Taxii)
def unknown(request: Request) -> Response:
    """Registered last: a path no TAXII endpoint has, or a method it does not take.

    A TAXII path without its trailing slash is redirected (307: same method and body) to
    the path with it, as Starlette does for the discovery URL ``/taxii2``.
    """
    allowed, slashed = set(), set()
    path = request.url.path
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint is not unknown:
            if route.path_regex.match(path):
                allowed |= route.methods or set()
            elif not path.endswith("/") and route.path_regex.match(path + "/"):
                slashed |= route.methods or set()
    if not allowed and request.method in slashed:
        return _slash_redirect(request)
    allowed = allowed or slashed
    if allowed:
        raise TaxiiError(
            405,
            "Method not allowed",
            f"{request.method} is not allowed here; use {', '.join(sorted(allowed))}",
        )
    hint = "" if request.url.path.endswith("/") else " (TAXII URLs end with '/')"
    raise TaxiiError(404, "Not found", f"no TAXII endpoint at {request.url.path}{hint}")
