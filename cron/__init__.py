"""The cron engine: cron.yaml, App Engine's schedule grammar, the embedded scheduler.

App Engine's cron service reads cron.yaml in production; locally `scheduler.py`
reads the same file and calls the same `/_internal/cron/<job>` URLs. The jobs
themselves are in `tasks/`.
"""
