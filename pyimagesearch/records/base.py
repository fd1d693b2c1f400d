"""Typed result records: a dataclass per result file, validated when written and when read.

A record class lists its fields with their types (``float``, ``int``,
``str``, ``bool``, ``dict``, ``list[...]``, ``... | None`` and other record
classes) and, in the field's metadata, a check of its range::

    @dataclass(frozen=True)
    class RunMetrics(Record):
        KIND = "lenet-run-metrics"
        FILE = "metrics.json"
        test_accuracy: float = field(metadata=ACCURACY)
        epochs: int = field(metadata=COUNT)

``to_json()`` validates and returns plain JSON data with ``kind`` and
``schema``; ``from_json(data, source)`` validates and builds the record;
``write(folder)`` and ``read(path)`` do that through a file (written
atomically). Every failure is a ``RecordError`` whose message is one
sentence naming the file and the field::

    output/clr/seed-1/metrics.json: test_accuracy = 1.7 is not an accuracy (it must be in [0, 1])

A float field typed ``float | None`` holds None where the value does not
exist (the loss of a diverged run is written as null); a plain ``float``
field never does, so NaN can only appear where a record allows it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from pathlib import Path
from typing import Any, Callable, ClassVar

from pyimagesearch.core.errors import RunError
from pyimagesearch.core.outputs import json_text, write_text

Check = Callable[[Any], str | None]  # None when the value is fine, else what is wrong with it


class RecordError(RunError):
    """A result file that cannot be trusted; ``str(error)`` is one sentence naming the file and the field."""

    def __init__(self, source: str, field: str | None, problem: str):
        self.source, self.field, self.problem = source, field, problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where} {problem}" if field else f"{where}: {problem}")


def _rule(test: Callable[[Any], bool], what: str) -> dict[str, Check]:
    return {"check": lambda value: None if test(value) else what}


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


ACCURACY = _rule(lambda v: _finite(v) and 0.0 <= v <= 1.0, "is not an accuracy (it must be in [0, 1])")
PROBABILITY = _rule(lambda v: _finite(v) and 0.0 <= v <= 1.0, "is not a probability (it must be in [0, 1])")
LR = _rule(lambda v: _finite(v) and v > 0, "is not a learning rate (it must be finite and > 0)")
POSITIVE = _rule(lambda v: _finite(v) and v > 0, "must be finite and > 0")
NONNEGATIVE = _rule(lambda v: _finite(v) and v >= 0, "must be finite and >= 0")
COUNT = _rule(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "is not a count (an integer >= 0)")
POSITIVE_COUNT = _rule(lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                       "must be an integer > 0")
FINITE = _rule(_finite, "must be a finite number")
SECONDS = NONNEGATIVE


def each(rule: dict[str, Check]) -> dict[str, Check]:
    """A check applied to every item of a list field."""
    check = rule["check"]

    def check_all(values):
        for index, value in enumerate(values):
            problem = check(value)
            if problem:
                return f"[{index}] = {value!r} {problem}"
        return None

    return {"check": check_all, "items": True}


def one_of(*choices: str) -> dict[str, Check]:
    return _rule(lambda v: v in choices, f"must be one of {', '.join(map(repr, choices))}")


@dataclasses.dataclass(frozen=True)
class Record:
    """Base of every result record; subclasses set ``KIND`` (and ``FILE`` when they have a file of their own)."""

    KIND: ClassVar[str] = "record"
    SCHEMA: ClassVar[int] = 1
    FILE: ClassVar[str | None] = None

    def __post_init__(self):
        self.validate(self.KIND)

    # -- validation ------------------------------------------------------------------------------
    def validate(self, source: str) -> None:
        """Check every field's type and range, then ``check()``; ``RecordError`` naming ``source``."""
        hints = typing.get_type_hints(type(self))
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            problem = _type_problem(value, hints[spec.name])
            if problem is None and value is not None and "check" in spec.metadata:
                problem = spec.metadata["check"](value)
                if problem and spec.metadata.get("items"):
                    raise RecordError(source, f"{spec.name}{problem.split(' ', 1)[0]}", problem.split(" ", 1)[1])
            if problem:
                raise RecordError(source, spec.name, problem if value is None else f"= {_shown(value)} {problem}")
        problem = self.check()
        if problem:
            raise RecordError(source, None, problem)

    def check(self) -> str | None:
        """Rules between fields (a subclass's); None when they hold, else the sentence that says why not."""
        return None

    # -- JSON ------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        data = {"kind": self.KIND, "schema": self.SCHEMA}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            data[spec.name] = value.to_json() if isinstance(value, Record) else _json_value(value)
        return data

    @classmethod
    def from_json(cls, data: Any, source: str | None = None):
        """The record held by ``data`` (as ``to_json`` wrote it); ``RecordError`` naming ``source``."""
        source = source or cls.KIND
        if not isinstance(data, dict):
            raise RecordError(source, None, f"holds {type(data).__name__}, not a {cls.KIND} record")
        if data.get("kind", cls.KIND) != cls.KIND:
            raise RecordError(source, "kind", f"= {data.get('kind')!r} is not {cls.KIND!r}")
        if data.get("schema", cls.SCHEMA) != cls.SCHEMA:
            raise RecordError(source, "schema", f"= {data.get('schema')!r}, but this version reads schema "
                                                f"{cls.SCHEMA}; run the command again to rewrite it")
        hints = typing.get_type_hints(cls)
        values = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in data:
                if spec.default is not dataclasses.MISSING or spec.default_factory is not dataclasses.MISSING:
                    continue
                raise RecordError(source, spec.name, "is missing")
            values[spec.name] = _from_json_value(data[spec.name], hints[spec.name], f"{source}", spec.name)
        try:
            record = cls.__new__(cls)
            for name, value in values.items():
                object.__setattr__(record, name, value)
            for spec in dataclasses.fields(cls):
                if spec.name not in values:
                    default = (spec.default if spec.default is not dataclasses.MISSING else spec.default_factory())
                    object.__setattr__(record, spec.name, default)
        except TypeError as error:
            raise RecordError(source, None, str(error)) from None
        record.validate(source)
        return record

    # -- files -----------------------------------------------------------------------------------
    def write(self, folder_or_path: str | os.PathLike) -> Path:
        """Write the record as JSON (atomically) to ``folder/FILE`` or to the path given."""
        path = _path_of(type(self), folder_or_path)
        self.validate(str(path))
        return write_text(path, json_text(self.to_json()))

    @classmethod
    def read(cls, folder_or_path: str | os.PathLike):
        """Read and validate the record in ``folder/FILE`` or the path given; ``RecordError`` when it cannot."""
        path = _path_of(cls, folder_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RecordError(str(path), None, "does not exist") from None
        except OSError as error:
            raise RecordError(str(path), None, f"cannot be read ({error.strerror or error})") from None
        try:
            data = json.loads(text)
        except ValueError as error:
            raise RecordError(str(path), None, f"is not valid JSON (truncated or damaged: {error})") from None
        return cls.from_json(data, str(path))


def _path_of(cls, folder_or_path) -> Path:
    path = Path(folder_or_path)
    if cls.FILE and (path.is_dir() or not path.suffix):
        return path / cls.FILE
    return path


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_value(value):
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _args(hint):
    return typing.get_args(hint)


def _is_optional(hint) -> bool:
    return _is_union(hint) and type(None) in _args(hint)


def _is_union(hint) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _type_problem(value, hint) -> str | None:
    """None when ``value`` has type ``hint``, else what it is instead."""
    if _is_union(hint):
        if value is None and type(None) in _args(hint):
            return None
        options = [option for option in _args(hint) if option is not type(None)]
        problems = [_type_problem(value, option) for option in options]
        return None if any(problem is None for problem in problems) else problems[0]
    origin = typing.get_origin(hint) or hint
    if value is None:
        return "is null, where a value is required"
    if hint is Any:
        return None
    if origin is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"is {type(value).__name__}, not a number"
        return None if math.isfinite(value) else "is not a finite number"
    if origin is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else f"is {type(value).__name__}, not an integer"
    if origin is bool:
        return None if isinstance(value, bool) else f"is {type(value).__name__}, not true or false"
    if origin is str:
        return None if isinstance(value, str) else f"is {type(value).__name__}, not text"
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return f"is {type(value).__name__}, not a list"
        (item_hint, *_) = _args(hint) or (Any,)
        for index, item in enumerate(value):
            problem = _type_problem(item, item_hint)
            if problem:
                return f"has item [{index}] = {_shown(item)} that {problem}"
        return None
    if origin is dict:
        return None if isinstance(value, dict) else f"is {type(value).__name__}, not an object"
    if isinstance(origin, type) and issubclass(origin, Record):
        return None if isinstance(value, origin) else f"is {type(value).__name__}, not a {origin.KIND} record"
    return None


def _from_json_value(value, hint, source: str, name: str):
    """Turn JSON data into the field's Python value (records nested, lists of records); types checked later."""
    if _is_union(hint):
        if value is None:
            return None
        options = [option for option in _args(hint) if option is not type(None)]
        hint = options[0] if len(options) == 1 else hint
        if _is_union(hint):
            return value
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, Record):
        return origin.from_json(value, f"{source} ({name})")
    if origin in (list, tuple) and isinstance(value, list):
        (item_hint, *_) = _args(hint) or (Any,)
        return [_from_json_value(item, item_hint, source, f"{name}[{i}]") for i, item in enumerate(value)]
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
