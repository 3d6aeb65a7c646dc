"""Knowledge files: tenant admins' library and conversation attachments, their
ingestion (knowledge.parsing does the parsing) and retrieval for answers."""
