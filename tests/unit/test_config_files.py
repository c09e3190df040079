"""endpoints.yml and credentials.yml read the way the Rasa server reads them."""

from pathlib import Path

from rasa.utils.endpoints import read_endpoint_config

ENDPOINTS = str(Path(__file__).resolve().parents[2] / "endpoints.yml")


def test_service_addresses_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5999/webhook")
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "c.db"))
    assert read_endpoint_config(ENDPOINTS, "action_endpoint").url == "http://127.0.0.1:5999/webhook"
    store = read_endpoint_config(ENDPOINTS, "tracker_store")
    assert store.type == "SQL" and store.kwargs["dialect"] == "sqlite"
    assert store.kwargs["db"] == str(tmp_path / "c.db")
