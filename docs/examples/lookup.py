"""Try the API as professionals' software would: sign an RFC 7523 assertion with a demo system's
key, get an access token, look a patient up by INS (DMP TD0.2).

    .venv/bin/python docs/examples/lookup.py                       # Dr Durand, Sylvie Martin
    .venv/bin/python docs/examples/lookup.py --rpps 10000000025 --finess 310781406 \\
        --purpose bris_de_glace --reason "patiente inconsciente"   # Dr Benali, emergency

Run `make demo` first (it writes the demo systems' private keys under var/demo-keys/).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import uuid
from pathlib import Path

import httpx2 as httpx
from joserfc import jwt
from joserfc.jwk import ECKey

BASE = "http://127.0.0.1:8000"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rpps", default="10000000017", help="the professional (Dr Durand)")
    parser.add_argument("--finess", default="310000013", help="the structure of the software")
    parser.add_argument("--nir", default="275033155500425", help="the patient (Sylvie Martin)")
    parser.add_argument("--purpose", default="normal",
                        choices=["normal", "bris_de_glace", "regulation"])
    parser.add_argument("--reason", default=None)
    parser.add_argument("--db", default="var/carnet.db")
    args = parser.parse_args()

    with sqlite3.connect(args.db) as db:  # the demo's client ids
        (client_id,) = db.execute(
            "SELECT s.client_id FROM systems s JOIN structures t ON t.id = s.structure_id "
            "WHERE t.finess = ?", (args.finess,)).fetchone()
    key = ECKey.import_key(Path(f"var/demo-keys/{args.finess}.pem").read_text())
    now = int(time.time())
    claims = {"iss": client_id, "sub": "8" + args.rpps, "aud": f"{BASE}/oauth/token",
              "iat": now, "exp": now + 120, "jti": str(uuid.uuid4()),
              "patient": f"urn:oid:1.2.250.1.213.1.4.8|{args.nir}",
              "purpose_of_use": args.purpose}
    if args.reason:
        claims["reason"] = args.reason
    assertion = jwt.encode({"alg": "ES256"}, claims, key)
    token = httpx.post(f"{BASE}/oauth/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
    print("token:", token.status_code, json.dumps(token.json(), indent=1)[:300])
    if token.status_code != 200:
        return
    lookup = httpx.get(f"{BASE}/fhir/Patient",
                       params={"identifier": f"urn:oid:1.2.250.1.213.1.4.8|{args.nir}"},
                       headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    print("lookup:", lookup.status_code, lookup.headers.get("x-carnet-access-mode", ""))
    print(json.dumps(lookup.json(), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
