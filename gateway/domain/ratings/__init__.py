"""Ratings of officials, computed per ISO week from plain observations: the estimators (formulas), who an
appeal is charged to (charging), the method's parameters (policy), components, composite and ranking
(compute), and ISO weeks (weeks). See docs/reports.md for the method in words."""
