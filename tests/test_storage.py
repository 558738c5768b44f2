"""The folder store: same keys as a bucket, no escapes, never overwrites different bytes."""

from __future__ import annotations

import hashlib

import pytest

from newsarchive.errors import ConfigError, StorageError
from newsarchive.storage import check_key, open_store
from newsarchive.storage.folder import FolderStore


def _put(store, tmp_path, key, data):
    local = tmp_path / "spool-file"
    local.write_bytes(data)
    store.put_file(local, key, hashlib.sha256(data).hexdigest())
    return local


def test_put_moves_the_spool_file_in(tmp_path):
    store = FolderStore(tmp_path / "archive")
    local = _put(store, tmp_path, "warc/c1/a.warc.gz", b"abc")
    assert not local.exists()
    assert store.read_bytes("warc/c1/a.warc.gz") == b"abc"
    assert store.read_range("warc/c1/a.warc.gz", 1, 1) == b"b"
    assert list(store.list("warc/")) == ["warc/c1/a.warc.gz"]


def test_same_bytes_again_is_fine_different_bytes_refused(tmp_path):
    store = FolderStore(tmp_path / "archive")
    _put(store, tmp_path, "text/x.jsonl.gz", b"one")
    _put(store, tmp_path, "text/x.jsonl.gz", b"one")
    with pytest.raises(StorageError, match="different bytes"):
        _put(store, tmp_path, "text/x.jsonl.gz", b"two")
    assert store.read_bytes("text/x.jsonl.gz") == b"one"


@pytest.mark.parametrize(
    "key", ["../x", "/etc/passwd", "a/../../b", "a//b", "a/\x00b", "", "a/" + "x" * 300]
)
def test_unsafe_keys_are_refused(key):
    with pytest.raises(StorageError):
        check_key(key)


def test_uri_schemes(tmp_path):
    assert isinstance(open_store(str(tmp_path)), FolderStore)
    assert open_store(f"file://{tmp_path}").root == tmp_path
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_store("gopher://host/x")


def test_unwritable_folder_is_reported(tmp_path):
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(StorageError, match="not writable"):
        FolderStore(blocker / "archive").check_writable()
