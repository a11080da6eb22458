"""How a setting is declared and read: a `Variable` names one environment variable,
its kind (what text it accepts), its defaults and what it is for; a `Reader` reads
them for one start-up and gathers every problem, so that a bad deploy hears of all
its mistakes at once, each naming its variable, its value and the form expected.

The declarations are also the documentation: docs/CONFIGURATION.md is generated
from them (python -m settings.doc).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

PREFIX = "TIMELINE_"
T = TypeVar("T")
N = TypeVar("N", int, float)


class SettingsError(ValueError):
    """Settings are missing, malformed or not allowed where the app runs; `problems`
    holds one sentence each, and the message lists them all."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            listed = "".join(f"\n  - {problem}" for problem in self.problems)
            message = f"{len(self.problems)} settings are wrong:{listed}"
        super().__init__(message)


class Invalid(ValueError):
    """Raised by a kind's parser with what the text should have been ("a whole number")."""


@dataclass(frozen=True)
class Kind(Generic[T]):
    """What text a variable accepts: `form` says it (in the doc's type column), and
    `parse` turns the text into a value or raises Invalid."""

    form: str
    parse: Callable[[str], T]
    reads_empty: bool = False  # an empty value is a value (a boolean's off), not unset


class _Same(enum.Enum):
    AS_LOCALLY = "as locally"


AS_LOCALLY = _Same.AS_LOCALLY


@dataclass(frozen=True)
class Variable(Generic[T]):
    """One environment variable. `default` is the text read when it is unset (or
    empty) on one machine, `production_default` when that differs in production;
    `shown_default` replaces both in the doc when the default is worked out from other
    settings. `required` says when it must be set; `about` what it does."""

    name: str
    kind: Kind[T]
    about: str
    default: str | None = None
    production_default: str | _Same | None = AS_LOCALLY
    shown_default: str | None = None
    required: str = ""
    prefixed: bool = True  # False for the platform's own variables (GOOGLE_CLOUD_PROJECT)

    @property
    def env_name(self) -> str:
        return PREFIX + self.name if self.prefixed else self.name

    def default_for(self, production: bool) -> str | None:
        if production and self.production_default is not AS_LOCALLY:
            return self.production_default
        return self.default


@dataclass
class Reader:
    """Reads variables from one environment, for one mode, and keeps the problems."""

    environ: Mapping[str, str]
    production: bool
    problems: list[str] = field(default_factory=list)
    read_names: set[str] = field(default_factory=set)

    def text(self, variable: Variable[Any]) -> str | None:
        """The variable's own text; None when it is unset, or empty where its kind
        gives empty no meaning."""
        self.read_names.add(variable.env_name)
        given = self.environ.get(variable.env_name)
        if given == "" and not variable.kind.reads_empty:
            return None
        return given

    def optional(self, variable: Variable[T]) -> T | None:
        """The variable's value, its default's when unset, or None without either.
        A malformed value is a problem, and reads as its default meanwhile."""
        text = self.text(variable)
        default = variable.default_for(self.production)
        if text is not None:
            try:
                return variable.kind.parse(text)
            except Invalid as expected:
                self.refuse(f"{variable.env_name} must be {expected}, not {text!r}")
        return None if default is None else variable.kind.parse(default)

    def value(self, variable: Variable[T]) -> T:
        value = self.optional(variable)
        if value is None:
            raise LookupError(f"{variable.env_name} has no default here: read it as optional")
        return value

    def adapter(self, variable: Variable[str], refused_in_production: str = "") -> str:
        """Which adapter `variable` chooses, between a local one (its default) and a
        cloud one (its production default); the local one is refused in production
        when it cannot work there, saying why."""
        chosen = self.value(variable)
        local = variable.default
        if self.production and chosen == local and refused_in_production:
            cloud = variable.production_default
            self.refuse(f"{variable.env_name}={local} {refused_in_production}; use {cloud}")
        return chosen

    def refuse(self, problem: str) -> None:
        self.problems.append(problem)

    def check(self) -> None:
        if self.problems:
            raise SettingsError(self.problems)


def adapter_choice(name: str, local: str, cloud: str, about: str) -> Variable[str]:
    """The variable choosing between a local adapter and a cloud one."""
    return Variable(name, choice(local, cloud), about, default=local, production_default=cloud)


# Kinds


def text() -> Kind[str]:
    return Kind("text", lambda value: value)


def path() -> Kind[Path]:
    return Kind("path", Path)


def flag() -> Kind[bool]:
    def parse(value: str) -> bool:
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off", ""):
            return False
        raise Invalid("a boolean (1/0, true/false)")

    return Kind("boolean: 1/0, true/false, yes/no, on/off", parse, reads_empty=True)


def whole(minimum: int = 1, maximum: int | None = None) -> Kind[int]:
    if maximum is not None:
        bounds = f"{minimum} to {maximum}"
    else:
        bounds = "positive" if minimum == 1 else f"at least {minimum}"
    top = maximum

    def allowed(value: int) -> bool:
        return minimum <= value and (top is None or value <= top)

    return _numeric(int, "a whole number", bounds, allowed)


def number(within: tuple[float, float] | None = None) -> Kind[float]:
    """A decimal number: above 0 (as durations are), or `within` the bounds given."""
    if within is None:
        return _numeric(float, "a number", "positive", lambda value: value > 0)
    low, high = within
    return _numeric(float, "a number", f"{low:g} to {high:g}", lambda value: low <= value <= high)


def _numeric(
    convert: Callable[[str], N], noun: str, bounds: str, allowed: Callable[[N], bool]
) -> Kind[N]:
    def parse(value: str) -> N:
        try:
            parsed = convert(value)
        except ValueError:
            raise Invalid(noun) from None
        if not allowed(parsed):
            raise Invalid(bounds)
        return parsed

    return Kind(f"{noun.removeprefix('a ')}, {bounds}", parse)


def choice(*options: str, fold_case: bool = False) -> Kind[str]:
    quoted = [f"'{option}'" for option in options]
    listed = " or ".join(quoted) if len(options) == 2 else f"one of {', '.join(quoted[:-1])}"
    if len(options) > 2:
        listed += f" or {quoted[-1]}"

    def parse(value: str) -> str:
        chosen = value.upper() if fold_case else value
        if chosen not in options:
            raise Invalid(listed)
        return chosen

    ticked = [f"`{option}`" for option in options]
    return Kind(" or ".join(ticked) if len(options) == 2 else f"one of {', '.join(ticked)}", parse)


def url(*schemes: str) -> Kind[str]:
    """A URL whose scheme is one of `schemes` (what the app can speak to)."""
    starts = [f"{scheme}://" for scheme in schemes]
    listed = " or ".join(starts) if len(starts) < 3 else f"{', '.join(starts[:-1])} or {starts[-1]}"

    def parse(value: str) -> str:
        if urlsplit(value).scheme not in schemes:
            raise Invalid(f"a URL starting {listed}")
        return value

    return Kind(f"URL: {listed}", parse)


@dataclass(frozen=True)
class Section:
    """The variables of one concern, in the order the doc lists them."""

    title: str
    about: str
    variables: tuple[Variable[Any], ...]
