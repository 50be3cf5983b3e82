"""What gunicorn serves: `gunicorn wsgi:app`. Also FLASK_APP for the CLI."""

from app import create_app

app = create_app()
