"""Safety of notebook parameters: names, JSON types, size limits and the injected code.

Parameters reach papermill only after :func:`validate_parameters`: identifiers matching
``^[A-Za-z_][A-Za-z0-9_]*$`` (not Python keywords) and JSON-typed values within the limits
below; the code papermill generates from them is parsed back by :func:`check_injected_code`
and must consist of plain literal assignments.
"""

from __future__ import annotations

import ast
import hashlib
import json
import keyword
import re
from collections.abc import Mapping
from typing import Any

import yaml

from hna.errors import ParameterError
from hna.report import to_json_value

__all__ = [
    "MAX_PARAMETER_BYTES",
    "MAX_PARAMETER_DEPTH",
    "MAX_PARAMETER_ITEMS",
    "RESERVED_PARAMETERS",
    "canonical_hash",
    "check_injected_code",
    "is_identifier",
    "parse_cli_parameter",
    "validate_parameters",
]

#: Parameters the runner sets itself; a spec's ``parameters:`` may not use these names.
RESERVED_PARAMETERS = frozenset(
    {
        "service", "services", "footprint", "footprints", "level", "years_start", "years_end",
        "years", "draws", "seed", "run_name", "scenario",
    }
)

#: Deepest nesting of lists and mappings allowed in one parameter value.
MAX_PARAMETER_DEPTH = 8
#: Most list items and mapping entries, counted over all values of one job.
MAX_PARAMETER_ITEMS = 10_000
#: Largest size of one job's parameters as JSON text, in bytes.
MAX_PARAMETER_BYTES = 1_000_000

_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_identifier(name: Any) -> bool:
    """True if ``name`` is an ASCII identifier (``^[A-Za-z_][A-Za-z0-9_]*$``), not a keyword."""
    return (
        isinstance(name, str)
        and _IDENTIFIER_RE.fullmatch(name) is not None
        and not keyword.iskeyword(name)
    )


def canonical_hash(data: Any) -> str:
    """SHA-256 of ``data`` as canonical JSON (sorted keys, no spaces, ASCII)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _check_shape(value: Any, *, field: str, source: str | None) -> None:
    """Refuse values nested deeper than, or with more items than, the limits allow.

    Walks iteratively (no recursion), so a pathological value cannot exhaust the stack.
    """
    stack: list[tuple[Any, int, str]] = [(value, 0, field)]
    items = 0
    while stack:
        node, depth, where = stack.pop()
        if not isinstance(node, list | dict):
            continue
        if depth >= MAX_PARAMETER_DEPTH:
            raise ParameterError(
                f"is nested more than {MAX_PARAMETER_DEPTH} levels deep", source=source,
                field=where, value="...",
                hint="Notebook parameters are small settings; pass large inputs as a file path",
            )
        items += len(node)
        if items > MAX_PARAMETER_ITEMS:
            raise ParameterError(
                f"has more than {MAX_PARAMETER_ITEMS:,} list items or mapping entries",
                source=source, field=field, value="...",
                hint="Notebook parameters are small settings; pass large inputs as a file path",
            )
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            stack.append((child, depth + 1, f"{where}[{key!r}]"))


def validate_parameters(
    parameters: Mapping[str, Any], *, field: str = "parameters", source: str | None = None
) -> dict[str, Any]:
    """Check notebook parameters before they reach papermill; return them JSON-typed.

    Names must be identifiers (``^[A-Za-z_][A-Za-z0-9_]*$``, not Python keywords); values
    must be JSON-typed (NumPy scalars and arrays are converted; NaN, infinity and any other
    type are rejected), nested at most :data:`MAX_PARAMETER_DEPTH` levels, with at most
    :data:`MAX_PARAMETER_ITEMS` items and :data:`MAX_PARAMETER_BYTES` bytes of JSON in all.
    Papermill writes strings as quoted, escaped literals, so a value can only ever arrive as
    data; :func:`check_injected_code` verifies that again in the worker.

    Raises:
        ParameterError: naming ``field`` (e.g. ``parameters.x``) and ``source``.
    """
    if not isinstance(parameters, Mapping):
        raise ParameterError("must be a mapping of names to values", source=source,
                             field=field, value=parameters)
    clean: dict[str, Any] = {}
    for name, value in parameters.items():
        if not is_identifier(name):
            raise ParameterError(
                "is not a valid parameter name", source=source, field=field, value=name,
                hint="Names are letters, digits and underscores, not starting with a digit, "
                "and not a Python keyword",
            )
        _check_shape(value, field=f"{field}.{name}", source=source)
        clean[name] = to_json_value(value, field=f"{field}.{name}", source=source)
    size = len(json.dumps(clean, ensure_ascii=False).encode("utf-8"))
    if size > MAX_PARAMETER_BYTES:
        raise ParameterError(
            f"take {size:,} bytes as JSON, more than the limit of {MAX_PARAMETER_BYTES:,}",
            source=source, field=field, value="...",
            hint="Notebook parameters are small settings; pass large inputs as a file path",
        )
    return clean


def parse_cli_parameter(name: str, text: str) -> tuple[str, Any]:
    """Parse one ``-p NAME VALUE`` pair from the command line, papermill-style.

    ``VALUE`` is read as one YAML flow value, so ``3`` is an integer, ``0.5`` a float,
    ``true`` a boolean, ``null`` None, ``'[6, 8, 10]'`` a list and ``'{a: 1}'`` a mapping;
    anything else is text. Returns ``(name, value)``.

    Raises:
        ParameterError: the name is not an identifier or the value is not YAML.
    """
    field = f"-p {name}"
    if not is_identifier(name):
        raise ParameterError("is not a valid parameter name", field="-p", value=name,
                             hint="Names are letters, digits and underscores")
    if name in RESERVED_PARAMETERS:
        raise ParameterError(
            "is set by the runner", field="-p", value=name,
            hint="Change it in the run spec (services, footprints, years, draws, seed)",
        )
    if len(text) > MAX_PARAMETER_BYTES:
        raise ParameterError("is too long", field=field, value=text[:40] + "...")
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _has_alias(node):
                raise ParameterError("uses a YAML alias, which is not allowed here",
                                     field=field, value=text)
            value = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ParameterError(
            f"is not a readable value ({getattr(exc, 'problem', None) or exc})", field=field,
            value=text, hint="Quote lists for the shell, e.g. -p ks '[6, 8, 10]'",
        ) from None
    checked = validate_parameters({name: value}, field="-p")
    return name, checked[name]


def _has_alias(node: Any) -> bool:
    seen: set[int] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            return True
        seen.add(id(item))
        if isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)
        elif isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                stack.extend((key, value))
    return False


def _papermill_source(parameters: Mapping[str, Any]) -> str:
    from papermill.translators import PythonTranslator

    return PythonTranslator.codify(dict(parameters))


def _literal_matches(stmt: ast.stmt, parameters: Mapping[str, Any]) -> str | None:
    """The parameter a statement assigns if it is ``name = <that parameter's literal>``."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in parameters):
        return None
    name = stmt.targets[0].id
    try:
        value = ast.literal_eval(stmt.value)
    except ValueError:
        return None
    if json.dumps(value, sort_keys=True) != json.dumps(parameters[name], sort_keys=True):
        return None
    return name


def check_injected_code(parameters: Mapping[str, Any], *, field: str = "parameters",
                        source: str | None = None) -> str:
    """Parse the code papermill would inject and check it only assigns the given literals.

    A second line of defence after :func:`validate_parameters`, run by each worker just
    before papermill (which it has imported anyway): the generated parameters cell must be
    exactly one literal assignment per parameter, evaluating to the validated value.
    Returns the generated code.

    Raises:
        ParameterError: the generated code is anything else.
    """
    code = _papermill_source(parameters)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:  # pragma: no cover - prevented by the checks above
        raise ParameterError(f"would inject invalid code ({exc.msg})", source=source,
                             field=field, value=code) from None
    seen = set()
    for stmt in tree.body:
        name = _literal_matches(stmt, parameters)
        if name is None:
            raise ParameterError(
                "papermill would inject code other than a literal assignment", source=source,
                field=field, value=ast.get_source_segment(code, stmt),
                hint="Report this as a bug; the run was stopped before executing anything",
            )
        seen.add(name)
    if seen != set(parameters):  # pragma: no cover - as above
        raise ParameterError("papermill dropped a parameter", source=source, field=field,
                             value=sorted(set(parameters) - seen))
    return code
