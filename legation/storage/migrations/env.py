"""Alembic environment: runs against the URL passed in the config, batch mode for SQLite."""

from __future__ import annotations

from alembic import context

from legation.storage.db import make_engine
from legation.storage.tables import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "legation.storage.migrate sets sqlalchemy.url"

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
