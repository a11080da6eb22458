"""Modules of the installed Google Cloud SDK, for tests that use them as oracles.

    groc = load_sdk_module("googlecloudsdk.appengine.googlecron.groctimespecification")

The SDK is located beside `gcloud` (<root>/bin/gcloud), else with `gcloud info`,
falling back to /usr/lib/google-cloud-sdk.
Without it the calling test is skipped; under CI=true it fails instead, so that an
oracle missing from the CI image cannot turn the comparisons into silent passes.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.abc
import importlib.machinery
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from tests.utils.processes import missing_tool

FALLBACK_SDK_ROOT = Path("/usr/lib/google-cloud-sdk")

# Packages the SDK's App Engine modules import from <root>/lib/third_party. Only these
# are exposed, and only when not installed: that folder also holds an old `google`
# package that would shadow google-cloud-datastore and friends.
VENDORED_PACKAGES = frozenset({"antlr3", "ruamel", "six", "socks"})


def load_sdk_module(name: str) -> ModuleType:
    """Import `name` (e.g. "googlecloudsdk.appengine.api.croninfo") from the SDK."""
    root = sdk_root()
    if root is None:
        _unavailable(f"Google Cloud SDK not found: no `gcloud` on PATH and no {FALLBACK_SDK_ROOT}")
    _expose(root / "lib")
    try:
        with _bytecode_not_written():
            return importlib.import_module(name)
    except ImportError as error:
        _unavailable(f"cannot import {name} from the Google Cloud SDK at {root}: {error}")


@functools.cache
def sdk_root() -> Path | None:
    """The SDK's installation folder, or None if there is none."""
    gcloud = shutil.which("gcloud")
    # <root>/bin/gcloud, most often behind a symlink: asking `gcloud info` costs a
    # second or two in every test process, so only where the layout differs.
    beside = Path(gcloud).resolve().parent.parent if gcloud else None
    if beside is not None and _is_sdk_root(beside):
        return beside
    candidates = [FALLBACK_SDK_ROOT]
    if gcloud:
        command = [gcloud, "info", "--format=value(installation.sdk_root)"]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
            if found.strip():
                candidates.insert(0, Path(found.strip()))
    return next((root for root in candidates if _is_sdk_root(root)), None)


def _is_sdk_root(folder: Path) -> bool:
    return (folder / "lib" / "googlecloudsdk").is_dir()


def _unavailable(reason: str) -> NoReturn:
    missing_tool(reason)


@functools.cache
def _expose(lib: Path) -> None:
    # Appended, so that installed packages win over the SDK's copies.
    sys.path.append(str(lib))
    sys.meta_path.append(_VendoredPackages(lib / "third_party"))


class _VendoredPackages(importlib.abc.MetaPathFinder):
    """Finds the VENDORED_PACKAGES in the SDK's third_party folder, and nothing else."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in VENDORED_PACKAGES:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [self.folder])


@contextlib.contextmanager
def _bytecode_not_written() -> Iterator[None]:
    """Leave the SDK's installation as it was: no __pycache__ of ours in it."""
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = previous
