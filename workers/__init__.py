"""newsmon's Celery app and tasks: ``celery -A workers worker`` and ``newsmon worker`` run this."""

from workers.celery_app import app

__all__ = ["app"]
