"""BM25 peer: bm25s (numpy backend, its default), with the English stop words and PyStemmer's English (Porter 2)
stemmer as its README shows, k1 0.9 and b 0.4 (Lucene's and ours; bm25s' own default is 1.5/0.75), method "lucene".

Build = tokenize + index of texts already in memory (the file is parsed before the clock starts, as on our side);
search = tokenize the query + retrieve top k, one query per call (what a retriever does per request).
"""

from __future__ import annotations

import json
import os
import shutil
import time


def _texts(path: str) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                ids.append(str(d["_id"]))
                texts.append((d.get("title", "") + " " + d.get("text", "")).strip())
    return ids, texts


def op_build(state: dict, msg: dict) -> dict:
    import bm25s
    import Stemmer

    key = msg["corpus"]
    if state.get("bm25s_corpus_key") != key:
        state["bm25s_corpus"] = _texts(key)
        state["bm25s_corpus_key"] = key
    ids, texts = state["bm25s_corpus"]
    stemmer = Stemmer.Stemmer("english")
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(k1=float(msg["k1"]), b=float(msg["b"]), method="lucene")
    retriever.index(tokens, show_progress=False)
    ms = (time.perf_counter() - t0) * 1000
    save = msg["save"]
    shutil.rmtree(save, ignore_errors=True)
    retriever.save(save)  # the index only (no corpus): what a query needs
    size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(save) for f in files)
    state["bm25s"] = {"retriever": retriever, "stemmer": stemmer, "ids": ids}
    return {"ms": ms, "bytes": size, "vocabulary": len(tokens.vocab), "bm25s": bm25s.__version__ if hasattr(bm25s, "__version__") else None}


def op_search(state: dict, msg: dict) -> dict:
    import bm25s

    st = state["bm25s"]
    k = int(msg["k"])
    want_ids = bool(msg.get("ids"))
    times, runs = [], []
    for q in msg["queries"]:
        t0 = time.perf_counter()
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=st["stemmer"], show_progress=False, return_ids=False)
        docs, _scores = st["retriever"].retrieve(tokens, k=k, show_progress=False, n_threads=0)
        times.append((time.perf_counter() - t0) * 1000)
        if want_ids:
            runs.append([st["ids"][i] for i in docs[0].tolist()])
    return {"ms": times, "docids": runs}
