"""``sophia-iac test-integrations``: one cheap authenticated read per integration of an environment.

Credentials come from the environment variables the ESC environment exports
(each secret's ``env_var``). Each type's probe lives in its own package
(``compiler/integrations/<type>/probe.py``); :mod:`.runner` bounds, times, retries and rate-limits them;
:mod:`.results` writes the results document.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from .. import __version__
from ..integrations import REGISTRY
from ..model import Model
from . import runner
from .jobs import credential_values, endpoints, jobs
from .redact import Redactor
from .results import FAILURE, Result, document, now, summary_text, write


def run(
    model: Model, env: str, endpoint_options: Sequence[str], concurrency: int, output: Path, environ: Mapping[str, str]
) -> int:
    """Check every integration of ``env``, write the results to ``output``; 1 if any check failed or any
    service holds settings other than the spec declares (drift)."""
    overrides = endpoints(endpoint_options, environ, REGISTRY)
    redactor = Redactor(credential_values(model, environ))
    todo = jobs(model, env, overrides, environ)
    start = now()
    results = asyncio.run(_run(todo, redactor, concurrency))
    doc = redactor.tree(document(env, results, start, now()))
    write(output, doc)
    sys.stdout.write(summary_text(doc))
    print(f"sophia-iac: results written to {output}", file=sys.stderr)
    return 1 if any(r.status == FAILURE or r.drift for r in results) else 0


async def _run(todo: Sequence[runner.Job], redactor: Redactor, concurrency: int) -> list[Result]:
    headers = {"User-Agent": f"sophia-iac/{__version__}", "Accept": "application/json"}
    # Timeouts are the runner's (one per attempt), so the client has none of its own.
    async with httpx.AsyncClient(headers=headers, timeout=None, follow_redirects=False) as client:
        return await runner.run_probes(todo, client, redactor, concurrency, runner.DEFAULT_POLICY)
