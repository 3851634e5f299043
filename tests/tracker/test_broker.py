"""The embedded broker (kombu's filesystem transport, made safe): whole messages or none, bad ones skipped."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from tracker.project.broker import Transport


def _connection(folder: Path) -> Connection:
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"),
    }  # fmt: skip
    return Connection("filesystem://", transport=Transport, transport_options=options)


def test_a_consumer_racing_producers_gets_every_message_whole(tmp_path: Path) -> None:
    sent, received, errors = 600, [], []
    with _connection(tmp_path) as producer_conn:
        queue = producer_conn.SimpleQueue("race")

        def produce(offset: int) -> None:
            with _connection(tmp_path) as conn:
                q = conn.SimpleQueue("race")
                for n in range(sent // 3):
                    q.put({"n": offset + n, "pad": "x" * 2000})

        def consume() -> None:
            with _connection(tmp_path) as conn:
                q = conn.SimpleQueue("race")
                while len(received) < sent:
                    try:
                        message = q.get(timeout=10)
                    except Exception as error:  # noqa: BLE001 - any failure is the finding
                        errors.append(repr(error))
                        return
                    received.append(message.payload["n"])
                    message.ack()

        threads = [threading.Thread(target=produce, args=(k * 1000,)) for k in range(3)]
        threads.append(threading.Thread(target=consume))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        queue.close()
    assert errors == [] and len(received) == sent and len(set(received)) == sent


def test_an_empty_or_garbled_message_file_is_skipped_not_fatal(tmp_path: Path, caplog: Any) -> None:
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("jobs")
        (tmp_path / "queue" / "1_a.jobs.msg").write_bytes(b"")  # what a half-written file looked like
        (tmp_path / "queue" / "2_b.jobs.msg").write_bytes(b"{not json")
        queue.put({"ok": True})
        message = queue.get(timeout=5)
        assert message.payload == {"ok": True}
        message.ack()
        with pytest.raises(queue.Empty):
            queue.get(timeout=0.5)
        queue.close()
    assert caplog.text.count("Skipped a malformed message") == 2
    assert not list((tmp_path / "queue").iterdir())  # nothing left behind, temporary files included
