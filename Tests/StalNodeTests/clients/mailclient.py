#!/usr/bin/env python3
"""Real-client driver for Stal's integration tests: Python's smtplib and imaplib against a
running node. Each subcommand prints one line a test can assert on and exits non-zero when
the server answered something other than what the subcommand expects."""
import argparse
import imaplib
import re
import smtplib
import socket
import ssl
import sys


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def cmd_send(a):
    with open(a.file, "rb") as f:
        body = f.read()
    s = smtplib.SMTP("127.0.0.1", a.port, timeout=30)
    s.ehlo("client.test")
    if a.starttls:
        s.starttls(context=tls_context())
        s.ehlo("client.test")
    if a.user:
        s.login(a.user, a.password)
    try:
        refused = s.sendmail(a.sender, a.to.split(","), body)
    except smtplib.SMTPDataError as e:
        print("data refused %d %s" % (e.smtp_code, e.smtp_error.decode()))
        return
    s.quit()
    print("sent refused=%d" % len(refused))


def cmd_lmtp(a):
    """Sends over LMTP and prints one line per refused recipient: its reply code, whether
    refused at RCPT or in the per-recipient replies after DATA (RFC 2033 §4.2), which
    smtplib's sendmail does not read."""
    with open(a.file, "rb") as f:
        body = f.read()
    s = smtplib.LMTP("127.0.0.1", a.port, timeout=30)
    s.ehlo("client.test")
    s.mail(a.sender)
    refused, accepted = {}, []
    for rcpt in a.to.split(","):
        code, msg = s.rcpt(rcpt)
        if code == 250:
            accepted.append(rcpt)
        else:
            refused[rcpt] = code
    if accepted:
        code, msg = s.docmd("DATA")
        if code != 354:
            raise SystemExit("DATA refused: %d" % code)
        data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", body)
        data = re.sub(rb"(?m)^\.", b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        s.send(data + b".\r\n")
        for rcpt in accepted:
            code, msg = s.getreply()
            if code != 250:
                refused[rcpt] = code
    for rcpt, code in sorted(refused.items()):
        print("%s %d" % (rcpt, code))
    if not refused:
        print("all accepted")
    s.quit()


def cmd_rcpt(a):
    """Reports the reply to one RCPT TO, e.g. '550 5.1.1 ...'."""
    s = smtplib.SMTP("127.0.0.1", a.port, timeout=30)
    s.ehlo("client.test")
    s.mail(a.sender)
    code, msg = s.rcpt(a.to)
    print("%d %s" % (code, msg.decode()))
    s.quit()


def imap(a):
    m = imaplib.IMAP4("127.0.0.1", a.port, timeout=30)
    m.login(a.user, a.password)
    return m


def cmd_fetch(a):
    m = imap(a)
    typ, data = m.select(a.mailbox)
    count = int(data[0])
    if count == 0:
        print("empty")
        sys.exit(1)
    typ, data = m.fetch(str(count if a.index == "last" else a.index), "(BODY.PEEK[])")
    if typ != "OK":
        print("fetch %s %s" % (typ, data[0].decode(errors="replace") if data and data[0] else ""))
        sys.exit(2)
    with open(a.out, "wb") as f:
        f.write(data[0][1])
    m.logout()
    print("fetched %d" % count)


def cmd_count(a):
    m = imap(a)
    typ, data = m.status(a.mailbox, "(MESSAGES)")
    print(data[0].decode())
    m.logout()


def cmd_flags(a):
    """Prints one line per message: its FLAGS response."""
    m = imap(a)
    typ, data = m.select(a.mailbox)
    if int(data[0]) > 0:
        typ, data = m.fetch("1:*", "(FLAGS)")
        for item in data:
            print(item.decode())
    m.logout()


def cmd_login(a):
    if a.tls == "implicit":
        m = imaplib.IMAP4_SSL("127.0.0.1", a.port, ssl_context=tls_context(), timeout=30)
    else:
        m = imaplib.IMAP4("127.0.0.1", a.port, timeout=30)
        if a.tls == "starttls":
            m.starttls(ssl_context=tls_context())
    try:
        m.login(a.user, a.password)
        print("OK")
    except imaplib.IMAP4.error as e:
        print("NO " + str(e))
    m.logout()


def cmd_idle(a):
    """Selects INBOX, enters IDLE, prints 'idling', then waits for an EXISTS announcement."""
    m = imap(a)
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    line = m.readline()
    if not line.startswith(b"+"):
        print("no continuation: %r" % line)
        sys.exit(1)
    print("idling", flush=True)
    m.sock.settimeout(a.timeout)
    try:
        while True:
            line = m.readline()
            if not line:
                print("closed")
                sys.exit(1)
            if line.rstrip().endswith(b"EXISTS"):
                print(line.decode().strip())
                break
    except socket.timeout:
        print("timeout")
        sys.exit(1)
    m.send(b"DONE\r\n")
    m.readline()
    m.logout()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--from", dest="sender", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--starttls", action="store_true")
    s.add_argument("--user")
    s.add_argument("--password")
    l = sub.add_parser("lmtp")
    l.add_argument("--port", type=int, required=True)
    l.add_argument("--from", dest="sender", required=True)
    l.add_argument("--to", required=True)
    l.add_argument("--file", required=True)
    r = sub.add_parser("rcpt")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--from", dest="sender", required=True)
    r.add_argument("--to", required=True)
    for name in ("fetch", "count", "login", "idle", "flags"):
        q = sub.add_parser(name)
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--user", required=True)
        q.add_argument("--password", required=True)
        q.add_argument("--mailbox", default="INBOX")
        q.add_argument("--index", default="last")
        q.add_argument("--out")
        q.add_argument("--timeout", type=float, default=20)
        q.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    a = p.parse_args()
    {"send": cmd_send, "lmtp": cmd_lmtp, "rcpt": cmd_rcpt, "fetch": cmd_fetch, "count": cmd_count,
     "login": cmd_login, "idle": cmd_idle, "flags": cmd_flags}[a.cmd](a)


if __name__ == "__main__":
    try:
        main()
    except (smtplib.SMTPException, imaplib.IMAP4.error) as e:
        print("error %s" % e)
        sys.exit(2)
