"""Retention rules: what each register keeps, for how long, and which rows are due for removal on a day.

Each app declares the rules for its own data in its privacy contract (core.privacy_contract:
`retention_rules`), and what its registers keep elsewhere (`retention_not_applied_here`); dpo/ knows no
app's models. `manage.py apply_retention` (dpo/services/retention.py) applies the rules of every
installed app in their `order`, each in its own transaction. Its report also names, register by
register, what is not removed here: CCTV recordings, interlibrary loans and home-service visits are not
held in this service (their own systems apply the retention their register descriptions give, which the
report lists), patrons and their interlibrary-loan and home-service memberships are never ended by
retention (Mikkeli notice: only when the patron asks), and old access events go only through the
owner's privileged `manage.py prune_access_log` (audit/prune.py).
"""

from core.privacy_contract import NotAppliedHere, RetentionRule, privacy_contracts

# The contracts are taken in the report's order, so that rules of one `order` keep the order they had.


def retention_rules() -> list[RetentionRule]:
    """Every installed app's retention rules, in the order they run."""
    rules = [rule for contract in privacy_contracts("report") for rule in contract.retention_rules()]
    return sorted(rules, key=lambda rule: rule.order)


def not_applied_here() -> list[NotAppliedHere]:
    """What every installed app's registers keep elsewhere, in the order the report names them."""
    items = [item for contract in privacy_contracts("report") for item in contract.retention_not_applied_here()]
    return sorted(items, key=lambda item: item.order)
