"""Systems: professionals' software (hospital, lab, GP software) registered with a public key,
which obtains access tokens with RFC 7523 JWT-bearer assertions naming the professional, the
patient and the purpose of use (the FHIR counterpart of the DMP's VIHF token)."""
