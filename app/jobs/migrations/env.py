"""Alembic's entry point: runs the migrations on the connection `app.jobs.migrate` hands over (no alembic.ini, no
URL here: the store's engine, with its SQLite pragmas, is the one that migrates)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
