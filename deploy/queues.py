"""queue.yaml as Cloud Tasks queues, for targets without App Engine.

    python -m deploy.queues --location europe-west1 [--update]

prints one `gcloud tasks queues create` (or `update`) command per queue.yaml
queue, so that queue.yaml stays the one description of the queues on both
targets (App Engine reads it itself: `gcloud app deploy queue.yaml`). Values are
converted as `gcloud app deploy queue.yaml` converts them
(googlecloudsdk/api_lib/tasks/app_deploy_migration_util.py): a task_retry_limit
of N is N + 1 attempts, no limit is -1; bucket_size has no Cloud Tasks flag and
is left to Cloud Tasks.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from deploy.commands import backoff_flags, print_commands
from taskqueue.config import QueueConfig, load_queue_yaml


def queue_command(queue: QueueConfig, *, location: str, update: bool = False) -> list[str]:
    retry = queue.retry
    attempts = -1 if retry.task_retry_limit is None else retry.task_retry_limit + 1
    command = ["gcloud", "tasks", "queues", "update" if update else "create", queue.name]
    command += [
        f"--location={location}",
        f"--max-dispatches-per-second={queue.rate_per_second:g}",
        f"--max-concurrent-dispatches={queue.max_concurrent_requests}",
        f"--max-attempts={attempts}",
    ]
    return command + backoff_flags(retry)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.queues", description=__doc__)
    parser.add_argument("--location", required=True, help="the Cloud Tasks region")
    parser.add_argument("--queue-yaml", type=Path, default=None, help="default: queue.yaml")
    parser.add_argument("--update", action="store_true", help="update existing queues instead")
    args = parser.parse_args(argv)
    queues = load_queue_yaml(args.queue_yaml).values()
    print_commands(queue_command(q, location=args.location, update=args.update) for q in queues)


if __name__ == "__main__":
    main()
