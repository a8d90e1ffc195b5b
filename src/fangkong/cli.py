"""The `fangkong` command: each subcommand is a thin wrapper over a Django management command.

    fangkong serve | worker | migrate | createadmin | demo | import-ledger | export-ledger | token create USER
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    from django.core.management import execute_from_command_line

    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__.strip())
        execute_from_command_line(["fangkong", "help"])
        return
    command = argv[0].replace("-", "_")
    execute_from_command_line(["fangkong", command, *argv[1:]])


if __name__ == "__main__":
    main()
