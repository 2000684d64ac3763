"""Debian's firefox-esr driven over WebDriver BiDi, its own remote agent: no geckodriver (Debian
has none) and no Playwright Firefox (its download is not available here, and Playwright's BiDi
mode sends commands that Firefox ESR does not know yet). Just what the console's tests need:
navigate, evaluate, type, screenshot, print, and wait for a condition."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FIREFOX = "/usr/bin/firefox-esr"
# A quiet, predictable profile: no first-run pages, no updates or telemetry on the network,
# downloads saved without asking to a known folder, Spanish first.
PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "network.captive-portal-service.enabled": False,
    "browser.download.folderList": 2,
    "browser.download.useDownloadDir": True,
    "browser.download.always_ask_before_handling_new_types": False,
    "intl.accept_languages": "es-MX, es",
}
# Every Content-Security-Policy violation the page sees, kept where the test can read it.
WATCH_CSP = """() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
}"""


class BidiError(RuntimeError):
    pass


class Firefox:
    def __init__(self, profile: Path, downloads: Path, timeout: float = 30.0) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        prefs = {**PREFS, "browser.download.dir": str(downloads)}
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())
        )
        self.timeout = timeout
        self.process = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--remote-debugging-port=0",
             "--profile", str(profile)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.log: list[str] = []
        self._closing = ExitStack()
        self.ws: ClientConnection = self._closing.enter_context(
            connect(self._address(), max_size=None)
        )
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.send("session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}})
        self.send("session.subscribe", {"events": ["log.entryAdded"]})
        self.send("script.addPreloadScript", {"functionDeclaration": WATCH_CSP})
        self.context = self.send("browsingContext.getTree", {})["contexts"][0]["context"]
        self.send("browsingContext.setViewport",
                  {"context": self.context, "viewport": {"width": 1366, "height": 900}})  # fmt: skip

    def _address(self) -> str:
        """Firefox says on stderr where its agent listens ("WebDriver BiDi listening on ws://…")."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
            if found:
                return found.group(1).rstrip("/") + "/session"
        raise BidiError("firefox-esr terminó sin abrir su agente remoto:\n" + "".join(self.log))

    def send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next += 1
        self.ws.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=self.timeout))
            if "id" not in message:
                self.events.append(message)  # an event, e.g. a console message
                continue
            if message["id"] != self._next:
                continue
            if message.get("type") == "error":
                raise BidiError(f"{method}: {message['error']}: {message.get('message')}")
            result: dict[str, Any] = message["result"]
            return result

    # --- what a test does ------------------------------------------------------------------

    def goto(self, url: str) -> None:
        self.send(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def js(self, expression: str) -> Any:
        """The expression's value (JSON-like values only), after any promise settles."""
        result = self.send(
            "script.evaluate",
            {"expression": expression, "target": {"context": self.context},
             "awaitPromise": True, "resultOwnership": "none"},
        )  # fmt: skip
        if result["type"] == "exception":
            raise BidiError(f"{expression}: {result['exceptionDetails']['text']}")
        return _value(result["result"])

    def url(self) -> str:
        return str(self.js("location.href"))

    def text(self, selector: str) -> str:
        return str(self.js(f"document.querySelector({json.dumps(selector)}).innerText"))

    def type_into(self, selector: str, text: str) -> None:
        """Real key presses into the field, as a person types (htmx listens to them)."""
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        keys: list[dict[str, str]] = []
        for ch in text:
            keys += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.send("input.performActions", {"context": self.context,
                  "actions": [{"type": "key", "id": "teclado", "actions": keys}]})  # fmt: skip

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        found = self.send(
            "script.evaluate",
            {"expression": f"document.querySelector({json.dumps(selector)})",
             "target": {"context": self.context}, "awaitPromise": False,
             "resultOwnership": "root"},
        )["result"]  # fmt: skip
        if "sharedId" not in found:
            raise BidiError(f"no hay {selector} en la página")
        self.js(
            f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'center'}})"
        )
        element = {"type": "element", "element": {"sharedId": found["sharedId"]}}
        self.send("input.performActions", {"context": self.context, "actions": [
            {"type": "pointer", "id": "raton", "actions": [
                {"type": "pointerMove", "x": 0, "y": 0, "origin": element},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]})  # fmt: skip

    def wait_until(self, check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = check()
            except BidiError:
                value = None  # e.g. the page is between two documents
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"Firefox: no llegó a {what} en {timeout:.0f} s")
            time.sleep(0.1)  # polling a browser over its protocol; nothing to wait on instead

    def screenshot(self, path: Path) -> None:
        """The whole document, not just the window."""
        data = self.send("browsingContext.captureScreenshot",
                         {"context": self.context, "origin": "document"})["data"]  # fmt: skip
        path.write_bytes(base64.b64decode(data))

    def print_pdf(self) -> bytes:
        data = self.send("browsingContext.print", {"context": self.context, "background": True})
        return base64.b64decode(data["data"])

    def csp_violations(self) -> list[str]:
        return list(self.js("window.__csp || []"))

    def console_errors(self) -> list[str]:
        return [
            str(e["params"].get("text"))
            for e in self.events
            if e.get("method") == "log.entryAdded" and e["params"].get("level") == "error"
        ]

    def close(self) -> None:
        # The browser may close the socket before it answers.
        with suppress(Exception):
            self.send("browser.close", {})
        self._closing.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _value(remote: dict[str, Any]) -> Any:
    """A BiDi remote value as Python (strings, numbers, booleans, arrays, plain objects)."""
    kind = remote["type"]
    if kind in ("undefined", "null"):
        return None
    if kind == "array":
        return [_value(v) for v in remote.get("value", [])]
    if kind == "object":
        return {k: _value(v) for k, v in remote.get("value", [])}
    return remote.get("value")
