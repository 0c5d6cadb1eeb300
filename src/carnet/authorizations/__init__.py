"""Authorizations: the patient's decisions about each professional — consultation granted or
revoked (by the patient, or declared by the professional with the patient's consent, the DMP's
TD0.3), blocked/unblocked, and "médecin traitant DMP" designations. Exposed as FHIR Consent."""
