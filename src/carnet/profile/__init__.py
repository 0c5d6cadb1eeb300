"""Profile: the medical profile of the record — allergies and intolerances, treatments,
conditions, vaccinations, measurements (blood group, height, weight, blood pressure, glucose…),
emergency contacts and "personne de confiance", wishes (organ donation) — as FHIR resources
entered by the patient or by professionals, with the source of each entry kept; the patient
summary (IPS) and the printable emergency summary built from it."""
