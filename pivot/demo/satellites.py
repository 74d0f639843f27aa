"""The demo's remote control of the sandbox satellites (their ``/sandbox/*`` endpoints)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx


class Satellites:
    """HTTP calls to the sandboxes, by connector name."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.client = httpx.Client(timeout=120)

    def state(self, name: str) -> dict[str, Any]:
        """``GET /sandbox/state`` of a satellite."""
        return self._call("GET", name, "/sandbox/state")

    def faults(self, name: str, **faults: float) -> None:
        """Set a satellite's injected faults (rates 0..1, ``timeout_delay_s``)."""
        self._call("PUT", name, "/sandbox/faults", json=faults)

    def calm(self) -> None:
        """No more injected faults anywhere."""
        for name in self.urls:
            self.faults(name, error_rate=0.0, timeout_rate=0.0, malformed_rate=0.0)

    def send_messages(self, count: int) -> dict[str, Any]:
        """Tenants write to the chatbot, which pushes each message to the hub."""
        return self._call("POST", "chatbot", "/sandbox/simulate",
                          json={"count": count, "concurrency": 4})

    def advance_interventions(self) -> dict[str, Any]:
        """Contractors schedule, start and complete every open intervention."""
        return self._call("POST", "urbest", "/sandbox/advance", json={"until": "completed"})

    def give_notice(self, erp_lease_id: str) -> dict[str, Any]:
        """A tenant gives notice on their lease (in the ERP)."""
        return self._call("POST", "erp", "/sandbox/changes",
                          json={"type": "lease.notice_given", "lease_id": erp_lease_id})

    def send_document(self, user_id: str, text: str, pdf: bytes) -> dict[str, Any]:
        """A tenant sends a PDF with a message through the chatbot."""
        return self._call("POST", "chatbot", "/sandbox/documents/send", json={
            "user_id": user_id, "text": text, "filename": "attestation-assurance.pdf",
            "content_type": "application/pdf", "content_b64": base64.b64encode(pdf).decode()})

    def enrich_properties(self, count: int) -> dict[str, Any]:
        """The property team updates technical data (new DPE, surface re-measured) in Ublo."""
        return self._call("POST", "ublo", "/sandbox/properties/enrich", json={"count": count})

    def _call(self, method: str, name: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, self.urls[name] + path, **kwargs)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()


def wait_for(predicate: Callable[[], bool], timeout_s: float, every_s: float = 0.2) -> bool:
    """Poll ``predicate`` until it holds or the timeout; return whether it held."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
