"""A pre-imported parent that forks one child per flow run, for runs that get SIGKILLed.

Importing Prefect and the recipes takes seconds; a crash scenario needs a fresh process
per run it kills. ``python -m tests.chaos.zygote`` imports everything once (no threads
are running yet, so forking is safe), prints ``ready``, then serves JSON lines on stdin:

* ``{"job": "<path>"}`` forks a child that runs the job and answers ``{"pid": N}``;
* ``{"reap": N}`` waits for child N and answers ``{"pid": N, "status": S}``
  (``S`` is ``-9`` for a SIGKILL).

A job file holds ``{"recipe", "params", "env", "result", "output"}``: the child applies
``env``, sends its stdout and stderr to ``output``, runs the recipe's flow through
Prefect's engine, and writes ``{"state", "error", "flow_run_id", "report"}`` to ``result``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.chaos.recipes import CASES


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    case = CASES[job["recipe"]]
    params = case.params_model.model_validate(job["params"])

    async def go() -> dict[str, Any]:
        state = await case.flow(params, return_state=True)
        result = await state.aresult(raise_on_failure=False)
        outcome: dict[str, Any] = {
            "state": "COMPLETED" if state.is_completed() else "FAILED",
            "flow_run_id": str(state.state_details.flow_run_id),
            "error": "",
            "report": None,
        }
        if state.is_completed():
            outcome["report"] = result.model_dump(mode="json")
        else:
            outcome["error"] = (
                f"{type(result).__name__}: {result}"
                if isinstance(result, BaseException)
                else state.message or ""
            )
        return outcome

    return asyncio.run(go())


def _flush_prefect_logs() -> None:
    """Send the run's last log lines to the Prefect API (``os._exit`` skips atexit)."""
    from prefect.logging.handlers import APILogWorker

    try:
        APILogWorker.drain_all(timeout=5)
    except Exception as exc:  # the logs are a nicety here; the result is written already
        print(f"could not flush the run's logs: {exc!r}", file=sys.stderr)


def _child(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    os.environ.update(job["env"])
    output = os.open(job["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    try:
        outcome = _run_job(job)
    except BaseException as exc:  # reported to the parent test, which judges it
        outcome = {"state": "CRASHED", "error": f"{type(exc).__name__}: {exc}", "report": None}
    Path(job["result"]).write_text(json.dumps(outcome), encoding="utf-8")
    _flush_prefect_logs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _warm_up() -> None:
    """Do once, before forking, the slow first-time work every child would repeat:
    apprise's plugin discovery (seconds) and loading the CA certificates."""
    import apprise
    import httpx

    apprise.Apprise().add("json://127.0.0.1:9/warm-up")
    httpx.Client(verify=True).close()


def main() -> None:
    """Serve fork and reap requests until stdin closes."""
    _warm_up()
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "job" in request:
            pid = os.fork()
            if pid == 0:
                _child(request["job"])
            print(json.dumps({"pid": pid}), flush=True)
        elif "reap" in request:
            _, status = os.waitpid(int(request["reap"]), 0)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            print(json.dumps({"pid": request["reap"], "status": code}), flush=True)


if __name__ == "__main__":
    main()
