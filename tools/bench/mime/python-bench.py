#!/usr/bin/env python3
"""Python email package side of tools/bench/mime: same corpus, same three modes."""
import email, email.header, email.parser, email.policy, email.utils, json, os, sys, time

def load(d):
    return [open(os.path.join(d, n), 'rb').read() for n in sorted(os.listdir(d)) if n.endswith('.eml')]

def headers(b):
    m = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(b)
    n = len(m.keys())
    s = m.get('Subject')
    if s:
        n += sum(len(t) for t, _ in email.header.decode_header(s))
    n += len(email.utils.getaddresses(m.get_all('From', [])))
    d = m.get('Date')
    if d:
        t = email.utils.parsedate_tz(d)
        n += t[2] if t else 0
    return n

def structure(b):
    m = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(b)
    return sum(len(p.get_content_subtype()) for p in m.walk())

def decode(b):
    m = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(b)
    n = 0
    for p in m.walk():
        if p.is_multipart():
            continue
        payload = p.get_payload(decode=True) or b''
        if p.get_content_maintype() == 'text':
            cs = p.get_content_charset() or 'us-ascii'
            try:
                n += len(payload.decode(cs, errors='replace'))
            except LookupError:
                n += len(payload.decode('latin-1'))
        else:
            n += len(payload)
    return n

def measure(name, corpus, corpus_name, seconds, fn):
    total = sum(len(b) for b in corpus)
    for b in corpus:
        fn(b)
    rounds, start = 0, time.perf_counter()
    while True:
        for b in corpus:
            fn(b)
        rounds += 1
        if time.perf_counter() - start >= seconds:
            break
    mbps = total * rounds / (time.perf_counter() - start) / 1e6
    print(json.dumps({"name": "mime_parse", "parameters": {"library": "python-email-" + sys.version.split()[0], "mode": name, "corpus": corpus_name,
                      "messages": len(corpus), "corpus_bytes": total, "rounds": rounds},
                      "result": round(mbps, 1), "unit": "MB/s"}))

if __name__ == '__main__':
    corpus = load(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3
    for name, fn in (("headers", headers), ("structure", structure), ("decode", decode)):
        measure(name, corpus, os.path.basename(sys.argv[1].rstrip('/')), seconds, fn)
