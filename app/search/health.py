"""Health of the search backend's server (Elasticsearch, when ELASTICSEARCH_URL is set)."""

from __future__ import annotations

import requests
from flask import current_app

from app.core.health import Check, timed


def check_search() -> Check:
    url = current_app.config.get("ELASTICSEARCH_URL")
    if url:
        return timed(
            "search",
            lambda: {
                "backend": "elasticsearch",
                "cluster_status": requests.get(url.rstrip("/") + "/_cluster/health", timeout=2)
                .json()
                .get("status"),
            },
        )
    # No search server to probe: the embedded index lives in this process. (The answer still names
    # "database", as it did before the embedded engine came; kept so the API answer is unchanged.)
    return Check("search", ok=True, details={"backend": "database"})
