#!/usr/bin/env python3
"""How much do the ONNX outputs move with the runtime's settings? Recomputes part of the parity fixtures with a
given onnxruntime version, graph optimisation level and thread count, and prints max |delta| against the fixture.

  ~/.cache/two-stage-retriever/peers/venv-onnx/bin/python peers/ort_sensitivity.py --opt all --threads 1
  ~/.cache/two-stage-retriever/peers/venv-ort115/bin/python peers/ort_sensitivity.py   # onnxruntime 1.15.0

It never writes the fixtures; it reads them and the artifacts, and prints one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_parity_fixture as m  # noqa: E402

LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
          "all": "ORT_ENABLE_ALL"}


def session(path: Path, opt: str, threads: int):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.graph_optimization_level = getattr(ort.GraphOptimizationLevel, LEVELS[opt])
    return ort.InferenceSession(str(path), sess_options=o, providers=["CPUExecutionProvider"])


def main() -> None:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    ap = argparse.ArgumentParser()
    ap.add_argument("--opt", choices=list(LEVELS), default="all")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--queries", type=int, default=3, help="rerank queries to recompute (100 pairs each)")
    ap.add_argument("--data", type=Path, default=m.DEFAULT_DATA)
    ap.add_argument("--artifacts", type=Path, default=m.CACHE / "artifacts")
    ap.add_argument("--save", type=Path, help="also write the outputs and token ids (JSON) here, for cross-runtime diffs")
    ap.add_argument("--fixtures", type=Path, default=m.REPO / "__tests__/fixtures/parity")
    args = ap.parse_args()
    art = args.artifacts
    saved: dict = {"emb": {}, "rerank": []}
    out = {"onnxruntime": ort.__version__, "numpy": np.__version__, "opt": args.opt, "threads": args.threads}

    emb = json.load(open(args.fixtures / "embeddings-all-minilm-l6-v2.json", encoding="utf-8"))
    texts = [it["text"] for it in emb["items"]]
    for label, onnx_rel, tok_rel in [
        ("onnx_fp32", "minilm-fp32/all-minilm-l6-v2.onnx", "minilm-fp32/all-minilm-l6-v2-tokenizer.json"),
        ("onnx_int8", "minilm-q/all-minilm-l6-v2-q.onnx", "minilm-q/all-minilm-l6-v2-q-tokenizer.json"),
    ]:
        tok = Tokenizer.from_file(str(art / tok_rel))
        tok.no_padding()
        tok.enable_truncation(max_length=m.EMBED_MAX_LEN)
        vecs, ids = m.onnx_embed(session(art / onnx_rel, args.opt, args.threads), tok, texts)
        saved["emb"][label] = {"vectors": vecs.tolist(), "ids": ids}
        ref = np.frombuffer(base64.b64decode(emb["vectors"][label]), dtype="<f4").reshape(vecs.shape)
        out[f"emb_{label}_max_abs_vs_fixture"] = float(np.abs(vecs - ref).max())
        out[f"emb_{label}_min_cos_vs_fixture"] = float(m.cos_rows(vecs, ref).min())

    rr = json.load(open(args.fixtures / "rerank-ms-marco-minilm-l12-v2-int8.json", encoding="utf-8"))
    corpus = {json.loads(line)["_id"]: json.loads(line) for line in open(args.data / "corpus.jsonl", encoding="utf-8")}
    sess = session(art / "reranker_en/model.onnx", args.opt, args.threads)
    tok = Tokenizer.from_file(str(art / "reranker_en/tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=512, strategy="longest_first")
    worst, swaps, pairs = 0.0, 0, 0
    for q in rr["queries"][: args.queries]:
        logits, feeds_list = [], []
        for d in q["doc_ids"]:
            enc, feeds = m.encode_pair(tok, q["query"], m.doc_text(corpus[d]))
            logits.append(float(sess.run(["logits"], feeds)[0][0, 0]))
            feeds_list.append({"ids": enc.ids, "type_ids": enc.type_ids})
        saved["rerank"].append({"query_id": q["query_id"], "logits": logits, "pairs": feeds_list})
        arr = np.array(logits)
        worst = max(worst, float(np.abs(arr - np.array(q["logits_512"])).max()))
        order = sorted(range(len(arr)), key=lambda i: (-arr[i], i))
        swaps += sum(1 for a, b in zip(order, q["order_512"]) if a != b)
        pairs += len(logits)
    out.update({"rerank_pairs": pairs, "rerank_max_abs_logit_vs_fixture": worst, "rerank_order_positions_differing": swaps})
    print(json.dumps(out))
    if args.save:
        saved["summary"] = out
        args.save.write_text(json.dumps(saved))


if __name__ == "__main__":
    main()
