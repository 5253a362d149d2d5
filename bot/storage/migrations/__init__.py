"""Alembic migrations of the Cadenza database (a package so installs ship them)."""
