"""The situation dashboard: server-rendered pages over the same storage and services as the API.

``mount_web(app, settings)`` (in ``legation.web.app``) adds the pages, the login and the static
assets to the FastAPI application that ``legation.api.create_app`` builds.
"""
