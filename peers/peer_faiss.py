"""Dense flat-search peer: faiss-cpu IndexFlatIP over the vectors file ours reads too (float32, row-major, unit
rows), k nearest by inner product; one query per search call, or batches of `batch` queries per call.
"""

from __future__ import annotations

import time

import numpy as np


def op_load(state: dict, msg: dict) -> dict:
    import faiss

    faiss.omp_set_num_threads(int(msg["threads"]))
    d = int(msg["dim"])
    base = np.fromfile(msg["vectors"], dtype=np.float32).reshape(-1, d)
    queries = np.fromfile(msg["queries"], dtype=np.float32).reshape(-1, d)
    t0 = time.perf_counter()
    index = faiss.IndexFlatIP(d)
    index.add(base)
    ms = (time.perf_counter() - t0) * 1000
    state["faiss"] = {"index": index, "queries": queries}
    return {"faiss": faiss.__version__, "omp_threads": faiss.omp_get_max_threads(), "n": index.ntotal, "addMs": ms}


def op_search(state: dict, msg: dict) -> dict:
    st = state["faiss"]
    start, count, batch, k = int(msg["start"]), int(msg["count"]), int(msg["batch"]), int(msg["k"])
    q = st["queries"][start : start + count]
    times = []
    first = None
    for s in range(0, count, batch):
        part = np.ascontiguousarray(q[s : s + batch])
        t0 = time.perf_counter()
        _distances, labels = st["index"].search(part, k)
        times.append((time.perf_counter() - t0) * 1000)
        if first is None:
            first = labels[0].tolist()
    return {"ms": times, "first": first}
