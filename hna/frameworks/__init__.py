"""The seeds' commissioning appraisal frameworks, one module per framework.

- :mod:`~hna.frameworks.segmentation`: NHS England five-factor segmentation tool (F003).
- :mod:`~hna.frameworks.prioritisation`: Carter App 9 criteria and focus categories (F001);
  East Midlands five weighted criteria and four-stage investment process (F004).
- :mod:`~hna.frameworks.thames_valley`: Thames Valley LSCG 8 x 4 impact scoring (F001 CS 6).
- :mod:`~hna.frameworks.fitness_for_purpose`: model fitness-for-purpose framework (F001 App 10).
- :mod:`~hna.frameworks.benchmarking`: model benchmarking tool, ten measures over three years
  (F001 App 14).
- :mod:`~hna.frameworks.designation_criteria`: provider criteria, accreditation and the
  five-year review cycle (F001 paras 122-128; F000).
- :mod:`~hna.frameworks.catalogues`: service catalogues (F001 App 1 and 2; F004) and which hna
  models; segmentation and prioritisation over a catalogue.
- :mod:`~hna.frameworks.survey`: consistency checks of the F001 Appendix 4 survey table.

Settings live in ``parameters/appraisal/``; formulas in ``docs/methods/appraisal.md``.
"""

from __future__ import annotations

from hna.frameworks._common import APPRAISAL_DIR
from hna.frameworks.benchmarking import BenchmarkingConfig, benchmark, load_benchmarking
from hna.frameworks.catalogues import (
    CatalogueSettings,
    catalogue,
    load_catalogues,
    prioritise_catalogue,
    segment_catalogue,
)
from hna.frameworks.designation_criteria import (
    DesignationCriteria,
    assess_candidates,
    assess_providers,
    load_designation_criteria,
    review_due,
)
from hna.frameworks.fitness_for_purpose import (
    FitnessFramework,
    fitness_for_purpose,
    load_fitness_framework,
)
from hna.frameworks.prioritisation import (
    EAST_MIDLANDS_CRITERIA,
    EAST_MIDLANDS_FILE,
    EAST_MIDLANDS_STAGES,
    FOCUS_CATEGORIES,
    PRIORITISATION_CRITERIA,
    PrioritisationConfig,
    investment_stages,
    load_prioritisation,
    prioritise,
)
from hna.frameworks.segmentation import (
    SEGMENTATION_FACTORS,
    SegmentationConfig,
    load_segmentation,
    segment,
)
from hna.frameworks.survey import check_survey_consistency, survey_table
from hna.frameworks.thames_valley import (
    THAMES_VALLEY_CATEGORIES,
    ThamesValleyConfig,
    load_thames_valley,
    thames_valley_score,
)

__all__ = [
    "APPRAISAL_DIR",
    "EAST_MIDLANDS_CRITERIA",
    "EAST_MIDLANDS_FILE",
    "EAST_MIDLANDS_STAGES",
    "FOCUS_CATEGORIES",
    "PRIORITISATION_CRITERIA",
    "SEGMENTATION_FACTORS",
    "THAMES_VALLEY_CATEGORIES",
    "BenchmarkingConfig",
    "CatalogueSettings",
    "DesignationCriteria",
    "FitnessFramework",
    "PrioritisationConfig",
    "SegmentationConfig",
    "ThamesValleyConfig",
    "assess_candidates",
    "assess_providers",
    "benchmark",
    "catalogue",
    "check_survey_consistency",
    "fitness_for_purpose",
    "investment_stages",
    "load_benchmarking",
    "load_catalogues",
    "load_designation_criteria",
    "load_fitness_framework",
    "load_prioritisation",
    "load_segmentation",
    "load_thames_valley",
    "prioritise",
    "prioritise_catalogue",
    "review_due",
    "segment",
    "segment_catalogue",
    "survey_table",
    "thames_valley_score",
]
