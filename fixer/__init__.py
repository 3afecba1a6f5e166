"""fixer: codemods that finish a half-done move of a FastAPI + SQLModel backend to async SQLAlchemy."""

__version__ = "0.1.0"
