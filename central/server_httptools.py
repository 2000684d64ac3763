"""uvicorn's httptools protocol with TCP_NODELAY, for ``isseg-farmacia central --http
httptools`` (needs the optional ``httptools`` package; kept apart so that importing
:mod:`central.server` never requires it)."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from central.server import NoDelay


class NoDelayHttpToolsProtocol(NoDelay, HttpToolsProtocol):
    pass
