"""Generated identity codes for demo patrons: never a real person's code.

They are temporary codes (individual number 900-999), which are never given as
anyone's permanent code, valid by their check character; a seeded generator
makes every run give the same codes.
"""

import datetime
import random

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def demo_hetu(date_of_birth: datetime.date, rng: random.Random) -> str:
    century = {18: "+", 19: "-", 20: "A"}[date_of_birth.year // 100]
    individual = rng.randint(900, 999)
    digits = f"{date_of_birth:%d%m%y}{individual:03d}"
    return f"{date_of_birth:%d%m%y}{century}{individual:03d}{CHECK_CHARACTERS[int(digits) % 31]}"
