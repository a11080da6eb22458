"""The embedded task queue: rows of the SQLite file, delivered by workers in the app."""
