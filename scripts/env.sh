# Shared paths and names for the project's scripts and the Makefile.
# Every value can be overridden from the environment.
: "${ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export MALL_CACHE="${MALL_CACHE:-$ROOT/.cache}"
export MALL_VENV="${MALL_VENV:-$MALL_CACHE/venv}"
export MALL_COLLECTIONS="${MALL_COLLECTIONS:-$MALL_CACHE/collections}"
export MALL_WHEELHOUSE="${MALL_WHEELHOUSE:-$MALL_CACHE/wheelhouse}"
# The image every test container runs; set it to a registry image to skip the local build.
export MALL_TEST_IMAGE="${MALL_TEST_IMAGE:-mall-cache-migration/bookworm:1}"
export ANSIBLE_COLLECTIONS_PATH="$MALL_COLLECTIONS"
export PATH="$MALL_VENV/bin:$PATH"
