"""``legation users``: dashboard logins (the API uses keys, see ``legation keys``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

users_app = typer.Typer(help="Dashboard users (log in at /login).", no_args_is_help=True)
out = Console()


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="viewer, analyst or admin")] = "viewer",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Asked for when not given; at least 10 characters.",
        ),
    ] = "",
) -> None:
    """Create a dashboard user; only a scrypt hash of the password is stored."""
    from legation.settings import Settings
    from legation.storage.db import make_engine, session_factory, transaction
    from legation.storage.users import create_user

    factory = session_factory(make_engine(Settings().sqlalchemy_url))
    with transaction(factory) as session:
        create_user(session, username=username, password=password, role=role)
    out.print(f"user {username!r} created with role {role}")
