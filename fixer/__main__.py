from fixer.cli import run

run()
