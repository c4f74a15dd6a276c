"""recsys.engines.hub: an unreachable hub makes hub ids load from the local cache at once."""

from __future__ import annotations

import socket
import time

import pytest

from config.exceptions import ModelNotAvailable
from recsys.engines import hub
from recsys.engines.clip import ClipEngine


@pytest.fixture(autouse=True)
def _fresh_memo():
    hub.forget()
    yield
    hub.forget()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connecting is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hub_address_defaults_to_huggingface_and_follows_hf_endpoint(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert hub.hub_address() == ("huggingface.co", 443)
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.example:8080/")
    assert hub.hub_address() == ("mirror.example", 8080)


def test_a_listening_endpoint_is_reachable(monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert hub.hub_reachable() is True


def test_the_answer_is_remembered_until_the_recheck(monkeypatch, closed_port):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    calls = []
    connect = socket.create_connection
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: calls.append(a) or connect(*a, **k))
    assert [hub.hub_reachable(), hub.hub_reachable()] == [False, False]
    assert len(calls) == 1
    monkeypatch.setattr(hub, "RECHECK_S", 0.0)
    hub.forget()
    hub.hub_reachable()
    hub.hub_reachable()
    assert len(calls) == 3  # no memo: every call connects


def test_an_uncached_hub_id_fails_at_once_while_the_hub_is_unreachable(settings, monkeypatch, closed_port):
    settings.RECSYS_HF_OFFLINE = False
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    engine = ClipEngine(name="clip", model="openai/clip-vit-base-patch32-not-cached-here")
    assert engine.local_files_only() is True
    started = time.monotonic()
    with pytest.raises(ModelNotAvailable) as excinfo:
        engine.check_available()
    assert time.monotonic() - started < 5  # not huggingface_hub's ~23 s of retries
    message = excinfo.value.message
    assert "RECSYS_CLIP_MODEL" in message
    assert f"127.0.0.1:{closed_port} cannot be reached" in message


def test_a_local_directory_never_asks_the_hub(settings, monkeypatch, tmp_path):
    settings.RECSYS_HF_OFFLINE = False
    monkeypatch.setattr(hub, "hub_reachable", lambda: pytest.fail("the hub was asked"))
    engine = ClipEngine(name="clip", model=str(tmp_path))
    assert engine.local_files_only() is False
