"""HTTP plumbing shared by the FHIR API and the portal: request-scoped transactions, bearer
tokens and portal sessions turned into access actors, CSRF, templating, error pages, the
OAuth 2.0 authorization server (Authlib)."""
