"""Discover: the files a run reads (the paths named, git's ignores, excludes), the settings, suppression comments,
and the readers of the formats every later stage shares (TOML, pip requirements, compose files, text checks)."""
