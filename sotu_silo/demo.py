"""Generated, valid-looking identity codes for demo patrons: no real person's code.

Individual numbers come from a seeded generator, so every run gives the same
codes; they are real HETUs by their check character, for people who do not exist.
"""

import datetime
import random

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def demo_hetu(date_of_birth: datetime.date, rng: random.Random) -> str:
    century = {18: "+", 19: "-", 20: "A"}[date_of_birth.year // 100]
    individual = rng.randint(2, 899)  # 900-999 would be a temporary code
    digits = f"{date_of_birth:%d%m%y}{individual:03d}"
    return f"{date_of_birth:%d%m%y}{century}{individual:03d}{CHECK_CHARACTERS[int(digits) % 31]}"
