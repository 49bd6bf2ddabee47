"""Facility inspection and grading: facilities, plans, inspections, corrective actions, grades, certificates."""
