"""Downloads against an HTTP server on 127.0.0.1: good file, wrong checksum, truncated, server down."""
import hashlib
import http.server
import threading

import pytest

from rnnscratch.data import DownloadError, fetch

PAYLOAD = b"0123456789" * 5000
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        if self.path == "/good.bin":
            body, length = PAYLOAD, len(PAYLOAD)
        elif self.path == "/truncated.bin":
            body, length = PAYLOAD[:1000], len(PAYLOAD)        # promises more than it sends
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.hits = 0
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNSCRATCH_OFFLINE", raising=False)
    return tmp_path / "cache"


def test_good_file_is_downloaded_verified_and_cached(server, cache):
    path = fetch(f"{server}/good.bin", "sub/good.bin", SHA, quiet=True)
    assert path == cache / "sub" / "good.bin" and path.read_bytes() == PAYLOAD
    assert fetch(f"{server}/good.bin", "sub/good.bin", SHA, quiet=True) == path
    assert Handler.hits == 1                                   # the second call used the cache
    assert [p.name for p in (cache / "sub").iterdir()] == ["good.bin"]


def test_wrong_checksum_is_refused_and_nothing_is_kept(server, cache):
    with pytest.raises(DownloadError, match="checksum mismatch after download"):
        fetch(f"{server}/good.bin", "bad.bin", "0" * 64, quiet=True)
    assert list(cache.iterdir()) == []


def test_truncated_download_is_refused(server, cache):
    with pytest.raises(DownloadError, match="truncated.bin"):
        fetch(f"{server}/truncated.bin", "t.bin", SHA, quiet=True)
    assert list(cache.iterdir()) == []


def test_a_mismatching_cached_file_is_set_aside_only_once_a_verified_copy_replaces_it(server, cache, capsys):
    cache.mkdir()
    (cache / "good.bin").write_bytes(PAYLOAD[:100])
    with pytest.raises(DownloadError, match="checksum mismatch after download"):
        fetch(f"{server}/good.bin", "good.bin", "0" * 64, quiet=True)          # no verified copy: untouched
    assert [p.name for p in cache.iterdir()] == ["good.bin"]
    path = fetch(f"{server}/good.bin", "good.bin", SHA, quiet=True)
    assert path.read_bytes() == PAYLOAD and Handler.hits == 2
    aside, = [p for p in cache.iterdir() if p.name.startswith("good.bin.mismatch-")]
    assert aside.read_bytes() == PAYLOAD[:100] and str(aside) in capsys.readouterr().err


def test_server_down_names_the_url_and_the_manual_route(cache):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                                  # nothing listens there now
    url = f"http://127.0.0.1:{port}/good.bin"
    with pytest.raises(DownloadError, match=f"could not download {url}.*download {url} yourself and save it as"):
        fetch(url, "good.bin", SHA, quiet=True, timeout=5)


def test_offline_switch_never_touches_the_network(server, cache, monkeypatch):
    monkeypatch.setenv("RNNSCRATCH_OFFLINE", "1")
    with pytest.raises(DownloadError, match="RNNSCRATCH_OFFLINE=1 forbids downloading"):
        fetch(f"{server}/good.bin", "good.bin", SHA, quiet=True)
    assert Handler.hits == 0


def test_cache_dir_precedence(monkeypatch, tmp_path):
    from rnnscratch.data import cache_dir
    monkeypatch.setenv("RNNSCRATCH_DATA_DIR", str(tmp_path / "a"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv("RNNSCRATCH_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "rnnscratch"
