"""The demo's known second factors: billing, the DPO and the superuser log in with these TOTP secrets.

Published in the README so that anyone trying the demo can compute the current code; never use them
anywhere else. No Django imports here: the browser tests compute codes from these without a database.
"""

from base64 import b32decode

DEMO_TOTP_SECRETS = {
    "rovaniemi.billing": "XN54P3VEWT5UD3TQ2EE4AKL3TPP5VHM7",
    "dpo": "LNO3BPUIS3IJDDOM4CYOJ6PUZFFAODML",
    "admin": "PCOQZ33K34AXHCLUFJPRXDJQMAKF7SIZ",
}


def demo_totp_key(username: str) -> bytes:
    return b32decode(DEMO_TOTP_SECRETS[username])
