from fixer.cli.commands import run

run()
