from django.core.management.base import BaseCommand, CommandError

from core.progress import progress_write
from sotu_silo.free_text import CodeInText, codes_in_text, free_text_fields, rows_with_text


class Command(BaseCommand):
    help = (
        "Scan every free-text field (notes, reasons, ban, DPO and breach texts, register descriptions, "
        "access-event reasons...) and every typed name, address, email address and phone number (patrons, "
        "adults' guardians) for personal identity codes, however written: texts stored before the check "
        "existed. Prints the model, field and row id of each hit, never the text. Exits 1 when "
        "something is found."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="rows read per query (at least 1)")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        show_progress = options["verbosity"] >= 1
        found = 0
        for entry in free_text_fields():
            label = entry.model._meta.label
            total, done = rows_with_text(entry).count(), 0
            if show_progress and not total:
                progress_write(self.stderr, 0, 0, label=f"{label}: ")
            for item in codes_in_text(entry, batch_size=options["batch_size"]):
                if isinstance(item, CodeInText):
                    found += 1
                    self.stdout.write(f"{item.model}\t{item.field}\t{item.pk}")
                    continue
                done += item
                if show_progress:
                    progress_write(self.stderr, done, total, label=f"{label}: ")
        if found:
            raise CommandError(
                f"{found} texts hold a personal identity code (model, field and row id above). Remove or "
                "rewrite them; see README, “Identity codes in free text”."
            )
        self.stdout.write(self.style.SUCCESS("No identity codes in free text."))
