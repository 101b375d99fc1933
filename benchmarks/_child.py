"""Run one flow in this process and print one result line (the benchmark's flow process).

``python -m benchmarks._child`` reads a JSON job from stdin::

    {"flow": "flows.nightly_snapshots.flow:nightly_snapshots",
     "params_model": "flows.nightly_snapshots.params:NightlySnapshotsParams",
     "params": {...}}

runs the flow once against the Prefect server of ``PREFECT_API_URL`` and prints
``BENCH-RESULT {json}`` with the flow run id, the wall time of the flow call (imports and
interpreter start-up excluded), the report's summary line and whether it is ok. The parent
reads this process's peak memory and CPU seconds from ``os.wait4``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
from typing import Any, Final

RESULT_MARKER: Final = "BENCH-RESULT "


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


async def _run(job: dict[str, Any]) -> dict[str, Any]:
    flow = _load(job["flow"])
    params = _load(job["params_model"]).model_validate(job["params"])
    started = time.perf_counter()
    state = await flow(params, return_state=True)
    wall = time.perf_counter() - started
    result: dict[str, Any] = {
        "flow_run_id": str(state.state_details.flow_run_id),
        "state": state.type.value,
        "wall_s": wall,
    }
    if state.is_completed():
        report = await state.aresult()
        result["summary"] = report.summary_line()
        result["ok"] = bool(getattr(report, "ok", True))
    else:
        result["summary"] = f"flow run {state.type.value}: {state.message}"
        result["ok"] = False
    return result


def main() -> None:
    """Read the job, run it, print the result line."""
    job = json.loads(sys.stdin.read())
    result = asyncio.run(_run(job))
    print(RESULT_MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
