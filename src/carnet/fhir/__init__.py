"""The FHIR R4 REST surface shared by all domains: responses, OperationOutcome, search
parameters and Bundles, the CapabilityStatement and SMART configuration."""
