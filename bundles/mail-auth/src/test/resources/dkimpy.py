# dkimpy (Debian's python3-dkim; python3-authres for ARC sealing) for the interop tests, on a message read from stdin,
# with the key records of a file ("<name> <record>" per line) instead of DNS:
#   sign <selector> <domain> <key> <algorithm> <canonicalization>: writes a DKIM-Signature field
#   verify <keys>: "pass" or "fail" for each DKIM signature, a line each
#   arc-seal <selector> <domain> <key> <authserv-id>: writes the message with dkimpy's next ARC set on top (dkimpy
#     takes cv= from the arc= result in the message's Authentication-Results of that authserv-id)
#   arc-verify <keys>: the chain's cv ("terminated" where dkimpy says none at all: a chain an earlier seal failed) and
#     dkimpy's reason, then the instances of the seals that validated
import sys

import dkim


def key_records(path):
    records = {}
    with open(path) as lines:
        for line in lines:
            name, record = line.rstrip("\n").split(" ", 1)
            records[(name + ".").encode()] = record.encode()
    return lambda name, timeout=5: records.get(name)


message = sys.stdin.buffer.read()
if sys.argv[1] == "sign":
    selector, domain, key_file, algorithm, canonicalization = sys.argv[2:7]
    with open(key_file, "rb") as key:
        sys.stdout.buffer.write(dkim.sign(message, selector.encode(), domain.encode(), key.read(),
                                          canonicalize=(canonicalization.encode(), canonicalization.encode()),
                                          signature_algorithm=algorithm.encode()))
elif sys.argv[1] == "verify":
    dnsfunc = key_records(sys.argv[2])
    verifier = dkim.DKIM(message)
    count = len([line for line in message.split(b"\r\n\r\n")[0].split(b"\r\n") if line.lower().startswith(b"dkim-signature:")])
    for index in range(count):
        try:
            print("pass" if verifier.verify(idx=index, dnsfunc=dnsfunc) else "fail")
        except dkim.DKIMException:
            print("fail")
elif sys.argv[1] == "arc-seal":
    selector, domain, key_file, authserv_id = sys.argv[2:6]
    with open(key_file, "rb") as key:
        arc_set = dkim.arc_sign(message, selector.encode(), domain.encode(), key.read(), authserv_id.encode())
    sys.stdout.buffer.write(b"".join(arc_set) + message)
else:
    cv, results, reason = dkim.arc_verify(message, dnsfunc=key_records(sys.argv[2]))
    print(cv.decode() if cv else "terminated", reason)
    print("valid seals:", " ".join(str(result["instance"]) for result in results if result["as-valid"]))
