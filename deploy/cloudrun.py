"""deploy/cloudrun/service.yaml with a project's values filled in.

    python -m deploy.cloudrun --project my-project --project-number 123456789012 \\
        --region europe-west1 --image europe-west1-docker.pkg.dev/my-project/timeline/api:v1

prints the service description for `gcloud run services replace`. Every
${NAME} in the template must be given a value; one left over is an error, so that
a literal `${PROJECT_ID}` never reaches Cloud Run.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

SERVICE_TEMPLATE = Path(__file__).resolve().parent / "cloudrun" / "service.yaml"
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
_CHECKS = {
    "PROJECT_ID": re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]"),
    "PROJECT_NUMBER": re.compile(r"[0-9]{6,20}"),
    "REGION": re.compile(r"[a-z]+-[a-z]+[0-9]+"),
    # registry/path:tag or registry/path@sha256:digest
    "IMAGE": re.compile(r"[a-z0-9.-]+(:[0-9]+)?/[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})"),
}


class RenderError(ValueError):
    """A placeholder has no value, or a value of the wrong shape."""


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def render(template: str, values: Mapping[str, str]) -> str:
    missing = sorted(placeholders(template) - set(values))
    if missing:
        raise RenderError(f"no value for {', '.join(missing)}")
    for name, value in values.items():
        check = _CHECKS.get(name)
        if check is not None and not check.fullmatch(value):
            raise RenderError(f"{name} {value!r} does not look like one")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.cloudrun", description=__doc__)
    parser.add_argument("--project", required=True, help="the project id")
    parser.add_argument(
        "--project-number",
        required=True,
        help="gcloud projects describe PROJECT --format='value(projectNumber)'",
    )
    parser.add_argument("--region", required=True, help="e.g. europe-west1")
    parser.add_argument("--image", required=True, help="the image built from the Dockerfile")
    args = parser.parse_args(argv)
    values = {
        "PROJECT_ID": args.project,
        "PROJECT_NUMBER": args.project_number,
        "REGION": args.region,
        "IMAGE": args.image,
    }
    try:
        sys.stdout.write(render(SERVICE_TEMPLATE.read_text(), values))
    except RenderError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
