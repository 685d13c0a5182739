#!/usr/bin/env python3
"""A local SMTP server that writes every message it accepts to a directory.

Built on aiosmtpd (https://aiosmtpd.aio-libs.org), so clients are tested against a real,
independent SMTP implementation. Used by the Swift SMTP client tests and by end-to-end tests.

    python smtp_sink.py --port 0 --maildir /tmp/mail \
        [--starttls-cert cert.pem --starttls-key key.pem] [--implicit-tls] \
        [--auth user:password] [--auth-mechanisms LOGIN] [--allow-plain-auth]

Prints one line ``READY <port>`` on stdout once it accepts connections, then serves until
SIGTERM or SIGINT (or, with ``--stop-on-stdin-eof``, until its stdin closes: a parent that dies
without stopping it does not leave it running).

Each message becomes ``<maildir>/<n>.eml`` (n = 1, 2, ...): the raw DATA, de-dot-stuffed, as the
client sent it. Its envelope is in ``<maildir>/<n>.json``, written first:
``{"mail_from", "rcpt_tos", "login", "tls", "peer"}``. The ``.eml`` appears atomically (renamed
into place), so a reader that sees it sees all of it.
"""

import argparse
import json
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class MaildirHandler:
    """Accepts every message and writes it, with its envelope, to a directory."""

    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            number = self.count
        base = os.path.join(self.maildir, str(number))
        sidecar = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "login": login_name(session),
            # STARTTLS sets session.ssl; an implicit-TLS transport carries its own SSL object.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "peer": str(session.peer),
        }
        write_atomically(base + ".json", json.dumps(sidecar).encode())
        write_atomically(base + ".eml", envelope.original_content)
        return "250 2.0.0 Message accepted for delivery"


def login_name(session):
    """The user name the session authenticated as, or None."""
    if session.authenticated and isinstance(session.auth_data, LoginPassword):
        return session.auth_data.login.decode("utf-8", "replace")
    return None


def write_atomically(path, data):
    with open(path + ".tmp", "wb") as file:
        file.write(data)
    os.replace(path + ".tmp", path)


class Authenticator:
    """Accepts exactly one user name and password."""

    def __init__(self, username, password):
        self.username = username.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username
            and auth_data.password == self.password
        ):
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)


class BoundController(Controller):
    """A Controller serving on a socket bound beforehand, so ``--port 0`` works without races."""

    def __init__(self, handler, sock, **kwargs):
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self.sock = sock

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--maildir", required=True, help="directory for received messages (created if missing)")
    parser.add_argument("--starttls-cert", help="PEM certificate: offer STARTTLS (and require it)")
    parser.add_argument("--starttls-key", help="PEM private key of --starttls-cert")
    parser.add_argument("--implicit-tls", action="store_true", help="serve TLS from the first byte (SMTPS) instead of STARTTLS")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="require AUTH with exactly these credentials")
    parser.add_argument("--auth-mechanisms", default="PLAIN,LOGIN", help="offered AUTH mechanisms (default PLAIN,LOGIN)")
    parser.add_argument("--allow-plain-auth", action="store_true", help="offer AUTH without TLS (default: only after TLS)")
    parser.add_argument("--verbose", action="store_true", help="let aiosmtpd log warnings to stderr")
    parser.add_argument("--stop-on-stdin-eof", action="store_true", help="stop when stdin closes")
    arguments = parser.parse_args()
    if bool(arguments.starttls_cert) != bool(arguments.starttls_key):
        parser.error("--starttls-cert and --starttls-key go together")
    if arguments.implicit_tls and not arguments.starttls_cert:
        parser.error("--implicit-tls needs --starttls-cert and --starttls-key")
    if arguments.auth and ":" not in arguments.auth:
        parser.error("--auth takes USER:PASSWORD")
    return arguments


def main():
    arguments = parse_arguments()
    if not arguments.verbose:
        # aiosmtpd warns about its own deprecated attributes and about options chosen on purpose here.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        warnings.simplefilter("ignore")
    os.makedirs(arguments.maildir, exist_ok=True)

    tls_context = None
    if arguments.starttls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(arguments.starttls_cert, arguments.starttls_key)

    # The name in the greeting and EHLO reply (without it aiosmtpd looks up this machine's FQDN).
    options = {"server_hostname": "smtp-sink.localhost"}
    if arguments.implicit_tls:
        options["ssl_context"] = tls_context
    elif tls_context:
        options["tls_context"] = tls_context
        options["require_starttls"] = True
    if arguments.auth:
        username, password = arguments.auth.split(":", 1)
        offered = {name.strip().upper() for name in arguments.auth_mechanisms.split(",") if name.strip()}
        options["authenticator"] = Authenticator(username, password)
        options["auth_required"] = True
        # aiosmtpd counts only STARTTLS as TLS: with implicit TLS the whole session is encrypted.
        options["auth_require_tls"] = not (arguments.allow_plain_auth or arguments.implicit_tls)
        options["auth_exclude_mechanism"] = [name for name in ("PLAIN", "LOGIN") if name not in offered]

    family = socket.AF_INET6 if ":" in arguments.host else socket.AF_INET
    sock = socket.create_server((arguments.host, arguments.port), family=family)
    controller = BoundController(MaildirHandler(arguments.maildir), sock, **options)

    # Stop signals are taken synchronously by sigwait() in this thread, wherever the kernel
    # directs them; blocked before any thread starts, so every thread inherits the mask.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    if arguments.stop_on_stdin_eof:
        def watch_stdin():
            while sys.stdin.buffer.read(4096):
                pass
            os.kill(os.getpid(), signal.SIGTERM)
        threading.Thread(target=watch_stdin, daemon=True).start()

    controller.start()
    print(f"READY {sock.getsockname()[1]}", flush=True)
    try:
        signal.sigwait(stop_signals)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
