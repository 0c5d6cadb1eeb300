"""Apps: OAuth clients that act for a signed-in patient through the authorization-code flow
with PKCE (SMART App Launch) — Carnet's own patient clients and connected health apps."""
