"""French translations of the profile pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {}
