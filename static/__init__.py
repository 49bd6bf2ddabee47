"""Resource package: the static shipped in the wheel as yiyang.static (see core/resources.py)."""
