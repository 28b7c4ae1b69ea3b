"""Pull from and push to a partner's TAXII 2.1 collection.

A pull pages by ``added_after`` on the server's ``date_added`` and commits after every
page, together with how far it got, so a crash loses at most the page in flight and a
rerun goes on from there. Re-fetched objects are recognised (same id and version) and
not stored twice. Servers that answer errors with ``http_status`` as a number, or that
redirect to a login page when credentials are refused, are understood.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.domain.clock import utcnow
from legation.errors import AuthError, InputError, SourceError
from legation.logs import get_logger
from legation.partners.intake import check_objects, finite_float, unstorable
from legation.sharing.tlp import LEVEL_OF_ID, Recipient
from legation.storage import taxii as store
from legation.storage.db import transaction
from legation.storage.partners import pull_state
from legation.storage.sharing_tables import PartnerRow

TAXII = "application/taxii+json;version=2.1"
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Remote:
    """A partner's collection: its URL (ending in /collections/<id>/) and how to log in."""

    url: str
    username: str | None = None
    password: str | None = None
    api_key: str | None = None

    def auth(self) -> httpx.Auth | None:
        if self.username is not None and self.password is not None:
            return httpx.BasicAuth(self.username, self.password)
        return None

    def headers(self) -> dict[str, str]:
        headers = {"Accept": TAXII}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def _check(answer: httpx.Response, what: str) -> dict[str, Any]:
    if answer.is_redirect:
        raise AuthError(
            f"{what}: the server redirected to {answer.headers.get('location')!r} instead of "
            "answering; the credentials were probably refused"
        )
    if answer.status_code >= 400:
        raise _error(answer, what)
    try:
        # 1e400 is kept as an Infinite, refused by object when stored (intake.unstorable)
        data = answer.json(parse_float=finite_float) if answer.content else {}
    except ValueError as exc:
        raise SourceError(f"{what}: the answer is not JSON ({exc})") from None
    except RecursionError:
        raise SourceError(f"{what}: the answer is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise SourceError(f"{what}: the answer is not a TAXII resource")
    return data


def _error(answer: httpx.Response, what: str) -> Exception:
    detail = answer.text[:300]
    try:
        body = answer.json()
        status = str(body.get("http_status", answer.status_code))  # a number or a string
        detail = f"{body.get('title', '')}: {body.get('description', '')} (http_status {status})"
    except (ValueError, AttributeError):
        pass
    message = f"{what}: HTTP {answer.status_code} {detail}"
    return AuthError(message) if answer.status_code in (401, 403) else SourceError(message)


def _client(remote: Remote, transport: httpx.BaseTransport | None, timeout: float) -> httpx.Client:
    return httpx.Client(
        auth=remote.auth(),
        headers=remote.headers(),
        timeout=timeout,
        follow_redirects=False,
        transport=transport,
    )


def minus_one_microsecond(stamp: str) -> str:
    return store.format_us(store.parse_timestamp(stamp, "X-TAXII-Date-Added-Last") - 1)


@dataclass(slots=True)
class PullResult:
    pages: int = 0
    received: int = 0
    added: int = 0
    failed: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)  # id, version?, message


EMPTY_PAGE_RETRIES = 3
MAX_PAGE_SIZE = 10_000


def pull(
    factory: sessionmaker[Session],
    *,
    partner: str,
    remote: Remote,
    into: str,
    page_size: int = 500,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> PullResult:
    """Bring new objects of ``remote`` into our collection ``into``, page by committed page.

    Within a run it follows ``next`` with the same filters. A server that says ``more``
    without ``next`` is paged by ``added_after`` from the last ``date_added`` less a
    microsecond (in case the server reads ``added_after`` inclusively); what comes again is
    recognised by id and version and not stored twice, and when a whole page comes again
    (more objects share one ``date_added`` than fit a page) the page is made larger. After
    each page the resume point is recorded, where a rerun after a crash starts. Objects we
    refuse are counted, listed in the result (id, version, reason) and logged.
    """
    result = PullResult()
    objects_url = remote.url.rstrip("/") + "/objects/"
    with transaction(factory) as session:
        start = pull_state(session, partner=partner, collection_url=remote.url).added_after
        row = session.scalar(select(PartnerRow).where(PartnerRow.name == partner))
        owner = row.organisation if row is not None else None
    params: dict[str, str | int] = {"limit": page_size}
    if start:
        params["added_after"] = start
    token: str | None = None
    empty = 0
    with _client(remote, transport, timeout) as client:
        while True:
            answer = client.get(
                objects_url, params={**params, **({"next": token} if token else {})}
            )
            envelope = _check(answer, f"partner {partner!r} collection {remote.url}")
            objects = envelope.get("objects") or []
            last = answer.headers.get("X-TAXII-Date-Added-Last") or _latest_added(objects)
            with transaction(factory) as session:
                added, failures = _store(session, into, objects, f"partner:{partner}", owner)
                state = pull_state(session, partner=partner, collection_url=remote.url)
                if last:
                    state.added_after = minus_one_microsecond(last)
                state.pages += 1
                state.objects += added
                state.updated_at = utcnow()
            if failures:
                log.warning(
                    "partner objects refused",
                    partner=partner,
                    collection=remote.url,
                    ids=[f["id"] for f in failures],
                )
            result.pages += 1
            result.received += len(objects)
            result.added += added
            result.failed += len(failures)
            result.refused += failures
            if not envelope.get("more"):
                return result
            if not objects:
                empty += 1  # 'more' with nothing in it: ask again, a few times
                if empty > EMPTY_PAGE_RETRIES:
                    log.warning("partner keeps sending empty pages", partner=partner)
                    return result
                continue
            empty = 0
            token = envelope.get("next")
            if token:
                continue
            # TAXII 2.1 3.4: no 'next', so go on after the last date_added seen.
            if not last:
                raise SourceError(
                    f"partner {partner!r}: 'more' without 'next', X-TAXII-Date-Added-Last "
                    "or date_added on the objects"
                )
            following = minus_one_microsecond(last)
            if following == params.get("added_after") and added == 0:
                # The same page again: more objects share this date_added than a page holds.
                size = int(params["limit"])
                if size >= MAX_PAGE_SIZE:
                    log.warning("skipping past one date_added", partner=partner, at=last)
                    following = last
                else:
                    params["limit"] = min(size * 4, MAX_PAGE_SIZE)
            params["added_after"] = following


def _latest_added(objects: list[Any]) -> str | None:
    """The latest ``date_added`` the objects themselves carry (some servers add it)."""
    stamps = []
    for obj in objects:
        stamp = obj.get("date_added") if isinstance(obj, dict) else None
        if isinstance(stamp, str):
            try:
                stamps.append(store.parse_timestamp(stamp, "date_added"))
            except InputError:
                continue
    return store.format_us(max(stamps)) if stamps else None


def _store(
    session: Session, into: str, objects: list[Any], source: str, owner: str | None
) -> tuple[int, list[dict[str, str]]]:
    collection = store.find_collection(session, ident=into)
    # The official TLP definitions come from us, never from a partner's copy.
    theirs = [o for o in objects if not (isinstance(o, dict) and o.get("id") in LEVEL_OF_ID)]
    theirs, refused = unstorable(theirs)
    accepted, failures = check_objects(theirs, collection.policy, skip_tlp_definitions=True)
    failures = refused + failures
    results = store.add_objects(
        session,
        collection_id=collection.id,
        objects=accepted,
        source=source,
        owner=owner,
        failures=failures,
    )
    return sum(1 for *_r, message in results if message == "added"), failures


STATUS_POLLS = 8


def push(
    factory: sessionmaker[Session],
    *,
    collection: str,
    remote: Remote,
    recipient: Recipient,
    batch: int = 500,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
    poll_seconds: float = 0.25,
) -> tuple[int, int]:
    """Send the latest version of everything in ``collection`` the recipient may see.

    Requests stay under the API root's ``max_content_length`` (an object bigger than that
    alone is refused here, logged); a status that comes back ``pending`` is polled, a few
    times with growing pauses, until it is complete. Returns (objects the partner
    accepted, objects refused by it or too big to send); objects still pending after the
    polls count as neither and are logged.
    """
    base = remote.url.rstrip("/")
    objects_url = base + "/objects/"
    root = base.rsplit("/collections/", 1)[0] + "/"
    accepted = refused = 0
    with _client(remote, transport, timeout) as client:
        limit = _max_content_length(client, root)
        for seen in visible_versions(factory, collection, recipient, batch):
            # The official TLP definitions: every TAXII 2.1 server knows them (ours refuses
            # them from partners, and the objects refer to them by id only).
            theirs = [s.body for s in seen if s.body["id"] not in LEVEL_OF_ID]
            for body, too_big in _sized(theirs, limit):
                refused += len(too_big)
                if too_big:
                    log.warning("objects too big to push", ids=too_big, limit=limit)
                if not body:
                    continue
                answer = client.post(objects_url, content=body, headers={"Content-Type": TAXII})
                status = _finished(
                    client, root, _check(answer, f"push to {remote.url}"), poll_seconds
                )
                accepted += int(status.get("success_count", 0))
                refused += int(status.get("failure_count", 0))
    return accepted, refused


def _max_content_length(client: httpx.Client, root: str) -> int | None:
    try:
        value = _check(client.get(root), f"API root {root}").get("max_content_length")
    except (AuthError, SourceError, httpx.HTTPError) as exc:
        log.warning("API root not readable; batches are not cut to size", root=root, error=str(exc))
        return None
    return int(value) if isinstance(value, int) and value > 0 else None


def _sized(objects: list[dict[str, Any]], limit: int | None) -> Iterator[tuple[bytes, list[str]]]:
    """Envelopes of at most ``limit`` bytes each, and the ids of objects too big alone."""
    head, tail = b'{"objects":[', b"]}"
    parts: list[bytes] = []
    size = len(head) + len(tail)
    too_big: list[str] = []
    for obj in objects:
        part = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if limit is not None and len(head) + len(part) + len(tail) > limit:
            too_big.append(str(obj.get("id")))
            continue
        if limit is not None and parts and size + 1 + len(part) > limit:
            yield head + b",".join(parts) + tail, too_big
            parts, size, too_big = [], len(head) + len(tail), []
        size += len(part) + (1 if parts else 0)
        parts.append(part)
    if parts or too_big:
        yield (head + b",".join(parts) + tail if parts else b""), too_big


def _finished(
    client: httpx.Client, root: str, status: dict[str, Any], pause: float
) -> dict[str, Any]:
    """The status once complete, polling a pending one a bounded number of times."""
    for attempt in range(STATUS_POLLS):
        if status.get("status") != "pending" or not status.get("id"):
            return status
        time.sleep(pause * 2**attempt)
        url = f"{root}status/{status['id']}/"
        status = _check(client.get(url), f"status {url}")
    if status.get("status") == "pending":
        log.warning("push status still pending", status=status.get("id"))
    return status


def visible_versions(
    factory: sessionmaker[Session], collection: str, recipient: Recipient, batch: int = 500
) -> Iterator[list[store.Seen]]:
    """The latest version of everything in ``collection`` that ``recipient`` may see, in
    batches: what the TAXII server would give that partner (``store.page``), cut to its
    clearance, granular markings stripped. Push and the MISP export both send this."""
    after: tuple[int, int] | None = None
    while True:
        with transaction(factory) as session:
            row = store.find_collection(session, ident=collection)
            rows, more = store.page(
                session, query=store.Query(row.id), recipient=recipient, limit=batch, after=after
            )
        if rows:
            yield rows
            after = (rows[-1].row.added_us, rows[-1].row.seq)
        if not more:
            return
