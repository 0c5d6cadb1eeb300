"""French translations of the agenda pages (keys are the English phrases of the templates)."""

FR: dict[str, str] = {}
