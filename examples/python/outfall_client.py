"""A small client of the outfall server for integrators: the contract compiled with protoc, a
log-in, a phone's Ed25519 key, signed batches and the change feed. Standard library plus Google's
protobuf and PyNaCl (Debian: python3-protobuf, python3-nacl, protobuf-compiler).

    from outfall_client import Server
    srv = Server("http://127.0.0.1:8080")
    srv.login("surveyor1", "password")
"""
import atexit
import base64
import http.client
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import uuid

import nacl.signing

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "proto")


def load_contract(proto_root=PROTO_ROOT):
    """proto/outfall/v1/outfall.proto compiled by protoc into a module (outfall_pb2)."""
    out = tempfile.mkdtemp(prefix="outfall-pb-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)  # imported by then; gone at exit
    subprocess.run(["protoc", "-I" + proto_root, "--python_out=" + out,
                    os.path.join(proto_root, "outfall", "v1", "outfall.proto")], check=True)
    for d in ("outfall", os.path.join("outfall", "v1")):
        open(os.path.join(out, d, "__init__.py"), "a").close()
    sys.path.insert(0, out)
    return importlib.import_module("outfall.v1.outfall_pb2")


pb = load_contract()


class ServerError(Exception):
    """An answer other than 2xx: the HTTP status and the server's stable code and message."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Server:
    """One kept-alive connection to the server, signed in after login()."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.token = None

    def call(self, method, path, message=None, answer=None, headers=None, body=None):
        """Sends message (protobuf; or the exact bytes body) and parses the answer into a new
        `answer` message (None: no answer wanted). Raises ServerError on a status >= 300."""
        if message is not None:
            body = message.SerializeToString()
        h = {"Accept": "application/x-protobuf"}
        if body is not None:
            h["Content-Type"] = "application/x-protobuf"
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        h.update(headers or {})
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more, anew
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                if attempt == 2:
                    raise
        if r.status >= 300:
            e = pb.Error()
            try:
                e.ParseFromString(data)
            except Exception:  # not an Error message (a proxy's page): keep its start
                e.message = data[:200].decode("utf-8", "replace")
            raise ServerError(r.status, e.code or "unknown", e.message)
        if answer is None:
            return None
        m = answer()
        m.ParseFromString(data)
        return m

    def login(self, username, password):
        r = self.call("POST", "/v1/auth/login", pb.LoginRequest(username=username, password=password),
                      pb.LoginResponse)
        self.token = r.token
        return r

    def enroll(self, name="python example"):
        """A new phone: an Ed25519 key enrolled for the signed-in user; returns a Phone."""
        key = nacl.signing.SigningKey.generate()
        device_id = "py-" + uuid.uuid4().hex[:16]
        self.call("POST", "/v1/devices",
                  pb.Device(device_id=device_id, name=name, public_key=bytes(key.verify_key)))
        return Phone(self, device_id, key)

    def changes(self, since=0, limit=500, wait=0):
        """One page of the change feed after `since`; with wait > 0 the server holds an empty page
        up to that many seconds until something new arrives."""
        q = urllib.parse.urlencode({"since": since, "limit": limit, "wait": wait})
        return self.call("GET", "/v1/changes?" + q, None, pb.ChangesResponse)


class Phone:
    """A device whose batches are signed: device_seq counts 1, 2, 3 ..."""

    def __init__(self, server, device_id, key):
        self.server, self.device_id, self.key, self.seq = server, device_id, key, 0

    def sync(self, changes):
        """Sends changes as one signed batch; returns the SyncResponse. The signature covers the
        exact body bytes; sending the same bytes again (a lost answer) is always safe."""
        self.seq += 1
        req = pb.SyncRequest(batch_id=str(uuid.uuid4()), device_id=self.device_id,
                             device_seq=self.seq, since=0, pull_limit=1)
        req.changes.extend(changes)
        body = req.SerializeToString()
        sig = base64.b64encode(self.key.sign(body).signature).decode()
        return self.server.call("POST", "/v1/sync", body=body, answer=pb.SyncResponse,
                                headers={"X-Device-Signature": sig})


def change(**record):
    """A Change creating (base_version 0) the outfall= or observation= given."""
    (kind, value), = record.items()
    c = pb.Change(change_id=str(uuid.uuid4()), entity_id=str(uuid.uuid4()), base_version=0)
    getattr(c, kind).CopyFrom(value)
    return c


def status_name(value):
    return pb.ChangeStatus.Name(value)

