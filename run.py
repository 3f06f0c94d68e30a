"""WSGI entry point: `gunicorn --preload run:app` in production, `flask --app run` in dev."""
from app import create_app

app = create_app()
