"""Generates the Python classes for src/protocol/proto/{binlog,pump}.proto
with protoc at run time (protobuf-compiler) into a cache directory (default
tests/sim/gen/, git-ignored) and imports them.  Does nothing else.
"""

import fcntl
import importlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PROTO_DIR = os.path.join(REPO, "src", "protocol", "proto")
PROTOS = ("binlog.proto", "pump.proto")


def load(cache_dir=None):
    """Returns (binlog_pb2, pump_pb2)."""
    cache_dir = cache_dir or os.environ.get("TIDBSIM_GEN_DIR") or os.path.join(HERE, "gen")
    os.makedirs(cache_dir, exist_ok=True)
    with open(os.path.join(cache_dir, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        newest = max(os.path.getmtime(os.path.join(PROTO_DIR, p)) for p in PROTOS)
        stale = False
        for p in PROTOS:
            out = os.path.join(cache_dir, p.replace(".proto", "_pb2.py"))
            if not os.path.exists(out) or os.path.getmtime(out) < newest:
                stale = True
        if stale:
            subprocess.run(["protoc", "-I", PROTO_DIR, "--python_out=" + cache_dir]
                           + [os.path.join(PROTO_DIR, p) for p in PROTOS], check=True)
    if cache_dir not in sys.path:
        sys.path.insert(0, cache_dir)
    return importlib.import_module("binlog_pb2"), importlib.import_module("pump_pb2")
