"""`make load`: a scripted mix of simulated assessors against gunicorn and PostgreSQL."""
