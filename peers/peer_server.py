#!/usr/bin/env python3
"""The Python side of `npm run bench:peers`: a long-lived process that runs one peer's half of each comparison.

The Node driver (bench/peers.ts) starts it in the peer's venv and sends one JSON object per line on stdin; each
answer is one JSON line on stdout: {"ok": true, ...} or {"ok": false, "error": "..."}. The peer times its own work
with time.perf_counter() around exactly the call a user would make, so process start-up and the pipe are never
counted. Between commands it sleeps on stdin, so it takes no CPU while the Node side runs (and vice versa): the
driver alternates the two sides round by round.

Handlers live in one module per peer (peer_rerank.py, peer_embed.py, peer_bm25s.py, peer_faiss.py); a module is
imported only when its first command arrives, so each venv needs only its own peer's packages.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODULES = {
    "rerank": "peer_rerank",
    "embed": "peer_embed",
    "bm25s": "peer_bm25s",
    "faiss": "peer_faiss",
    "langchain": "peer_langchain",
}


def main() -> None:
    state: dict = {}
    out = sys.stdout
    # Anything a library prints must not corrupt the protocol: answers go to the saved stdout, prints to stderr.
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            peer, op = msg["op"].split(".", 1)
            if peer == "sys" and op == "versions":
                answer = {"python": sys.version.split()[0], "pid": os.getpid()}
            else:
                if peer not in MODULES:
                    raise ValueError(f"unknown peer '{peer}'; expected one of {sorted(MODULES)}")
                module = importlib.import_module(MODULES[peer])
                handler = getattr(module, "op_" + op, None)
                if handler is None:
                    raise ValueError(f"peer '{peer}' has no operation '{op}'")
                answer = handler(state, msg)
            out.write(json.dumps({"ok": True, **answer}) + "\n")
        except Exception as error:  # reported to the driver, which fails loudly
            out.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
