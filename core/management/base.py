"""The base of Accord's management commands."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    """A command whose ``help`` may be a lazy translation: argparse cannot wrap one for ``--help``."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = str(parser.description)
        return parser


class PreSummedCommand(Command):
    """``rebuild_… [--check]`` for figures PostgreSQL keeps pre-summed: ``summed`` is the module with ``kept()``,
    ``rebuild()`` (rows written) and ``differences()`` ((how many, the first few)); the messages are the
    subclass's."""

    summed = None
    check_help = ""
    not_kept = ""
    rebuilt = ""  # with %(rows)s
    agrees = ""
    differ = ""  # with %(count)s

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help=self.check_help)

    def handle(self, *args, check: bool = False, **options):
        if not self.summed.kept():
            raise CommandError(str(self.not_kept))
        if not check:
            self.stdout.write(str(self.rebuilt) % {"rows": self.summed.rebuild()})
            return
        count, first = self.summed.differences()
        if not count:
            self.stdout.write(str(self.agrees))
            return
        for row in first:
            self.stderr.write(" ".join("-" if value is None else str(value) for value in row))
        raise CommandError(str(self.differ) % {"count": count})
