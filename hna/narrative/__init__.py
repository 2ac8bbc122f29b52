"""The presentation layer: tables, statements and provenance for reviewer reports.

The one idiom every notebook uses (:mod:`hna.narrative.common`)::

    from hna import narrative
    display(narrative.table(df, caption="..."))     # every table (human headers, CSV link)
    display(narrative.statement("Markdown prose"))  # every statement
    display(narrative.provenance(result.meta))      # provenance (hna.provenance schema)

Values are written by :mod:`hna.formatting`. One module per report kind builds the tables:

- :mod:`hna.narrative.service`: a service x footprint report (summary box, demand, centres).
- :mod:`hna.narrative.overview`: the footprint overview (which footprint fits which service).
- :mod:`hna.narrative.appraisal`: the commissioning appraisal.
- :mod:`hna.narrative.designation`: designation options (prose, tables, maps).
- :mod:`hna.narrative.reality`: the reality check of national reports (centres that exist).

Nothing here computes a model result: functions receive results computed elsewhere.
"""

from __future__ import annotations

from hna.narrative.common import (
    HTML,
    Table,
    column_kind,
    format_value,
    plain,
    provenance,
    statement,
    table,
)
from hna.narrative.reality import (
    existing_centres,
    reality_check_report,
    reality_check_table,
    reality_check_text,
)
from hna.narrative.service import *  # noqa: F403
from hna.narrative.service import __all__ as _service_all

__all__ = ["HTML", "Table", "column_kind", "format_value", "plain", "provenance", "statement",
           "table",
           "existing_centres", "reality_check_report", "reality_check_table",
           "reality_check_text", *_service_all]
