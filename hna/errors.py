"""User-facing errors.

Every error that bad input can cause is an :class:`InputError` (or a subclass) whose message
names the file, the field (column or YAML key), the offending value and what to do about it.
The CLI prints the message on one line and exits non-zero, without a traceback.

Hierarchy::

    HnaError
    └── InputError
        ├── ParameterError   (YAML parameter files, function arguments)
        └── DataError        (population tables, lookups, counts)
"""

from __future__ import annotations

from typing import Any

__all__ = ["HnaError", "InputError", "ParameterError", "DataError"]


class HnaError(Exception):
    """Base class for all errors raised deliberately by hna."""


class InputError(HnaError, ValueError):
    """Bad input: the message says where (file, field), what (value) and what to do.

    Args:
        message: what is wrong, in plain words.
        source: the file (or table name) the input came from, if any.
        field: the column, YAML key or argument name, if any.
        value: the offending value, if any (shown with ``repr``, truncated).
        hint: what the user should do to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        field: str | None = None,
        value: Any = None,
        hint: str | None = None,
    ) -> None:
        """Store the parts of the message (see the class docstring) and render it."""
        self.message = message
        self.source = str(source) if source is not None else None
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.field:
            where.append(f"field '{self.field}'")
        text = (": ".join([", ".join(where), self.message]) if where else self.message)
        if self.value is not None:
            shown = repr(self.value)
            if len(shown) > 120:
                shown = shown[:117] + "..."
            text += f" (got {shown})"
        if self.hint:
            text += f". {self.hint}"
        return text


class ParameterError(InputError):
    """A parameter file or argument is invalid (YAML syntax, schema, values)."""


class DataError(InputError):
    """A data table is invalid (format, columns, codes, counts, bands)."""
