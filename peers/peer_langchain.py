"""End-to-end peer: a LangChain Python two-stage pipeline, written the way LangChain's docs show it.

FAISS (langchain_community) over HuggingFaceEmbeddings (langchain_huggingface, sentence-transformers underneath)
for recall, and CrossEncoderReranker over HuggingFaceCrossEncoder in a ContextualCompressionRetriever for
precision (LangChain's "Cross Encoder Reranker" page). Both models are loaded with sentence-transformers' ONNX
backend from the very files the package reads (the imported model folders, int8 `onnx/model_quantized.onnx`), so
both sides run the same weights; what differs is the pipeline around them.
"""

from __future__ import annotations

import json
import os
import time


def op_load(state: dict, msg: dict) -> dict:
    import faiss
    import langchain_classic
    import langchain_community
    import langchain_core
    import onnxruntime
    import sentence_transformers
    import torch
    import transformers
    from langchain_classic.retrievers import ContextualCompressionRetriever
    from langchain_classic.retrievers.document_compressors import CrossEncoderReranker
    from langchain_community.cross_encoders import HuggingFaceCrossEncoder
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings

    threads = int(msg["threads"])
    torch.set_num_threads(threads)
    # The CPU provider named explicitly: sentence-transformers otherwise takes onnxruntime's first available provider
    # (this wheel lists AzureExecutionProvider first).
    onnx = {"file_name": msg["onnx_file"], "provider": "CPUExecutionProvider"}
    # The same prefixes ours applies (bge-small-en-v1.5: its retrieval instruction on queries, nothing on passages).
    query_kwargs = {"normalize_embeddings": True, "prompt": msg["query_prefix"]} if msg["query_prefix"] else {}
    doc_kwargs = {"normalize_embeddings": True, "prompt": msg["document_prefix"]} if msg["document_prefix"] else {}
    embeddings = HuggingFaceEmbeddings(
        model_name=msg["embedder"],
        model_kwargs={"backend": "onnx", "device": "cpu", "model_kwargs": onnx},
        encode_kwargs=doc_kwargs or {"normalize_embeddings": True},
        query_encode_kwargs=query_kwargs or {"normalize_embeddings": True},
    )
    with open(msg["corpus"], encoding="utf8") as f:
        docs = [json.loads(line) for line in f]
    documents = [Document(page_content=d["text"], metadata={"id": d["id"]}) for d in docs]
    started = time.perf_counter()
    store = FAISS.from_documents(documents, embeddings)
    index_s = time.perf_counter() - started
    reranker = HuggingFaceCrossEncoder(
        model_name=msg["reranker"], model_kwargs={"backend": "onnx", "device": "cpu", "model_kwargs": onnx}
    )
    retriever = ContextualCompressionRetriever(
        base_compressor=CrossEncoderReranker(model=reranker, top_n=int(msg["top_k"])),
        base_retriever=store.as_retriever(search_kwargs={"k": int(msg["recall_k"])}),
    )
    state["langchain"] = {"retriever": retriever}
    ce = reranker.client
    st = embeddings._client
    sessions = {"embedder": st[0].auto_model, "reranker": ce.model}
    for name, model in sessions.items():  # fail loudly unless each side runs exactly the file ours runs
        if not str(model.path).endswith(msg["onnx_file"]) or model.session.get_providers()[0] != "CPUExecutionProvider":
            raise RuntimeError(f"{name} loaded {model.path} on {model.session.get_providers()}, not {msg['onnx_file']} on CPU")
    return {
        "versions": {
            "langchain-core": langchain_core.__version__,
            "langchain-classic": getattr(langchain_classic, "__version__", "?"),
            "langchain-community": langchain_community.__version__,
            "sentence-transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__,
            "faiss-cpu": faiss.__version__,
            "torch": torch.__version__,
        },
        "index_s": index_s,
        "docs": len(documents),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "embedder_max_seq_length": st.max_seq_length,
        "reranker_max_length": ce.max_length,
        "reranker_backend": f"{ce.backend} ({type(ce.model).__name__}, {ce.model.path}, {ce.model.session.get_providers()})",
        "embedder_backend": f"{st.backend} ({type(st[0].auto_model).__name__}, {st[0].auto_model.path})",
    }


def op_query(state: dict, msg: dict) -> dict:
    retriever = state["langchain"]["retriever"]
    started = time.perf_counter()
    docs = retriever.invoke(msg["query"])
    ms = (time.perf_counter() - started) * 1000
    return {"ms": ms, "ids": [d.metadata["id"] for d in docs]}
