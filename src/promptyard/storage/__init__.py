"""The database: SQLModel tables, the engine and sessions, named migrations, the one write path."""
