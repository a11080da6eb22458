"""Background work of the domain: the task handlers and cron jobs.

Each module registers its handlers (`@task_handler`) and jobs (`@cron_job`) on
import; `runtime.py` imports them all and wires them to the task queue
(`taskqueue/`) and the scheduler (`cron/`).
"""
