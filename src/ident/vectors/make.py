#!/usr/bin/env python3
"""Writes the normalisers' test vectors from the reference implementations.

    pip install phonenumbers==9.0.43 python-stdnum==2.2 email-validator==2.4.0
    python3 src/ident/vectors/make.py      # rewrites the *.jsonl files beside this script

Every input is synthetic (invented names, documentation numbers, computed check digits): no
real personal data. One JSON object per line:

    {"in": input, "ref": the reference's normal form or null when it rejects the value,
     "want": "valid" | "invalid" | "empty", "norm": leakmatch's normal form when valid,
     "why": present only where leakmatch departs from the reference on purpose}

The Rust tests (`vectors` modules of phone.rs, iban.rs, email.rs) assert `want`/`norm`
and that every row without `why` agrees with `ref`. The departures are listed in
DEVIATIONS below and documented in docs/normalisation.md.
"""

import json
import os
import random

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban as stdiban
from stdnum.iso7064 import mod_97_10

HERE = os.path.dirname(os.path.abspath(__file__))
random.seed(13616)


def write(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=True) + "\n")


def row(inp, ref, want, norm, why=None):
    r = {"in": inp, "ref": ref, "want": want, "norm": norm if want == "valid" else None}
    if why:
        r["why"] = why
    elif (ref is not None) != (want == "valid") or (ref is not None and ref != norm):
        raise SystemExit(f"undeclared departure from the reference: {inp!r}")
    return r


# ---------------------------------------------------------------- phone (libphonenumber)

def phone_ref(s):
    try:
        p = phonenumbers.parse(s, "DE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(p):
        return None
    return phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.E164)


PHONE_DEVIATIONS = {
    "tel:+49-30-123456;ext=12": "an extension is not part of the E.164 number; counted malformed as `0171 123456 ext 12` is",
    "1711234567": "no +, 00 or trunk 0 in front: the country is not guessed",
    "491711234567": "no +, 00 or trunk 0 in front: the country is not guessed",
    "tel:030-123456;phone-context=+49": "local tel: URIs with phone-context are rare in exports; kept malformed",
}

# Inputs leakmatch accepts and the reference rejects: (normal form, why).
PHONE_ACCEPTED = {
    "+34 (0)91 123 45 67": ("+34911234567", "`(0)` is dropped where no number starts with 0 (Spain has no trunk prefix; the reference reads the 0 as a digit and rejects the number)"),
    "0171\u20091234567": ("+491711234567", "every Unicode space is a separator (the reference knows few)"),
    "+49\u202f171\u202f1234567": ("+491711234567", "every Unicode space is a separator (the reference knows few)"),
}


def phone_rows():
    inputs = [
        # RFC 3966 tel: URIs (visual separators - . ( ))
        "tel:+49-30-123456", "TEL:+49-30-123456", "tel:+49.171.1234567", "tel:+49(0)30-123456",
        "tel:+39-02-1234-5678", "tel:+43-1-5321234", " tel:+49 30 123456 ",
        "tel:+49-30-123456;ext=12", "tel:030-123456;phone-context=+49",
        # (0) after the country code, per country
        "+49 (0)30 123456", "+43 (0)1 5321234", "+44 (0)20 7946 0958", "+41 (0)44 668 18 00",
        "+33 (0)1 23 45 67 89", "+31 (0)20 123 4567", "+34 (0)91 123 45 67",
        "+39 (0)2 1234 5678", "+39 (0)6 6982 1234", "0039 (0)2 1234 5678", "+39 02 1234 5678",
        "+378 (0)549 886377", "+225 (0)7 0123 4567", "+229 (0)1 20 21 12 34", "+241 (0)1 44 12 34",
        # Unicode white space and compatibility forms
        "0171\u00a01234567", "0171\u20091234567", "+49\u202f171\u202f1234567",
        "\uff10\uff11\uff17\uff11 \uff11\uff12\uff13\uff14\uff15\uff16\uff17", "\uff0b49 171 1234567",
        "0171\u20111234567", "0171\u20131234567", "+49 \uff080\uff09171 1234567",
        # plain forms the reference agrees with
        "0171 1234567", "+49 (0)171/123 45 67", "0049 171 1234567",
        "1711234567", "491711234567",
    ]
    # Countries whose numbers may start with 0 (libphonenumber metadata, italian_leading_zero):
    # "(0)" after their code is a digit, not a trunk prefix.
    rows = []
    for s in inputs:
        ref = phone_ref(s)
        why = PHONE_DEVIATIONS.get(s)
        if s in PHONE_ACCEPTED:
            norm, why = PHONE_ACCEPTED[s]
            rows.append(row(s, ref, "valid", norm, why))
        elif why:
            rows.append(row(s, ref, "invalid", None, why))
        else:
            rows.append(row(s, ref, "valid" if ref else "invalid", ref))
    return rows


# ---------------------------------------------------------------- iban (python-stdnum)

def bban_parts(structure):
    import re
    return [(int(n), c) for n, c in re.findall(r"([1-9][0-9]*)!([nac])", structure)]


def random_bban(parts):
    alphabet = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    return "".join(random.choice(alphabet[c]) for n, c in parts for _ in range(n))


def with_check(cc, bban):
    return cc + mod_97_10.calc_check_digits(bban + cc) + bban


def registry():
    # stdnum's registry extract: read the data file directly, it is small and stable.
    path = os.path.join(os.path.dirname(stdiban.__file__), "iban.dat")
    reg = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        cc = line[:2]
        structure = line.split('bban="')[1].split('"')[0]
        reg.append((cc, structure))
    return reg


def iban_ref(s):
    try:
        return stdiban.validate(s, check_country=False)
    except Exception:
        return None


def iban_rows():
    rows = []
    for cc, structure in registry():
        parts = bban_parts(structure)
        good = with_check(cc, random_bban(parts))
        rows.append(row(good, iban_ref(good), "valid", good))
        # one character too many / too few, checksum recomputed: passes mod 97, wrong length
        longer = with_check(cc, good[4:] + "0")
        shorter = with_check(cc, good[4:-1])
        for bad in (longer, shorter):
            assert mod_97_10.is_valid(bad[4:] + bad[:4])
            rows.append(row(bad, iban_ref(bad), "invalid", None))
        # a letter where the registry wants a digit (checksum recomputed)
        pos = next((i for i, c in enumerate(structure_positions(parts)) if c == "n"), None)
        if pos is not None:
            b = list(good[4:])
            b[pos] = "X"
            bad = with_check(cc, "".join(b))
            rows.append(row(bad, iban_ref(bad), "invalid", None))
    de = "DE89370400440532013000"
    for s in [
        "IBAN DE89 3704 0044 0532 0130 00", "IBAN: DE89 3704 0044 0532 0130 00",
        "iban:de89370400440532013000", "IBAN DE89370400440532013000",
        "DE89-3704-0044-0532-0130-00", "DE89.3704.0044.0532.0130.00", "DE89 3704.0044-0532 0130 00",
        "DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000", "DE89\u20093704\u20090044\u20090532\u20090130\u200900",
        "\uff24\uff25\uff18\uff19 3704 0044 0532 0130 00",
    ]:
        ref = iban_ref(s.upper().replace("IBAN:", "").replace("IBAN", "")
                       .replace("\u00a0", "").replace("\u2009", "")
                       .translate({0xff24: "D", 0xff25: "E", 0xff18: "8", 0xff19: "9"}))
        rows.append(row(s, ref, "valid", de))
    for s in ["ES91-2100-0418-4502-0005-1332", "NO93.8601.1117.947", "NO93 8601 1117 947"]:
        ref = iban_ref(s)
        rows.append(row(s, ref, "valid" if ref else "invalid", ref))
    return rows


def structure_positions(parts):
    return [c for n, c in parts for _ in range(n)]


# ---------------------------------------------------------------- email (email-validator)

def email_ref(s):
    try:
        r = validate_email(s, check_deliverability=False, allow_display_name=True)
    except EmailNotValidError:
        return None
    return r.normalized


# Where leakmatch departs from the reference: input -> (normal form or None when invalid, why).
EMAIL_DEVIATIONS = {
    "jan@muster.example": (None, "`.example` is special-use (RFC 6761 §6.5, RFC 2606); the reference accepts it"),
    "jan@xn--kln-sna.de": ("jan@xn--kln-sna.de", "Punycode is not decoded: ASCII normal forms stay as they were (filters built earlier stay usable)"),
    "J\u00fcrgen Gro\u00df <juergen@muster.de>": ("juergen@muster.de", "the display name is dropped unread; the reference wants a non-ASCII display name quoted"),
    "Jan <mailto:jan@muster.de>": ("jan@muster.de", "`mailto:` is removed inside the brackets too, as `mailto:<...>` always was"),
    "\u00a0jan@muster.de\u2009": ("jan@muster.de", "Unicode white space around the value is trimmed, as before"),
    "\u3000jan@muster.de": ("jan@muster.de", "Unicode white space around the value is trimmed, as before"),
}

LOWERCASED = "the local part is lowercased (the reference keeps its case)"


def email_rows():
    inputs = [
        # special-use domains
        "jan@muster.invalid", "jan@muster.localhost", "jan@localhost", "jan@muster.test",
        "jan@muster.example", "jan@muster.local", "jan@muster.onion", "jan@router.home.arpa",
        "jan@example.com", "jan@example.org", "jan@muster.de",
        # hyphens at label edges, R-LDH labels, invalid domain characters, TLDs
        "jan@-muster.de", "jan@muster-.de", "jan@muster.-de", "jan@mus-ter.de", "jan@ab--cd.de",
        "jan@xn--kln-sna.de", "jan@mus_ter.de", "jan@muster.d3", "jan@muster.123", "jan@[192.0.2.1]",
        # full-width and ideographic dots, full-width domain letters
        "jan@muster\uff0ede", "jan@muster\u3002de", "jan@muster\uff61de", "jan@\uff2d\uff35\uff33\uff34\uff25\uff32.de",
        "\uff4a\uff41\uff4e@muster.de",
        # unsafe characters
        "jan\u200b@muster.de", "jan\u200e@muster.de", "jan\u202e@muster.de", "jan@mus\u200bter.de",
        "jan\ue000@muster.de", "jan\u00ad@muster.de", "\u0301jan@muster.de", "jan\u2028@muster.de",
        "jan,x@muster.de", "jan(x)@muster.de", "jan;x@muster.de", "jan[x]@muster.de", "jan\\x@muster.de",
        "jan:x@muster.de", "\"jan x\"@muster.de", "jan..x@muster.de", ".jan@muster.de", "jan.@muster.de",
        "jan!#$%&'*+-/=?^_`{|}~@muster.de",
        # display names
        "Jan Muster <jan@muster.de>", "\"Muster, Jan\" <jan@muster.de>", "Jan Muster<jan@muster.de>",
        "\"Muster, Jan\" <Jan.Muster@Muster.DE>", "J\u00fcrgen Gro\u00df <juergen@muster.de>",
        "Jan <mailto:jan@muster.de>", "<jan@muster.de>",
        # NFC / NFD
        "m\u00e4rta@k\u00f6ln.de", "ma\u0308rta@ko\u0308ln.de", "M\u00c4RTA@K\u00d6LN.DE",
        # Unicode white space around the address
        "\u00a0jan@muster.de\u2009", "\u3000jan@muster.de",
    ]
    rows = []
    for s in inputs:
        ref = email_ref(s)
        if s in EMAIL_DEVIATIONS:
            norm, why = EMAIL_DEVIATIONS[s]
            rows.append(row(s, ref, "valid" if norm else "invalid", norm, why))
        elif ref and ref != ref.lower():
            rows.append(row(s, ref, "valid", ref.lower(), LOWERCASED))
        else:
            rows.append(row(s, ref, "valid" if ref else "invalid", ref))
    return rows


if __name__ == "__main__":
    write("phone.jsonl", phone_rows())
    write("iban.jsonl", iban_rows())
    write("email.jsonl", email_rows())
    print("IBAN registry (BBAN structures) for iban.rs:")
    for cc, structure in registry():
        parts = bban_parts(structure)
        length = 4 + sum(n for n, _ in parts)
        print(f'    (*b"{cc}", {length}, "{"".join(f"{n}{c}" for n, c in parts)}"),')
