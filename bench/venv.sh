# Sourced by the bench scripts: `bench_venv DIR CHECK PACKAGE...` makes the venv DIR with the
# packages unless `python -c CHECK` already succeeds in it, and sets `py` to its Python.
bench_venv() {
  local venv=$1 check=$2
  shift 2
  if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    echo "== making $venv ($*)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
  fi
  py="$venv/bin/python"
}
