from django.apps import AppConfig


class DataRightsConfig(AppConfig):
    """Export, erasure and retention of personal data: above chat and knowledge
    (it reads and deletes what both hold); no models of its own."""

    name = "data_rights"
    verbose_name = "Data rights"
