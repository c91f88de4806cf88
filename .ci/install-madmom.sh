#!/usr/bin/env bash
# madmom 0.16.1 (2018) is the reference the feature test compares against. It does not
# install by plain pip on Python 3.11: it needs Cython and numpy first and no build
# isolation. Test environment only; sheetsync never imports it.
set -euo pipefail
python -m pip install -q "Cython<3.2" numpy "setuptools<81"  # madmom imports pkg_resources
python -m pip install -q --no-build-isolation madmom==0.16.1
