"""Build the service catalogues and the Carter Appendix 4 survey table from the seed texts.

Reads the project's seed documents (``../shared/domain/seeds/``, see DOMAIN.md there):

- F001 (``001_*.txt``): Carter review of commissioning arrangements for specialised services
  (DH, May 2006): Appendix 1 (35 services of the 2002 National Definitions Set), Appendix 2
  (nationally commissioned services, NSCAG, 1 April 2006), Appendix 4 (survey of LSCGs'
  collective commissioning arrangements, March 2006).
- F004 (``004_*.txt``): East Midlands SCG annual report 2008/09, appendix 'Specialised services
  national definitions set (third edition)'.

Writes ``hna/data/catalogues/{ndset_2002,nscag_2006,ndset_3rd_edition}.csv`` and
``hna/data/carter_2006_app4_survey.csv``; prints each file's row count and SHA-256 (recorded in
``hna/data/PROVENANCE_catalogues.md``). Run: ``python scripts/build_seed_tables.py [SEEDS_DIR]``.
Values are copied as printed (including the seed's inconsistent survey rows: they are what
``hna.frameworks.survey`` checks).
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "domain" / "seeds"
OUT = ROOT / "hna" / "data"


def _seed(prefix: str) -> list[str]:
    (path,) = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    return path.read_text(encoding="utf-8").splitlines()


def _block(lines: list[str], start: str, stop: str) -> list[str]:
    i = next(k for k, s in enumerate(lines) if s.strip().startswith(start))
    j = next(k for k in range(i + 1, len(lines)) if lines[k].strip().startswith(stop))
    return [s.strip() for s in lines[i + 1:j] if s.strip()]


def _ages(name: str) -> tuple[str, str]:
    m = re.search(r"\s*\((all ages|adult|adults)\)\s*$", name)
    if not m:
        return name, ""
    return name[: m.start()].strip(), "adult" if m.group(1).startswith("adult") else "all ages"


def ndset_2002(f001: list[str]) -> list[dict]:
    """F001 Appendix 1: the 35 services of the 2002 definitions set."""
    rows = []
    for s in _block(f001, "Appendix 1 List of Specialised", "Appendix 2"):
        m = re.match(r"^(\d+)\.\s+(.*)$", s)
        if m:
            name, ages = _ages(m.group(2))
            rows.append({"number": int(m.group(1)), "name": name, "ages": ages})
    assert [r["number"] for r in rows] == list(range(1, 36)), "expected 35 services"
    return rows


def nscag_2006(f001: list[str]) -> list[dict]:
    """F001 Appendix 2: nationally commissioned services (38 funded + 2)."""
    rows, funded = [], True
    for s in _block(f001, "LIST OF NATIONALLY COMMISSIONED SERVICES", "Appendix 3"):
        if s.startswith("Services designated by NSCAG but not funded"):
            funded = False
            continue
        m = re.match(r"^(\d+)\.\s+(.*?)\s*([*#])?$", s)
        if not m:
            continue
        flag = m.group(3) or ""
        rows.append({
            "number": int(m.group(1)), "name": m.group(2), "funded_by_nscag": funded,
            "designated_from_april_2006": flag == "*", "being_evaluated": flag == "#",
        })
    assert sum(r["funded_by_nscag"] for r in rows) == 38, "F001 para 14: 38 services"
    return rows


def ndset_3rd(f004: list[str]) -> list[dict]:
    """F004 appendix: the third edition's numbers 1-38."""
    rows = []
    for s in _block(f004, "Specialised services national definitions set (third edition)",
                    "2009/10 EMSCG service matrix"):
        m = re.match(r"^-\s+(\d+)\s+(.*)$", s)
        if m:
            text = m.group(2)
            defined = not text.startswith("No definition")
            name, ages = _ages(text) if defined else ("", "")
            rows.append({"number": int(m.group(1)), "name": name, "ages": ages,
                         "defined": defined})
    assert [r["number"] for r in rows] == list(range(1, 39)), "expected numbers 1-38"
    return rows


def survey(f001: list[str]) -> list[dict]:
    """F001 Appendix 4: the survey table as printed."""
    start = next(k for k, s in enumerate(f001) if s.startswith("SURVEY OF COLLECTIVE COMMISSIONING"))
    stop = next(k for k, s in enumerate(f001) if s.strip() == "Appendix 5" and k > start)
    rows, seen = [], set()
    for s in f001[start:stop]:
        parts = s.split("\t")
        if not parts or not re.match(r"^\d+[a-z]?$", parts[0].strip()):
            continue
        row = parts[0].strip()
        if row in seen:
            continue
        seen.add(row)
        nums = [p.strip() for p in parts[2:5]] + [""] * 3
        rows.append({"row": row, "service": parts[1].strip(), "total": nums[0],
                     "yes_risk_share": nums[1], "yes_no_risk_share": nums[2]})
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path.relative_to(ROOT)}  rows={len(rows)}  sha256={sha}")


def main() -> None:
    """Build every table."""
    f001, f004 = _seed("001"), _seed("004")
    _write(OUT / "catalogues" / "ndset_2002.csv", ndset_2002(f001))
    _write(OUT / "catalogues" / "nscag_2006.csv", nscag_2006(f001))
    _write(OUT / "catalogues" / "ndset_3rd_edition.csv", ndset_3rd(f004))
    _write(OUT / "carter_2006_app4_survey.csv", survey(f001))


if __name__ == "__main__":
    main()
