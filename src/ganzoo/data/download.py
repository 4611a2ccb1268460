"""Fetching a dataset's missing files with torchvision: a quick reachability check first, so that an offline machine
fails in seconds instead of waiting on DNS and connect timeouts per file and mirror, and a staging folder, so that a
failed or killed download never leaves a partial file where the datamodule looks."""

import os
import queue
import socket
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

# How long the servers (or the proxy) get to accept a connection before the machine counts as offline.
PROBE_TIMEOUT_S = 10.0
# How long a download may wait on one read before it fails (a stalled transfer, not a slow one).
READ_TIMEOUT_S = 30.0


def endpoint(url: str) -> tuple[str, int]:
    """The (host, port) that urllib connects to for `url`: the proxy from the environment where one applies."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host = parts.hostname or ""
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def _connect(address: tuple[str, int], timeout: float, answers: queue.SimpleQueue) -> None:
    try:
        socket.create_connection(address, timeout=timeout).close()
        answers.put("")
    except OSError as error:
        answers.put(f"{address[0]}:{address[1]} ({error})")


def unreachable(urls: Sequence[str], timeout: float | None = None) -> str:
    """'' when a server of `urls` accepts a connection within `timeout` seconds, else why none did.

    Each server is tried in a daemon thread, because a name lookup cannot be given a timeout of its own.
    """
    timeout = PROBE_TIMEOUT_S if timeout is None else timeout
    addresses = list(dict.fromkeys(endpoint(url) for url in urls))
    answers: queue.SimpleQueue = queue.SimpleQueue()
    for address in addresses:
        threading.Thread(target=_connect, args=(address, timeout, answers), daemon=True).start()
    deadline = time.monotonic() + timeout
    errors = []
    while len(errors) < len(addresses):
        try:
            error = answers.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            waiting = ", ".join(f"{host}:{port}" for host, port in addresses)
            return f"no answer from {waiting} within {timeout:g} s"
        if not error:
            return ""
        errors.append(error)
    return "could not connect to " + " or ".join(errors)


def fetch(download: Callable[[Path], None], root: Path, folder: str, files: Sequence[str], urls: Sequence[str]) -> None:
    """Put `files` into root/folder: `download(staging)` fetches the dataset into a fresh folder inside `root` as
    torchvision lays it out, and only then are `files` moved (atomically, one by one) to their places.

    Raises ConnectionError when no server of `urls` can be reached; any error of `download` passes through.
    """
    why = unreachable(urls)
    if why:
        raise ConnectionError(why)
    root.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(READ_TIMEOUT_S)
    try:
        with tempfile.TemporaryDirectory(prefix=".download-", dir=root) as staging:
            download(Path(staging))
            for name in files:
                target = root / folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(Path(staging) / folder / name, target)
    finally:
        socket.setdefaulttimeout(previous)
