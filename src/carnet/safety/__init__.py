"""Safety: prescription checks against the patient's allergies (by substance, by class, by
documented cross-reactivity) and current treatments (ANSM interaction thesaurus, four
severity levels, substance- and class-level entries). Pure functions over the shipped
terminologies; the profile service and the "check before prescribing" endpoint call them.

- ``engine``: :func:`~carnet.safety.engine.check_prescription` and the value types.
- ``families``: the allergy family / cross-reactivity table and its reasoning.
"""
