"""KPI targets: the target tree from params, actuals, attainment, pace and scorecards."""
