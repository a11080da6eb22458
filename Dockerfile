# The API as a container, for Cloud Run (deploy/cloudrun/service.yaml) and for
# `docker run` anywhere (docs/DEPLOY.md). Production settings: without
# TIMELINE_ENV=local it needs Datastore, Cloud Tasks and Cloud Storage.
FROM python:3.11-slim

# HOST: Cloud Run sends requests to the container's own address, not loopback.
# FORWARDED_ALLOW_IPS: X-Forwarded-* come from Google's front end only (the
# container is reachable through nothing else), so they are believed.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    FORWARDED_ALLOW_IPS=*

WORKDIR /app
# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin timeline
# The code, by name: a new top-level module must be added here
# (tests/test_deploy_files.py checks that every one is).
COPY app.py clock.py demo.py errors.py graphql_context.py graphql_direct.py graphql_guards.py \
     graphql_media.py graphql_request.py \
     graphql_route.py http_caching.py persisted_queries.py request_limits.py \
     security_headers.py serve.py supervisor.py collector.py trusted_documents.py \
     cron.yaml queue.yaml ./
COPY auth ./auth
COPY cache ./cache
COPY cron ./cron
# GraphiQL is served only in local mode; its npm files are not in the image.
COPY graphiql ./graphiql
COPY mail ./mail
COPY media ./media
COPY observability ./observability
COPY push ./push
COPY resolvers ./resolvers
COPY schema ./schema
COPY settings ./settings
COPY store ./store
COPY taskqueue ./taskqueue
COPY tasks ./tasks

# Not root: the code and the image are read-only to the server.
USER 10001:10001
EXPOSE 8080
# Exec form, so that uvicorn is PID 1 and receives Cloud Run's SIGTERM itself.
CMD ["python", "-m", "serve"]
