"""Errors the task queue raises on purpose.

    TaskError
     ├── QueueConfigError   queue.yaml is malformed or names a setting we cannot honour
     ├── UnknownQueue       a task was sent to a queue that queue.yaml does not define
     ├── UnknownHandler     no task handler (or cron job) is registered under that name
     └── BadTask            the payload, name or delay cannot be sent as a task

A handler signals "retry me" by raising anything at all: the internal route answers
500 and the queue tries again later. These errors are for the code that enqueues.
"""

from __future__ import annotations


class TaskError(Exception):
    """Background work could not be enqueued or configured."""


class QueueConfigError(TaskError):
    """queue.yaml is malformed or asks for something the queue cannot do."""


class UnknownQueue(TaskError):
    """The queue is not defined in queue.yaml."""


class UnknownHandler(TaskError):
    """Nothing is registered under that handler or job name."""


class BadTask(TaskError):
    """The task's payload, name or delay is not acceptable."""


class NoSuchTask(TaskError):
    """No pending task of that name on that queue (it ran, failed for good, or never was)."""


class QueueAdminUnsupported(TaskError):
    """The queue's server does not implement this admin call."""
