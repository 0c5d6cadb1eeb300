"""Loading and lookup of the shipped code systems and value sets (ANS NOS, LOINC, ANSM).

Files are read once per process from ``settings.shared_data_dir`` (or the copy shipped in
``carnet/terminology/data``) into plain dictionaries; lookups are O(1).
"""

from carnet.terminology.registry import Terminology, terminology
from carnet.terminology.svs import Concept, ValueSet, load_value_set

__all__ = ["Concept", "Terminology", "ValueSet", "load_value_set", "terminology"]
