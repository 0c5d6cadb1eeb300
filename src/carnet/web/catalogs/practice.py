"""French translations of the practice pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {}
