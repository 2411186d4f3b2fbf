"""pyftpdlib servers on 127.0.0.1 for the protocol tests.

Two servers share one temporary root directory:
- the main server: anonymous (read/write) and a test user with a password; EPSV, PASV,
  EPRT and PORT all work;
- the "masquerade" server refuses EPSV and answers PASV with the unroutable address
  192.0.2.1, so a client passes only if it connects its data connection to the control
  connection's peer address (the safe default), and only after falling back from EPSV.

Each server runs its own I/O loop in a thread, polling a stop flag every 0.2 s.
"""

import logging
import threading
import warnings

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

USER = "sockit"
PASSWORD = "s3cret"
PERMS = "elradfmwMT"

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


class _QuietHandler(FTPHandler):
    def log(self, msg, logfun=None):
        pass

    def logline(self, msg, logfun=None):
        pass

    def logerror(self, msg):
        pass

    def log_cmd(self, cmd, arg, respcode, respstr):
        pass


class _MasqueradeHandler(_QuietHandler):
    masquerade_address = "192.0.2.1"

    def ftp_EPSV(self, line):
        self.respond("502 EPSV not implemented here.")


class FtpServers:
    def __init__(self, root):
        self.root = root
        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, root, perm=PERMS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # anonymous write access is the point here
            authorizer.add_anonymous(root, perm=PERMS)
        self.servers = []
        self.threads = []
        self.stop_event = threading.Event()
        for handler_base in (_QuietHandler, _MasqueradeHandler):
            handler = type("Handler", (handler_base,), {"authorizer": authorizer})
            handler.banner = "sockit test FTP server ready."
            server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
            self.servers.append(server)
        self.port = self.servers[0].address[1]
        self.masquerade_port = self.servers[1].address[1]

    def start(self):
        for server in self.servers:
            t = threading.Thread(target=self._run, args=(server,), daemon=True)
            t.start()
            self.threads.append(t)

    def _run(self, server):
        while not self.stop_event.is_set():
            server.ioloop.loop(0.2, blocking=False)
        server.close_all()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(5)
