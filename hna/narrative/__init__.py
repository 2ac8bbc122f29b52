"""The presentation layer: tables, statements and provenance for reviewer reports.

One module per report kind:

- :mod:`hna.narrative.common`: the one idiom every notebook uses (``table``, ``statement``,
  ``provenance``, ``HTML``); values are formatted by :mod:`hna.formatting`.
- :mod:`hna.narrative.service`: a service x footprint report (summary box, demand, centres).
- :mod:`hna.narrative.overview`: the footprint overview (which footprint fits which service).
- :mod:`hna.narrative.appraisal`: the commissioning appraisal.
- :mod:`hna.narrative.designation`: designation options (prose, tables, maps).

Nothing here computes a model result: functions receive results computed elsewhere.
"""

from __future__ import annotations

from hna.narrative.service import *  # noqa: F403
from hna.narrative.service import __all__ as _service_all

__all__ = list(_service_all)
