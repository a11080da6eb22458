"""The process each platform starts, read from the deploy files: its command and
its environment, as App Engine and Cloud Run would give them.

    launch = app_engine(Path("app.yaml"), project="p", port=8080)
    launch = cloud_run(rendered_service_yaml, Dockerfile.read(Path("Dockerfile")),
                       secrets={"timeline-secret-key": "..."}, port=8080)

The start-up tests (tests/test_startup.py) run exactly this, so that a setting
missing from the deploy files stops a test, not a deploy.

App Engine's variables are those its Python 3 runtime documents (GAE_APPLICATION,
GAE_DEPLOYMENT_ID, GAE_ENV, GAE_INSTANCE, GAE_MEMORY_MB, GAE_RUNTIME, GAE_SERVICE,
GAE_VERSION, GOOGLE_CLOUD_PROJECT, PORT); Cloud Run's are K_SERVICE, K_REVISION,
K_CONFIGURATION and PORT, and nothing names the project there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy.dockerfile import Dockerfile

# Second-generation runtimes' memory per instance class; F1 is automatic scaling's default.
APP_ENGINE_MEMORY_MB = {"F1": 384, "F2": 768, "F4": 1536, "F4_1G": 3072}


class DeployFileError(ValueError):
    """A deploy file lacks what the platform needs to start the app."""


@dataclass(frozen=True)
class Launch:
    """A process as a platform starts it."""

    argv: list[str]
    environment: dict[str, str]


def app_engine(app_yaml: Path, *, project: str, port: int, version: str = "v1") -> Launch:
    """app.yaml's entrypoint, run by a shell as App Engine runs it (`exec` first), with
    app.yaml's env_variables, those of the files it includes (found beside it, as
    `gcloud app deploy` finds them) and what App Engine sets."""
    config = _yaml(app_yaml)
    entrypoint = config.get("entrypoint")
    if not isinstance(entrypoint, str) or not entrypoint.strip():
        raise DeployFileError(f"{app_yaml}: no entrypoint")
    environment: dict[str, str] = {}
    for include in config.get("includes") or []:
        environment.update(_env_variables(_yaml(app_yaml.parent / include), include))
    environment.update(_env_variables(config, app_yaml.name))
    instance_class = config.get("instance_class", "F1")
    service = config.get("service", "default")
    environment.update(
        {
            "GAE_APPLICATION": f"s~{project}",
            "GAE_DEPLOYMENT_ID": "1",
            "GAE_ENV": "standard",
            "GAE_INSTANCE": "00c61b117c" + "0" * 40,
            "GAE_MEMORY_MB": str(APP_ENGINE_MEMORY_MB[instance_class]),
            "GAE_RUNTIME": str(config.get("runtime", "")),
            "GAE_SERVICE": str(service),
            "GAE_VERSION": version,
            "GOOGLE_CLOUD_PROJECT": project,
            "PORT": str(port),
        }
    )
    return Launch(["/bin/sh", "-c", "exec " + entrypoint], environment)


def cloud_run(
    service_yaml: str, dockerfile: Dockerfile, *, secrets: Mapping[str, str], port: int
) -> Launch:
    """The container's command (service.yaml's command/args, else the Dockerfile's
    CMD) with the Dockerfile's ENV, service.yaml's env (a secretKeyRef read from
    `secrets`, as Secret Manager would hand it over) and what Cloud Run sets."""
    service = yaml.safe_load(service_yaml)
    name = service["metadata"]["name"]
    (container,) = service["spec"]["template"]["spec"]["containers"]
    environment = dockerfile.environment()
    for variable in container.get("env") or []:
        environment[variable["name"]] = _env_value(variable, secrets)
    environment.update(
        {
            "K_SERVICE": name,
            "K_REVISION": f"{name}-00001-abc",
            "K_CONFIGURATION": name,
            "PORT": str(port),
        }
    )
    argv = (container.get("command") or []) + (container.get("args") or [])
    return Launch(argv or dockerfile.command(), environment)


def _env_value(variable: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
    if "value" in variable:
        return str(variable["value"])
    reference = variable["valueFrom"]["secretKeyRef"]
    if reference["name"] not in secrets:
        raise DeployFileError(f"{variable['name']} reads secret {reference['name']!r}: not given")
    return secrets[reference["name"]]


def _yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DeployFileError(f"{path} does not exist")
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        raise DeployFileError(f"{path} is not a YAML mapping")
    return document


def _env_variables(config: Mapping[str, Any], source: str) -> dict[str, str]:
    variables = config.get("env_variables") or {}
    if not isinstance(variables, dict):
        raise DeployFileError(f"{source}: env_variables must be a mapping")
    # App Engine hands every value over as a string, as YAML's 0 becomes "0".
    return {str(name): str(value) for name, value in variables.items()}
