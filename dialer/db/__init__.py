"""Database layer: typed models, sessions, migrations and repositories."""
