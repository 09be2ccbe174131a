"""The hub's one web server: an ASGI application (Starlette on uvicorn) for the dashboard, TAXII and the inbox page.

server.py  uvicorn on a socket bound up front, run in the foreground (`hub serve`) or in a thread (tests)
guard.py   the Host allow-list and the security headers, as ASGI middleware around every route
"""
