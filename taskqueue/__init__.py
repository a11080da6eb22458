"""The task queue: how background work is enqueued, delivered and retried.

The port (`port.py`) and its adapters (`embedded/`, a table in the SQLite file with
workers in the app; `cloud_tasks.py`), the facade handlers and resolvers enqueue
through (`enqueue.Tasks`), the registry of handlers and cron jobs, the context a
handler is handed, the `/_internal/` routes that run them and their guard,
queue.yaml, retries and rates, the run log and admin. Pull queues, leased by worker
processes instead, are in `pull/`. The handlers themselves are in `tasks/`.
"""
