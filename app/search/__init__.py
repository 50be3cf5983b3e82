"""Search and discovery: one backend-neutral service (service.py) over the embedded Tantivy
engine (tantivy_backend.py, default) and Elasticsearch (elastic.py, when ELASTICSEARCH_URL is set),
fed by outbox events (hooks.py, jobs/subscribers.py)."""
