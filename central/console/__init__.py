"""The institute's web console at ``/consola/`` (SPEC 3.8): server-rendered Spanish pages with
htmx, for staff with the roles operador, finanzas and soporte.

:func:`install` adds it to central's FastAPI app; :mod:`.seams` is where the features built
elsewhere (heartbeats, cases, policy versions, enrollment codes, affiliates' email) plug in.
"""

from central.console.routes import install

__all__ = ["install"]
