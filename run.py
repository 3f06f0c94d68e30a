"""WSGI entry point: `gunicorn -c gunicorn.conf.py run:app` in production (gunicorn.conf.py),
`flask --app run` in development."""
from app import create_app

app = create_app()
