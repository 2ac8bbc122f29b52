"""Shared test fixtures and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
#: Small copies of independent reference data (see tests/data/reference/README.md).
REFERENCE = TEST_DATA / "reference"
SHARED_DATA = REPO.parent / "shared" / "data"


def in_ci() -> bool:
    """Whether the environment variable CI is set (to anything but empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def require_shared(*parts: str) -> Path:
    """A path under ../shared/data; skip the test if it is absent, or FAIL it when CI is set.

    Use for the few big shared files (boundaries, facilities) that are not copied into
    tests/data/reference/.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        msg = f"shared data not found at {path} (only present beside the repo)"
        if in_ci():
            pytest.fail(f"{msg}; CI is set, so this test may not be skipped")
        pytest.skip(msg)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """With CI set, a test skipped because ../shared is absent is reported as a failure.

    Covers ``skipif`` markers and ``pytest.skip`` calls whose reason mentions shared data, so
    that such skips are never silent in CI.
    """
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and in_ci() and not SHARED_DATA.is_dir():
        reason = str(rep.longrepr[-1] if isinstance(rep.longrepr, tuple) else rep.longrepr)
        if "shared" in reason.lower():
            rep.outcome = "failed"
            rep.longrepr = f"skipped without ../shared under CI: {reason}"


_LAYERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its layer (the folder it lives in: unit, integration or e2e)."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO / "tests").parts
        if parts and parts[0] in _LAYERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The sibling shared/data folder: absent -> skip, or failure when CI is set."""
    return require_shared()


@pytest.fixture(scope="session")
def default_population():
    from hna.population import default_population

    return default_population()


@pytest.fixture(scope="session")
def england_2018():
    """England mid-2018 population by sex and ESP2013 band (ONS 2018-based NPP, base year)."""
    import numpy as np
    import pandas as pd

    from hna.bands import AGE_BANDS

    src = REFERENCE / "ons_npp2018" / "england_principal_sex_syoa_2018.csv"
    pop = pd.read_csv(src, dtype={"age": str})
    pop = pop[pop.year == 2018].copy()
    first = pop["age"].str.extract(r"^(\d+)")[0].astype(int)
    pop["age_band"] = np.asarray(AGE_BANDS)[np.minimum(first // 5, 18)]
    pop["sex"] = pop["sex"].str.lower()
    return pop.groupby(["sex", "age_band"])["population"].sum().astype(float)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test left open (no figure leaks between tests)."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
