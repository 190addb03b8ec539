"""The knowledge base (R13): articles supervisors write, the search index rebuilt when what is published changes,
the public help centre's search and article pages, and the articles suggested to a customer and their agent.

Articles are configuration documents (kind `article`). The index (shared/domain/kb_search.py) is built from every
published article — one Query of the article partition, never a scan of the tickets — and stored in S3 under
`kb/index-<version>.json`; a small pointer document (`kb-index`/`current`) names the current one. A search reads
the pointer (one GetItem) and, when its version is not the one already in memory, the index once. Views,
"did this help?" votes and deflections are counters beside the KPIs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Protocol

from shared.domain.errors import NotFound
from shared.domain.kb_search import Article, build_index, search
from shared.domain.ports import ConfigStore
from shared.domain.timefmt import iso
from shared.observability import Metric, count

INDEX_POINTER = ("kb-index", "current")
SUMMARY_CHARS = 220
SUGGESTIONS = 3
MIN_SUGGESTION_SCORE = 1.0  # below this a match is one common word: better no suggestion than a wrong one


class IndexStore(Protocol):
    def get(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes, content_type: str = ...) -> str: ...


class ArticleCounters(Protocol):
    def add(self, article_id: str, counter: str, amount: int = 1) -> None: ...

    def counts(self, article_ids: Iterable[str]) -> dict[str, dict[str, int]]: ...


def summary(body: str) -> str:
    """The first paragraph, cut at a word near SUMMARY_CHARS."""
    first = next((p.strip() for p in body.split("\n\n") if p.strip()), "")
    first = " ".join(first.split())
    if len(first) <= SUMMARY_CHARS:
        return first
    return first[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"


_cache_lock = threading.Lock()
_cached_index: dict[str, Any] = {}  # version -> index document (one, the latest read)


@dataclass
class KnowledgeBase:
    config: ConfigStore
    blobs: IndexStore
    counters: ArticleCounters
    public_url: Callable[[], str]
    now: Callable[[], datetime]

    # --- supervisors ---------------------------------------------------------------------------------------

    def articles(self) -> list[dict[str, Any]]:
        stored = self.config.list("article")
        counts = self.counters.counts(stored)
        return [self._resource(aid, doc, counts.get(aid)) for aid, doc in sorted(stored.items())]

    def article(self, article_id: str) -> dict[str, Any]:
        doc = self.config.get("article", article_id)
        if doc is None:
            raise NotFound(f"no article {article_id}")
        return self._resource(article_id, doc, self.counters.counts([article_id]).get(article_id))

    def save(self, article_id: str, document: dict[str, Any], actor: str) -> dict[str, Any]:
        from shared.contracts.refusals import validated
        from shared.contracts.selfservice import ArticleDocument

        checked = validated(ArticleDocument, document, "article").model_dump()
        before = self.config.get("article", article_id)
        now = iso(self.now())
        published_at = (before or {}).get("published_at")
        if checked["status"] == "published" and (before or {}).get("status") != "published":
            published_at = now
        stored = {**checked, "updated_at": now, "updated_by": actor, "published_at": published_at,
                  "created_at": (before or {}).get("created_at", now)}  # fmt: skip
        self.config.put("article", article_id, stored, actor, self.now())
        if checked["status"] == "published" or (before or {}).get("status") == "published":
            self.rebuild(actor)
        return self.article(article_id)

    def delete(self, article_id: str, actor: str) -> None:
        before = self.config.get("article", article_id)
        if before is None or not self.config.delete("article", article_id):
            raise NotFound(f"no article {article_id}")
        if before.get("status") == "published":
            self.rebuild(actor)

    def rebuild(self, actor: str = "system:kb") -> dict[str, Any]:
        """Index every published article and make it the current index; returns the pointer."""
        published = {aid: doc for aid, doc in self.config.list("article").items() if doc.get("status") == "published"}
        index = build_index(
            Article(id=aid, title=doc["title"], body=doc["body"], language=doc["language"], tags=tuple(doc.get("tags") or ()))
            for aid, doc in sorted(published.items())
        )
        index["meta"] = {
            aid: {"title": doc["title"], "language": doc["language"], "category": doc.get("category"),
                  "summary": summary(doc["body"])}  # fmt: skip
            for aid, doc in published.items()
        }
        data = json.dumps(index, sort_keys=True, separators=(",", ":")).encode()
        version = hashlib.sha256(data).hexdigest()[:16]
        key = f"kb/index-{version}.json"
        self.blobs.put(key, data, "application/json")
        pointer = {"version": version, "key": key, "articles": len(published), "built_at": iso(self.now())}
        self.config.put(*INDEX_POINTER, pointer, actor, self.now())
        with _cache_lock:
            _cached_index.clear()
            _cached_index[version] = index
        return pointer

    # --- the public help centre ----------------------------------------------------------------------------

    def search(self, query: str, language: str | None = None, limit: int = 5) -> list[dict[str, Any]]:
        index = self._index()
        if index is None:
            return []
        meta = index.get("meta", {})
        return [
            {"id": hit.id, "score": hit.score, "url": self.url(hit.id), **meta.get(hit.id, {})}
            for hit in search(index, query, language=language, limit=limit)
            if hit.id in meta
        ]

    def suggest(self, text: str, language: str | None, limit: int = SUGGESTIONS) -> list[dict[str, Any]]:
        """The best published articles for a customer's words: what the acknowledgement offers and the agent sees."""
        if not text.strip():
            return []
        return [hit for hit in self.search(text[:2000], language, limit) if hit["score"] >= MIN_SUGGESTION_SCORE]

    def public_article(self, article_id: str, count_view: bool = True) -> dict[str, Any]:
        doc = self.config.get("article", article_id)
        if doc is None or doc.get("status") != "published":
            raise NotFound(f"no published article {article_id}")
        if count_view:
            self.counters.add(article_id, "views")
            count(Metric.ARTICLE_VIEWS)
        return {"id": article_id, "title": doc["title"], "body": doc["body"], "language": doc["language"],
                "category": doc.get("category"), "tags": list(doc.get("tags") or []), "url": self.url(article_id),
                "published_at": doc.get("published_at")}  # fmt: skip

    def feedback(self, article_id: str, helpful: bool) -> dict[str, int]:
        self.public_article(article_id, count_view=False)
        self.counters.add(article_id, "helpful" if helpful else "not_helpful")
        return self.counters.counts([article_id]).get(article_id, {})

    def deflected(self, article_id: str) -> None:
        self.counters.add(article_id, "deflections")

    def url(self, article_id: str) -> str:
        return f"{self.public_url()}/#/help/{article_id}"

    # ------------------------------------------------------------------------------------------------------

    def _index(self) -> dict[str, Any] | None:
        pointer = self.config.get(*INDEX_POINTER)
        if not pointer:
            return None
        version = str(pointer["version"])
        with _cache_lock:
            cached: dict[str, Any] | None = _cached_index.get(version)
            if cached is not None:
                return cached
        index: dict[str, Any] = json.loads(self.blobs.get(str(pointer["key"])))
        with _cache_lock:
            _cached_index.clear()
            _cached_index[version] = index
        return index

    def _resource(self, article_id: str, doc: dict[str, Any], counts: dict[str, int] | None) -> dict[str, Any]:
        return {"id": article_id, **{k: doc.get(k) for k in ("title", "body", "language", "category", "status",
                "updated_at", "updated_by", "published_at")}, "tags": list(doc.get("tags") or []),
                "url": self.url(article_id), "counts": {"views": 0, "helpful": 0, "not_helpful": 0, "deflections": 0,
                                                        **(counts or {})}}  # fmt: skip
