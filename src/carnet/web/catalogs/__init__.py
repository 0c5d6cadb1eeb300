"""Per-area French catalogues of the portal, merged by ``carnet.web.i18n``."""
