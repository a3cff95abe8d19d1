"""The AWS ImageIndex: OpenSearch through opensearch-py, one bulk request per batch.

Conditional writes use optimistic concurrency, not external versions: S3 sequencers are hex
strings of varying length (AWS documents no maximum) and do not reliably fit OpenSearch's 63-bit
version numbers. So `apply` reads the stored sequencers of the batch's documents (one mget,
realtime), drops actions older than what is stored ("stale"), and writes the rest in one bulk
request guarded by `if_seq_no`/`if_primary_term` (or `create` for documents not yet there). An
item that loses a race gets a 409; the adapter re-reads and re-decides those, a bounded number of
times. Deletes write tombstones (`deleted: true`, the sequencer kept) because a versioned delete
forgets its version after `index.gc_deletes`; every query excludes them.

The index template (template.json, mapping: keyword tags, nested labels, dates) is installed
idempotently on first use and by `install_template` (for the CLI); the index is created if missing.
Tags and label names are mapped twice: as written (`tags`, what aggregations and dashboards show) and
lower-cased by a normalizer (`tags.folded`, what searches match). A normalizer on `tags` itself
would make aggregations answer in lower case too: it changes the indexed term, only `_source` keeps
the original (https://docs.opensearch.org/latest/mappings/mapping-parameters/normalizer/; the
subfield is a multi-field, https://docs.opensearch.org/latest/mappings/mapping-parameters/fields/).
An index made from an older template lacks the subfields: searches on it stay case-sensitive (a
warning says so) until `autotagger reindex` moves it to the current template.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from opensearchpy import OpenSearch, RequestsHttpConnection, helpers
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from autotagger.contracts import INDEX_NAME, INDEX_TEMPLATE_FILE, INDEX_TEMPLATE_PACKAGE, MODERATION_THRESHOLD
from autotagger.domain.documents import (
    DISPLAY_THRESHOLD,
    format_time,
    parse_time,
    resolve_within_batch,
    sequencer_key,
    supersedes,
    tombstone_for,
)
from autotagger.index.query import SearchSpec, fold

log = logging.getLogger(__name__)

CONFLICT_ROUNDS = 3


def load_template(index_name: str = INDEX_NAME) -> dict[str, Any]:
    """template.json with its pattern narrowed to the index it is for."""
    template = json.loads(resources.files(INDEX_TEMPLATE_PACKAGE).joinpath(INDEX_TEMPLATE_FILE).read_text("utf-8"))
    template["index_patterns"] = [index_name]
    return template


def template_name(index_name: str) -> str:
    return f"{index_name}-template"


def install_template(client: OpenSearch, index_name: str = INDEX_NAME) -> bool:
    """Puts the index template unless one of the same or a newer `version` is there, then creates the
    index if it is missing. Returns True when the template was (re)installed. Safe to call often."""
    template = load_template(index_name)
    name = template_name(index_name)
    installed = False
    try:
        current = client.indices.get_index_template(name=name)["index_templates"][0]["index_template"]
        outdated = current.get("version", 0) < template["version"]
    except NotFoundError:
        outdated = True
    if outdated:
        client.indices.put_index_template(name=name, body=template)
        installed = True
    if not client.indices.exists(index=index_name):
        try:
            client.indices.create(index=index_name)
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":  # another writer was faster
                raise
    return installed


def has_folded_tags(client: OpenSearch, index_name: str) -> bool:
    """Whether the index (or the one an alias names) maps the lower-cased `tags.folded` subfield."""
    for mapping in client.indices.get_mapping(index=index_name).values():
        return "folded" in mapping["mappings"].get("properties", {}).get("tags", {}).get("fields", {})
    return False


def sigv4_auth(host: str, region: str | None):
    """requests-aws4auth signer for an Amazon OpenSearch host (managed `es` or serverless `aoss`).

    Credentials come from botocore when it is installed (refreshable: profiles, roles) and otherwise
    from the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables Lambda sets.
    """
    from requests_aws4auth import AWS4Auth

    service = "aoss" if ".aoss." in host else "es"
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or host.split(".")[-4]
    try:
        import botocore.session

        credentials = botocore.session.Session().get_credentials()
    except ImportError:
        credentials = None
    if credentials is not None:
        return AWS4Auth(region=region, service=service, refreshable_credentials=credentials)
    return AWS4Auth(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], region, service,
                    session_token=os.environ.get("AWS_SESSION_TOKEN"))


class OpenSearchIndex:
    """ImageIndex on an OpenSearch index (the template is installed on first use)."""

    def __init__(self, client: OpenSearch, index_name: str = INDEX_NAME, *,
                 threshold: float = DISPLAY_THRESHOLD, refresh: bool = False):
        self.client = client
        self.index_name = index_name
        self.threshold = threshold
        self.refresh = refresh
        self._ready = False
        self._ready_lock = threading.Lock()
        self._folded = "folded"  # the subfield searches match; "" on an index made from an older template

    @classmethod
    def from_url(cls, url: str, *, index_name: str | None = None, region: str | None = None,
                 timeout: float = 30.0, **options: Any) -> OpenSearchIndex:
        """http(s)://host[:port]; requests to *.amazonaws.com are signed with SigV4."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        secure = parts.scheme == "https"
        kwargs: dict[str, Any] = {"hosts": [{"host": host, "port": parts.port or (443 if secure else 80)}],
                                  "use_ssl": secure, "verify_certs": secure, "timeout": timeout}
        if host.endswith(".amazonaws.com"):
            kwargs.update(http_auth=sigv4_auth(host, region), connection_class=RequestsHttpConnection)
        elif parts.username:
            kwargs["http_auth"] = (parts.username, parts.password or "")
        return cls(OpenSearch(**kwargs), index_name or INDEX_NAME, **options)

    def ensure_ready(self) -> None:
        """Installs the template and creates the index once per adapter."""
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                install_template(self.client, self.index_name)
                if not has_folded_tags(self.client, self.index_name):
                    log.warning("index %s predates template version %s: tag searches are case-sensitive until "
                                "`autotagger reindex` moves it", self.index_name, load_template()["version"])
                    self._folded = ""
                self._ready = True

    # -- writes -----------------------------------------------------------------------------

    def apply(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(actions)
        try:
            for action in actions:
                sequencer_key(action["sequencer"])
            self.ensure_ready()
        except (KeyError, TypeError, ValueError) as exc:
            return [{"id": a.get("id"), "status": "error", "error": f"invalid action: {exc}"} for a in actions]
        except TransportError as exc:
            return [{"id": a.get("id"), "status": "error", "error": f"opensearch: {exc}"} for a in actions]
        winners, losers = resolve_within_batch(actions)
        for position in losers:
            results[position] = {"id": actions[position]["id"], "status": "stale"}
        pending = list(winners.values())
        now = datetime.now(UTC)
        for _ in range(CONFLICT_ROUNDS):
            if not pending:
                break
            pending = self._write_round(actions, pending, results, now)
        for position in pending:
            results[position] = {"id": actions[position]["id"], "status": "error",
                                 "error": "version conflict persisted: concurrent writers"}
        return results  # type: ignore[return-value]

    def _write_round(self, actions: list[dict[str, Any]], positions: list[int],
                     results: list[dict[str, Any] | None], now: datetime) -> list[int]:
        """Reads, decides and bulk-writes; returns the positions that lost a race (409) to retry."""
        ids = [actions[p]["id"] for p in positions]
        try:
            found = self.client.mget(index=self.index_name, body={"ids": ids}, _source_includes=["sequencer"])
        except TransportError as exc:
            for p in positions:
                results[p] = {"id": actions[p]["id"], "status": "error", "error": f"opensearch mget: {exc}"}
            return []
        stored = {doc["_id"]: doc for doc in found["docs"] if doc.get("found")}
        ops, owners = [], []
        for p in positions:
            action = actions[p]
            current = stored.get(action["id"])
            if current is not None and not supersedes(action["sequencer"], current["_source"].get("sequencer")):
                results[p] = {"id": action["id"], "status": "stale"}
                continue
            if action["action"] == "delete":
                document = tombstone_for(action, now)
            else:
                # Only the top level changes (and neither the client nor the bulk helper mutates it).
                document = dict(action["document"], id=action["id"])
            op: dict[str, Any] = {"_index": self.index_name, "_id": action["id"], "_source": document}
            if current is None:
                op["_op_type"] = "create"
            else:
                op.update(_op_type="index", if_seq_no=current["_seq_no"], if_primary_term=current["_primary_term"])
            ops.append(op)
            owners.append(p)
        if not ops:
            return []
        retry = []
        for p in owners:  # replaced below by each item's answer
            results[p] = {"id": actions[p]["id"], "status": "error", "error": "no answer in the bulk response"}
        responses = helpers.streaming_bulk(self.client, ops, chunk_size=len(ops), max_chunk_bytes=100 * 1024 * 1024,
                                           raise_on_error=False, raise_on_exception=False, max_retries=0,
                                           refresh="true" if self.refresh else "false")
        for p, (ok, item) in zip(owners, responses, strict=True):
            info = next(iter(item.values()))
            if ok:
                results[p] = {"id": actions[p]["id"], "status": "applied"}
            elif info.get("status") == 409:
                retry.append(p)
            else:
                error = info.get("error")
                reason = f"{error.get('type')}: {error.get('reason')}" if isinstance(error, dict) else str(error)
                results[p] = {"id": actions[p]["id"], "status": "error", "error": f"{info.get('status')} {reason}"}
        return retry

    def close(self) -> None:
        """Closes the client's HTTP connections."""
        self.client.close()

    def refresh_now(self) -> None:
        """Makes everything written so far searchable (tests, the CLI after a bulk load)."""
        self.client.indices.refresh(index=self.index_name)

    # -- reads ------------------------------------------------------------------------------

    def get(self, doc_id: str) -> dict[str, Any] | None:
        self.ensure_ready()
        try:
            found = self.client.get(index=self.index_name, id=doc_id)
        except NotFoundError:
            return None
        source = found.get("_source") or {}
        return None if source.get("deleted") else source

    def _confidence_filter(self, min_confidence: float) -> list[dict[str, Any]]:
        """Images with a tag of at least min_confidence. Tags are labels at or above the display
        threshold, so below it "has any tag" is the same question and needs no nested query."""
        if min_confidence <= 0:
            return []
        if min_confidence <= self.threshold:
            return [{"exists": {"field": "tags"}}]
        return [{"nested": {"path": "labels", "query": {"range": {"labels.confidence": {"gte": min_confidence}}}}}]

    def _filters(self, since: str | None, until: str | None) -> list[dict[str, Any]]:
        """since inclusive, until exclusive; bad times raise ValueError here, as in the SQLite adapter."""
        bounds = {}
        if since is not None:
            bounds["gte"] = format_time(parse_time(since))
        if until is not None:
            bounds["lt"] = format_time(parse_time(until))
        return [{"range": {"event_time": bounds}}] if bounds else []

    def _query(self, filters: list[dict[str, Any]]) -> dict[str, Any]:
        return {"bool": {"filter": filters, "must_not": [{"term": {"deleted": True}}]}}

    def _field(self, name: str) -> str:
        """The field a tag search matches: the lower-cased subfield when the index has it."""
        return f"{name}.{self._folded}" if self._folded else name

    def search(self, tags: list[str] | None = None, min_confidence: float = 0.0, limit: int = 50,
               cursor: str | None = None, since: str | None = None, until: str | None = None,
               offset: int = 0) -> dict[str, Any]:
        """Newest first, ties by id; every tag must be present (in any case) with at least
        min_confidence. Semantics and errors: `ImageIndex.search`. Pages go on with `search_after`
        on the sort values a cursor holds
        (https://docs.opensearch.org/latest/search-plugins/searching-data/paginate/)."""
        spec = SearchSpec.parse(tags, min_confidence, limit, cursor, since, until, offset)
        self.ensure_ready()
        filters = self._filters(since, until)
        for tag in spec.tags:
            if not self._folded:  # an index of the older template: the tag as given, case and all
                tag = next(t for t in tags or [] if fold(t) == tag)
            filters.append({"term": {self._field("tags"): tag}})
            if spec.min_confidence > self.threshold:
                filters.append({"nested": {"path": "labels", "query": {"bool": {"filter": [
                    {"term": {self._field("labels.name"): tag}},
                    {"range": {"labels.confidence": {"gte": spec.min_confidence}}}]}}}})
        if not spec.tags:
            filters += self._confidence_filter(spec.min_confidence)
        body: dict[str, Any] = {"query": self._query(filters), "sort": [{"event_time": "desc"}, {"id": "desc"}],
                                "size": spec.limit + 1 if spec.limit else 0, "track_total_hits": True}
        if spec.after is not None:
            body["search_after"] = list(spec.after)
        elif spec.offset:
            body["from"] = spec.offset
        found = self.client.search(index=self.index_name, body=body)
        return spec.page(found["hits"]["total"]["value"], [hit["_source"] for hit in found["hits"]["hits"]])

    def tag_counts(self, top: int = 20, min_confidence: float = 0.0, since: str | None = None,
                   until: str | None = None) -> list[dict[str, Any]]:
        """Images per tag, most frequent first (ties by name): a terms aggregation on `tags`, or on
        the nested labels when the confidence floor is above the display threshold."""
        self.ensure_ready()
        order = [{"_count": "desc"}, {"_key": "asc"}]
        if min_confidence <= self.threshold:
            aggs = {"tags": {"terms": {"field": "tags", "size": top, "order": order}}}
        else:
            # reverse_nested counts images, not labels, should an image carry one name twice.
            aggs = {"labels": {"nested": {"path": "labels"}, "aggs": {"confident": {
                "filter": {"range": {"labels.confidence": {"gte": min_confidence}}},
                "aggs": {"tags": {"terms": {"field": "labels.name", "size": top, "order": order},
                                  "aggs": {"images": {"reverse_nested": {}}}}}}}}}
        body = {"size": 0, "query": self._query(self._filters(since, until)), "aggs": aggs}
        found = self.client.search(index=self.index_name, body=body)["aggregations"]
        if "labels" not in found:
            return [{"tag": bucket["key"], "count": bucket["doc_count"]} for bucket in found["tags"]["buckets"]]
        counts = [{"tag": bucket["key"], "count": bucket["images"]["doc_count"]}
                  for bucket in found["labels"]["confident"]["tags"]["buckets"]]
        return sorted(counts, key=lambda item: (-item["count"], item["tag"]))

    def image_counts(self, interval: str = "day", since: str | None = None, until: str | None = None,
                     min_confidence: float = 0.0) -> list[dict[str, Any]]:
        """Images per calendar bucket (UTC), oldest first; buckets without images are left out."""
        if interval not in ("hour", "day", "week", "month"):
            raise ValueError(f"interval must be one of hour, day, week, month, got {interval!r}")
        self.ensure_ready()
        filters = self._filters(since, until) + self._confidence_filter(min_confidence)
        body = {"size": 0, "query": self._query(filters), "aggs": {"images": {"date_histogram": {
            "field": "event_time", "calendar_interval": interval, "min_doc_count": 1}}}}
        buckets = self.client.search(index=self.index_name, body=body)["aggregations"]["images"]["buckets"]
        return [{"time": format_time(datetime.fromtimestamp(bucket["key"] / 1000, UTC)),
                 "count": bucket["doc_count"]} for bucket in buckets]

    def count(self) -> int:
        """Live (not deleted) images."""
        self.ensure_ready()
        return self.client.count(index=self.index_name, body={"query": self._query([])})["count"]

    def analysis_counts(self) -> dict[str, int]:
        """Two counts on the mapped `moderation.max_confidence` and `analysis_errors.analysis` (an
        empty list indexes no value, so `exists` is "at least one error")."""
        self.ensure_ready()
        flagged = [{"range": {"moderation.max_confidence": {"gte": MODERATION_THRESHOLD}}}]
        errors = [{"exists": {"field": "analysis_errors.analysis"}}]
        return {name: self.client.count(index=self.index_name, body={"query": self._query(filters)})["count"]
                for name, filters in (("flagged", flagged), ("analysis_errors", errors))}
