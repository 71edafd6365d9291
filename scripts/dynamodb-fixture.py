#!/usr/bin/env python3
"""Generates tests/fixtures/dynamodb/corpus.json: DynamoDB items in attribute-value JSON, as a
stream record carries them, each with what boto3's TypeDeserializer (an independent
implementation of DynamoDB's types) makes of it, written as JSON by the bridge's rule:

- N: a JSON number when a double holds boto3's Decimal without changing its value (the double's
  shortest text, Python's repr, is the same decimal); otherwise the number's text, unchanged.
  A whole number below 2**63 in magnitude is written as an integer. Numbers are written as
  tagged strings, "#i:<int>" and "#f:<repr>", because a JSON reader that does not round floats
  exactly (serde_json's default) could read the expected value one ulp off.
- B / BS: the bytes boto3 returns, base64-encoded again (the stream sends base64 text).
- SS / NS / BS: Python sets, so without order; the Rust test compares them as sets.

The bridge's test (src/input/dynamodb/tests.rs) unmarshals every item and compares.

    python3 -m venv /tmp/boto3 && /tmp/boto3/bin/pip install boto3
    /tmp/boto3/bin/python scripts/dynamodb-fixture.py        # rewrites the fixture

The corpus is seeded: the same boto3 gives the same file.
"""

import base64
import json
import math
import pathlib
import random
import sys
from decimal import Decimal

import boto3
from boto3.dynamodb.types import Binary, TypeDeserializer

SEED = 13
CASES = 240
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/dynamodb/corpus.json"

rng = random.Random(SEED)


def digits(n):
    first = str(rng.randint(1, 9))
    return first + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def number_text():
    """A number as DynamoDB may send it: at most 38 significant digits, 1E-128 to 9.9E+125."""
    sign = "-" if rng.random() < 0.3 else ""
    kind = rng.randrange(11)
    if kind == 0:
        return sign + str(rng.randint(0, 1_000_000))
    if kind == 1:  # around 2**53, where doubles stop holding every integer
        return sign + str(2**53 + rng.randint(-3, 3))
    if kind == 2:  # long integers, most of them beyond a double
        return sign + digits(rng.randint(16, 38))
    if kind == 3:  # decimals with trailing zeros
        return sign + str(rng.randint(0, 9999)) + "." + str(rng.randint(0, 99)).zfill(2) + "0"
    if kind == 4:  # many significant digits after the point
        return sign + str(rng.randint(0, 99)) + "." + digits(rng.randint(10, 30))
    if kind == 5:  # exponents, both cases and signs
        e = rng.choice(["E", "e"])
        return f"{sign}{rng.randint(1, 9)}.{rng.randint(0, 99)}{e}{rng.choice(['+', '-', ''])}{rng.randint(0, 120)}"
    if kind == 6:  # tiny
        return f"{sign}{rng.randint(1, 9)}E-{rng.randint(100, 128)}"
    if kind == 7:  # huge, 38 digits
        return f"{sign}9.{'9' * 37}E+{rng.randint(100, 125)}"
    if kind == 8:  # a double's own text: always exact
        return repr(rng.uniform(-1e6, 1e6))
    if kind == 9:  # powers of two beyond 2**53: a double holds them, its shortest text differs
        return sign + str(2 ** rng.randint(54, 120))
    return sign + "0." + "0" * rng.randint(0, 5) + digits(rng.randint(1, 17))


def b64():
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))).decode()


def text():
    alphabet = "abcxyz ÄéΩ漢😀-_.:/\\\"'\n\t{}"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def value(depth):
    """One attribute value in the stream's JSON form."""
    kinds = ["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS"]
    if depth < 4:
        kinds += ["M", "L", "M", "L"]
    kind = rng.choice(kinds)
    if kind == "S":
        return {"S": text()}
    if kind == "N":
        return {"N": number_text()}
    if kind == "B":
        return {"B": b64()}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": sorted({text() for _ in range(rng.randint(1, 4))})}
    if kind == "NS":
        return {"NS": sorted({number_text() for _ in range(rng.randint(1, 4))}, key=Decimal)}
    if kind == "BS":
        return {"BS": sorted({b64() for _ in range(rng.randint(1, 3))})}
    if kind == "M":
        return {"M": {f"k{i}": value(depth + 1) for i in range(rng.randint(0, 4))}}
    return {"L": [value(depth + 1) for _ in range(rng.randint(0, 4))]}


def for_boto3(av):
    """The attribute value as boto3's client hands it to TypeDeserializer: binary as bytes."""
    (kind, inner), = av.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: for_boto3(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [for_boto3(v) for v in inner]}
    return av


def number_json(d, original):
    """The README's rule, applied to boto3's Decimal."""
    assert Decimal(original) == d, (original, d)
    f = float(d)
    if math.isfinite(f) and Decimal(repr(f)) == d:
        if f.is_integer() and abs(f) < 2**63:
            return f"#i:{int(f)}"
        return f"#f:{f!r}"
    return original


def plain(av, python):
    """boto3's reading as JSON, walking the attribute value alongside for the numbers' texts."""
    (kind, inner), = av.items()
    if kind == "N":
        return number_json(python, inner)
    if kind == "B":
        assert isinstance(python, Binary)
        return base64.b64encode(python.value).decode()
    if kind == "BS":
        return sorted(base64.b64encode(b.value).decode() for b in python)
    if kind == "NS":
        texts = {Decimal(t): t for t in inner}
        return [number_json(d, texts[d]) for d in python]
    if kind == "SS":
        return sorted(python)
    if kind == "M":
        return {k: plain(inner[k], python[k]) for k in inner}
    if kind == "L":
        return [plain(a, p) for a, p in zip(inner, python)]
    return python  # S, BOOL, NULL


def main():
    deserializer = TypeDeserializer()
    cases = []
    for i in range(CASES):
        item = {f"a{j}": value(0) for j in range(rng.randint(1, 6))}
        boto = deserializer.deserialize({"M": {k: for_boto3(v) for k, v in item.items()}})
        expected = {k: plain(v, boto[k]) for k, v in item.items()}
        cases.append({"name": f"case-{i}", "item": item, "expected": expected})
    document = {
        "made_by": "scripts/dynamodb-fixture.py",
        "boto3": boto3.__version__,
        "seed": SEED,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(f"{OUT}: {len(cases)} cases (boto3 {boto3.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
