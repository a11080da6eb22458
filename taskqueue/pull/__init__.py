"""Pull queues: work leased by worker processes, in the SQLite file or on Pub/Sub."""
