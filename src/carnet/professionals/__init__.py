"""Professionals and structures: the directory of health professionals (PS_IdNat, profession,
specialty, roles) and of the structures they work for, including the excluded categories
(insurers, employers, banks, occupational health) that access always refuses."""
