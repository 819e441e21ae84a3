"""An HTTP client for OpenAI-compatible ``/chat/completions`` endpoints, with an on-disk reply cache.

Requests run a set number at a time; connection failures, timeouts and HTTP
429/5xx are retried with exponential backoff, other HTTP errors (bad request,
bad key) fail at once. With a cache every reply is kept on disk as it arrives
and served from there on a rerun (see :class:`ReplyCache`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from ..io import atomic_write

log = logging.getLogger(__name__)

# (url, body, headers, timeout_s) → the decoded JSON reply; tests pass a stand-in.
Post = Callable[[str, dict, dict, float], dict]


class ReplyCache:
    """Replies of a chat endpoint on disk, one JSON file per distinct request body.

    Each reply is written (atomically, and fsynced) as soon as it arrives, so a
    killed run loses nothing it was already sent, and a rerun asks only for the
    rest. A file that cannot be read back is reported and asked for again.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    @staticmethod
    def key(body: dict) -> str:
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def path(self, body: dict) -> Path:
        key = self.key(body)
        return self.directory / key[:2] / f"{key}.json"  # a sub-folder level keeps folders small

    def get(self, body: dict) -> dict | None:
        path = self.path(body)
        if not path.exists():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry["request"] != body:
                raise ValueError("it holds another request")
            return check_reply(entry["reply"], body["n"])
        except (ValueError, KeyError, TypeError) as err:
            log.warning("ignoring unreadable cached reply %s (%s); requesting it again", path, err)
            return None

    def put(self, body: dict, reply: dict) -> None:
        with atomic_write(self.path(body)) as handle:
            json.dump({"request": body, "reply": reply}, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())


def check_reply(reply: dict, n: int) -> dict:
    """``reply`` if it holds ``n`` choices with a message each, else ValueError."""
    choices = reply["choices"]
    if len(choices) != n or not all(isinstance(c["message"], dict) for c in choices):
        raise ValueError(f"expected {n} choice(s) with a message, got {len(choices)}")
    return reply


class ChatClient:
    """Sends chat-completion request bodies to ``url``: ``concurrency`` at a time, retried, optionally cached."""

    def __init__(self, url: str, api_key: str, *, concurrency: int, max_retries: int, timeout_s: float,
                 cache_dir: str | os.PathLike | None = None, post: Post | None = None):
        self.url = url
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.cache = ReplyCache(cache_dir) if cache_dir else None
        self._post = post or post_json

    def replies(self, bodies: list[dict], progress: bool = True) -> list[dict]:
        """One checked reply per body, in the bodies' order; identical bodies are asked (and cached) once."""
        from tqdm.auto import tqdm

        keys = [ReplyCache.key(body) for body in bodies]
        replies: dict[str, dict] = {}
        missing: dict[str, dict] = {}
        for key, body in zip(keys, bodies):
            if key not in replies and key not in missing:
                cached = self.cache.get(body) if self.cache else None
                if cached is None:
                    missing[key] = body
                else:
                    replies[key] = cached
        if replies:
            log.info("%s: %d of %d distinct requests served from the cache", self.url, len(replies),
                     len(replies) + len(missing))
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self.request, body): key for key, body in missing.items()}
            try:
                for future in tqdm(as_completed(futures), total=len(futures), desc="request",
                                   disable=not progress):
                    replies[futures[future]] = future.result()
            except BaseException:
                # Requests not yet started are dropped; those in flight finish and are cached.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return [replies[key] for key in keys]

    def request(self, body: dict) -> dict:
        """The checked reply to ``body``, kept in the cache."""
        try:
            reply = check_reply(self._with_retries(body), body["n"])
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeError(f"{self.url}: malformed reply ({err})") from err
        if self.cache:
            self.cache.put(body, reply)
        return reply

    def _with_retries(self, body: dict) -> dict:
        for attempt in range(self.max_retries + 1):
            try:
                return self._post(self.url, body, self.headers, self.timeout_s)
            except urllib.error.HTTPError as err:
                if not retryable_status(err.code):
                    raise RuntimeError(f"{self.url}: HTTP {err.code} {err.reason} (not retried): "
                                       f"{_error_text(err)}") from err
                failure = err
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as err:
                failure = err
            if attempt == self.max_retries:
                raise RuntimeError(f"{self.url}: giving up after {attempt + 1} attempts ({failure})") from failure
            # Jitter spreads the retries of many concurrent requests hitting one rate limit.
            time.sleep(min(60.0, 2.0**attempt) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")


def retryable_status(code: int) -> bool:
    """Rate limits, timeouts and server errors may pass on a retry; other client errors will not."""
    return code in (408, 429) or code >= 500


def _error_text(err: urllib.error.HTTPError, limit: int = 500) -> str:
    """The start of an error response's body (it usually says what was wrong)."""
    try:
        return (err.read() or b"").decode("utf-8", "replace")[:limit].strip() or "(empty body)"
    except Exception:  # the body is a courtesy; the status already tells the error
        return "(no body)"


def post_json(url: str, body: dict, headers: dict, timeout_s: float) -> dict:
    """POST ``body`` as JSON with urllib; the decoded JSON reply."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read().decode("utf-8"))
