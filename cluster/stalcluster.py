"""Three real `stald` processes on 127.0.0.1 with a throwaway cluster CA.

Used by cluster/run-chaos (the fault test) and tools/bench/raft/run (the benchmark).
Every process is started by this module and stopped by PID (SIGKILL) in `Cluster.close`,
which also runs at interpreter exit.
"""
import atexit
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ADMIN_PASSWORD = "cluster-harness-admin-1"
MAIL_SHARD = 0
METADATA_SHARD = 1 << 63
PROBE_SHARD = METADATA_SHARD  # the probe registers live on the metadata shard


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(directory, nodes):
    """A P-256 CA and one certificate per node (serverAuth + clientAuth, IP 127.0.0.1)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{directory}/ca.key", "-out", f"{directory}/ca.pem", "-days", "2",
            "-subj", "/CN=stal test cluster CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(f"{directory}/node.ext", "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n")
    for n in nodes:
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{directory}/node{n}.key", "-out", f"{directory}/node{n}.csr", "-subj", f"/CN=node-{n}")
        openssl("x509", "-req", "-in", f"{directory}/node{n}.csr", "-CA", f"{directory}/ca.pem",
                "-CAkey", f"{directory}/ca.key", "-CAcreateserial", "-out", f"{directory}/node{n}.pem",
                "-days", "2", "-extfile", f"{directory}/node.ext")


class HTTPError(Exception):
    pass


class Client:
    """One keep-alive connection to a node's management API."""

    def __init__(self, port, timeout=10.0):
        self.port = port
        self.timeout = timeout
        self.connection = None
        token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def request(self, method, path, body=None):
        """(status, body bytes); raises HTTPError when the node cannot be reached."""
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=self.headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise HTTPError(f"{method} {path} on port {self.port}: {error}") from None

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def post_json(self, path, obj):
        self.headers["Content-Type"] = "application/json"
        try:
            return self.request("POST", path, json.dumps(obj).encode())
        finally:
            del self.headers["Content-Type"]

    def domains(self):
        """The domain names this node's directory holds (a local read)."""
        code, body = self.request("GET", "/api/v1/domains")
        if code != 200:
            raise HTTPError(f"domains: HTTP {code}")
        return {d["name"] for d in json.loads(body)["domains"]}

    def put(self, key, value):
        return self.request("PUT", f"/api/v1/cluster/probe/{key}", value)

    def get(self, key, local=False):
        return self.request("GET", f"/api/v1/cluster/probe/{key}" + ("?local=1" if local else ""))

    def status(self):
        code, body = self.request("GET", "/api/v1/cluster/status")
        if code != 200:
            raise HTTPError(f"status: HTTP {code}")
        return json.loads(body)


class Cluster:
    def __init__(self, stald, nodes=(1, 2, 3), log=print):
        self.stald = stald
        self.nodes = list(nodes)
        self.log = log
        self.root = tempfile.mkdtemp(prefix="stal-cluster-")
        self.processes = {}
        self.http_ports = {n: free_port() for n in self.nodes}
        self.raft_ports = {n: free_port() for n in self.nodes}
        make_certificates(self.root, self.nodes)
        peers = ", ".join(f'"{n}" = "127.0.0.1:{self.raft_ports[n]}"' for n in self.nodes)
        for n in self.nodes:
            os.makedirs(f"{self.root}/node{n}", exist_ok=True)
            with open(f"{self.root}/node{n}.toml", "w") as f:
                f.write(f'''hostname = "node{n}.test"
data_dir = "{self.root}/node{n}/data"

[listeners]
smtp = "off"
submission = "off"
lmtp = "off"
imap = "off"
imaps = "off"
http = "127.0.0.1:{self.http_ports[n]}"

[cluster]
node_id = {n}
listen = "127.0.0.1:{self.raft_ports[n]}"
peers = {{ {peers} }}
certificate = "{self.root}/node{n}.pem"
key = "{self.root}/node{n}.key"
ca = "{self.root}/ca.pem"
''')
        self.closed = False
        # A run that dies without closing still loses its processes; its logs stay.
        atexit.register(self.close, keep=True)

    def client(self, node, timeout=10.0):
        return Client(self.http_ports[node], timeout)

    def start(self, node):
        environment = dict(os.environ, STAL_ADMIN_PASSWORD=ADMIN_PASSWORD, STAL_LOG_LEVEL="warning")
        stdout = open(f"{self.root}/node{node}/stdout.log", "ab")
        stderr = open(f"{self.root}/node{node}/stderr.log", "ab")
        self.processes[node] = subprocess.Popen([self.stald, "--config", f"{self.root}/node{node}.toml"],
                                                stdout=stdout, stderr=stderr, env=environment)
        stdout.close()
        stderr.close()

    def start_all(self):
        for n in self.nodes:
            self.start(n)

    def signal(self, node, sig):
        self.processes[node].send_signal(sig)

    def kill(self, node):
        process = self.processes.pop(node)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def leaders(self, deadline_seconds=120):
        """{shard: leader} once every running replica reports every group with the same
        known leader; waits for that."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            seen = {}
            agreed = True
            for n in self.processes:
                c = self.client(n, timeout=2.0)
                try:
                    for group in c.status()["groups"]:
                        seen.setdefault(group["shard"], set()).add(group["leader"])
                except HTTPError:
                    agreed = False
                finally:
                    c.close()
            if agreed and seen and all(len(v) == 1 and 0 not in v for v in seen.values()):
                return {shard: v.pop() for shard, v in seen.items()}
            time.sleep(0.05)
        raise RuntimeError("no agreed leaders within the cap; see " + self.root)

    def leader(self, shard, deadline_seconds=120):
        """The leader of `shard`, once every running replica agrees on every group's leader."""
        return self.leaders(deadline_seconds)[shard]

    def close(self, keep=False):
        if self.closed:
            return
        self.closed = True
        for node, process in list(self.processes.items()):
            try:
                os.kill(process.pid, signal.SIGCONT)
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        self.processes = {}
        if not keep and os.path.isdir(self.root):
            shutil.rmtree(self.root, ignore_errors=True)
