"""The base of Accord's management commands."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """A command whose ``help`` may be a lazy translation: argparse cannot wrap one for ``--help``."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = str(parser.description)
        return parser
