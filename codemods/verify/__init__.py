"""Run a backend for real: a throwaway PostgreSQL server and a uvicorn process in its own virtualenv."""
