from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker (django-tasks database worker)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty.")

    def handle(self, *args, batch=False, **options):
        call_command("db_worker", *(["--batch"] if batch else []))
