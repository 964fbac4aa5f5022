"""`kehu recompute`: rebuild the figures kept from the orders and payments (each order's received
amount, then each customer's first and last order, order count, revenue, gross profit, received and
receivables) from the documents themselves. Safe to run at any time; it changes only what differs."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from kehu.orders import figures


class Command(BaseCommand):
    help = _("Rebuild the customers' kept order and payment figures from the orders and payments.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000, help="customers per transaction")

    def handle(self, *args, batch=2000, **options):
        progress = (lambda last: self.stdout.write(f"  … customer {last}")) if options["verbosity"] > 1 else None
        changed = figures.recompute_all(batch=batch, verbose=progress)
        self.stdout.write(_("Figures recomputed: %(n)s customers corrected.") % {"n": changed})
