"""Output: what a run says. The patch (diff), the audit report, the rule pages (docs), and every `--output-format`
(formats: JSON, GitHub workflow commands, SARIF, GitLab code quality, a markdown review, ...)."""
