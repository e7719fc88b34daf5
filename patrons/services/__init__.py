"""Writes to patron data. Every service checks its rules first, writes in one transaction, and records
the change in the patron's access log in the same transaction."""

from patrons.services.choices import (
    loan_history_choice_confirm,
    patron_choices_update,
    trusteeship_end,
    trusteeship_record,
)
from patrons.services.closures import cards_extend, pin_by_phone_record
from patrons.services.notes import note_create, note_remove, note_update
from patrons.services.processing import processing_restrict, processing_restriction_lift
from patrons.services.registration import patron_register

__all__ = [
    "cards_extend",
    "loan_history_choice_confirm",
    "note_create",
    "note_remove",
    "note_update",
    "patron_choices_update",
    "patron_register",
    "pin_by_phone_record",
    "processing_restrict",
    "processing_restriction_lift",
    "trusteeship_end",
    "trusteeship_record",
]
