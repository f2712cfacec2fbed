"""Python clients nobody in this project wrote, against a running `two-stage serve`.

Usage: venv-clients/bin/python peers/clients/rerank_clients.py <base-url> < request.json
  request.json: {"query": "...", "texts": ["...", ...]}; the API key comes from $TWO_STAGE_API_KEY.
Prints one JSON object: for each client, the scores it got back in the order of `texts`, and what it sent where.

Clients (pinned in peers/requirements-clients.txt):
  requests  - TEI's /rerank schema posted by hand (raw_scores true and false)
  haystack  - haystack-ai's HuggingFaceTEIRanker (TEI /rerank)
  langchain - LangChain Python's CohereRerank (langchain-cohere; cohere.ClientV2 -> /v2/rerank) with base_url
  cohere_v1 - cohere's v1 Client (-> /v1/rerank)
"""

import json
import os
import sys

import cohere
import requests
from haystack import Document as HaystackDocument
from haystack.components.rankers import HuggingFaceTEIRanker
from haystack.utils import Secret
from langchain_cohere import CohereRerank
from langchain_core.documents import Document as LangChainDocument


def main() -> None:
    base = sys.argv[1].rstrip("/")
    key = os.environ["TWO_STAGE_API_KEY"]
    request = json.load(sys.stdin)
    query, texts = request["query"], request["texts"]
    out = {}

    # requests, TEI schema
    headers = {"Authorization": f"Bearer {key}"}
    for raw in (True, False):
        response = requests.post(
            f"{base}/rerank", json={"query": query, "texts": texts, "raw_scores": raw}, headers=headers, timeout=60
        )
        response.raise_for_status()
        scores = [None] * len(texts)
        for item in response.json():
            scores[item["index"]] = item["score"]
        out["requests_raw" if raw else "requests"] = {"route": "POST /rerank", "scores": scores}
    unauthorized = requests.post(f"{base}/rerank", json={"query": query, "texts": texts}, timeout=60)
    out["requests_without_key"] = {"route": "POST /rerank", "status": unauthorized.status_code}

    # haystack-ai HuggingFaceTEIRanker: documents come back best first, with .score set
    ranker = HuggingFaceTEIRanker(url=base, top_k=len(texts), token=Secret.from_token(key))
    docs = [HaystackDocument(id=str(i), content=text) for i, text in enumerate(texts)]
    ranked = ranker.run(query=query, documents=docs)["documents"]
    scores = [None] * len(texts)
    for doc in ranked:
        scores[int(doc.id)] = doc.score
    out["haystack"] = {"route": "POST /rerank", "scores": scores, "order": [int(d.id) for d in ranked]}

    # LangChain Python CohereRerank on cohere.ClientV2 (base_url): compress_documents keeps top_n, best first
    reranker = CohereRerank(base_url=base, cohere_api_key=key, model="two-stage-served", top_n=len(texts))
    compressed = reranker.compress_documents(
        [LangChainDocument(page_content=text, metadata={"i": i}) for i, text in enumerate(texts)], query
    )
    scores = [None] * len(texts)
    for doc in compressed:
        scores[doc.metadata["i"]] = doc.metadata["relevance_score"]
    out["langchain"] = {"route": "POST /v2/rerank", "scores": scores, "order": [d.metadata["i"] for d in compressed]}

    # cohere v1 Client
    client = cohere.Client(api_key=key, base_url=base)
    answer = client.rerank(query=query, documents=texts, model="two-stage-served")
    scores = [None] * len(texts)
    for result in answer.results:
        scores[result.index] = result.relevance_score
    out["cohere_v1"] = {"route": "POST /v1/rerank", "scores": scores}

    versions = {}
    for name in ("requests", "haystack-ai", "langchain-cohere", "langchain-core", "cohere"):
        from importlib.metadata import version

        versions[name] = version(name)
    out["versions"] = versions
    print(json.dumps(out))


if __name__ == "__main__":
    main()
