"""Run a backend for real: a throwaway PostgreSQL server and a uvicorn process in its own virtualenv.

postgres.py (the server), backend.py (virtualenvs and the uvicorn process), entrypoint.py (which app to serve),
diagnose.py (a failed start's first error, mapped to the defect catalogue), run.py (`run_verification`) and
command.py (`fixer verify`, and `fixer apply --verify`).
"""

DEFAULT_TIMEOUT = 60.0  # seconds from starting uvicorn until healthy
DEFAULT_MAX_STARTUP = 5.0  # the seed plan's success criterion: healthy in under 5 seconds
CACHE_ENV = "FIXER_CACHE_DIR"  # where virtualenvs are cached (like --cache-dir)
