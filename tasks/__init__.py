"""Background work: task queues and cron jobs."""
