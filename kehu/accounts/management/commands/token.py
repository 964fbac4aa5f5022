from django.core.management.base import BaseCommand, CommandError

from kehu.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (for scripts). Only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="script")

    def handle(self, username, name, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.")
        _token, key = ApiToken.issue(user, name=name)
        self.stdout.write(key)
