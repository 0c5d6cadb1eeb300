"""Documents: the IHE MHD surface of the record — provide (ITI-65), find (ITI-67) and retrieve
(ITI-68) documents with the DMP metadata, their lifecycle (replace, delete, archive, masking,
patient visibility) as metadata versions under a stable logical id, and their contents,
encrypted at rest with a per-patient data key in a blob store."""
