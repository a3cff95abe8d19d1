"""The read API Lambda: API Gateway REST proxy events -> `autotagger.api.service.ReadApi` (see handler.py)."""
