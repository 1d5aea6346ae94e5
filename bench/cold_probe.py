"""Run in a fresh interpreter by bench_coldpath: import `app` from the working directory, serve the job's events
in order (the first is the cold request), print one result line. Standard library only, so that what it loads
is what the app loads.

    python bench/cold_probe.py JOB.json      (cwd: the app's directory)

JOB.json: {"handler": "http" | a handler name, "events": [...]}; COLD_PROBE_STARTED: epoch seconds at spawn.
"""
import json
import os
import sys
import time
from types import SimpleNamespace

RESULT_MARK = "COLD-PROBE-RESULT "
# Installed here for development tools, absent from the deployment package and the Lambda runtime; httpx
# imports its command line (these three) only when they are present, which would bill the dev machine's extras.
NOT_DEPLOYED = frozenset({"click", "rich", "pygments"})


class _NotDeployed:
    """A meta path finder that makes the packages of NOT_DEPLOYED missing, as they are in Lambda."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name.split(".", 1)[0] in NOT_DEPLOYED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _context(function_name: str) -> SimpleNamespace:
    return SimpleNamespace(function_name=function_name, function_version="$LATEST", memory_limit_in_mb=512,
                           invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
                           aws_request_id="cold-probe", log_group_name="/aws/lambda/cold-probe",
                           log_stream_name="cold-probe", get_remaining_time_in_millis=lambda: 29_000)


def _ok(handler: str, answer: object) -> bool:
    if handler == "http":
        return isinstance(answer, dict) and int(answer.get("statusCode", 500)) < 300
    return not (isinstance(answer, dict) and answer.get("batchItemFailures"))


def main() -> None:
    job = json.loads(open(sys.argv[1]).read())
    sys.meta_path.insert(0, _NotDeployed())
    sys.path.insert(0, os.getcwd())
    start = time.perf_counter()
    import app as module
    imported = time.perf_counter() - start
    app = module.app
    handler = job["handler"]
    call = app if handler == "http" else app.handler_map[handler]
    context = _context(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "cold-probe"))
    requests, failures, first_served_at = [], [], None
    for event in job["events"]:
        begin = time.perf_counter()
        answer = call(event, context)
        requests.append(time.perf_counter() - begin)
        if first_served_at is None:
            first_served_at = time.time()
        if not _ok(handler, answer):
            failures.append(str(answer)[:300])
    after_spawn = first_served_at - float(os.environ["COLD_PROBE_STARTED"])
    print(RESULT_MARK + json.dumps({"import": imported, "requests": requests, "failures": failures,
                                    "first_response_after_spawn": after_spawn, "modules": len(sys.modules)}),
          flush=True)


if __name__ == "__main__":
    if os.environ.get("COLD_PROBE_PROFILE"):  # where the cold path's time goes: cProfile stats to that file
        import cProfile

        cProfile.run("main()", os.environ["COLD_PROBE_PROFILE"])
    else:
        main()
