"""Identity: parsing and checking the identifiers Carnet deals in.

This package owns the format and check rules of every identifier that names a
person or an actor, and nothing else:

- the NIR (social security number), with temporary and provisional numbers, its
  key, display grouping and log-safe masking (:mod:`carnet.identity.nir`);
- the INS (national health identity): the INS OIDs, the FHIR token
  ``system|matricule``, the civil-status traits and their consistency with the
  NIR (:mod:`carnet.identity.ins`);
- the identifiers of professionals and structures: RPPS, ADELI, FINESS, SIREN,
  SIRET, PS_IdNat and Struct_IdNat, and the Luhn check
  (:mod:`carnet.identity.professionals`).

Everything here is a pure function or a frozen dataclass: no I/O, no clock (the
caller passes ``today``), no storage, no lookup in a directory or a teleservice
(INSi, annuaire santé). Errors are :class:`InvalidIdentifier` (a
:class:`carnet.errors.Invalid`) whose message names the part at fault and never
contains the identifier itself. The rules and their sources are in
docs/identifiers.md.
"""

from carnet.identity.errors import InvalidIdentifier
from carnet.identity.ins import (
    INS_OIDS,
    INS_TEST_OIDS,
    LEGACY_INS_OIDS,
    OID_INS_NIA,
    OID_INS_NIA_TEST,
    OID_INS_NIR,
    OID_INS_NIR_TEST,
    OID_PS_IDNAT,
    OID_STRUCT_IDNAT,
    InsIdentifier,
    InsTraits,
    Sex,
    consistent_with_nir,
    ins_system,
    parse_birth_place_code,
    parse_ins_identifier,
    validate_traits,
)
from carnet.identity.nir import (
    VALID_MONTHS,
    Nir,
    NirKind,
    format_nir,
    mask_nir,
    nir_key,
    normalise_nir,
    parse_nir,
)
from carnet.identity.professionals import (
    LA_POSTE_SIREN,
    PS_IDNAT_PATTERN,
    PsIdNat,
    PsIdNatKind,
    StructIdNat,
    StructIdNatKind,
    luhn_check_digit,
    luhn_valid,
    parse_adeli,
    parse_finess,
    parse_ps_idnat,
    parse_rpps,
    parse_siren,
    parse_siret,
    parse_struct_idnat,
    ps_idnat_from_adeli,
    ps_idnat_from_rpps,
)

__all__ = [
    "INS_OIDS",
    "INS_TEST_OIDS",
    "LA_POSTE_SIREN",
    "LEGACY_INS_OIDS",
    "OID_INS_NIA",
    "OID_INS_NIA_TEST",
    "OID_INS_NIR",
    "OID_INS_NIR_TEST",
    "OID_PS_IDNAT",
    "OID_STRUCT_IDNAT",
    "PS_IDNAT_PATTERN",
    "VALID_MONTHS",
    "InsIdentifier",
    "InsTraits",
    "InvalidIdentifier",
    "Nir",
    "NirKind",
    "PsIdNat",
    "PsIdNatKind",
    "Sex",
    "StructIdNat",
    "StructIdNatKind",
    "consistent_with_nir",
    "format_nir",
    "ins_system",
    "luhn_check_digit",
    "luhn_valid",
    "mask_nir",
    "nir_key",
    "normalise_nir",
    "parse_adeli",
    "parse_birth_place_code",
    "parse_finess",
    "parse_ins_identifier",
    "parse_nir",
    "parse_ps_idnat",
    "parse_rpps",
    "parse_siren",
    "parse_siret",
    "parse_struct_idnat",
    "ps_idnat_from_adeli",
    "ps_idnat_from_rpps",
    "validate_traits",
]
