#!/bin/sh
# Build the Yiyang wheel from a source tree and install it, with every dependency, into a new
# virtual environment. The container image (deploy/Dockerfile) and the installed-wheel test
# (tests/deploy/test_deploy_wheel.py) both run this script, so the two cannot drift apart.
#
#   deploy/install.sh SOURCE_DIR VENV_DIR
#
# PYTHON (default python3) creates the environment; WHEEL_DIR, when set, keeps the built wheel.
# pip's own settings (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_CACHE_DIR, a pip.conf) apply as usual,
# so a machine without internet access installs from its local index or wheel directory.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 SOURCE_DIR VENV_DIR" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
venv=$2
python=${PYTHON:-python3}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM
wheels=${WHEEL_DIR:-$stage/wheels}
mkdir -p "$wheels" "$stage/src"

# Build from a clean copy: nothing is written into the source tree, parallel builds never meet.
tar -C "$src" --exclude=./.venv --exclude=./.git --exclude=./build --exclude=./dist \
  --exclude=./instance --exclude=./tests --exclude='*.egg-info' --exclude=__pycache__ \
  -cf - . | tar -C "$stage/src" -xf -

"$python" -m venv "$venv"
"$venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$wheels" "$stage/src"
"$venv/bin/python" -m pip install --quiet "$wheels"/yiyang-*.whl

# The installed application loads: packs validate, templates and migrations are found.
"$venv/bin/yiyang" --help >/dev/null
echo "yiyang installed in $venv"
