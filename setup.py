"""What goes into the wheel, computed so a new package or template folder is never left out.

Every package of the checkout except tests; and the top-level templates/, static/ and
translations/, which stay where they are and ship as the resource packages yiyang.templates,
yiyang.static and yiyang.translations (core/resources.py finds them with importlib.resources).
Project metadata is in pyproject.toml.
"""

from __future__ import annotations

import os

from setuptools import find_packages, setup

RESOURCES = {"yiyang.templates": "templates", "yiyang.static": "static",
             "yiyang.translations": "translations"}
# Files of the checkout only (editor sources, catalogs' sources); static/fonts is a link to
# reports/fonts, which ships as package data of reports.fonts and is served from there.
SKIP_SUFFIXES = (".py", ".pyc", ".po", ".pot")
CODE_DATA = ["*.yaml", "*.yml", "*.txt", "*.mako", "*.ini", "*.json", "*.woff2", "*.html",
             "*.css", "*.js", "data/*.txt"]


def resource_packages() -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    packages, package_dir, package_data = [], {}, {}
    for package, folder in RESOURCES.items():
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames
                                 if d != "__pycache__" and not os.path.islink(os.path.join(dirpath, d)))
            relative = os.path.relpath(dirpath, folder)
            name = package if relative == "." else f"{package}.{relative.replace(os.sep, '.')}"
            packages.append(name)
            package_dir[name] = dirpath
            package_data[name] = sorted(f for f in filenames if not f.endswith(SKIP_SUFFIXES))
    return packages, package_dir, package_data


outside = ("tests", "build", *RESOURCES.values())
code = find_packages(exclude=[pattern for name in outside for pattern in (name, f"{name}.*")])
resources, resource_dirs, resource_data = resource_packages()
setup(
    py_modules=["app"],
    packages=sorted(code) + resources,
    package_dir=resource_dirs,
    package_data={"": CODE_DATA, **resource_data},
    include_package_data=False,
)
