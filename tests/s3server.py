"""A real S3 HTTP endpoint on loopback (moto's server), for tests and benchmarks."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

_buckets = itertools.count(1)


class S3Endpoint:
    """moto's S3 server on 127.0.0.1; state survives stop() + start() on the same port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = 0
        self._server: ThreadedMotoServer | None = None

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str | None) -> dict[str, str | None]:
        """Environment for a process using the endpoint the standard AWS way only."""
        env: dict[str, str | None] = {
            "AWS_ACCESS_KEY_ID": "testing-key-id",
            "AWS_SECRET_ACCESS_KEY": "testing-secret-key-not-for-logs",
            "AWS_SESSION_TOKEN": None,
            "AWS_PROFILE": None,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ENDPOINT_URL_S3": None,
            # Never look anywhere but here: no user profiles, no instance metadata service.
            "AWS_CONFIG_FILE": str(self.home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        env.update(extra)
        return env

    def apply_env(self) -> dict[str, str | None]:
        """Set env() in this process; returns the old values for restore_env()."""
        old = {k: os.environ.get(k) for k in self.env()}
        for k, v in self.env().items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return old

    def client(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing-key-id",
            aws_secret_access_key="testing-secret-key-not-for-logs",
        )

    def new_bucket(self) -> str:
        name = f"archive-{next(_buckets)}"
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str) -> dict[str, dict[str, Any]]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {o["Key"]: o for page in pages for o in page.get("Contents", [])}


def restore_env(old: dict[str, str | None]) -> None:
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


class Outage:
    """A TCP proxy in front of an endpoint that can go down and come back.

    While down it drops every open connection and resets new ones: to a client that
    is an unreachable endpoint, while the server behind keeps its state.
    """

    def __init__(self, target_port: int) -> None:
        import socket
        import threading

        self.target_port = target_port
        self.up = True
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.up:
                # linger 0: the client sees a reset, as from a dead endpoint
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, bytes([1] + [0] * 7))
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.close()

    def down(self) -> None:
        self.up = False
        import socket

        with self._lock:
            for s in self._sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)  # wakes the pipe threads blocked in recv
                    s.close()
                except OSError:
                    pass
            self._sockets.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.down()
        self._listener.close()
