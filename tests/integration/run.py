#!/usr/bin/env python3
"""Runs every integration test (tests/integration/test_*.py) against a built saker binary."""
import argparse
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--binary", default="build/saker")
parser.add_argument("--loadgen", default="build/saker_loadgen")
parser.add_argument("-k", dest="pattern", default=None, help="only tests whose name contains this")
args = parser.parse_args()
os.environ["SAKER_BINARY"] = os.path.abspath(args.binary)
os.environ["SAKER_LOADGEN"] = os.path.abspath(args.loadgen)
if not os.access(os.environ["SAKER_BINARY"], os.X_OK):
    sys.exit(f"no saker binary at {args.binary}: run `make build` first")
sys.path.insert(0, here)
loader = unittest.TestLoader()
if args.pattern:
    loader.testNamePatterns = [f"*{args.pattern}*"]
suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
result = unittest.TextTestRunner(verbosity=2).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
