"""Statistics: figures by month, district and level, the monthly report, their pages and API."""
