"""Configuration files people edit (scorecards, segments): YAML read with the line of every key, so a pydantic
validation error can name the file and the line it is about."""

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
Path_ = tuple[str | int, ...]


class Invalid(ValueError):
    """Raised by a validator about a part of the value it checks (e.g. one key of a dict): `at` is that part's
    path below the validated field, so the error names the part's own line."""

    def __init__(self, message: str, *at: str | int) -> None:
        super().__init__(message)
        self.at = at


class ConfigError(ValueError):
    """A configuration file is missing, not YAML, or breaks its rules; each problem names the file and line."""


def load(path: Path, model: type[Model], what: str) -> Model:
    """Read `path` and validate it as `model`.

    Args:
        path: the YAML file.
        model: the pydantic model of the whole document.
        what: what the file holds, for messages ("scorecards").

    Raises:
        ConfigError: listing every problem as `file:line: where: message`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path}: {exc.strerror or exc}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    lines: dict[Path_, int] = {}
    if node is not None:
        _index(node, (), lines)
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = [_problem(path, item, lines) for item in exc.errors()]
        raise ConfigError(f"invalid {what} file {path}:\n" + "\n".join(problems)) from exc


def _index(node: yaml.Node, at: Path_, lines: dict[Path_, int]) -> None:
    # A mapping entry is located at its key (where a person looks for it), a list item at its first line.
    lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            here = (*at, key_node.value)
            lines[here] = key_node.start_mark.line + 1
            _index(value_node, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index(item, (*at, position), lines)


def _problem(path: Path, item: Any, lines: dict[Path_, int]) -> str:
    loc = tuple(part for part in item["loc"] if part != "[key]")
    cause = (item.get("ctx") or {}).get("error")
    if isinstance(cause, Invalid):
        loc = (*loc, *cause.at)
    # pydantic's loc can go deeper than the document (a union's member name): the nearest located prefix wins.
    line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), 1)
    where = ".".join(str(part) for part in loc) or "top level"
    message = str(item["msg"]).removeprefix("Value error, ")
    return f"  {path}:{line}: {where}: {message}"
