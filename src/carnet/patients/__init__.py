"""Patients: the person's identity (INS matricule and traits), contact channels and the legal
representatives who act for a minor. The record's lifecycle lives in ``records``."""
