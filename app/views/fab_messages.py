"""Flask-AppBuilder's own interface strings whose French (from FAB's catalogue) reads badly or
is missing. Listed here so that extraction puts them in our catalogues, which override FAB's."""
from flask_babel import lazy_gettext as _l

FAB_MESSAGES = (
    _l("Add a new record"),
    _l("Show record"),
    _l("Edit record"),
    _l("Delete record"),
    _l("Record Count"),
    _l("Are you sure you want to delete this item?"),
    _l("User confirmation needed"),
    _l("Select Value"),
    _l("Add Filter"),
    _l("Add"),
    _l("Show"),
    _l("Edit"),
    _l("Delete"),
    _l("Detail"),
    _l("Back"),
    _l("Save"),
    _l("Search"),
    _l("Page size"),
    _l("No records found"),
    _l("Order by"),
)
