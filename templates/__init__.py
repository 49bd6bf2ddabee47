"""Resource package: the templates shipped in the wheel as yiyang.templates (see core/resources.py)."""
