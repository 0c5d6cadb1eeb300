"""French translations of the apps pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {}
