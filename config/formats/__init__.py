"""Our own date formats per language (Django's FORMAT_MODULE_PATH); a language
without a module here uses Django's formats for it (ko, ja)."""
