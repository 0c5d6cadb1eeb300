"""French translations of the messaging pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {}
