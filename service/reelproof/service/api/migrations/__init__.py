"""Alembic migrations of the service database (run by ``reelproof db upgrade`` and on start)."""
