"""Where the packaged files are, found with importlib.resources wherever Yiyang is installed.

The top-level templates/, static/ and translations/ of the checkout ship inside the wheel as the
resource packages yiyang.templates, yiyang.static and yiyang.translations (setup.py); the
migrations, the bundled fonts and the packs are package data of their own packages. Nothing is
looked up relative to a checkout, so `pip install` of the wheel in any directory works.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, abort, send_from_directory

from core.auth import public

PACKAGES = {
    "templates": "yiyang.templates",
    "static": "yiyang.static",
    "translations": "yiyang.translations",
    "migrations": "migrations",
    "fonts": "reports.fonts",
    "instruments": "instruments",
}


class ResourceMissing(RuntimeError):
    """A resource package is not installed (an editable install older than setup.py)."""


@cache
def resource_dir(name: str) -> Path:
    """The directory of the resource package `name` (a key of PACKAGES) on the file system."""
    package = PACKAGES[name]
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise ResourceMissing(
            f"找不到资源包 {package}：请重新安装（pip install . 或 make dev）。"
            f" Resource package {package} is not installed: reinstall Yiyang (pip install ., make dev)."
        ) from None
    path = Path(str(root))
    if not path.is_dir():  # a zipped install: Flask and WeasyPrint need real files
        raise ResourceMissing(f"{package} is not on the file system ({root}); install Yiyang unzipped")
    return path


def default_instance_path() -> Path:
    """The instance folder (database, generated keys) when YIYANG_INSTANCE_PATH is unset.

    In a checkout (next to pyproject.toml) it is ./instance there, as `make run` has always used;
    an installed Yiyang keeps it under its environment, <prefix>/var/yiyang-instance, so every
    `yiyang` command of one installation finds the same folder whatever directory it runs in.
    """
    import app

    checkout = Path(app.__file__).resolve().parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "instance"
    return Path(sys.prefix) / "var" / "yiyang-instance"


FONT_FILE = re.compile(r"[A-Za-z0-9-]+\.woff2")


@public
def static_font(filename: str) -> Any:
    """/static/fonts/*.woff2: the page fonts are the bundled report fonts, shipped once."""
    if not FONT_FILE.fullmatch(filename):
        abort(404)
    return send_from_directory(resource_dir("fonts"), filename)


def init_app(app: Flask) -> None:
    app.add_url_rule(f"{app.static_url_path}/fonts/<path:filename>", "static_fonts", static_font)
