"""Resource package: the translations shipped in the wheel as yiyang.translations (see core/resources.py)."""
