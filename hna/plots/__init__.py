"""Figures for notebooks and reports (matplotlib / geopandas).

Every figure carries a title, labelled axes or legend, and a source note, and is sized to be
readable on an A4 page. Submodules are grouped by topic and re-exported here (listed explicitly:
add a new module's names to the imports and to ``__all__``).
"""

from __future__ import annotations

from hna.plots.benchmarking import *  # noqa: F403
from hna.plots.benchmarking import __all__ as _benchmarking
from hna.plots.demand import *  # noqa: F403
from hna.plots.demand import __all__ as _demand
from hna.plots.finance import *  # noqa: F403
from hna.plots.finance import __all__ as _finance
from hna.plots.maps import *  # noqa: F403
from hna.plots.maps import __all__ as _maps
from hna.plots.population import *  # noqa: F403
from hna.plots.population import __all__ as _population
from hna.plots.prevalence import *  # noqa: F403
from hna.plots.prevalence import __all__ as _prevalence
from hna.plots.style import *  # noqa: F403
from hna.plots.style import __all__ as _style
from hna.plots.uncertainty import *  # noqa: F403
from hna.plots.uncertainty import __all__ as _uncertainty

__all__ = [*_benchmarking, *_demand, *_finance, *_maps, *_population, *_prevalence, *_style,
           *_uncertainty]
