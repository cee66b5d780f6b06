"""A real SMTP server for Hearken's tests, built on Debian's python3-aiosmtpd.

smtpd.go runs it with /usr/bin/python3 -c. It listens on --host/--port (0:
any free port), prints "READY <port>", then one line per event on stdout:

    EVENT <command>          each EHLO, STARTTLS, AUTH, MAIL, RCPT and DATA
    MESSAGE <path>           a message accepted: its raw bytes are at <path>,
                             and <path>.json holds the envelope

so the Go test can wait for exactly what it needs without polling. Options:

    --starttls CERT KEY      offer STARTTLS with this certificate
    --smtps CERT KEY         implicit TLS from the first byte
    --auth USER PASSFILE     require AUTH (PLAIN or LOGIN) with these
    --auth-mechs MECH...     offer only these AUTH mechanisms (PLAIN, LOGIN)
    --reject-rcpt REPLY      answer every RCPT with REPLY, e.g. "550 ..."
"""

import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Handler:
    def __init__(self, out, reject_rcpt):
        self.out = out
        self.reject_rcpt = reject_rcpt
        self.n = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        say("EVENT EHLO " + hostname)
        session.host_name = hostname
        return responses

    def handle_STARTTLS(self, server, session, envelope):  # not a coroutine
        say("EVENT STARTTLS")
        return True

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        say("EVENT MAIL")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        say("EVENT RCPT")
        if self.reject_rcpt:
            return self.reject_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        say("EVENT DATA")
        self.n += 1
        path = os.path.join(self.out, "%d.eml" % self.n)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "helo": session.host_name,
        }
        with open(path + ".json", "w") as f:
            json.dump(meta, f)
        with open(path, "wb") as f:
            f.write(envelope.original_content)
        say("MESSAGE " + path)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--starttls", nargs=2)
    p.add_argument("--smtps", nargs=2)
    p.add_argument("--auth", nargs=2)
    p.add_argument("--auth-mechs", nargs="+")
    p.add_argument("--reject-rcpt")
    a = p.parse_args()

    handler = Handler(a.out, a.reject_rcpt)
    kw = {"hostname": "smtpd.test"}
    starttls_ctx = None
    if a.starttls:
        starttls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        starttls_ctx.load_cert_chain(*a.starttls)
        kw["tls_context"] = starttls_ctx
    smtps_ctx = None
    if a.smtps:
        smtps_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        smtps_ctx.load_cert_chain(*a.smtps)
    if a.auth:
        user = a.auth[0]
        with open(a.auth[1]) as f:
            password = f.read()

        def authenticator(server, session, envelope, mechanism, auth_data):
            say("EVENT AUTH " + mechanism)
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        kw["authenticator"] = authenticator
        kw["auth_required"] = True
        if a.auth_mechs:
            kw["auth_exclude_mechanism"] = [
                m for m in ("PLAIN", "LOGIN") if m not in a.auth_mechs]
        # With implicit TLS the session is already encrypted; aiosmtpd only
        # knows about STARTTLS, so tell it not to insist.
        kw["auth_require_tls"] = not a.smtps

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, loop=loop, **kw), a.host, a.port, ssl=smtps_ctx))
    say("READY %d" % server.sockets[0].getsockname()[1])
    loop.run_forever()


if __name__ == "__main__":
    main()
