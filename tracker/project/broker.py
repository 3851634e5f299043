"""The embedded broker: kombu's filesystem transport, made safe for a web process and a worker sharing it.

kombu's own `_put` creates the message file and only then locks and writes it, so a consumer that
lists the folder in between reads an empty file and its consumer dies on a JSON error (kombu issue
1551). Here a message is written under a temporary name the consumer never picks up, flushed, and
renamed into place (atomic on one filesystem), so a consumer sees a whole message or none. A message
that still cannot be decoded (a truncated file after a crash, a stray file) is logged and skipped: one
bad file never stops the consumer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # The same name kombu gives (time-ordered), reached by rename: never seen half-written.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        temporary = os.path.join(self.data_folder_out, f".{name}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the queue folder") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            # A rename within one filesystem is atomic: of two consumers, exactly one gets the message.
            claimed = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except OSError:
                continue
            try:
                with open(claimed, "rb") as handle:
                    payload = handle.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read message {name!r}") from exc
            finally:
                if not self.store_processed:
                    with contextlib.suppress(OSError):
                        os.remove(claimed)
            try:
                return loads(bytes_to_str(payload))
            except (ValueError, UnicodeDecodeError):
                logger.error("Skipped a malformed message in the queue folder: %s (%d bytes)", name, len(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
