"""Write the JSON Schema of service parameter files to docs/schema/service.schema.json.

Run from the repository root: ``python scripts/build_schema.py`` (``--check`` exits 1 if the
committed file differs from the generated one). The schema is generated from the pydantic
models in :mod:`hna.services`; ``tests/unit/test_services.py`` checks that the committed file is
up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hna.services import service_schema  # noqa: E402

OUT = ROOT / "docs" / "schema" / "service.schema.json"


def render() -> str:
    """The schema as committed: 2-space indentation, sorted keys, trailing newline."""
    return json.dumps(service_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) the JSON schema of service files; returns the exit status."""
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python scripts/build_schema.py")
            return 1
        print(f"{OUT.relative_to(ROOT)} is up to date")
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
