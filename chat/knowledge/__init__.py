"""Knowledge files: tenant admins' library and conversation attachments, their
ingestion (chat.documents does the parsing) and retrieval for answers."""
