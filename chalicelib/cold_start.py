"""CPython's garbage collector during a container's cold start.

A cold container imports some 700 modules and builds its settings, models and clients before it answers:
about 120,000 objects that live as long as the container. Meanwhile the cyclic collector ran some 170
times, walking them again and again, for 30 to 60 ms of every first response (by machine), and found
about 800 objects to free. In Lambda, `app.py` holds the collector from its first line; when the first
invocation ends, everything then alive is frozen (`gc.freeze`: left out of every later collection, which
it would survive anyway; the few hundred cold-start leftovers are kept with it) and collection resumes
for what later invocations allocate. Outside Lambda (tests, `chalice local`, tools that import the app)
nothing changes.
"""
from __future__ import annotations

import gc
import os

_held = False


def in_lambda() -> bool:
    """Powertools' rule for "in the Lambda runtime": `LAMBDA_TASK_ROOT` is set, and neither `sam local` nor
    `chalice local` is serving."""
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL") \
        and not os.environ.get("AWS_CHALICE_CLI_MODE")


def hold_collection() -> None:
    global _held
    if in_lambda() and gc.isenabled():
        gc.disable()
        _held = True


def release_collection() -> None:
    """Called as every invocation ends; only the first one after `hold_collection` does anything."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
