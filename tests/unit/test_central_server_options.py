"""`isseg-farmacia central` picks the fast HTTP parser and event loop it depends on."""

from __future__ import annotations

import sys

import pytest
from uvicorn.importer import import_from_string

from central.server import HTTP_PROTOCOLS, NoDelay, build_parser


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not exist on Windows")
def test_central_runs_on_httptools_and_uvloop_by_default() -> None:
    args = build_parser().parse_args([])
    assert (args.http, args.loop) == ("httptools", "uvloop")


@pytest.mark.parametrize("name", sorted(HTTP_PROTOCOLS))
def test_every_http_protocol_sets_tcp_nodelay(name: str) -> None:
    protocol = import_from_string(HTTP_PROTOCOLS[name])
    assert issubclass(protocol, NoDelay)
