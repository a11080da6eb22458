"""Deploy helpers: what the platforms run, read from the deploy files.

- deploy/platforms.py: the command and environment App Engine and Cloud Run give
  the app's process (the start-up tests run exactly that);
- deploy/dockerfile.py: the Dockerfile, read without Docker;
- deploy/cloudrun.py: `python -m deploy.cloudrun` renders deploy/cloudrun/service.yaml;
- deploy/scheduler.py: `python -m deploy.scheduler` prints the Cloud Scheduler jobs
  that run cron.yaml on Cloud Run.
"""
