"""Parameter files: where they live, and reading YAML into pydantic models with clear errors.

Every YAML file hna reads (services, footprints, run specs, tier schemes, appraisal settings,
model parameters) goes through :func:`read_yaml` and :func:`validation_error`, so that every
problem is reported the same way: one :class:`hna.errors.ParameterError` naming the file, the
field path (``notebooks[0].over[1]``, ``critical_mass.minimum_per_centre``), the value and what
to do, e.g. the nearest allowed key for a misspelt one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from hna.errors import ParameterError

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "PARAMETERS_DIR",
    "SOURCE_KINDS",
    "Source",
    "StrictModel",
    "display_path",
    "field_path",
    "parse_yaml_text",
    "read_yaml",
    "validation_error",
    "read_parameter_file",
]

#: The project's ``parameters/`` folder (services, footprints, runs, tiers, appraisal, models).
PARAMETERS_DIR = Path(__file__).resolve().parents[1] / "parameters"

M = TypeVar("M", bound=BaseModel)

#: How a figure was obtained: read from a publication, derived from published figures by
#: stated arithmetic, assumed, calibrated to a target, or inferred from indirect evidence.
SOURCE_KINDS = ("published", "derived", "assumption", "calibrated", "inferred")


class StrictModel(BaseModel):
    """The base of every parameter model.

    Unknown keys are errors, instances are frozen, and no number may be infinite or NaN
    (YAML's ``.inf`` and ``.nan`` are refused by every parameter model, at validation and at
    use alike).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Source(StrictModel):
    """Where a figure comes from: one citation model for every parameter file.

    Service files list sources with an ``id`` that fields refer to (``source: gdo_2017``); model
    files attach a source to each figure. Both spellings are accepted: ``title`` or
    ``document``, ``section`` or ``table``.

    Attributes:
        id: short identifier used by ``source:`` fields (required in service files).
        publisher: who published it (e.g. ``UK Renal Registry``).
        title: the report, dataset or chapter (YAML ``title`` or ``document``).
        section: table, section, page or paragraph (YAML ``section`` or ``table``).
        year: year of publication.
        url: where to find it.
        note: anything a reader needs to use the figure correctly.
        kind: published, derived, assumption, calibrated or inferred.
        fit_target: what a calibrated figure was fitted to (required when calibrated).
    """

    id: str | None = Field(default=None, pattern=r"^[A-Za-z_]\w*$",
                           description="short identifier used by `source:` fields")
    publisher: str = Field(min_length=1)
    title: str = Field(min_length=1, validation_alias=AliasChoices("title", "document"))
    section: str | None = Field(default=None, validation_alias=AliasChoices("section", "table"),
                                description="table, section, page or paragraph")
    year: int = Field(strict=True, ge=1900, le=2100, description="year of publication")
    url: str | None = None
    note: str | None = None
    kind: Literal["published", "derived", "assumption", "calibrated", "inferred"] = "published"
    fit_target: str | None = None

    @model_validator(mode="after")
    def _calibrated_needs_target(self) -> Source:
        if self.kind == "calibrated" and not self.fit_target:
            raise ValueError("a calibrated figure must say what it was fitted to (fit_target)")
        return self

    @property
    def document(self) -> str:
        """The title (the model files' spelling)."""
        return self.title

    @property
    def table(self) -> str | None:
        """The section (the model files' spelling)."""
        return self.section

    def cite(self) -> str:
        """One line: ``publisher, title, section (year)``."""
        parts = [self.publisher, self.title] + ([self.section] if self.section else [])
        return f"{', '.join(parts)} ({self.year})"


def display_path(path: Path | str) -> str:
    """A path relative to the working directory when it is inside it (shorter messages)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


#: Largest parameter file read (bytes).
MAX_YAML_BYTES = 5_000_000
#: Largest number of values a parameter file may hold once aliases are expanded.
MAX_YAML_NODES = 200_000
#: Deepest nesting of mappings and lists in a parameter file.
MAX_YAML_DEPTH = 40


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key, self.first, self.second = key, first, second


class _TooBig(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys and checks the document's expanded size.

    Aliases are not copied by PyYAML, so a "billion laughs" document parses quickly but
    expands to billions of values when anything walks it; the composed node graph is measured
    (counting each alias as the nodes it expands to) before any Python object is built.
    """

    def compose_document(self) -> yaml.Node | None:  # noqa: D102 - PyYAML hook
        node = super().compose_document()
        if node is not None:
            _check_expanded_size(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:  # noqa: D102
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # the base class reports unhashable keys
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(key, seen[key], line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse documents that expand to more than MAX_YAML_NODES values or MAX_YAML_DEPTH levels.

    Sizes are computed once per distinct node (memoised), so the check is linear in the size of
    the file even for an alias bomb.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    order: list[yaml.Node] = []
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:  # iterative post-order walk over distinct nodes
        node, done = todo.pop()
        if done:
            order.append(node)
            continue
        if id(node) in size:
            continue
        size[id(node)] = -1  # visiting
        todo.append((node, True))
        for child in _children(node):
            if id(child) not in size:
                todo.append((child, False))
    for node in order:
        kids = _children(node)
        size[id(node)] = 1 + sum(max(size.get(id(k), 1), 1) for k in kids)
        depth[id(node)] = 1 + max((depth.get(id(k), 1) for k in kids), default=0)
        if size[id(node)] > MAX_YAML_NODES:
            raise _TooBig(f"the document expands to more than {MAX_YAML_NODES:,} values "
                          "(aliases such as *a repeat their anchor's values)")
        if depth[id(node)] > MAX_YAML_DEPTH:
            raise _TooBig(f"the document nests deeper than {MAX_YAML_DEPTH} levels")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_yaml_text(text: str, *, source: str) -> Any:
    """Parse YAML text with hna's rules (see :func:`read_yaml`), for files and inline strings.

    Raises:
        ParameterError: malformed YAML, duplicate keys (naming both lines), or a document too
            large or deep once aliases are expanded.
    """
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _DuplicateKey as exc:
        raise ParameterError(
            f"duplicate key '{exc.key}' at lines {exc.first} and {exc.second}", source=source,
            field=str(exc.key),
            hint="A key may appear once in each mapping: delete one of the two lines",
        ) from None
    except _TooBig as exc:
        raise ParameterError(
            f"refused: {exc}", source=source,
            hint="Parameter files are small: remove repeated aliases or deep nesting",
        ) from None


def read_yaml(path: str | Path, *, source: str | None = None, missing_hint: str | None = None,
              mapping: bool = True) -> Any:
    """Parse a YAML file safely (PyYAML's safe loader with hna's rules).

    The rules, the same wherever hna reads YAML: a key may appear only once in a mapping (a
    repeated key is an error naming both lines, not "last one wins"); the file may be at most
    :data:`MAX_YAML_BYTES` bytes, and expand (aliases included) to at most
    :data:`MAX_YAML_NODES` values nested at most :data:`MAX_YAML_DEPTH` deep.

    Args:
        path: the file.
        source: how to name the file in messages (default: the path).
        missing_hint: what to tell the user when the file does not exist.
        mapping: require a mapping of keys to values at the top level.

    Raises:
        ParameterError: missing or unreadable file, not UTF-8 text, too large, malformed YAML
            (with line, column and the YAML parser's explanation), duplicate keys, too many
            values once aliases are expanded, or not a mapping.
    """
    path = Path(path)
    source = source or str(path)
    if not path.is_file():
        raise ParameterError("cannot read the file: not found", source=source,
                             hint=missing_hint or "Check the path of the parameter file")
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise ParameterError(f"refused: the file is larger than {MAX_YAML_BYTES:,} bytes",
                                 source=source, hint="Parameter files are small YAML files")
        data = parse_yaml_text(path.read_text(encoding="utf-8"), source=source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        context = getattr(exc, "context", None)
        cmark = getattr(exc, "context_mark", None)
        if problem and context and cmark is not None and (mark is None or cmark.line != mark.line):
            problem = f"{problem}; {context} started at line {cmark.line + 1}"
        line = f" at line {mark.line + 1}" if mark else ""
        raise ParameterError(
            f"malformed YAML{where}" + (f" ({problem})" if problem else ""), source=source,
            hint=f"The file is not valid YAML{line}: check indentation, colons and quotes",
        ) from None
    except UnicodeDecodeError:
        raise ParameterError("not a text file (UTF-8)", source=source) from None
    except OSError as exc:
        raise ParameterError(f"cannot read the file ({exc.strerror or exc})",
                             source=source) from None
    if mapping and not isinstance(data, dict):
        raise ParameterError("expected a mapping of keys to values at the top level",
                             source=source, value=type(data).__name__)
    return data


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _models_in(arg)


def _model_names(model: type[BaseModel] | None) -> set[str]:
    """Names of every model nested in ``model``.

    Pydantic puts union members' names in error locations (``footprints.FootprintLevel.level``), which readers should not see.
    """
    seen: set[str] = set()
    todo = [model] if model is not None else []
    while todo:
        m = todo.pop()
        if m.__name__ in seen:
            continue
        seen.add(m.__name__)
        for fld in m.model_fields.values():
            todo.extend(_models_in(fld.annotation))
    return seen


def field_path(loc: Sequence[Any], model: type[BaseModel] | None = None) -> str:
    """A pydantic error location as a readable path: ``notebooks[0].over[1]``.

    Union-member tags (``list[str]``, ``function-after[...]`` and the names of models nested in
    ``model``) are dropped.
    """
    tags = _model_names(model)
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
            continue
        item = str(item)
        if item in tags or "[" in item or item.startswith("function"):
            continue
        out += ("." if out else "") + item
    return out


def _model_at(model: type[BaseModel] | None, loc: Sequence[Any]) -> type[BaseModel] | None:
    """The model that owns the field at ``loc`` (to suggest keys for a misspelt one)."""
    current: Any = model
    for item in loc[:-1]:
        if current is None or isinstance(item, int):
            continue
        if str(item) in _model_names(model):
            continue
        fld = getattr(current, "model_fields", {}).get(item)
        if fld is None:
            return None
        current = next(iter(_models_in(fld.annotation)), None)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def validation_error(exc: ValidationError, source: str, model: type[BaseModel] | None = None,
                     hint: str | None = None) -> ParameterError:
    """Turn a pydantic ValidationError into one ParameterError naming the first bad field.

    A misspelt key shows up twice, as an unknown key and as a missing required one: the unknown
    key is reported (with the nearest allowed key when ``model`` is given), and the matching
    "missing" error is not counted again. Otherwise the most specific (deepest) error is
    reported; the count of the others is appended. Errors raised by validators as
    ``PydanticCustomError("hna_parameter", ..., {message, field, value, hint})`` keep their own
    wording.
    """
    errors = sorted(exc.errors(include_url=False),
                    key=lambda e: (e.get("type") != "extra_forbidden", -len(e.get("loc", ()))))
    first = errors[0]
    loc = tuple(first.get("loc", ()))
    field = field_path(loc, model) or None
    kind = first.get("type")
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    value = first.get("input")
    if kind == "hna_parameter":
        ctx = first.get("ctx") or {}
        return ParameterError(ctx.get("message", msg), source=source,
                              field=ctx.get("field") or field, value=ctx.get("value"),
                              hint=ctx.get("hint"))
    if kind == "extra_forbidden":
        parent = field_path(loc[:-1], model)
        msg = (f"unknown key '{loc[-1]}' (not a known key "
               + (f"of '{parent}')" if parent else "at the top level)"))
        value = None
        owner = _model_at(model, loc)
        if owner is not None:
            keys = list(owner.model_fields)
            near = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.6)
            hint = (f"Did you mean '{near[0]}'?" if near else
                    f"Allowed keys here: {', '.join(keys)}")
            if near:
                errors = [e for e in errors if not (
                    e.get("type") == "missing"
                    and tuple(e.get("loc", ())) == (*loc[:-1], near[0]))]
    elif kind == "missing":
        msg = "required key is missing"
        value = None
    if isinstance(value, dict | list):
        value = None
    others = len({field_path(e.get("loc", ()), model) for e in errors[1:]} - {field})
    if others:
        msg += f" (and {others} more problem{'s' if others > 1 else ''})"
    return ParameterError(msg, source=source, field=field, value=value, hint=hint)


def read_parameter_file(path: str | Path, model: type[M], *, source: str | None = None,
                        missing_hint: str | None = None) -> M:
    """Read a YAML parameter file into a pydantic ``model`` (extra keys forbidden).

    Raises:
        ParameterError: the file is missing, is not valid YAML, is not a mapping, or fails the
            model's validation; the message names the file and the first offending field.
    """
    source = source or str(path)
    data = read_yaml(path, source=source, missing_hint=missing_hint)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, model) from None
