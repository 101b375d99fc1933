#!/bin/sh
# Install barrack-ops into a new virtualenv at PREFIX, from `make dist`'s output:
# the wheel and constraints.txt (the locked versions of every runtime dependency).
#
#   deployments/image/install.sh PREFIX DIST_DIR
#
# The Dockerfile's install step, and the test suite runs it too (into a temporary
# prefix), so what the image does is what the tests check.
#
# Environment:
#   PYTHON   the interpreter the virtualenv is made from (default: python3)
#   UV       the uv executable that installs (default: uv on PATH)
#   BARRACK_OPS_INSTALL_OFFLINE=1   install from uv's cache only, never the network
#   BARRACK_OPS_COMPILE_BYTECODE=0  skip compiling .pyc files (the tests, to save time)
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 PREFIX DIST_DIR" >&2
    exit 2
fi
prefix=$1
dist=$2
python=${PYTHON:-python3}
uv=${UV:-uv}

if ! "$uv" --version >/dev/null 2>&1; then
    echo "install.sh: uv not found (set UV, or: python3 -m pip install uv)" >&2
    exit 2
fi
constraints="$dist/constraints.txt"
if [ ! -f "$constraints" ]; then
    echo "install.sh: $constraints is missing (make dist writes it)" >&2
    exit 2
fi
set -- "$dist"/barrack_ops-*.whl
if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    echo "install.sh: need exactly one barrack_ops-*.whl in $dist" >&2
    exit 2
fi
wheel=$1
if [ -e "$prefix" ]; then
    echo "install.sh: $prefix exists; install into a new prefix" >&2
    exit 2
fi

options=""
if [ "${BARRACK_OPS_INSTALL_OFFLINE:-0}" = 1 ]; then
    options="--offline"
fi
# Bytecode compiled now: a container then starts without compiling Prefect's modules.
if [ "${BARRACK_OPS_COMPILE_BYTECODE:-1}" = 1 ]; then
    options="$options --compile-bytecode"
fi

"$python" -m venv --without-pip "$prefix"
# shellcheck disable=SC2086
"$uv" pip install --quiet $options --python "$prefix/bin/python" \
    --constraint "$constraints" "$wheel"
"$uv" pip check --quiet --python "$prefix/bin/python"

# The installed copy must import and start, away from any checkout.
cd /
"$prefix/bin/python" -c \
    "import barrack, barrack_ops, deployments, flows, notifications, simulator, tasks"
"$prefix/bin/barrack-ops" --help >/dev/null
echo "barrack-ops installed into $prefix"
