"""Alembic migrations of the job store, shipped inside the package (see app.jobs.migrate): `env.py` and `versions/`."""
