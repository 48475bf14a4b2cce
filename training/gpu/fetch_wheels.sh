#!/usr/bin/env bash
# Run here (not on the device) before a GPU session: the device image lacks soundfile, cffi,
# pycparser and soxr, which the training path imports. The wheels land in .whl/ (keep it out of
# git: echo /.whl/ >> .git/info/exclude) and travel with `carry: [".whl"]`.
set -euo pipefail
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
  soundfile==0.13.1 cffi pycparser soxr
ls -la .whl
