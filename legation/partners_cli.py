"""``legation partners``: partner services, TAXII collections, publish, pull and push."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from legation.settings import Settings

partners_app = typer.Typer(
    help="Partner services over TAXII 2.1 / STIX 2.1 under TLP 2.0.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

RemoteUser = Annotated[
    str | None, typer.Option(envvar="LEGATION_REMOTE_USER", help="Login on the partner's server.")
]
RemotePassword = Annotated[
    str | None,
    typer.Option(envvar="LEGATION_REMOTE_PASSWORD", help="Password there (use the variable)."),
]
RemoteKey = Annotated[
    str | None,
    typer.Option(envvar="LEGATION_REMOTE_KEY", help="Bearer API key there (use the variable)."),
]


def _settings() -> Settings:
    from legation.cli import _settings as settings

    return settings()


def _factory() -> Any:
    from legation.cli import _factory as factory

    return factory(_settings())


@partners_app.command("add")
def add(
    name: str,
    clearance: Annotated[str, typer.Option(help="TLP ceiling: clear, green, amber…")] = "green",
    organisation: Annotated[
        str | None, typer.Option(help="Their STIX identity id (for TLP:AMBER+STRICT).")
    ] = None,
    username: Annotated[str | None, typer.Option(help="HTTP Basic login on our server.")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="LEGATION_PARTNER_PASSWORD", help="Its password (use the variable)."),
    ] = None,
    url: Annotated[str | None, typer.Option(help="Their TAXII collection URL, to pull.")] = None,
) -> None:
    """Register a partner; prints its API key for our TAXII server once.

    With --username, the password comes from LEGATION_PARTNER_PASSWORD, or is asked for.
    """
    from legation.storage.db import transaction
    from legation.storage.partners import add_partner

    if username is not None and password is None:
        password = typer.prompt(f"password for {username}", hide_input=True)

    with transaction(_factory()) as session:
        partner, key = add_partner(
            session,
            name=name,
            clearance=clearance,
            organisation=organisation,
            username=username,
            password=password,
            url=url,
        )
    out.print(f"partner {partner.name!r} (TLP:{partner.clearance.upper()}) API key: {key}")


@partners_app.command("rotate-key")
def rotate_key_(name: str) -> None:
    """Give a partner a new API key (printed once); the old one stops working at once."""
    from legation.storage.db import transaction
    from legation.storage.partners import rotate_key

    with transaction(_factory()) as session:
        key = rotate_key(session, name=name)
    out.print(f"partner {name!r} new API key: {key}")


@partners_app.command("set-password")
def set_password_(
    name: str,
    username: Annotated[
        str | None, typer.Option(help="HTTP Basic login (default: the current one).")
    ] = None,
) -> None:
    """Set a partner's HTTP Basic password: from LEGATION_PARTNER_PASSWORD, or asked for."""
    import os

    from legation.storage.db import transaction
    from legation.storage.partners import set_password

    password = os.environ.get("LEGATION_PARTNER_PASSWORD") or typer.prompt(
        f"new password for {name}", hide_input=True, confirmation_prompt=True
    )
    with transaction(_factory()) as session:
        set_password(session, name=name, username=username, password=password)
    out.print(f"partner {name!r}: password set; logins with the old one are refused")


@partners_app.command("set-clearance")
def set_clearance_(name: str, clearance: str) -> None:
    """Change a partner's TLP clearance (applies to its next request)."""
    from legation.storage.db import transaction
    from legation.storage.partners import set_clearance

    with transaction(_factory()) as session:
        level = set_clearance(session, name=name, clearance=clearance)
    out.print(f"partner {name!r} is now cleared to TLP:{level.upper()}")


@partners_app.command("disable")
def disable_(name: str) -> None:
    """Forget a partner's API key and password (rotate-key or set-password re-enable it)."""
    from legation.storage.db import transaction
    from legation.storage.partners import disable_partner

    with transaction(_factory()) as session:
        disable_partner(session, name=name)
    out.print(f"partner {name!r} disabled: its key and password no longer log in")


@partners_app.command("remove")
def remove_(name: str) -> None:
    """Delete a partner and its grants; what it sent stays, with its provenance."""
    from legation.storage.db import transaction
    from legation.storage.partners import remove_partner

    with transaction(_factory()) as session:
        remove_partner(session, name=name)
    out.print(f"partner {name!r} removed")


@partners_app.command("list")
def list_() -> None:
    """Partners, their clearance and their collections."""
    from legation.storage.db import transaction
    from legation.storage.partners import list_partners
    from legation.storage.taxii import collections_for

    table = Table(title="Partners")
    for column in ("name", "clearance", "basic login", "collections (r/w)", "pull URL"):
        table.add_column(column)
    with transaction(_factory()) as session:
        for row in list_partners(session):
            rights = [
                f"{c.alias or c.id} ({'r' if g.can_read else '-'}{'w' if g.can_write else '-'})"
                for c, g in collections_for(session, partner_id=row.id)
            ]
            table.add_row(
                row.name, row.clearance, row.username or "", ", ".join(rights), row.url or ""
            )
    out.print(table)


@partners_app.command("collection-add")
def collection_add(
    title: str,
    alias: Annotated[str, typer.Option(help="Short name used in URLs and commands.")],
    max_tlp: Annotated[str, typer.Option(help="Nothing above this goes in.")] = "green",
    default_tlp: Annotated[str, typer.Option(help="Marking of unmarked objects.")] = "green",
    country: Annotated[
        list[str] | None, typer.Option(help="Publish incidents in this country (repeat).")
    ] = None,
    incident_type: Annotated[
        list[str] | None, typer.Option(help="Publish incidents of this type (repeat).")
    ] = None,
    sightings: Annotated[
        bool, typer.Option(help="Also publish at which of our sites incidents raised alerts.")
    ] = False,
    within_km: Annotated[
        float | None,
        typer.Option(help="Publish only incidents within this many km of one of our sites."),
    ] = None,
    description: str = "",
) -> None:
    """Create a TAXII collection defined by a policy."""
    from legation.errors import InputError
    from legation.sharing.tlp import level_rank, parse_level
    from legation.storage.db import transaction
    from legation.storage.taxii import create_collection

    for level in (max_tlp, default_tlp):
        level_rank(level)  # an unknown level is refused, named
    policy: dict[str, Any] = {
        "max_tlp": parse_level(max_tlp),
        "default_tlp": parse_level(default_tlp),
    }
    if country:
        policy["countries"] = [c.upper() for c in country]
    if incident_type:
        policy["types"] = incident_type
    if sightings:
        policy["sightings"] = True
    if within_km is not None:
        if not within_km > 0:
            raise InputError(f"--within-km {within_km}: give a positive number of km")
        policy["within_km"] = within_km
    with transaction(_factory()) as session:
        row = create_collection(
            session, title=title, alias=alias, description=description, policy=policy
        )
    out.print(f"collection {row.alias} id {row.id}")


@partners_app.command("grant")
def grant_(
    name: str,
    collection: str,
    read: Annotated[bool, typer.Option("--read/--no-read")] = True,
    write: Annotated[bool, typer.Option("--write/--no-write")] = False,
) -> None:
    """Let a partner read (and write) a collection."""
    from legation.storage.db import transaction
    from legation.storage.partners import get_partner
    from legation.storage.taxii import find_collection, grant

    with transaction(_factory()) as session:
        partner = get_partner(session, name=name)
        row = find_collection(session, ident=collection)
        grant(session, partner_id=partner.id, collection_id=row.id, read=read, write=write)
    out.print(
        f"{name}: {'read' if read else 'no read'}, "
        f"{'write' if write else 'no write'} on {collection}"
    )


@partners_app.command("publish")
def publish(collection: str) -> None:
    """Export our incidents into a collection as its policy says (new versions only)."""
    from legation.partners.publish import publish_incidents
    from legation.storage.db import transaction

    settings = _settings()
    with transaction(_factory()) as session:
        incidents, added = publish_incidents(
            session,
            collection=collection,
            producer=settings.sharing_producer,
            source_tlp=settings.sharing_source_tlp,
        )
    out.print(f"{incidents} incidents published to {collection}: {added} new object versions")


def _inbox(name: str) -> str:
    from legation.errors import NotFoundError
    from legation.storage.db import transaction
    from legation.storage.taxii import create_collection, find_collection

    alias = f"from-{name}"
    with transaction(_factory()) as session:
        try:
            find_collection(session, ident=alias)
        except NotFoundError:
            create_collection(
                session,
                title=f"Received from {name}",
                alias=alias,
                description=f"Objects pulled from partner {name}",
                policy={"max_tlp": "red", "default_tlp": "amber"},
            )
    return alias


@partners_app.command("pull")
def pull_(
    name: str,
    url: Annotated[str | None, typer.Option(help="Their collection URL (default: stored).")] = None,
    into: Annotated[str | None, typer.Option(help="Our collection (default from-NAME).")] = None,
    page_size: int = 500,
    user: RemoteUser = None,
    password: RemotePassword = None,
    key: RemoteKey = None,
) -> None:
    """Pull new objects from a partner's collection; safe to rerun after a crash."""
    from legation.partners.client import Remote, pull
    from legation.storage.db import transaction
    from legation.storage.partners import get_partner

    factory = _factory()
    with transaction(factory) as session:
        stored = get_partner(session, name=name).url
    target = url or stored
    if not target:
        raise typer.BadParameter(f"partner {name!r} has no URL; pass --url")
    result = pull(
        factory,
        partner=name,
        remote=Remote(target, user, password, key),
        into=into or _inbox(name),
        page_size=page_size,
        timeout=_settings().http_timeout_seconds,
    )
    out.print(
        f"{result.pages} pages, {result.received} objects received, {result.added} new, "
        f"{result.failed} refused"
    )
    if result.refused:
        import json

        # Kept for a later retry, and listed: which objects, which versions, why.
        path = _settings().data_dir / f"pull-refused-{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result.refused, indent=1, ensure_ascii=False), "utf-8")
        for failure in result.refused:
            out.print(f"refused {failure['id']}: {failure['message']}", markup=False)
        out.print(f"refused objects listed in {path}", markup=False)


@partners_app.command("push")
def push_(
    name: str,
    collection: str,
    url: Annotated[str, typer.Option(help="Their collection URL to post to.")],
    user: RemoteUser = None,
    password: RemotePassword = None,
    key: RemoteKey = None,
) -> None:
    """Send a collection to a partner, cut to the partner's TLP clearance."""
    from legation.partners.client import Remote, push
    from legation.sharing.tlp import Recipient
    from legation.storage.db import transaction
    from legation.storage.partners import get_partner

    factory = _factory()
    with transaction(factory) as session:
        partner = get_partner(session, name=name)
        recipient = Recipient(partner.clearance, partner.organisation)
    accepted, refused = push(
        factory,
        collection=collection,
        remote=Remote(url, user, password, key),
        recipient=recipient,
        timeout=_settings().http_timeout_seconds,
    )
    out.print(f"{accepted} objects accepted by {name}, {refused} refused")


misp_app = typer.Typer(
    help="MISP event JSON in (through misp-stix) and out (pymisp); the misp extra.",
    no_args_is_help=True,
)
partners_app.add_typer(misp_app, name="misp")


@misp_app.command("import")
def misp_import(
    files: Annotated[list[Path], typer.Argument(help="MISP event JSON files.")],
    partner: Annotated[
        str, typer.Option(help="The partner the files come from (see partners add).")
    ],
    into: Annotated[str | None, typer.Option(help="Our collection (default from-PARTNER).")] = None,
) -> None:
    """Import MISP events as STIX 2.1 objects sent by a partner, markings kept.

    A MISP tlp:* tag becomes the TLP 2.0 marking (tlp:white is TLP:CLEAR); an event's
    attributes and objects take the event's TLP; what is still unmarked gets the
    collection's default. A file that is not JSON, holds no MISP event or fails to convert
    is reported and nothing of it is stored; the other files go on.
    """
    from legation.errors import InputError
    from legation.partners.misp import import_misp_file
    from legation.storage.db import transaction
    from legation.storage.partners import get_partner

    factory = _factory()
    with transaction(factory) as session:
        get_partner(session, name=partner)  # an unknown partner: an error before anything
    target = into or _inbox(partner)
    failed = 0
    for path in files:
        try:
            result = import_misp_file(factory, path, partner=partner, into=target)
        except InputError as exc:
            failed += 1
            err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            continue
        for warning in result.warnings:
            out.print(f"{path}: misp-stix: {warning}", markup=False, soft_wrap=True)
        out.print(
            f"{path}: {result.events} events, {result.objects} STIX objects, "
            f"{result.added} new versions in {target}",
            markup=False,
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(1)


@misp_app.command("export")
def misp_export(
    collection: str,
    partner: Annotated[str, typer.Option(help="Who receives: the events are cut to its TLP.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the MISP feed to.")],
) -> None:
    """Write the incidents of a collection a partner may see as MISP events (a MISP feed).

    One event per incident, named <event uuid>.json, and manifest.json: a directory a MISP
    instance can use as a feed, or whose files it imports. The partner's clearance applies
    as in push (TLP:RED never leaves); the event has one tlp: tag; the same incident
    exported again keeps its event and attribute UUIDs, so MISP updates it.
    """
    from legation.partners.misp import export_misp, write_feed
    from legation.sharing.tlp import Recipient
    from legation.storage.db import transaction
    from legation.storage.partners import get_partner

    factory = _factory()
    with transaction(factory) as session:
        row = get_partner(session, name=partner)
        recipient = Recipient(row.clearance, row.organisation)
    result = export_misp(
        factory, collection=collection, recipient=recipient, producer=_settings().sharing_producer
    )
    for reason in result.skipped:
        err.print(f"skipped {reason}", markup=False, highlight=False, soft_wrap=True)
    write_feed(out_dir, result)
    out.print(
        f"{len(result.events)} MISP events for {partner} (TLP:{recipient.clearance.upper()}) "
        f"in {out_dir}",
        markup=False,
        soft_wrap=True,
    )
